"""The training-judge guard on the overview (leaderboard/heldout.py): held-out substitution.

One real run of the runner, made once for the module: a tiny suite, three systems — two plain
brighteners and a third that brightens hard and declares it was trained on the ``ho-bright``
judge's rewards — judged by ``ho-bright`` (mean brightness of the result, higher is better: the
trained system's favourite, and the suite's primary as the run's first judge) and by the
held-out pixel-difference judge. On ``ho-bright`` the trained system is first; on the held-out
judge, which every system got, it is last. The guard records are written as the probe stage
writes them (``judges.probes.guard.guard_records``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench import registry
from bench.model import Judgement, ScoreSpec
from bench.protocols import Component, SystemInfo
from bench.report import summary_table
from bench.results import load_results
from bench.runner import RunOptions, execute
from bench.spec import parse_spec
from bench.stats import significance_ranks
from bench.store import RunStore
from judges.probes.guard import guard_records
from leaderboard.header import Names, suite_views
from leaderboard.overview import SIG_RESAMPLES, rank_suite
from leaderboard.primary import score_matrix
from leaderboard.site import build_site
from leaderboard.trust import declared_guard, read_trust
from suites.folder import load_suite
from tests.fakes.components import BrightenSystem, MeanDiffJudge, make_tiny_suite


class BrightJudge(Component):
    """Mean brightness of the result, 0..1: rewards brightening whatever the goal says."""

    name = "ho-bright"
    version = "1"
    scope = "sample"

    def score_specs(self) -> list[ScoreSpec]:
        return [ScoreSpec("overall", 0.0, 1.0, True)]

    def judge(self, items):
        return [
            Judgement(
                suite=it.suite,
                sample_id=it.sample.id,
                system_id=it.trajectory.system_id,
                judge_id="",
                scores={"overall": float(np.asarray(it.final, np.float64).mean() / 255.0)},
            )
            for it in items
        ]


class TrainedBright(BrightenSystem):
    """A brightener that learned from ``ho-bright``'s rewards (and so overdoes it)."""

    name = "ho-trained"

    def info(self) -> SystemInfo:
        return SystemInfo(
            track="planner+tools", description="trained on ho-bright", trained=True, reward_judge="ho-bright"
        )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("heldout")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        registry.register("systems", "fake-brighten", BrightenSystem)
        registry.register("systems", "ho-trained", TrainedBright)
        registry.register("judges", "fake-diff", MeanDiffJudge)
        registry.register("judges", "ho-bright", BrightJudge)
        make_tiny_suite(root / "suite", n=8)
        summary = execute(
            str(root / "runs"),
            [load_suite(root / "suite")],
            [
                parse_spec("fake-brighten:factor=1.05"),
                parse_spec("fake-brighten:factor=1.2"),
                parse_spec("ho-trained:factor=2.0"),
            ],
            [parse_spec("ho-bright"), parse_spec("fake-diff")],
            RunOptions(executor="inline"),
        )
    assert summary.failed == 0
    with RunStore.open(summary.run_dir) as store:
        for rec in guard_records(store.read_meta()):
            store.append("probes", rec)
    return Path(summary.run_dir)


@pytest.fixture(scope="module")
def site(run, tmp_path_factory) -> Path:
    return build_site([run], tmp_path_factory.mktemp("heldout-site") / "site").parent


def _ids(run: Path) -> tuple[dict[str, str], dict[str, str]]:
    with RunStore.open(run) as store:
        comps = store.read_meta()["components"]
    trained = next(c["id"] for c in comps["systems"] if c["id"].startswith("ho-trained"))
    judges = {c["id"].split(".")[0]: c["id"] for c in comps["judges"]}
    return {"trained": trained}, judges


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def _rankings(run: Path, trust: bool = True):
    res = load_results([run])
    names = Names(res)
    summary = summary_table(res, seed=0, n_resamples=200)
    with RunStore.open(run) as store:
        index = read_trust([store])
    out = {}
    for ref, view in suite_views(res).items():
        out[ref] = rank_suite(
            res, names, view, summary, {}, trust=index if trust else None, stability_resamples=200
        )
    return res, out


