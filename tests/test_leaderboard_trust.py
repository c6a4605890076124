"""Judge trust on the leaderboard (leaderboard/trust.py): controls, drift, pinning, in-sample marks.

One real run of the runner is made once for the module: a tiny generated suite, two systems (the
fake brightener, and the same brightener declaring it was trained on the constant judge's rewards)
judged by a deliberately broken judge that gives every result the same score and by the mean-pixel
difference judge. ``judges.probes.run_probes`` then probes both judges three times: the first run
sets the canary baseline, the second checks it unchanged, and before the third the constant judge's
score is moved by 0.2 so its canaries drift while the difference judge's do not. The site is built
from the run folder alone. Because the trained system learned from the constant judge (the suite's
primary), the overview ranks the suite by the held-out difference judge; the flagged judge's numbers
carry their flag on the suite page (``tests/test_trust_heldout.py`` tests the guard itself).
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import pytest

from bench import registry
from bench.components import build_component
from bench.model import Judgement, ScoreSpec
from bench.protocols import Component, SystemInfo
from bench.runner import RunOptions, execute
from bench.spec import ComponentSpec, parse_spec
from bench.store import RunStore
from leaderboard.site import build_site
from leaderboard.trust import JudgeTrust, read_trust
from suites.folder import load_suite
from tests.browser import CHROMIUM, Browser
from tests.fakes.components import BrightenSystem, MeanDiffJudge, make_tiny_suite


class ConstantJudge(Component):
    """A deliberately broken judge: the same score whatever it is shown."""

    name = "trust-constant"
    version = "1"
    scope = "sample"
    value = 0.7  # a class attribute, so a test can move the score without changing the judge's id

    def score_specs(self) -> list[ScoreSpec]:
        return [ScoreSpec("overall", 0.0, 1.0, True)]

    def judge(self, items):
        return [
            Judgement(
                suite=it.suite,
                sample_id=it.sample.id,
                system_id=it.trajectory.system_id,
                judge_id="",
                scores={"overall": self.value},
            )
            for it in items
        ]


class TrainedBrighten(BrightenSystem):
    """The brightener, declaring that it was trained on the constant judge's rewards."""

    name = "trust-trained"

    def info(self) -> SystemInfo:
        return SystemInfo(
            track="edit-only", description="trained test system", trained=True, reward_judge="trust-constant"
        )


@pytest.fixture(scope="module")
def probed_run(tmp_path_factory) -> Path:
    from judges.probes import ProbeOptions, run_probes

    root = tmp_path_factory.mktemp("trust")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        registry.register("systems", "fake-brighten", BrightenSystem)
        registry.register("systems", "trust-trained", TrainedBrighten)
        registry.register("judges", "fake-diff", MeanDiffJudge)
        registry.register("judges", "trust-constant", ConstantJudge)
        make_tiny_suite(root / "suite", n=5)
        summary = execute(
            str(root / "runs"),
            [load_suite(root / "suite")],
            [parse_spec("fake-brighten"), parse_spec("trust-trained:factor=0.7")],
            [parse_spec("trust-constant"), parse_spec("fake-diff")],
            RunOptions(executor="inline"),
        )
        assert summary.failed == 0
        judges = [build_component("judges", ComponentSpec(n, {})) for n in ("trust-constant", "fake-diff")]
        with RunStore.open(summary.run_dir) as store:
            opts = ProbeOptions(samples=5)
            first = run_probes(store, judges, opts)
            assert [j.canary["status"] for j in first.judges] == ["baseline", "baseline"]
            run_probes(store, judges, opts)
            mp.setattr(ConstantJudge, "value", 0.9)
            last = run_probes(store, judges, opts)
        assert last.flagged == [judges[0].id] and last.drifted == [judges[0].id]
    return Path(summary.run_dir)


@pytest.fixture(scope="module")
def site(probed_run, tmp_path_factory) -> Path:
    return build_site([probed_run], tmp_path_factory.mktemp("trust-site") / "site")


