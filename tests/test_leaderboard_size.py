"""Size: a leaderboard of 1,000 samples × 8 systems must open its overview in under a second.

A run store of that size is written by hand (1,000 source images, 8,000 one-step trajectories,
16,000 judgements: a quality score and checklist verdicts), the site is built, and headless
Chromium opens it from disk. The overview's load time is the browser's own navigation timing
(navigation start to the end of the load event). The comparison and trajectory pages are timed
too and reported, not bounded: they load their data files and draw rows on demand.

Run it with ``pytest -m slow tests/test_leaderboard_size.py -s`` to see the numbers.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.model import (
    ComponentRecord,
    Criterion,
    ImageRef,
    Judgement,
    Sample,
    ScoreSpec,
    Step,
    SuiteInfo,
    Telemetry,
    Trajectory,
)
from bench.store import RunStore
from leaderboard.site import build_site
from tests.browser import CHROMIUM, Browser

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless chromium not installed"),
]

N_SAMPLES = 1000
SYSTEMS = ["edit-only", "rewrite-then-edit", "rule-pipeline", "planner+tools"] * 2
LEVELS = ("simple", "regular", "complex")
THEMES = ("season", "weather", "time", "medium", "mood")
OVERVIEW_BUDGET_S = 1.0


def write_large_run(root: Path, n: int = N_SAMPLES, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    store = RunStore.open(root, create=True)
    suite = SuiteInfo(
        name="large", version="1", description="1,000 generated samples", hash="ef" * 32, size=n
    )
    systems = [
        ComponentRecord(
            "systems",
            f"system-{k}",
            {},
            f"system-{k}.{k:012d}",
            "1",
            {"track": track, "display": f"system-{k}", "models": ["m"], "tools": ["t"]},
        )
        for k, track in enumerate(SYSTEMS)
    ]
    judges = [
        ComponentRecord("judges", "quality", {}, "quality.000000000001", "1", {"display": "quality"}),
        ComponentRecord("judges", "checks", {}, "checks.000000000002", "1", {"display": "checks"}),
    ]
    store.write_meta(
        {
            "name": "large",
            "suites": [suite.to_dict()],
            "components": {
                "systems": [s.to_dict() for s in systems],
                "judges": [j.to_dict() for j in judges],
            },
            "score_specs": {
                judges[0].id: [ScoreSpec("quality", 0, 1, True, "{:.3f}").to_dict()],
                judges[1].id: [ScoreSpec("credit", 0, 1, True, "{:.2f}").to_dict()],
            },
            "started": "2025-01-01T00:00:00+00:00",
            "ended": "2025-01-01T01:00:00+00:00",
            "seed": seed,
        }
    )
    pool = [
        store.images.put(Image.fromarray(rng.integers(0, 255, (36, 48, 3), dtype=np.uint8)))
        for _ in range(200)
    ]
    skill = np.linspace(0.35, 0.65, len(systems))
    with store:
        for i in range(n):
            src = store.images.put(Image.new("RGB", (48, 36), (i % 256, (7 * i) % 256, (13 * i) % 256)))
            level = LEVELS[i % 3]
            sample = Sample(
                id=f"s{i:04d}",
                image=ImageRef(id=src, width=48, height=36),
                goal=f"make sample {i} feel like {THEMES[i % 5]}",
                checklist=(
                    Criterion("c1", "the change is visible"),
                    Criterion("c2", "keep the layout", "preserve"),
                ),
                tags={"complexity": level, "theme": THEMES[i % 5]},
            )
            store.append("samples", {"suite": suite.ref, "sample": sample.to_dict()})
            difficulty = rng.normal(0, 0.1)
            for k, s in enumerate(systems):
                final = pool[int(rng.integers(len(pool)))]
                step = Step(
                    tool="t",
                    input=src,
                    output=final,
                    params={"amount": round(float(rng.random()), 3)},
                    telemetry=Telemetry(calls=1, seconds=0.01),
                )
                store.append(
                    "trajectories",
                    Trajectory(
                        suite=suite.ref,
                        sample_id=sample.id,
                        system_id=s.id,
                        steps=(step,),
                        final=final,
                        telemetry=Telemetry(calls=1, seconds=float(rng.uniform(0.1, 2))),
                    ),
                )
                q = float(
                    np.clip(skill[k] + difficulty - 0.05 * LEVELS.index(level) + rng.normal(0, 0.15), 0, 1)
                )
                store.append(
                    "judgements",
                    Judgement(
                        suite=suite.ref,
                        sample_id=sample.id,
                        system_id=s.id,
                        judge_id=judges[0].id,
                        scores={"quality": q},
                        rationale="scored",
                    ),
                )
                v1 = "pass" if q > 0.55 else "partial" if q > 0.4 else "fail"
                store.append(
                    "judgements",
                    Judgement(
                        suite=suite.ref,
                        sample_id=sample.id,
                        system_id=s.id,
                        judge_id=judges[1].id,
                        scores={"credit": {"pass": 1.0, "partial": 0.5, "fail": 0.0}[v1]},
                        verdicts={"c1": v1, "c2": "pass"},
                        rationale=f"c1 {v1}",
                    ),
                )
    return root


def test_overview_of_1000_samples_by_8_systems_loads_under_a_second(tmp_path) -> None:
    t0 = time.perf_counter()
    run = write_large_run(tmp_path / "run")
    t1 = time.perf_counter()
    index = build_site([run], tmp_path / "site")
    t2 = time.perf_counter()
    site = index.parent
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".js"))
    timing = "performance.getEntriesByType('navigation')[0].loadEventEnd"
    with Browser(width=1360, height=900) as b:
        b.open(index.as_uri())  # warm the browser itself (profile, fonts) once
        loads = []
        for _ in range(3):
            b.call("Page.reload", {"ignoreCache": True})
            b.wait_for("document.readyState === 'complete' && " + timing + " > 0")
            loads.append(b.eval(timing) / 1000)
        rows = b.eval("document.querySelectorAll('#overview-table tbody tr').length")
        b.open((site / "compare.html").as_uri())
        b.wait_for("document.querySelectorAll('article.sample').length === 20")
        compare = b.eval(timing) / 1000
        b.open(
            (site / "trajectory.html").as_uri()
            + "#"
            + b.eval("document.querySelector('a.traj-link').getAttribute('href')").split("#")[1]
        )
        b.wait_for("document.querySelectorAll('.step').length === 1")
        assert not b.errors, b.errors
    overview = min(loads)
    print(
        f"\n1,000 samples × 8 systems: store written in {t1 - t0:.1f} s, site built in {t2 - t1:.1f} s "
        f"({size / 1e6:.1f} MB of pages and data); overview loads in {overview * 1000:.0f} ms "
        f"(runs: {', '.join(f'{x * 1000:.0f}' for x in loads)} ms), comparison page in {compare * 1000:.0f} ms, "
        f"index.html {index.stat().st_size / 1e3:.0f} kB"
    )
    assert rows == 8
    assert overview < OVERVIEW_BUDGET_S
