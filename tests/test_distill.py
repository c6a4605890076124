"""Issue 10, item 4: planner refinement by self-distillation (paper A), on the CPU with tiny models.

Two runs of ``planner-orchestrator`` are distilled: the offline default one (rules backend, on
built-in suites, judged by the offline judges), where the counts of the data must match what the
trajectories say, and a crafted one whose orchestrator (scripted) drops one subtask at refinement
and meets a tool failure on another, so the pruned count is known. A tiny student overfitted on the
crafted plan must then, loaded as ``planner-orchestrator:planner=DIR`` and asked without any
checklist, write the teacher's plan minus the two unexecutable subtasks.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("accelerate")

from bench import registry  # noqa: E402
from bench.runner import RunOptions, Selection, execute  # noqa: E402
from bench.spec import ComponentSpec, parse_spec  # noqa: E402
from bench.store import RunStore  # noqa: E402

TINY = "tiny:hidden=128,layers=2,heads=4,kv_heads=2,intermediate=256,vocab_size=700"
QUICK = ["-o", "adapter=full", "-o", "epochs=1", "-o", "batch_size=4", "-o", "micro_batch=4", "-o", "lr=0.003"]
OVERFIT = ["-o", "adapter=full", "-o", "lr=0.003", "-o", "schedule=constant", "-o", "epochs=40", "-o", "batch_size=4",
           "-o", "micro_batch=4", "-o", "warmup=0", "-o", "checkpoint_every=1000"]

#: The crafted teacher: four subtasks; the scripted orchestrator runs the first and the last, chooses no
#: tool for the second (dropped at refinement) and a region ``scene-precise`` cannot work in for the
#: third (it fails while running, dropped at execution).
PLAN = {"reasoning": "fog, then light", "subtasks": [
    {"reasoning": "the goal asks for fog", "text": "Add fog to the air", "region": "the sky"},
    {"reasoning": "sparkle", "text": "Make it sparkle", "region": "the whole image"},
    {"reasoning": "winter", "text": "Set the season to winter", "region": "the ground"},
    {"reasoning": "light", "text": "Brighten the image", "region": "the whole image"}]}
CHOICES = [
    {"reasoning": "", "tool": "scene-precise", "params": {"changes": {"atmospheric_effects": "fog"}},
     "region": {"kind": "named", "name": "top"}},
    {"reasoning": "nothing sparkles", "tool": None, "params": {}, "region": {"kind": "full"}},
    {"reasoning": "", "tool": "scene-precise", "params": {"changes": {"season": "winter"}}, "region": {"kind": "full"}},
    {"reasoning": "", "tool": "brightness_contrast", "params": {"brightness": 0.2}, "region": {"kind": "full"}},
]
TOOLS = ["scene-precise", "brightness_contrast"]


@pytest.fixture(autouse=True, scope="module")
def _components():
    from baselines.tools.scene_variants import register_scene_variants

    register_scene_variants()
    for kind, name, target in (("judges", "checklist-heuristic", "judges.heuristic:HeuristicChecklistJudge"),
                               ("systems", "planner-orchestrator",
                                "baselines.agents.planner_orchestrator:PlannerOrchestrator")):
        if name not in registry.names(kind):
            registry.register(kind, name, target)
    yield


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The offline default run (rules, built-in suites, offline judges) and the crafted one."""
    from bench.compose import load_suite_spec
    from bench.defaults import DEFAULT_JUDGES

    root = tmp_path_factory.mktemp("distill")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        suites = [load_suite_spec("styling-simple:size=3"), load_suite_spec("ads-abstract:size=3")]
        execute(str(root / "runs"), suites, [parse_spec("planner-orchestrator:backend=rules")],
                [parse_spec(j) for j in DEFAULT_JUDGES], RunOptions(executor="inline"), name="default")
        teacher = ComponentSpec("planner-orchestrator", {"backend": "scripted", "script": [PLAN, *CHOICES],
                                                         "tools": TOOLS})
        execute(str(root / "runs"), suites[:1], [teacher], [], RunOptions(executor="inline",
                                                                          selection=Selection(limit=1)), name="crafted")
        yield {"root": root, "default": root / "runs" / "default", "crafted": root / "runs" / "crafted",
               "styling": suites[0]}