def _judge_ids(run: Path) -> dict[str, str]:
    with RunStore.open(run) as store:
        comps = store.read_meta()["components"]["judges"]
    return {
        c["spec"]["name"] if isinstance(c.get("spec"), dict) else c["id"].split(".")[0]: c["id"]
        for c in comps
    }


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def _judge_row(page: str, judge_id: str) -> str:
    m = re.search(rf'<tr data-judge="{re.escape(judge_id)}".*?</tr>', page, re.S)
    assert m, f"no Judges row for {judge_id}"
    return _text(m.group(0))


def test_read_trust_takes_the_latest_record_per_judge(probed_run):
    ids = _judge_ids(probed_run)
    with RunStore.open(probed_run) as store:
        index = read_trust([store])
    const, diff = index.get(ids["trust-constant"]), index.get(ids["fake-diff"])
    assert const.flagged and not diff.flagged
    assert const.accuracy.value == 0 and const.accuracy.n > 0 and const.gap.value == 0
    assert const.gap_score == "overall" and "includes 0" in const.control_reason
    # the fake judge's score has no kind the controls can read: insufficient, which is not a pass
    assert diff.control_status == "insufficient" and diff.accuracy.value is None
    # the third canary check, not the first two, is the drift status
    assert const.drift_status == "drift" and const.drifted and "+0.2 on overall" in const.drift_label
    assert diff.drift_status == "ok" and diff.drift_label == "ok"
    assert const.pinning_status == "n/a" and diff.bias_text == "n/a"
    trained = next(s for s in _system_ids(probed_run) if s.startswith("trust-trained"))
    assert index.in_sample(trained, ids["trust-constant"]) and not index.in_sample(trained, ids["fake-diff"])
    assert index.in_sample_systems(ids["trust-constant"]) == (trained,)


def _system_ids(run: Path) -> list[str]:
    with RunStore.open(run) as store:
        return [c["id"] for c in store.read_meta()["components"]["systems"]]


def test_a_later_run_wins_and_missing_files_mean_not_probed(probed_run, tmp_path):
    ids = _judge_ids(probed_run)
    bare = tmp_path / "bare"
    with RunStore.open(bare, create=True) as empty:
        assert not read_trust([empty]).probed
    newer = tmp_path / "newer"
    with RunStore.open(newer, create=True) as store:
        store.append(
            "canaries",
            {
                "kind": "check",
                "judge_id": ids["fake-diff"],
                "status": "drift",
                "reasons": ["moved"],
                "scores": {"diff": {"mean_shift": -3.0, "tolerance_abs": 2.5, "drift": True}},
            },
        )
        store.append(
            "probes",
            {
                "kind": "position_bias",
                "judge_id": ids["fake-diff"],
                "status": "ok",
                "rate": {"value": 0.25, "low": 0.1, "high": 0.4, "n": 20},
            },
        )
    with RunStore.open(probed_run) as old, RunStore.open(newer, create=True) as new:
        later = read_trust([old, new]).get(ids["fake-diff"])
        earlier = read_trust([new, old]).get(ids["fake-diff"])
    assert later.drift_label == "drifted -3 on diff (tolerance ±2.5)" and later.drift_title == "moved"
    assert earlier.drift_status == "ok"
    assert later.bias_text == "25% [10%, 40%]" and later.control_status == "insufficient"
    assert JudgeTrust("x").drift_label == "no baseline" and JudgeTrust("x").control_status == "not probed"


