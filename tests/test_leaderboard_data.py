"""The leaderboard's data assembly, from real runs of the runner with small scripted components.

``make_run`` runs two tiny suites × four systems (two edit-only, two scripted planners that tint
a box, a named region and a stored mask in three steps) × three judges (a pixel difference, a
checklist judge with verdicts, rationales and three draws per sample, a pairwise judge) through
:func:`bench.runner.execute`, so the site is built from exactly what the runner writes. The
browser tests (``test_leaderboard_browser.py``) reuse it.

The tests check that every number shown is ``bench.stats``' number for the same data (ranks,
expected ranks, swap probabilities, group means, Bradley-Terry strengths), that the primary
score is chosen as documented, that ties and unsettled pairs are marked, and that the JSON/CSV
files, data chunks, overlays and charts hold what they should.
"""

from __future__ import annotations

import csv
import json
import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bench import registry
from bench.model import (
    ComponentRecord,
    ImageRef,
    Judgement,
    Plan,
    Region,
    Sample,
    ScoreSpec,
    Subtask,
    SuiteInfo,
    Telemetry,
    Trajectory,
)
from bench.protocols import Component, SystemInfo
from bench.regions import mask_to_image, region_mask
from bench.report import summary_table
from bench.results import load_results
from bench.runner import RunOptions, execute
from bench.spec import parse_spec
from bench.stats import bradley_terry, group_means, rank_stability, significance_ranks
from bench.store import RunStore
from leaderboard.calibration import calibration_for, read_calibrations
from leaderboard.charts import el, nice_ticks
from leaderboard.chunks import chunk_source, safe_json
from leaderboard.header import Names, suite_views
from leaderboard.overlays import overlay_image
from leaderboard.overview import UNSETTLED, rank_suite
from leaderboard.primary import choose_primary, score_matrix
from leaderboard.site import build_site
from suites.folder import load_suite
from tests.fakes.components import make_tiny_suite

# ----------------------------------------------------------------------------- components


class TintTool(Component):
    """Blends a colour into a region (through ``ctx.mask``, so every region kind works)."""

    name = "lb-tint"
    version = "1"
    description = "Blend a colour into a region of the image."
    params_schema = {
        "type": "object",
        "properties": {"color": {"type": "array"}, "strength": {"type": "number"}},
    }

    def apply(self, image, params, region, ctx):
        mask = ctx.mask(region, image.size)[..., None]
        color = np.asarray(params.get("color", (255, 160, 40)), float)
        a = float(params.get("strength", 0.4)) * mask
        out = np.asarray(image, float) * (1 - a) + color * a
        return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


