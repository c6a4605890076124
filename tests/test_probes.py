"""Judge probes (judges/probes, bench/cli_probe): controls, canaries, pinning, bias, guard, tracks.

One small real run (ads-abstract at 4 samples, the edit-only and rule-pipeline baselines, the
weight-free checklist-heuristic judge) is made once for the module; VLM judges talk to the loopback
chat server or the scripted backend. No weights, no network.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.components import Built, build_component
from bench.ids import image_id
from bench.model import ImageRef, Judgement, Plan, Sample, ScoreSpec, Subtask, Trajectory
from bench.protocols import Component, JudgeItem
from bench.spec import ComponentSpec
from bench.store import RunStore
from judges.probes import EXPECT, ProbeOptions, after_judging, canary_set, check_pinning, is_dated, run_probes
from judges.probes.bias import length_effects, position_bias
from judges.probes.canaries import run_canaries
from judges.probes.checks import headline_score, score_kind
from judges.probes.controls import blank_like, degrade, derange_tiles, noise_like
from judges.probes.guard import guard_records, track_records
from judges.probes.stability import stability_records
from tests.fakes.chat_server import Call, ChatServer, Reply

# --- a small real run, made once --------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """ads-abstract (4 samples) x edit-only, rule-pipeline, judged by checklist-heuristic."""
    from bench.compose import load_suite_spec
    from bench.runner import RunOptions, Selection, execute
    from bench.spec import parse_spec

    root = tmp_path_factory.mktemp("probe-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        suite = load_suite_spec("ads-abstract:size=4")
        summary = execute(
            str(root / "runs"),
            [suite],
            [parse_spec("edit-only"), parse_spec("rule-pipeline")],
            [parse_spec("checklist-heuristic")],
            RunOptions(executor="inline", selection=Selection()),
        )
    assert summary.failed == 0
    return Path(summary.run_dir)


@pytest.fixture
def run(base_run, tmp_path) -> RunStore:
    """A private copy of the base run, so each test writes its own probes."""
    dst = tmp_path / "run"
    shutil.copytree(base_run, dst)
    store = RunStore.open(dst)
    yield store
    store.close()


class ConstantJudge(Component):
    """A deliberately broken judge: the same score whatever it is shown."""

    name = "probe-constant"
    version = "1"
    scope = "sample"

    def __init__(self, value: float = 0.7) -> None:
        self.value = value
        self.calls = 0

    def score_specs(self) -> list[ScoreSpec]:
        return [ScoreSpec("overall", 0.0, 1.0, True)]

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        self.calls += len(items)
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


def built(obj: Any, name: str | None = None) -> Built:
    name = name or obj.name
    return Built(kind="judges", spec=ComponentSpec(name, {}), obj=obj, id=f"{name}.000000000000")


def records(store: RunStore, kind: str, name: str = "probes") -> list[dict[str, Any]]:
    return [r for _, r in store.records(name) if r.get("kind") == kind]


# --- control images and expectations ------------------------------------------------------------------


def test_control_images_keep_what_they_promise():
    rng = np.random.default_rng(0)
    src = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    arr = np.asarray(src, dtype=float)
    blank = np.asarray(blank_like(src), dtype=float)
    assert np.ptp(blank.reshape(-1, 3), axis=0).max() == 0  # one flat colour...
    assert np.allclose(blank[0, 0], arr.reshape(-1, 3).mean(axis=0), atol=0.5)  # ...the source's mean
    noise = np.asarray(noise_like(src, 3), dtype=float)
    assert noise.shape == arr.shape and np.allclose(
        noise.reshape(-1, 3).mean(axis=0), arr.reshape(-1, 3).mean(axis=0), atol=6
    )
    assert np.array_equal(noise, np.asarray(noise_like(src, 3)))  # seeded
    tiles = derange_tiles(src, seed=1)
    t = np.asarray(tiles)
    assert sorted(map(tuple, t.reshape(-1, 3))) == sorted(
        map(tuple, np.asarray(src).reshape(-1, 3))
    )  # same pixels
    tw, th = 96 // 4, 64 // 4
    for i in range(16):  # every tile moved
        x, y = (i % 4) * tw, (i // 4) * th
        assert not np.array_equal(t[y : y + th, x : x + tw], np.asarray(src)[y : y + th, x : x + tw])
    assert np.abs(np.asarray(degrade(src), dtype=float) - arr).mean() > 20
    # the examples: identity fails the goal and keeps what it should; blank fails everything
    assert EXPECT["identity"]["goal"] == "fail" and EXPECT["identity"]["preserve"] == "pass"
    assert all(EXPECT["blank"][k] == "fail" for k in ("goal", "preserve", "quality", "overall"))


def test_score_kinds_and_headline():
    assert [score_kind(n) for n in ("goal_pass_rate", "ssim", "pq", "pass_rate", "decided", "relevance")] == [
        "goal",
        "preserve",
        "quality",
        "overall",
        None,
        None,
    ]
    assert score_kind("x", {"x": "goal"}) == "goal"
    specs = [ScoreSpec("decided"), ScoreSpec("ssim"), ScoreSpec("pass_rate")]
    assert headline_score(specs).name == "pass_rate"
    assert headline_score([ScoreSpec("decided"), ScoreSpec("ssim")]).name == "ssim"
    assert (
        headline_score([ScoreSpec("overall"), ScoreSpec("overall_shared")], present={"overall_shared"}).name
        == "overall_shared"
    )


# --- controls on a real run -----------------------------------------------------------------------------


def test_heuristic_passes_decidable_controls_and_reports_undecidable(run):
    heur = build_component("judges", ComponentSpec("checklist-heuristic", {}))
    report = run_probes(run, [heur], ProbeOptions(samples=4, canaries=False))
    [summary] = [j.controls for j in report.judges]
    assert summary["status"] == "ok" and not report.flagged, summary["reason"]
    assert summary["headline"] == "pass_rate" and summary["basis"]["verdicts"] == summary["controls_judged"]
    gap = summary["gaps"]["pass_rate"]
    assert gap["low"] > 0 and gap["effect"] >= 0.5
    assert summary["accuracy"]["value"] >= 0.7 and summary["accuracy"]["low"] <= summary["accuracy"]["value"]
    controls = records(run, "control")
    assert {r["control"] for r in controls} == set(EXPECT)
    assert len(controls) == 4 * len(EXPECT)  # every sample has a partner: nothing skipped
    # the controls a measuring judge can decide, it passes on every sample: the source returned
    # unchanged (goal unmet, preserve kept), a flat image, another sample's goal, a degraded result
    for control in ("identity", "blank", "mismatched_goal", "degraded"):
        assert summary["by_control"][control]["pass"] == 4 and summary["by_control"][control]["fail"] == 0, (
            control
        )
    # noise and deranged tiles fool one of its measures: "the text is kept" reads text-likeness in
    # the text's box, which noise and moved tiles have too (a finding the probe exists to show)
    for r in controls:
        if r["control"] in ("noise", "over_edit"):
            for c in r["checks"]:
                if c["outcome"] == "wrong":
                    assert c["kind"] == "goal" or "text score" in r["rationale"][c["id"]], (r["control"], c)
    # ... and where it has no measure it says undecidable, which is never counted as wrong
    undecided = [(r, c) for r in controls for c in r["checks"] if c["outcome"] == "undecidable"]
    assert undecided, "ads-abstract has quality criteria no weight-free measure decides"
    for r, c in undecided:
        assert r["verdicts"][c["id"]] == "undecidable"
    for r in controls:
        for c in r["checks"]:
            if c["outcome"] != "undecidable":
                assert c["outcome"] == ("right" if r["verdicts"][c["id"]] == c["expect"] else "wrong")
    # mismatched goals keep the sample's image but ask another sample's edit
    mg = next(r for r in controls if r["control"] == "mismatched_goal")
    assert mg["partner"] and mg["partner"] != mg["sample_id"] and mg["image"] == mg["real_image"]
    # synthetic trajectories never reach the run's records; control images are in its image store
    assert not any(t.system_id.startswith("control:") for t in run.trajectories().values())
    assert all(run.images.has(r["image"]) for r in controls)


def test_constant_judge_is_flagged(run):
    judge = ConstantJudge()
    b = built(judge)
    report = run_probes(run, [b], ProbeOptions(samples=4, canaries=False))
    summary = report.judges[0].controls
    assert report.flagged == [b.id] and summary["status"] == "flagged"
    assert "includes 0" in summary["reason"]
    gap = summary["gaps"]["overall"]
    assert gap["value"] == 0 and gap["n"] > 4
    # an overall score is expected to drop on every control but the identity: it never does
    assert summary["basis"]["scores"] == summary["controls_judged"]
    assert summary["accuracy"]["value"] == 0 and "most controls wrong" in summary["reason"]
    assert summary["by_control"]["identity"]["undecidable"] == 4
    # resuming judges nothing again and writes no second identical summary
    calls = judge.calls
    lines = sum(1 for _ in run.records("probes"))
    run_probes(run, [b], ProbeOptions(samples=4, canaries=False))
    assert judge.calls == calls
    assert sum(1 for _ in run.records("probes")) == lines


def test_a_crashing_judge_gives_error_records_that_are_retried(run):
    class Flaky(ConstantJudge):
        name = "probe-flaky"

        def __init__(self) -> None:
            super().__init__()
            self.broken = True

        def judge(self, items):
            if self.broken:
                raise RuntimeError("backend down")
            return super().judge(items)

    judge = Flaky()
    b = built(judge)
    opts = ProbeOptions(samples=2, controls=("blank",), canaries=False)
    first = run_probes(run, [b], opts).judges[0].controls
    assert first["outcomes"]["undecidable"] == 2 and first["status"] == "insufficient"
    assert {r["status"] for r in records(run, "control")} == {"error"}
    judge.broken = False
    second = run_probes(run, [b], opts).judges[0].controls
    assert judge.calls == 2 + 2  # both real results and both blanks judged again
    assert second["outcomes"]["fail"] == 2


def test_after_judging_hook_probes_a_small_sample(run, monkeypatch):
    from judges.probes import stage

    monkeypatch.setattr(stage, "AUTO_SAMPLES", 3)  # the fixture run has 4 samples; the default is more
    heur = build_component("judges", ComponentSpec("checklist-heuristic", {}))
    report = after_judging(run, [heur], None)
    assert report.judges[0].controls["samples"] == 3
    bigger = run_probes(run, [heur], ProbeOptions(samples=4, canaries=False)).judges[0].controls
    assert bigger["samples"] == 4
    assert after_judging(run, [heur], None).judges[0].controls["samples"] == 4  # evidence only grows
    assert report.judges[0].canary["status"] == "baseline"
    stages = [s for s in run.stages() if s["stage"] == "probe"]
    assert stages and stages[-1]["judges"] == [heur.id]
    assert {r["system_id"] for r in records(run, "track")} == {
        t.system_id for t in run.trajectories().values()
    }
    [stab] = [r for r in records(run, "stability") if r["score"] == "pass_rate"]
    assert {s["system_id"] for s in stab["systems"]} == {t.system_id for t in run.trajectories().values()}
    assert not stab["draws"] and stab["n_samples"] == 4


# --- canaries against the loopback server ----------------------------------------------------------------


def _scored_reply(score: int):
    """A handler answering every criterion of any numeric rubric with ``score``."""

    def handler(call: Call) -> Reply:
        schema = call.body["response_format"]["json_schema"]["schema"]
        out = {}
        for key, sub in schema["properties"].items():
            value_key = next(p for p in sub["properties"] if p != "reasoning")
            out[key] = {"reasoning": "scripted", value_key: score}
        return Reply(json.dumps(out), model="judge-model-2024-05-13")

    return handler


def test_canary_drift_against_loopback(tmp_path):
    store = RunStore.open(tmp_path / "run", create=True)
    store.write_meta({"name": "canary-test"})
    with ChatServer() as srv:
        spec = ComponentSpec(
            "image-quality",
            {
                "backend": "openai",
                "base_url": srv.url,
                "model": "judge-model",
                "max_retries": 1,
                "timeout": 10,
            },
        )
        b = build_component("judges", spec)
        srv.handler = _scored_reply(70)
        first = run_canaries(store, b)
        assert first["status"] == "baseline" and first["cache"] == "bypassed"
        n1 = len(srv.chat_calls())
        assert n1 == len(canary_set())  # one request per canary (no plan: one ask each)
        same = run_canaries(store, b)  # unchanged replies: not drift; the cache was bypassed
        assert len(srv.chat_calls()) == 2 * n1
        assert same["status"] == "ok" and same["reasons"] == []
        assert same["scores"]["overall_shared"]["mean_abs_shift"] == 0 and not same["model_changed"]
        srv.handler = _scored_reply(85)  # a shift of 15 points on a 0-100 scale (tolerance: 10)
        shifted = run_canaries(store, b)
        assert shifted["status"] == "drift"
        assert shifted["scores"]["overall_shared"]["mean_shift"] == pytest.approx(15.0)
        assert any(r.startswith("overall_shared:") for r in shifted["reasons"])
        srv.handler = _scored_reply(75)  # within tolerance
        assert run_canaries(store, b)["status"] == "ok"
    checks = records(store, "check", "canaries")
    assert [c["status"] for c in checks] == ["baseline", "ok", "drift", "ok"]
    assert len(records(store, "baseline", "canaries")) == 1
    store.close()


def test_canaries_of_a_weight_free_judge_are_stable_and_decided(tmp_path):
    store = RunStore.open(tmp_path / "run", create=True)
    heur = build_component("judges", ComponentSpec("checklist-heuristic", {}))
    run_canaries(store, heur)
    again = run_canaries(store, heur)
    assert again["status"] == "ok" and again["cache"] == "none"
    baseline = records(store, "baseline", "canaries")[0]
    base = baseline["canaries"]
    assert base["warm/good"]["verdicts"] == {"c1": "pass", "c2": "pass"}
    assert base["warm/bad"]["verdicts"]["c1"] == "fail" and base["night/bad"]["verdicts"]["c1"] == "fail"
    # a canary drawn differently since the baseline is not compared (and is not drift)
    baseline["keys"]["warm/good"] = "drawn-elsewhere"
    moved = run_canaries(store, heur, baseline=baseline)
    assert moved["status"] == "ok" and "1 canaries were drawn differently" in moved["notes"][0]
    assert moved["scores"]["pass_rate"]["n"] == len(base) - 1
    store.close()


# --- pinning ---------------------------------------------------------------------------------------------


def test_undated_model_alias_gets_a_warning(caplog):
    assert [
        is_dated(m)
        for m in (
            "gpt-4o-2024-08-06",
            "claude-3-5-sonnet-20240620",
            "gpt-4-0613",
            "qwen2-vl@3c2e1f0a9b7d",
            "gpt-4o",
            "model-latest",
            "llava@main",
        )
    ] == [True, True, True, True, False, False, False]
    b = build_component(
        "judges",
        ComponentSpec(
            "checklist", {"backend": "scripted", "script": ["{}"], "model": "gpt-4o", "cache": False}
        ),
    )

    def j(sample: str, model: str | None) -> Judgement:
        return Judgement(
            suite="s@1",
            sample_id=sample,
            system_id="sys",
            judge_id=b.id,
            model_resolved=model,
            endpoint_host="api.example.com",
        )

    with caplog.at_level(logging.WARNING):
        rec = check_pinning(b, [j("a", "gpt-4o"), j("b", "gpt-4o-2024-08-06")])
    assert rec["status"] == "undated" and rec["undated_judgements"] == 1
    assert "undated model alias (gpt-4o)" in rec["warnings"][0] and "undated model alias" in caplog.text
    assert rec["prompt_hash"] and rec["sampling"]["temperature"] == 0.0 and rec["model_requested"] == "gpt-4o"
    pinned = check_pinning(b, [j("a", "gpt-4o-2024-08-06"), j("b", "gpt-4o-2024-08-06")])
    assert pinned["status"] == "pinned" and not pinned["warnings"]
    assert "pin that snapshot" in pinned["notes"][0]  # an alias was asked for: say which snapshot answered
    assert check_pinning(b, [j("a", "gpt-4o-2024-08-06"), j("b", "gpt-4o-2024-11-20")])["status"] == "mixed"
    heur = build_component("judges", ComponentSpec("checklist-heuristic", {}))
    assert check_pinning(heur, [])["status"] == "n/a"


# --- bias checks -----------------------------------------------------------------------------------------


def _item(sample: Sample, system: str, seed: int, other: JudgeItem | None = None) -> JudgeItem:
    rng = np.random.default_rng(seed)
    src = Image.fromarray(np.full((16, 24, 3), 120, np.uint8))
    out = Image.fromarray(rng.integers(0, 255, (16, 24, 3), dtype=np.uint8))
    s = sample.replace(image=ImageRef(id=image_id(src)))
    t = Trajectory(suite="t@1", sample_id=s.id, system_id=system, final=image_id(out))
    return JudgeItem(suite="t@1", sample=s, source=src, final=out, trajectory=t, other=other)


def test_position_bias_on_a_scripted_pairwise_judge(tmp_path):
    winner = [json.dumps({"reasoning": "x", "winner": w}) for w in ("A", "A", "A", "B")]
    b = build_component(
        "judges", ComponentSpec("pairwise", {"backend": "scripted", "script": winner, "cache": False})
    )
    samples = [Sample(id=f"s{i}", image=ImageRef(id=""), goal="make it pop") for i in range(4)]
    items = [_item(s, "sysA", 10 + i, other=_item(s, "sysB", 20 + i)) for i, s in enumerate(samples)]
    js = [j.replace(judge_id=b.id) for j in b.obj.judge(items)]
    # pairs 1 and 3 were answered "A" in both orders (a flip), pairs 2 and 4 "A" then "B" (consistent)
    assert [j.scores["position_consistent"] for j in js] == [0.0, 1.0, 0.0, 1.0]
    rec = position_bias(b, js)
    assert rec["status"] == "ok" and rec["rate"]["value"] == 0.5 and rec["flipped"] == 2 and rec["pairs"] == 4
    assert rec["rate"]["low"] <= 0.5 <= rec["rate"]["high"]
    always_a = build_component(
        "judges",
        ComponentSpec(
            "pairwise",
            {"backend": "scripted", "script": winner[:1], "cache": False, "samples": 2, "temperature": 0.7},
        ),
    )
    js = [j.replace(judge_id=always_a.id) for j in always_a.obj.judge(items)]
    rec = position_bias(always_a, js)
    assert rec["rate"]["value"] == 1.0 and rec["comparisons"] == 8  # two draws a pair, all flipped
    heur = build_component("judges", ComponentSpec("checklist-heuristic", {}))
    assert position_bias(heur, js)["status"] == "n/a"
    # a pairwise judge's canaries are the (good, bad) pairs of each goal
    store = RunStore.open(tmp_path / "run", create=True)
    rec = run_canaries(store, b)
    assert rec["status"] == "baseline" and rec["cache"] == "off"
    assert set(rec["canaries"]) == {"warm/good-vs-bad", "night/good-vs-bad", "winter/good-vs-bad"}
    assert all(e["status"] == "ok" and "win" in e["scores"] for e in rec["canaries"].values())
    store.close()


def test_plan_length_effect_is_measured_with_intervals():
    class PlanJudge(Component):
        name = "wordy"
        scope = "sample"
        judges_plans = True

    b = built(PlanJudge())
    trajs, js = {}, []
    rng = np.random.default_rng(0)
    for i in range(12):
        for k, system in enumerate(("short", "long")):
            words = 5 + 20 * k + int(rng.integers(0, 5))
            plan = Plan(subtasks=(Subtask("t1", " ".join(["word"] * words)),))
            t = Trajectory(suite="s@1", sample_id=f"x{i}", system_id=system, plan=plan, final="f")
            trajs[t.key] = t
            js.append(
                Judgement(
                    suite="s@1",
                    sample_id=f"x{i}",
                    system_id=system,
                    judge_id=b.id,
                    scores={"overall": 40.0 + words + float(rng.normal(0, 2))},
                )
            )
    rec = length_effects(b, js, trajs)
    entry = rec["scores"]["overall"]
    assert rec["status"] == "ok" and entry["effect"] == "positive"
    assert entry["overall"]["value"] > 0.5 and entry["within_sample"]["low"] > 0
    heur = build_component("judges", ComponentSpec("checklist-heuristic", {}))
    assert length_effects(heur, js, trajs)["status"] == "n/a"


# --- rank stability --------------------------------------------------------------------------------------


def test_rank_stability_records_with_draws():
    b = built(ConstantJudge())  # only its id and score specs matter here
    rng = np.random.default_rng(0)
    js = []
    for i in range(20):
        for system, mu in (("best", 0.9), ("close-a", 0.5), ("close-b", 0.49)):
            draws = [float(np.clip(mu + rng.normal(0, 0.1), 0, 1)) for _ in range(3)]
            js.append(
                Judgement(
                    suite="s@1",
                    sample_id=f"x{i}",
                    system_id=system,
                    judge_id=b.id,
                    scores={"overall": float(np.mean(draws))},
                    draws={"overall": draws},
                )
            )
    js.append(Judgement(suite="s@1", sample_id="x0", system_id="broken", judge_id=b.id, status="error"))
    guard = [{"system_id": "close-a", "in_sample": [{"judge_id": b.id, "match": "id"}]}]
    [rec] = stability_records(b, js, guard)
    assert rec["draws"] and rec["n_samples"] == 20 and rec["score"] == "overall"
    assert [s["system_id"] for s in rec["systems"]][0] == "best" and "broken" not in rec["swap"]
    assert rec["systems"][0]["rank_low"] == rec["systems"][0]["rank_high"] == 1
    assert rec["swap"]["best"]["close-a"] < 0.01
    assert [p[:2] for p in rec["unsettled"]] in ([["close-a", "close-b"]], [["close-b", "close-a"]])
    assert rec["in_sample"] == ["close-a"]


# --- guard and tracks ------------------------------------------------------------------------------------


def test_training_judge_guard_and_tracks():
    meta = {
        "components": {
            "systems": [
                {
                    "id": "trained.1",
                    "name": "planner-orchestrator",
                    "info": {
                        "track": "planner+tools",
                        "trained": True,
                        "reward_judge": "styling-reward",
                        "models": ["m"],
                    },
                },
                {"id": "mystery.2", "name": "mystery", "info": {"track": "", "trained": True}},
                {"id": "plain.3", "name": "edit-only", "info": {"track": "edit-only", "tools": ["weather"]}},
            ],
            "judges": [
                {
                    "id": "styling-reward.aa",
                    "name": "styling-reward",
                    "info": {"kind": "vlm", "scope": "sample", "display": "styling-reward"},
                },
                {"id": "pairwise.bb", "name": "pairwise", "info": {"kind": "vlm", "scope": "pairwise"}},
                {
                    "id": "checklist-heuristic.cc",
                    "name": "checklist-heuristic",
                    "info": {"kind": "heuristic"},
                },
                {
                    "id": "image-quality.dd",
                    "name": "image-quality",
                    "info": {"kind": "vlm", "scope": "sample"},
                },
            ],
        }
    }
    guard = {g["system_id"]: g for g in guard_records(meta)}
    assert set(guard) == {"trained.1", "mystery.2"}
    g = guard["trained.1"]
    assert g["status"] == "guarded" and g["in_sample"] == [{"judge_id": "styling-reward.aa", "match": "spec"}]
    assert g["held_out"] == [
        "image-quality.dd",
        "checklist-heuristic.cc",
    ]  # a VLM first; pairwise is not held out
    assert guard["mystery.2"]["status"] == "undeclared"
    meta["components"]["systems"][0]["info"]["reward_judge"] = "styling-reward.aa"
    assert guard_records(meta)[0]["in_sample"] == [{"judge_id": "styling-reward.aa", "match": "id"}]
    meta["components"]["systems"][0]["info"]["reward_judge"] = "styling-reward.ff"  # another configuration
    assert guard_records(meta)[0]["in_sample"] == [{"judge_id": "styling-reward.aa", "match": "name"}]
    trajs = {("s@1", "x", "plain.3"): Trajectory(suite="s@1", sample_id="x", system_id="plain.3", final="f")}
    tracks = {t["system_id"]: t for t in track_records(meta, trajs)}
    assert tracks["trained.1"]["family"] == "trained planner" and tracks["plain.3"]["family"] == "edit-only"
    assert tracks["mystery.2"]["warnings"] == ["no track declared"] and tracks["plain.3"]["edits"] == 1


# --- the command ----------------------------------------------------------------------------------------


def test_cli_probe(run):
    from click.testing import CliRunner

    from bench import registry
    from bench.cli_probe import probe_cmd

    registry.register("judges", "probe-constant", ConstantJudge)
    runner = CliRunner()
    res = runner.invoke(probe_cmd, [str(run.root), "--samples", "2", "--no-canaries"])
    assert res.exit_code == 0, res.output
    assert "checklist-heuristic" in res.output and "accuracy" in res.output and "gap" in res.output
    res = runner.invoke(
        probe_cmd,
        [
            str(run.root),
            "--judge",
            "probe-constant",
            "--samples",
            "4",
            "--strict",
            "--format",
            "json",
            "--controls",
            "blank,noise,identity",
        ],
    )
    assert res.exit_code == 1
    out = json.loads(res.output)
    assert out["flagged"] and out["judges"][0]["controls"]["status"] == "flagged"
    assert set(out["judges"][0]["controls"]["by_control"]) == {"blank", "noise", "identity"}
    assert out["judges"][0]["canary"]["status"] == "baseline"
    res = runner.invoke(probe_cmd, [str(run.root), "--controls", "nope"])
    assert res.exit_code != 0 and "unknown control" in str(res.exception)
    assert math.isfinite(out["judges"][0]["controls"]["accuracy"]["value"])