def test_the_overview_ranks_by_the_held_out_judge(run):
    ids, judges = _ids(run)
    res, rankings = _rankings(run)
    [r] = rankings.values()
    assert r.primary.judge_id == judges["fake-diff"] and r.primary.score == "diff"
    assert r.primary.chosen_by == "held-out" and r.guard.substituted
    assert r.guard.replaced.judge_id == judges["ho-bright"] and r.guard.in_sample == (ids["trained"],)
    assert r.guard.excluded == () and r.guard.tried == ()
    # every system is ranked on the held-out judge's score, with bench.stats' own numbers
    systems = [c.system.id for c in r.cells]
    m = score_matrix(res, r.suite.ref, judges["fake-diff"], "diff", systems)
    sig = {
        x.system: x.rank
        for x in significance_ranks(m.values, higher_is_better=False, n_resamples=SIG_RESAMPLES, seed=0).ranks
    }
    assert {c.system.id: c.rank for c in r.cells} == sig
    trained = r.cell(ids["trained"])
    assert trained.rank == 3 and trained.expected_rank == 3.0 and not trained.excluded
    assert (
        trained.in_sample_text.startswith("in-sample ")
        and "on overall (judge ho-bright)" in trained.in_sample_text
    )
    # without the guard the flattering judge would put the trained system first
    _, plain = _rankings(run, trust=False)
    [p] = plain.values()
    assert p.primary.judge_id == judges["ho-bright"] and p.guard is None and p.cell(ids["trained"]).rank == 1


def test_the_page_says_which_judge_ranks_and_why(run, site):
    ids, judges = _ids(run)
    page = (site / "index.html").read_text(encoding="utf-8")
    note = _text(re.search(r'<p class="heldout-note".*?</p>', page, re.S).group(0))
    assert "Ranked by the held-out judge fake-diff (diff), not ho-bright (overall)" in note
    assert "ho-trained:factor=2.0 was trained on ho-bright’s rewards" in note
    table = re.search(r'<table class="overview sortable".*?</table>', page, re.S).group(0)
    head = _text(re.search(r"<thead>.*?</thead>", table, re.S).group(0))
    assert "diff · judge fake-diff" in head and "held-out judge" in head
    row = re.search(
        rf'<tr data-track="[^"]*" data-system="{re.escape(ids["trained"])}".*?</tr>', table, re.S
    ).group(0)
    assert "in-sample " in _text(row) and "(judge ho-bright)" in _text(row)
    # the suite page keeps the primary judge's scores, the trained system's marked in-sample
    suite = next(site.glob("suite-*.html")).read_text(encoding="utf-8")
    assert "Ranked by the held-out judge fake-diff" in _text(suite)
    scores = _text(re.search(r'<table class="scores sortable">.*?</table>', suite, re.S).group(0))
    assert "overall" in scores and scores.count("in-sample") == 1
    # and the data file says the same
    doc = json.loads((site / "data" / "leaderboard.json").read_text())
    [s] = doc["suites"]
    assert s["primary"]["judge_id"] == judges["fake-diff"] and s["primary"]["chosen_by"] == "held-out"
    assert s["guard"]["substituted"] and s["guard"]["replaced"] == {
        "judge_id": judges["ho-bright"],
        "score": "overall",
    }
    assert s["guard"]["sentence"] in _text(page)
    assert {r["system_id"]: r["chosen_by"] for r in doc["overview"]} == {
        c: "held-out" for c in {r["system_id"] for r in doc["overview"]}
    }