class PlannerSystem(Component):
    """A scripted planner: three subtasks, each a tint of a box, a named region, a stored mask."""

    name = "lb-planner"
    version = "1"

    def __init__(self, strength: float = 0.4, label: str = "", fail_on: str = "") -> None:
        self.strength = strength
        self.label = label
        self.fail_on = fail_on

    def info(self) -> SystemInfo:
        return SystemInfo(
            track="planner+tools",
            description=f"scripted planner {self.label}".strip(),
            models=("scripted-llm",),
            tools=("lb-tint",),
        )

    def edit(self, sample, image, ctx):
        if self.fail_on and self.fail_on in sample.id:
            raise RuntimeError(f"planner gave up on {sample.goal}")
        w, h = image.size
        mask = np.zeros((h, w), np.float32)
        mask[h // 2 :, : w // 3] = 1.0
        regions = [
            Region(kind="box", box=(0.1, 0.1, 0.6, 0.5)),
            Region(kind="named", name="foreground", feather=0.02),
            Region(kind="mask", mask=ctx.put(mask_to_image(mask))),
        ]
        subtasks = tuple(
            Subtask(
                id=f"t{i + 1}",
                text=f"tint part {i + 1} ({self.label or 'plain'})",
                reasoning=f"the goal says: {sample.goal}",
                action="color_grading",
                action_params={"tone": "warm"},
                tool="lb-tint",
                params={"color": [255, 120 + 40 * i, 40], "strength": self.strength},
                region=r,
            )
            for i, r in enumerate(regions)
        )
        plan = Plan(
            checklist=sample.checklist,
            context={"time_of_day": "day", "note": sample.goal},
            subtasks=subtasks,
            instruction=f"Apply: {sample.goal}",
            reasoning="three local tints",
        )
        current = image
        for st in subtasks:
            current, _ = ctx.apply_tool(
                "lb-tint", current, st.params, st.region, subtask=st.id, instruction=st.text
            )
        return ctx.trajectory(
            current,
            plan=plan,
            telemetry=Telemetry(calls=1, requests=1, tokens_in=120, tokens_out=40, dollars=0.002),
        )


class ChecklistJudge(Component):
    """Verdicts on every criterion from brightness change, a rationale, and three draws of ``credit``."""

    name = "lb-checks"
    version = "1"
    scope = "sample"

    def score_specs(self):
        return [ScoreSpec("credit", 0.0, 1.0, True, "{:.2f}", "checklist credit")]

    def judge(self, items):
        out = []
        for it in items:
            gain = float(np.asarray(it.final, float).mean() - np.asarray(it.source, float).mean())
            verdicts, credit = {}, []
            for k, c in enumerate(it.sample.checklist):
                if c.kind == "preserve":
                    v = "pass" if abs(gain) < 25 else "partial"
                elif k % 3 == 2:
                    v = "undecidable"
                else:
                    v = "pass" if gain > 12 else "partial" if gain > 0 else "fail"
                verdicts[c.id] = v
                credit += [] if v == "undecidable" else [{"pass": 1.0, "partial": 0.5, "fail": 0.0}[v]]
            mean = float(np.mean(credit)) if credit else 0.0
            draws = [float(np.clip(mean + d, 0, 1)) for d in (-0.05, 0.0, 0.05)]
            out.append(
                Judgement(
                    suite=it.suite,
                    sample_id=it.sample.id,
                    system_id=it.trajectory.system_id,
                    judge_id="",
                    scores={"credit": float(np.mean(draws))},
                    draws={"credit": draws},
                    verdicts=verdicts,
                    rationale=f"brightness {gain:+.1f} for goal: {it.sample.goal}",
                )
            )
        return out


class PairJudge(Component):
    """Prefers the brighter result: win 1, 0 or ½ when within 2 grey levels."""

    name = "lb-pair"
    version = "1"
    scope = "pairwise"

    def score_specs(self):
        return [ScoreSpec("win", 0.0, 1.0, True, "{:.1f}", "1 this system wins, 0 the other")]

    def judge(self, items):
        out = []
        for it in items:
            d = float(np.asarray(it.final, float).mean() - np.asarray(it.other.final, float).mean())
            win = 1.0 if d > 2 else 0.0 if d < -2 else 0.5
            out.append(
                Judgement(
                    suite=it.suite,
                    sample_id=it.sample.id,
                    system_id=it.trajectory.system_id,
                    judge_id="",
                    scores={"win": win},
                    rationale=f"difference {d:+.1f}",
                )
            )
        return out


class SetSpreadJudge(Component):
    """A set-scope judge: the spread of mean brightness over a system's results (FID-like shape)."""

    name = "lb-spread"
    version = "1"
    scope = "set"

    def score_specs(self):
        return [ScoreSpec("spread", 0.0, None, False, "{:.2f}", "std of mean brightness over the set")]

    def judge(self, items):
        means = [float(np.asarray(it.final, float).mean()) for it in items]
        it = items[0]
        return [
            Judgement(
                suite=it.suite,
                sample_id="*",
                system_id=it.trajectory.system_id,
                judge_id="",
                scores={"spread": float(np.std(means))},
                rationale=f"{len(items)} results",
            )
        ]


COMPONENTS = [
    ("tools", "lb-tint", TintTool),
    ("systems", "lb-planner", PlannerSystem),
    ("judges", "lb-checks", ChecklistJudge),
    ("judges", "lb-pair", PairJudge),
    ("judges", "lb-spread", SetSpreadJudge),
]
SYSTEMS = [
    "fake-brighten",
    "fake-brighten:factor=0.7,fail_on=s2",
    "lb-planner",
    "lb-planner:strength=0.8,label=bold",
]
JUDGES = ["fake-diff", "lb-checks", "lb-pair", "lb-spread"]


@contextmanager
def registered():
    """The scripted components above, registered for the duration (the runner builds by name)."""
    for kind, name, target in COMPONENTS:
        registry.register(kind, name, target)
    try:
        yield
    finally:
        for kind, name, _ in COMPONENTS:
            registry.unregister(kind, name)


def write_suite(
    folder: Path,
    name: str,
    n: int,
    *,
    primary: str | None = None,
    goal: str = "make image {i} brighter",
    extra: dict | None = None,
) -> None:
    """A tiny suite folder (``make_tiny_suite``'s images) with more criteria and tags of our own."""
    make_tiny_suite(folder, n=n)
    lines = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines()]
    for i, s in enumerate(lines):
        s["goal"] = goal.format(i=i)
        s["checklist"] += [
            {"id": "c2", "text": "keep the noise pattern", "kind": "preserve"},
            {"id": "c3", "text": "looks natural", "kind": "goal"},
        ]
        s["tags"]["theme"] = "warm" if i % 3 else "cool"
        s.update(extra or {})
    (folder / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in lines))
    yaml = f"name: {name}\nversion: '1'\ndescription: {name} suite\n" + (
        f"primary: {primary}\n" if primary else ""
    )
    (folder / "suite.yaml").write_text(yaml)