def test_overview_shows_control_accuracy_flag_drift_and_in_sample(site, probed_run):
    ids = _judge_ids(probed_run)
    page = (site.parent / "index.html").read_text(encoding="utf-8")
    # the Judges section lists both judges with their figures
    const, diff = _judge_row(page, ids["trust-constant"]), _judge_row(page, ids["fake-diff"])
    assert "FLAGGED" in const and "0% [0%, 0%]" in const and "+0 [0, 0] on overall" in const
    assert "drifted +0.2 on overall (tolerance ±0.1)" in const
    assert "FLAGGED" not in diff and "insufficient" in diff and " ok " in f" {diff} "
    assert "trust-trained" in const and diff.strip().endswith("none")
    # the constant judge is the tiny suite's primary (first judge of the run), but the trained
    # system learned from it: the overview ranks the suite by the held-out difference judge, which
    # scored every system, and shows the trained system's in-sample score beside its held-out one
    table = re.search(r'<table class="overview sortable".*?</table>', page, re.S).group(0)
    cells = re.findall(r'<td class="num score-cell".*?</td>', table, re.S)
    assert len(cells) == 2 and not any("FLAGGED" in c for c in cells)
    assert "judge fake-diff" in _text(table) and "held-out judge" in _text(table)
    assert "Ranked by the held-out judge fake-diff (diff), not trust-constant (overall)" in _text(page)
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr data-track="[^"]*" data-system="([^"]+)".*?</tr>', table, re.S)
    }
    trained = next(s for s in rows if s.startswith("trust-trained"))
    plain = next(s for s in rows if s.startswith("fake-brighten"))
    assert "in-sample 0.700 on overall (judge trust-constant)" in _text(rows[trained])
    assert "in-sample" not in _text(rows[plain])
    # beside every number the flagged judge produced: its column of the suite page's score table,
    # where the trained system's score from the judge it was trained on is marked in-sample
    suite = (site.parent / next(p.name for p in site.parent.glob("suite-*.html"))).read_text(encoding="utf-8")
    scores = re.search(r'<table class="scores sortable">.*?</table>', suite, re.S).group(0)
    assert "trust: controls 0% [0%, 0%] · drift drifted +0.2 on overall" in _text(scores)
    body = {
        m.group(1): m.group(0)
        for m in re.finditer(r'data-value="((?:trust-trained|fake-brighten)[^"]*)".*?</tr>', scores, re.S)
    }
    assert len(body) == 2 and all(_text(r).count("FLAGGED") == 1 for r in body.values())
    assert [("in-sample" in _text(r)) for k, r in sorted(body.items())] == [False, True]


def test_site_without_probes_has_no_flag(probed_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(probed_run, run)
    (run / "probes.jsonl").unlink()
    (run / "canaries.jsonl").unlink()
    index = build_site([run], tmp_path / "site")
    page = index.read_text(encoding="utf-8")
    assert "FLAGGED" not in _text(
        re.search(r'<table class="overview sortable".*?</table>', page, re.S).group(0)
    )
    suite = next(index.parent.glob("suite-*.html")).read_text(encoding="utf-8")
    assert "FLAGGED" not in _text(suite)
    # without probe records the trained system is still guarded, from run.json's reward judge
    assert "Ranked by the held-out judge fake-diff" in _text(page)
    row = _judge_row(page, _judge_ids(probed_run)["trust-constant"])
    assert "not probed" in row and "no baseline" in row and "not checked" in row


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless chromium not installed (apt-get install chromium)")
def test_flag_is_visible_in_the_browser(site, probed_run):
    ids = _judge_ids(probed_run)
    with Browser(width=1360, height=900) as b:
        b.open(site.parent.resolve().as_uri() + "/index.html")
        b.wait_for("document.querySelector('#judges-table') !== null")
        note = b.eval(
            "[...document.querySelectorAll('#overview .heldout-note')]"
            ".filter(e => e.offsetWidth > 0 && e.offsetHeight > 0).map(e => e.innerText).join(' ')"
        )
        assert "Ranked by the held-out judge fake-diff" in note
        row = b.eval(
            f"document.querySelector('#judges-table tr[data-judge=\"{ids['trust-constant']}\"]').innerText"
        )
        assert "FLAGGED" in row and "drifted" in row
        good = b.eval(
            f"document.querySelector('#judges-table tr[data-judge=\"{ids['fake-diff']}\"]').innerText"
        )
        assert "FLAGGED" not in good
        b.pump(0.2)
        assert not b.errors and not b.dialogs, b.errors
        b.open(next(site.parent.glob("suite-*.html")).resolve().as_uri())
        b.wait_for("document.querySelector('table.scores') !== null")
        flags = b.eval(
            "[...document.querySelectorAll('table.scores tbody .trust-flag')]"
            ".filter(e => e.offsetWidth > 0 && e.offsetHeight > 0 && getComputedStyle(e).visibility !== 'hidden').length"
        )
        assert flags == 2  # one per system in the flagged judge's column
        assert not b.errors and not b.dialogs, b.errors
    assert os.path.exists(site)