def _cli(args: list[str]) -> str:
    from click.testing import CliRunner

    from bench.cli_distill import distill_cmd

    res = CliRunner().invoke(distill_cmd, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_crafted_run_prunes_what_no_tool_executed(runs):
    from baselines.agents.distill import teacher_plans

    (t,) = RunStore.open(runs["crafted"]).trajectories().values()
    assert t.status == "ok" and [s.subtask for s in t.steps] == ["s1", "s3", "s4"] and t.steps[1].error
    data = teacher_plans([runs["crafted"]])
    info = data.info
    assert (info["plans"], info["subtasks"], info["pruned"]) == (1, 4, 2) and info["pruned_fraction"] == 0.5
    assert info["pruned_by_stage"] == {"execute": 1, "refine": 1}
    assert sorted((p["subtask"], p["stage"]) for p in data.pruned) == [("s2", "refine"), ("s3", "execute")]
    (rec,) = data.records
    assert rec.task == "subtasks" and rec.meta["pruned"] == ["s2", "s3"]
    want = [PLAN["subtasks"][0], PLAN["subtasks"][3]]  # the planner's own reply (regions included), pruned
    assert rec.plan["subtasks"] == want and rec.plan["reasoning"] == PLAN["reasoning"]
    from baselines.training.records import planner_messages

    prompt = planner_messages(rec.input)[1].text()
    assert "Goal: " in prompt and not any(c.text in prompt for c in t.plan.checklist)  # no checklist, ever


def test_default_run_distils_with_counts_the_trajectories_confirm(runs, tmp_path):
    from baselines.agents.common import dropped_of
    from baselines.agents.distill import teacher_plans

    store = RunStore.open(runs["default"])
    trajs = list(store.trajectories().values())
    ok = [t for t in trajs if t.status == "ok" and t.plan and t.plan.checklist]
    ran = [{s.subtask for s in t.steps if s.error is None and s.output} for t in ok]
    subtasks = sum(len(t.plan.subtasks) for t in ok)
    pruned = sum(len([s for s in t.plan.subtasks if s.id not in r]) for t, r in zip(ok, ran, strict=True))
    assert pruned >= sum(len(dropped_of(t.plan)) for t in ok)
    data = teacher_plans([runs["default"]], reward="checklist-heuristic", reward_score="pass_rate")
    assert (data.info["plans"], data.info["subtasks"], data.info["pruned"]) == (len(ok), subtasks, pruned)
    assert data.info["rescale"] == {"from": [0.0, 1.0], "to": [1.0, 5.0]}
    judged = {k[:3]: j.scores["pass_rate"] for k, j in store.judgements().items() if j.judge_id.startswith("checklist")}
    for r in data.records:
        assert r.reward == pytest.approx(1 + 4 * judged[(r.meta["suite"], r.meta["sample_id"], r.meta["system_id"])])
    out = tmp_path / "student"
    threshold = sorted(judged.values())[len(judged) // 2]
    text = _cli([str(runs["default"]), "--out", str(out), "--base", TINY, "--reward", "checklist-heuristic",
                 "--reward-score", "pass_rate", "--min-reward", str(threshold), "--split", "1.0", *QUICK])
    info = json.loads((out / "train.json").read_text())
    kept = [r for r in data.records if r.reward >= 1 + 4 * threshold - 1e-9]
    assert info["task"] == "subtasks" and info["prompt"]["task"] == "subtasks" and info["method"] == "s"
    assert info["data"]["counts"]["kept"] == len(kept) < len(data.records)
    assert info["data"]["distill"]["kept"]["plans"] == len(kept)
    assert f"pruned {pruned} of {subtasks} subtasks" in text and "use it: --system planner-orchestrator:planner=" in text


def test_overfitted_student_writes_the_pruned_teacher_plan_without_a_checklist(runs, tmp_path):
    out = tmp_path / "student"
    _cli([str(runs["crafted"]), "--out", str(out), "--base", TINY, "--split", "1.0", "--no-description", *OVERFIT])
    student = ComponentSpec("planner-orchestrator", {"planner": str(out), "backend": "scripted",
                                                     "script": [CHOICES[0], CHOICES[3]], "tools": TOOLS,
                                                     "max_tokens": 160})
    summary = execute(str(tmp_path / "runs"), [runs["styling"]], [student], [],
                      RunOptions(executor="inline", selection=Selection(limit=1)), name="student")
    store = RunStore.open(summary.run_dir)
    (sysrec,) = store.read_meta()["components"]["systems"]
    assert sysrec["info"]["trained"] is True and "distilled planner" in sysrec["info"]["description"]
    (t,) = store.trajectories().values()
    assert t.status == "ok", t.error
    assert t.plan.checklist == () and "checklist: none" in t.plan.reasoning
    assert [s.text for s in t.plan.subtasks] == ["Add fog to the air", "Brighten the image"]
    assert json.loads(t.plan.raw) == {"reasoning": PLAN["reasoning"],
                                      "subtasks": [PLAN["subtasks"][0], PLAN["subtasks"][3]]}
    assert [s.tool for s in t.steps] == ["scene-precise", "brightness_contrast"]


def test_option_errors(runs, tmp_path):
    from bench.components import build_component
    from bench.errors import UsageError

    with pytest.raises(UsageError, match="without a checklist"):
        build_component("systems", parse_spec(f"planner-orchestrator:planner={tmp_path},checklist=suite"))
    with pytest.raises(UsageError, match="not a trained model"):
        build_component("systems", parse_spec(f"planner-orchestrator:planner={tmp_path}"))
    from baselines.agents.distill import distill

    with pytest.raises(UsageError, match="--reward"):
        distill([runs["crafted"]], tmp_path / "x", base=TINY, min_reward=0.5)
    with pytest.raises(UsageError, match="supervised"):
        distill([runs["crafted"]], tmp_path / "x", base=TINY, method="dpo")
    # checklist=none is the zero-shot student (planner.j2 without a checklist): a different system
    a = build_component("systems", parse_spec("planner-orchestrator")).id
    assert a != build_component("systems", parse_spec("planner-orchestrator:checklist=none")).id
    assert a == build_component("systems", parse_spec("planner-orchestrator:checklist=suite")).id