def make_run(root: Path, *, n: int = 6, systems=SYSTEMS, judges=JUDGES, suites=None) -> Path:
    """Run suites × systems × judges with the runner; returns the run folder."""
    if suites is None:
        write_suite(root / "suite-a", "tiny", n)
        write_suite(root / "suite-b", "tiny-b", 4, primary="credit")
        suites = [load_suite(root / "suite-a"), load_suite(root / "suite-b")]
    with registered():
        summary = execute(
            str(root / "runs"),
            suites,
            [parse_spec(s) for s in systems],
            [parse_spec(j) for j in judges],
            RunOptions(executor="thread", workers=2),
        )
    return Path(summary.run_dir)


def quick_build(runs: list[Path], out: Path, **kw) -> Path:
    """``build_site`` with fewer Bradley-Terry resamples (the slowest statistic; its point
    estimates, which the tests compare, do not depend on them). Returns the site folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("leaderboard.breakdown.BT_RESAMPLES", 200)
        return build_site(runs, out, **kw).parent


# The scripted run and its site, built once per test session. Both modules that use them import
# these fixtures, which makes two fixture definitions; the cache makes them one build.
_SHARED: dict[str, Path] = {}


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory) -> Path:
    """One scripted run shared by the data and browser tests."""
    if "run" not in _SHARED:
        _SHARED["run"] = make_run(tmp_path_factory.mktemp("lbrun"))
    return _SHARED["run"]


@pytest.fixture(scope="session")
def scripted_site(scripted_run, tmp_path_factory) -> Path:
    if "site" not in _SHARED:
        _SHARED["site"] = quick_build(
            [scripted_run], tmp_path_factory.mktemp("lbsite") / "site", title="Scripted run"
        )
    return _SHARED["site"]


@pytest.fixture()
def run(scripted_run) -> Path:
    return scripted_run


@pytest.fixture()
def site(scripted_site) -> Path:
    return scripted_site


def _chunk(path: Path):
    text = path.read_text(encoding="ascii")
    return json.loads(text[text.index("] = ") + 4 :].rstrip().rstrip(";"))


# ----------------------------------------------------------------------------- primary, ranks


def test_primary_is_declared_or_first_score_of_first_judge(run) -> None:
    res = load_results([run])
    names = Names(res)
    a = choose_primary(res, names, "tiny@1", None)
    assert (res.judges[a.judge_id]["name"], a.score, a.chosen_by, a.note) == (
        "fake-diff",
        "diff",
        "default",
        "",
    )
    b = choose_primary(res, names, "tiny-b@1", "credit")
    assert (res.judges[b.judge_id]["name"], b.score, b.chosen_by) == ("lb-checks", "credit", "suite")
    assert choose_primary(res, names, "tiny-b@1", "lb-checks:credit").judge_id == b.judge_id
    assert choose_primary(res, names, "tiny-b@1", f"{b.judge_id}:credit").chosen_by == "suite"
    missing = choose_primary(res, names, "tiny-b@1", "clip:score")
    assert missing.chosen_by == "default" and "clip:score" in missing.note and missing.score == "diff"
    for st in res.stores:
        st.close()


def test_overview_numbers_are_bench_stats_numbers(run) -> None:
    res = load_results([run])
    names, suites = Names(res), suite_views(res)
    summary = summary_table(res, seed=0, n_resamples=2000)
    r = rank_suite(res, names, suites["tiny-b@1"], summary, {})
    assert r.primary.score == "credit" and r.draws  # the judge's three draws enter the stability bootstrap
    ids = sorted((c.system.id for c in r.cells), key=names.order.get)  # run order, as the site passes them
    m = score_matrix(res, "tiny-b@1", r.primary.judge_id, "credit", ids)
    sig = significance_ranks({s: m.values[s] for s in ids}, n_resamples=10_000, seed=0)
    with np.errstate(invalid="ignore"):
        stab = rank_stability({s: m.draws[s] for s in ids}, n_resamples=1000, seed=0)
    for c in r.cells:
        s = next(x for x in sig.ranks if x.system == c.system.id)
        t = next(x for x in stab.systems if x.system == c.system.id)
        assert c.rank == s.rank and c.expected_rank == t.expected_rank
        assert (c.rank_low, c.rank_high) == (t.rank_low, t.rank_high)
        row = summary[
            (summary.suite == "tiny-b@1") & (summary.score == "credit") & (summary.system_id == c.system.id)
        ].iloc[0]
        assert c.mean == pytest.approx(row["mean"]) and c.n == row["n"] and c.unscored == row["unscored"]
    assert [c.expected_rank for c in r.cells] == sorted(c.expected_rank for c in r.cells)
    order = [s.id for s in r.swap_systems]
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            if i != j:
                assert r.swap[i][j].value == pytest.approx(float(stab.swap_probability.loc[a, b]))
                assert r.swap[i][j].value == pytest.approx(r.swap[j][i].value)
                assert r.swap[i][j].unsettled == (r.swap[i][j].value > UNSETTLED)
    # The failing system is unscored on s2 of suite "tiny" (NaN, never 0) and counted.
    t = rank_suite(res, names, suites["tiny@1"], summary, {})
    flaky = next(c for c in t.cells if "fail_on" in c.system.display)
    assert flaky.unscored == 1 and flaky.failed == 1 and flaky.n == 5
    for st in res.stores:
        st.close()


def _hand_run(root: Path, scores: dict[str, list[float]], *, tracks: dict[str, str] | None = None) -> Path:
    """A run store written by hand: one suite, one judge, the given per-sample scores."""
    store = RunStore.open(root, create=True)
    suite = SuiteInfo(name="hand", version="1", hash="cd" * 32, size=len(next(iter(scores.values()))))
    systems = [
        ComponentRecord(
            "systems",
            s,
            {},
            f"{s}.000000000000",
            "1",
            {"track": (tracks or {}).get(s, "edit-only"), "display": s},
        )
        for s in scores
    ]
    judge = ComponentRecord("judges", "q", {}, "q.111111111111", "1", {"display": "q"})
    store.write_meta(
        {
            "name": "hand",
            "suites": [suite.to_dict()],
            "components": {"systems": [s.to_dict() for s in systems], "judges": [judge.to_dict()]},
            "score_specs": {judge.id: [ScoreSpec("q", 0, 1).to_dict()]},
        }
    )
    img = store.images.put(Image.new("RGB", (8, 8), (10, 20, 30)))
    with store:
        for k in range(suite.size):
            store.append(
                "samples",
                {
                    "suite": suite.ref,
                    "sample": Sample(
                        id=f"x{k}",
                        image=ImageRef(id=img),
                        goal="g",
                        tags={"complexity": ["simple", "complex"][k % 2]},
                    ).to_dict(),
                },
            )
            for s, vals in scores.items():
                sid = f"{s}.000000000000"
                store.append(
                    "trajectories", Trajectory(suite=suite.ref, sample_id=f"x{k}", system_id=sid, final=img)
                )
                store.append(
                    "judgements",
                    Judgement(
                        suite=suite.ref,
                        sample_id=f"x{k}",
                        system_id=sid,
                        judge_id=judge.id,
                        scores={"q": vals[k]},
                    ),
                )
    return root


def test_ties_and_unsettled_pairs_are_marked(tmp_path) -> None:
    rng = np.random.default_rng(3)
    base = rng.uniform(0.3, 0.5, 40)
    scores = {
        "strong": list(base + 0.4),
        "mid": list(base + rng.normal(0, 0.02, 40)),
        "twin": list(base + rng.normal(0, 0.02, 40)),
    }
    index = build_site([_hand_run(tmp_path / "run", scores)], tmp_path / "site")  # no pairwise judge: fast
    res = load_results([tmp_path / "run"])
    r = rank_suite(res, Names(res), suite_views(res)["hand@1"], summary_table(res, seed=0), {})
    by = {c.system.display: c for c in r.cells}
    assert by["strong"].rank == 1 and not by["strong"].tied and by["strong"].rank_text == "1"
    assert by["mid"].rank == by["twin"].rank == 2 and by["mid"].tied and by["mid"].rank_text == "=2"
    assert "twin" in by["mid"].tied_with and "strong" not in by["mid"].tied_with
    assert [n for n, _ in by["mid"].unsettled_with] == ["twin"] and not by["strong"].unsettled_with
    assert r.unsettled_pairs == 1
    html = index.read_text()
    assert "=2" in html and "⇄ 1" in html
    # The ranking is in the machine-readable files too.
    with open(index.parent / "data" / "overview.csv", newline="") as fh:
        rows = {r["system"]: r for r in csv.DictReader(fh)}
    assert (
        rows["mid"]["rank"] == "2"
        and rows["mid"]["tied"] == "True"
        and rows["mid"]["unsettled_with"] == "twin.000000000000"
    )
    assert rows["strong"]["tied_with"] == "" and all(r["schema_version"] == "1" for r in rows.values())
    for st in res.stores:
        st.close()


# ----------------------------------------------------------------------------- breakdowns


def test_breakdowns_use_group_means_and_bradley_terry(run, site) -> None:
    res = load_results([run])
    doc = json.loads((site / "data" / "leaderboard.json").read_text())
    assert doc["schema_version"] == 1
    # By tag: bench.stats.group_means of the primary score by (tag, value, system).
    names = Names(res)
    r = rank_suite(res, names, suite_views(res)["tiny@1"], summary_table(res, seed=0), {})
    ids = [c.system.id for c in r.cells]
    m = score_matrix(res, "tiny@1", r.primary.judge_id, r.primary.score, ids)
    rows = []
    for i, sid in enumerate(m.sample_ids):
        tags = res.samples[("tiny@1", sid)].tags
        for k in ("complexity", "theme"):
            rows += [{"tag": k, "value": tags[k], "system_id": s, "score": m.values[s][i]} for s in ids]
    want = group_means(pd.DataFrame(rows), ["tag", "value", "system_id"], "score", seed=0)
    got = [x for x in doc["by_tag"] if x["suite"] == "tiny@1"]
    assert len(got) == len(want)
    for x in got:
        w = want[
            (want.tag == x["tag"]) & (want.value == x["value"]) & (want.system_id == x["system_id"])
        ].iloc[0]
        assert x["mean"] == pytest.approx(w["mean"]) and x["n"] == w["n"] and x["n_missing"] == w["n_missing"]
        assert (x["low"] is None) == (not math.isfinite(w["low"]))
    # By criterion kind: credit pass 1 / partial ½ / fail 0, undecidable missing (c3 is undecidable).
    crit = [
        x
        for x in doc["by_criterion"]
        if x["suite"] == "tiny@1" and x["by"] == "kind" and x["group"] == "goal"
    ]
    assert crit and all(x["undecidable"] > 0 and x["n_missing"] == x["undecidable"] for x in crit)
    assert all(x["pass"] + x["partial"] + x["fail"] == x["n"] for x in crit)
    # Bradley-Terry: bench.stats.bradley_terry on the pairwise judgements (win of a vs b).
    comps = [
        (j.system_id, j.versus, j.scores["win"])
        for j in res.judgements.values()
        if j.versus and j.suite == "tiny@1" and j.status == "ok"
    ]
    bt = [x for x in doc["bradley_terry"] if x["suite"] == "tiny@1"]
    try:  # (resamples only move the intervals; the strengths compared here are the point estimates)
        fit, prior = bradley_terry(comps, n_resamples=20, seed=0), 0.0
    except ValueError:
        fit, prior = bradley_terry(comps, n_resamples=20, seed=0, prior=1.0), 1.0
    assert {x["system_id"]: round(x["strength"], 9) for x in bt} == {
        p.player: round(p.strength, 9) for p in fit.players
    }
    assert all(x["prior"] == prior for x in bt)
    for st in res.stores:
        st.close()


def test_bradley_terry_without_mle_uses_a_prior_and_says_so(tmp_path) -> None:
    from leaderboard.breakdown import bradley_terry_views

    store = RunStore.open(tmp_path / "run", create=True)
    store.write_meta({"name": "bt"})
    with store:
        for k in range(6):  # a always beats b and c: no maximum-likelihood estimate
            for a, b, w in (("a", "b", 1.0), ("a", "c", 1.0), ("b", "c", [1.0, 0.0][k % 2])):
                store.append(
                    "judgements",
                    Judgement(
                        suite="s@1",
                        sample_id=f"x{k}",
                        system_id=a,
                        versus=b,
                        judge_id="pj",
                        scores={"win": w},
                    ),
                )
    res = load_results([tmp_path / "run"])
    [view], notes = bradley_terry_views(res, Names(res), "s@1", n_resamples=50)
    assert view.prior == 1.0 and notes and "virtual tie" in notes[0]
    assert [r.system.id for r in view.rows][0] == "a" and view.rows[0].strength > 0
    res.stores[0].close()


# ----------------------------------------------------------------------------- calibration


def test_calibration_figure_is_read_from_the_run_store(tmp_path) -> None:
    run = _hand_run(tmp_path / "run", {"a": [0.2, 0.4, 0.6, 0.8], "b": [0.1, 0.3, 0.2, 0.5]})
    folder = run / "calibration"
    folder.mkdir()
    doc = {
        "v": 1,
        "judge_id": "q.111111111111",
        "n_labels": 40,
        "headline": {
            "members": "q.111111111111:other",
            "spearman": 0.5,
            "low": 0.1,
            "high": 0.8,
            "n": 9,
            "source": "ratings",
        },
        "rows": [
            {
                "source": "ratings",
                "judge_id": "q.111111111111",
                "score": "q",
                "statistic": "spearman",
                "value": 0.61,
                "low": 0.42,
                "high": 0.77,
                "n": 30,
            },
            {
                "source": "rankings",
                "judge_id": "q.111111111111",
                "score": "q",
                "statistic": "spearman",
                "value": 0.71,
                "low": 0.55,
                "high": 0.83,
                "n": 40,
            },
        ],
    }
    (folder / "q.111111111111.json").write_text(json.dumps(doc))
    (folder / "summary.json").write_text("{}")
    (folder / "broken.json").write_text("{not json")
    docs = read_calibrations([RunStore.open(run)])
    assert set(docs) == {"q.111111111111"}
    c = calibration_for(docs, "q.111111111111", "q")
    assert (c.value, c.low, c.high, c.n, c.source) == (0.71, 0.55, 0.83, 40, "rankings")  # rankings first
    assert c.text == "ρ 0.71 [0.55, 0.83]"
    head = calibration_for(docs, "q.111111111111", "unlisted")
    assert (head.score, head.value, head.source) == ("other", 0.5, "ratings")
    assert calibration_for(docs, "nobody", "q") is None
    index = build_site([run], tmp_path / "site")
    html = index.read_text()
    assert "calibration ρ 0.71 [0.55, 0.83]" in html
    suite = next(index.parent.glob("suite-*.html")).read_text()
    assert (
        "calibration ρ 0.71 [0.55, 0.83]" in suite and "human rankings" in suite
    )  # the score table names it too
    out = json.loads((index.parent / "data" / "leaderboard.json").read_text())
    [judge] = [j for j in out["judges"] if j["id"] == "q.111111111111"]
    assert judge["calibration"]["q"]["value"] == 0.71


# ----------------------------------------------------------------------------- files


def test_data_files_carry_schema_version_and_the_same_numbers(site) -> None:
    doc = json.loads((site / "data" / "leaderboard.json").read_text())
    assert set(doc["files"]) == {
        "overview.csv",
        "scores.csv",
        "swap.csv",
        "by_tag.csv",
        "by_criterion.csv",
        "bradley_terry.csv",
        "set_scores.csv",
        "results.csv",
        "trust.csv",
    }
    for name, columns in doc["files"].items():
        with open(site / "data" / name, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            body = list(reader)
        assert header == columns and header[0] == "schema_version" and body
        assert all(r[0] == "1" for r in body) and not any("nan" in c.lower() for r in body for c in r)
    tracks = {s["track"] for s in doc["systems"]}
    assert tracks == {"edit-only", "planner+tools"}
    planner = next(s for s in doc["systems"] if s["display"] == "lb-planner")
    assert planner["models"] == ["scripted-llm"] and planner["cost"]["dollars"] > 0
    ov = {(r["suite"], r["system"]): r for r in doc["overview"]}
    assert ov[("tiny-b@1", "lb-planner")]["score"] == "credit"
    assert "NaN" not in (site / "data" / "leaderboard.json").read_text()


def test_data_chunks_hold_every_result_and_step(run, site) -> None:
    res = load_results([run])
    meta = _chunk(site / "data-meta.js")
    rows = [r for c in sorted(site.glob("data-cmp-*.js")) for r in _chunk(c)["samples"]]
    assert len(rows) == len(res.samples) == 10
    for row in rows:
        suite = meta["suites"][row["suite"]]
        assert len(row["res"]) == len(suite["systems"]) == 4
        assert sum(c["primary"] for c in suite["scores"]) == 1
        if row["spread"] is not None:
            assert 0.0 <= row["spread"] <= 1.0
    trj = {}
    for c in site.glob("data-trj-*.js"):
        trj.update(_chunk(c)["trajectories"])
    assert len(trj) == len(res.trajectories) == 40
    planner = [t for t in trj.values() if meta["systems"][t["sys"]]["name"] == "lb-planner"]
    assert planner and all(len(t["steps"]) == 3 and len(t["plan"]["subtasks"]) == 3 for t in planner)
    for t in planner:
        kinds = [s["region"]["kind"] for s in t["steps"]]
        assert kinds == ["box", "named", "mask"]
        for s in t["steps"]:
            assert s["region"]["overlay"] and (site / s["region"]["overlay"]).is_file()
            assert (site / "img" / f"{s['in']['id']}.thumb.jpg").is_file() and (
                site / "img" / f"{s['out']['id']}.png"
            ).is_file()
        assert {j["judge"] for j in t["judgements"]} and any(j["rationale"] for j in t["judgements"])
    for st in res.stores:
        st.close()


# ----------------------------------------------------------------------------- pieces


def test_safe_json_and_chunk_names() -> None:
    text = safe_json({"a": "</script><script>alert(1)</script>", "b": float("nan"), "c": "x\u2028y & z"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><script>alert(1)</script>", "b": None, "c": "x\u2028y & z"}
    assert chunk_source("cmp-001", [1]).endswith('["cmp-001"] = [1];\n')
    for bad in ("../x", "CMP", "a b", "x" * 60):
        with pytest.raises(ValueError):
            chunk_source(bad, [])


def test_region_overlays_match_region_masks() -> None:
    for region in (
        Region(kind="box", box=(0.2, 0.2, 0.6, 0.7)),
        Region(kind="named", name="top"),
        Region(kind="named", name="foreground", invert=True),
    ):
        ov = np.asarray(overlay_image(region, (60, 40), None))
        mask = region_mask(region, (60, 40))
        inside, outside = mask > 0.99, mask < 0.01
        assert ov.shape == (40, 60, 4)
        assert (ov[..., 3][outside] > 100).all()  # outside darkened
        interior = inside & ~(ov[..., 3] == 255)  # the outline is opaque amber
        assert (ov[..., 3][interior] == 0).all() and interior.any()
    stored = Image.fromarray((np.arange(40)[:, None] < 20).repeat(60, 1).astype(np.uint8) * 255).convert(
        "RGB"
    )
    ov = np.asarray(overlay_image(Region(kind="mask", mask="m"), (60, 40), lambda _id: stored))
    assert ov[5, 30, 3] == 0 and ov[35, 30, 3] > 100


def test_svg_charts_escape_text() -> None:
    svg = str(
        el(
            "svg",
            {"aria-label": '"><script>x</script>'},
            el("text", None, "<img src=x onerror=alert(1)>"),
            "a & b",
        )
    )
    assert "<script>" not in svg and "<img" not in svg and "&lt;img" in svg and "a &amp; b" in svg
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(13.0, 17.5, 4)[0] >= 13.0 and nice_ticks(13.0, 17.5, 4)[-1] <= 17.5


def test_suite_page_shows_charts_breakdowns_and_strengths(site) -> None:
    page = next(p for p in site.glob("suite-*.html") if "tiny-b" not in p.name).read_text()
    assert page.count('<svg class="chart"') >= 5  # distribution, by complexity, strengths, two costs
    for text in (
        "Checklist verdicts",
        "By tag",
        "Bradley-Terry",
        "Rank stability",
        "Set-level scores",
        "seconds per edit",
        "dollars per edit",
        "goal criteria",
        "preserve criteria",
        "complexity",
    ):
        assert text in page, text
    index = (site / "index.html").read_text()
    assert index.count('data-track="planner+tools"') >= 2 and 'data-track-filter="edit-only"' in index
    assert "scripted-llm" in index  # what a system uses is disclosed