def test_without_a_covering_held_out_judge_in_sample_systems_are_not_ranked(run, tmp_path):
    ids, judges = _ids(run)
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    lines = (copy / "judgements.jsonl").read_text().splitlines()
    plain = next(
        json.loads(x)["system_id"] for x in lines if json.loads(x)["system_id"].startswith("fake-brighten")
    )
    kept = [
        x
        for x in lines
        if not (json.loads(x)["judge_id"] == judges["fake-diff"] and json.loads(x)["system_id"] == plain)
    ]
    (copy / "judgements.jsonl").write_text("\n".join(kept) + "\n")
    _, rankings = _rankings(copy)
    [r] = rankings.values()
    assert r.primary.judge_id == judges["ho-bright"] and not r.guard.substituted
    assert r.guard.excluded == (ids["trained"],) and r.guard.tried == (judges["fake-diff"],)
    cell = r.cell(ids["trained"])
    assert cell.excluded and cell.rank is None and cell.expected_rank is None and cell.mean is not None
    assert ids["trained"] not in [s.id for s in r.swap_systems] and len(r.swap_systems) == 2
    assert sorted(c.rank for c in r.cells if c.rank is not None) in ([1, 2], [1, 1])
    index = build_site([copy], tmp_path / "site")
    page = _text(index.read_text(encoding="utf-8"))
    assert (
        "is not ranked: trained on ho-bright’s rewards" in page
        and "no held-out judge scored every system" in page
    )
    assert "in-sample · not ranked" in page
    doc = json.loads((index.parent / "data" / "leaderboard.json").read_text())
    assert doc["suites"][0]["guard"]["excluded"] == [ids["trained"]]
    row = next(r for r in doc["overview"] if r["system_id"] == ids["trained"])
    assert row["excluded"] and row["in_sample"] and row["rank"] is None


def test_a_run_judged_without_probes_is_guarded_from_run_json(run, tmp_path):
    ids, judges = _ids(run)
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "probes.jsonl").unlink()
    with RunStore.open(copy) as store:
        index = read_trust([store])
        meta = store.read_meta()
    assert index.in_sample(ids["trained"], judges["ho-bright"]) and not index.held_out
    _, rankings = _rankings(copy)
    [r] = rankings.values()
    assert r.primary.judge_id == judges["fake-diff"] and r.guard.in_sample == (ids["trained"],)
    assert declared_guard(meta) == {
        g["system_id"]: [x["judge_id"] for x in g["in_sample"]] for g in guard_records(meta)
    }


def test_declared_guard_follows_the_probe_guard_rule():
    """The leaderboard's copy of the matching rule gives what judges.probes.guard gives."""
    judges = [
        {
            "id": "styling-reward.aa",
            "name": "styling-reward",
            "info": {"display": "styling-reward:model=x", "kind": "vlm"},
        },
        {
            "id": "styling-reward.bb",
            "name": "styling-reward",
            "info": {"display": "styling-reward:model=y", "kind": "vlm"},
        },
        {"id": "checklist.cc", "name": "checklist", "info": {"display": "checklist", "kind": "vlm"}},
        {"id": "ssim.dd", "name": "ssim", "info": {"display": "ssim", "kind": "metric"}},
    ]
    systems = [
        {"id": "by-spec.1", "info": {"trained": True, "reward_judge": "styling-reward:model=x"}},
        {"id": "by-id.2", "info": {"trained": True, "reward_judge": "checklist.cc"}},
        {"id": "by-name.3", "info": {"trained": True, "reward_judge": "ssim"}},
        {"id": "absent.4", "info": {"trained": True, "reward_judge": "plan-quality"}},
        {"id": "undeclared.5", "info": {"trained": True}},
        {"id": "plain.6", "info": {"track": "edit-only"}},
    ]
    meta = {"components": {"systems": systems, "judges": judges}}
    mine = declared_guard(meta)
    theirs = {g["system_id"]: g for g in guard_records(meta)}
    assert set(mine) == set(theirs) == {"by-spec.1", "by-id.2", "by-name.3", "absent.4", "undeclared.5"}
    for sid, judge_ids in mine.items():
        if theirs[sid]["status"] == "undeclared":
            assert judge_ids is None
        else:
            assert judge_ids == [x["judge_id"] for x in theirs[sid]["in_sample"]]
    assert mine["by-spec.1"] == ["styling-reward.aa", "styling-reward.bb"] and mine["absent.4"] == []
