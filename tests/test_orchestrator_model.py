"""Issue 10, item 3(b): a fine-tuned orchestrator trained through the offline-RL trainer, on the CPU.

A small low-resolution scene suite is run by ``planner-orchestrator`` (rules backend), explored
(scene-tool variants x regions, exact ``attributes`` judge), turned into ``orchestrate`` training
records, trained into a tiny random-weight model by ``editbench learn-policy --model``, and loaded
back by ``planner-orchestrator:policy=DIR``. Every goal of the suite asks for the same one change,
so the exploration data hold a single best choice; a model overfitted on it must reproduce that
choice when it orchestrates a sample, and its steps must be the ones its reply named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("accelerate")

from click.testing import CliRunner  # noqa: E402

from baselines.training.records import PlannerInput, TrainRecord, planner_messages, target_text  # noqa: E402
from bench import registry  # noqa: E402
from bench.ids import image_id  # noqa: E402
from bench.images import atomic_write, encode_png  # noqa: E402
from bench.model import Criterion, ImageRef, Sample  # noqa: E402
from bench.runner import RunOptions, execute  # noqa: E402
from bench.scene import CONTEXT_KEYS, random_spec, render, write_sidecar  # noqa: E402
from bench.spec import parse_spec  # noqa: E402
from bench.store import RunStore  # noqa: E402

TINY = "tiny:hidden=128,layers=2,heads=4,kv_heads=2,intermediate=256,vocab_size=600"
#: Overfit on purpose: two records, many epochs at a constant, high learning rate, every weight trainable.
OVERFIT = ["-o", "adapter=full", "-o", "lr=0.003", "-o", "schedule=constant", "-o", "epochs=35", "-o", "batch_size=4",
           "-o", "micro_batch=4", "-o", "warmup=0", "-o", "checkpoint_every=1000"]
GOALS = ("add a dense fog effect", "add drifting fog in the air")


@pytest.fixture(autouse=True, scope="module")
def _components():
    from baselines.tools.scene_variants import register_scene_variants

    register_scene_variants()
    for kind, name, target in (("judges", "attributes", "judges.attributes:AttributesJudge"),
                               ("systems", "planner-orchestrator",
                                "baselines.agents.planner_orchestrator:PlannerOrchestrator")):
        if name not in registry.names(kind):
            registry.register(kind, name, target)
    yield


def fog_suite(folder: Path, n: int, size: int = 64) -> None:
    """``n`` clear photographic scenes whose goal asks for fog in the air (and nothing else)."""
    from suites.jsonl import write_suite_files

    samples = []
    for i in range(n):
        src = random_spec(100 + i, plain=1.0, atmospheric_effects="none", width=size, height=size)
        img, rel = render(src), f"images/f{i:03d}.png"
        atomic_write(folder / rel, encode_png(img))
        write_sidecar(folder / rel, src)
        crit = Criterion("c1", "There is fog in the air", "goal")
        key = CONTEXT_KEYS["atmospheric_effects"]
        truth = {"source": src.to_dict(), "target": {key: "fog"}, "keep": [k for k in CONTEXT_KEYS.values() if k != key],
                 "dimensions": {"c1": [key]}}
        samples.append(Sample(id=f"f{i:03d}", image=ImageRef(image_id(img), rel, size, size),
                              goal=GOALS[i % len(GOALS)].capitalize() + ".", checklist=(crit,), context=src.context(),
                              truth=truth))
    write_suite_files(folder, name="fog", version="1", samples=samples)


#: The planner's reply for every sample (scripted: one subtask, so the exploration data hold one choice),
#: and the zero-shot orchestrator's reply (no tool: the subtask is dropped, as a weak orchestrator would).
PLAN = {"reasoning": "the goal asks for fog", "subtasks": [
    {"reasoning": "fog lives in the air", "text": "Add fog to the air", "region": "the sky"}]}
NO_TOOL = {"reasoning": "no tool I know adds fog", "tool": None, "params": {}, "region": {"kind": "full"}}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """run -> explore -> learn-policy --model (overfit) -> run with policy=DIR; once for the module."""
    from baselines.tools.scene_variants import SCENE_VARIANTS
    from bench.cli_explore import explore_cmd, learn_policy_cmd
    from bench.compose import load_suite_spec
    from bench.spec import ComponentSpec

    root = tmp_path_factory.mktemp("orch")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        fog_suite(root / "suite", 6)
        suite = load_suite_spec(str(root / "suite"))
        zero_shot = ComponentSpec("planner-orchestrator", {"backend": "scripted", "script": [PLAN, NO_TOOL]})
        execute(str(root / "runs"), [suite], [zero_shot], [parse_spec("attributes")], RunOptions(executor="inline"),
                name="train")
        run = str(root / "runs" / "train")
        cli = CliRunner()
        for cmd, args in ((explore_cmd, [run]),
                          (learn_policy_cmd, [run, "--out", str(root / "model"), "--model", TINY, "--holdout", "0.34",
                                              *OVERFIT])):
            res = cli.invoke(cmd, args, catch_exceptions=False)
            assert res.exit_code == 0, res.output
        learned = res.output
        with_model = ComponentSpec("planner-orchestrator", {
            "backend": "scripted", "script": [PLAN], "tools": list(SCENE_VARIANTS), "policy": str(root / "model"),
            "policy_fallback": "drop", "max_tokens": 120})
        summary = execute(str(root / "runs"), [suite], [with_model], [parse_spec("attributes")],
                          RunOptions(executor="inline"), name="with-model")
        yield {"root": root, "run": run, "learned": learned, "with_model": summary.run_dir,
               "train": json.loads((root / "model" / "train.json").read_text())}


def _best_choice(run: str) -> tuple[str, dict, dict]:
    """The one best candidate every explored subtask shares (the data are single-choice by construction)."""
    from baselines.explore.evaluate import records_by_subtask

    bests = set()
    for recs in records_by_subtask(RunStore.open(run)).values():
        top = max(r["reward"] for r in recs if r.get("reward") is not None)
        tied = [r for r in recs if r.get("reward") == top]
        assert len(tied) == 1, [(r["tool"], r["region"]) for r in tied]
        bests.add(json.dumps([tied[0]["tool"], tied[0]["params"], tied[0]["region"]], sort_keys=True))
    assert len(bests) == 1, bests
    tool, params, region = json.loads(bests.pop())
    return tool, params, region


def test_records_render_the_orchestrator_prompt_and_its_reply_format():
    inp = PlannerInput(goal="", context={"season": "summer"}, description="a field", task="orchestrate",
                       task_input={"subtask": "Season: winter", "action": None,
                                   "tools": [["scene-leaky", {"changes": {"season": "winter"}}]],
                                   "regions": [{"kind": "full"}, {"kind": "named", "name": "top"}]})
    plan = {"task": "orchestrate", "tool": "scene-leaky", "params": {"changes": {"season": "winter"}},
            "region": {"name": "top", "kind": "named"}}
    rec = TrainRecord(key="k", input=inp, plan=plan, reward=4.0, group="g")
    assert TrainRecord.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec
    system, user = planner_messages(inp, description=True)
    assert "orchestrator" in system.text() and user.text().splitlines() == [
        "Subtask: Season: winter", "State: season=summer", "Scene: a field", "Tools:",
        '- scene-leaky {"changes": {"season": "winter"}}', 'Regions: {"kind": "full"} | {"kind": "named", "name": "top"}']
    assert "Scene:" not in planner_messages(inp, description=False)[1].text()
    # the target is the reply the agent's own orchestrator parser reads
    reply = json.loads(target_text(plan))
    assert reply == {"tool": "scene-leaky", "params": {"changes": {"season": "winter"}},
                     "region": {"kind": "named", "name": "top"}}
    with pytest.raises(ValueError):  # a target for another question than the prompt asks
        TrainRecord(key="k", input=inp, plan={"reasoning": "", "actions": []}, reward=None, group="g")
    # plan records are written as before tasks existed (no task keys), and read back as plans
    old = PlannerInput(goal="g")
    assert "task" not in old.to_dict() and PlannerInput.from_dict(old.to_dict()).task == "plan"
    assert old.key != PlannerInput(goal="g", task="subtasks").key


def test_exploration_records_become_single_choice_training_data(loop):
    from baselines.explore.orchestrator_model import orchestrator_records

    tool, params, region = _best_choice(loop["run"])
    assert (tool, region) == ("scene-precise", {"kind": "named", "name": "top"})  # the documented strength
    data = orchestrator_records(loop["run"], holdout=0.34)
    held = {s for _, s in data.info["split"]["heldout"]}
    assert held and data.records and not held & {r.meta["sample_id"] for r in data.records}
    for r in data.records:
        assert r.task == "orchestrate" and (r.plan["tool"], r.plan["params"], r.plan["region"]) == (tool, params, region)
        assert r.reward == pytest.approx(1.0 + 4.0 * r.meta["reward_raw"]) and r.meta["reward_raw"] == 1.0
        assert [t for t, _ in r.input.task_input["tools"]] == sorted(t for t, _ in r.input.task_input["tools"])
    everything = orchestrator_records(loop["run"], holdout=0.34, choices="all")  # every scored candidate
    from baselines.explore.evaluate import records_by_subtask

    train = {s for _, s in data.info["split"]["train"]}
    scored = [r for k, recs in records_by_subtask(RunStore.open(loop["run"])).items() if k[1] in train
              for r in recs if r.get("reward") is not None]
    assert sorted(r.reward for r in everything.records) == pytest.approx(sorted(1 + 4 * r["reward"] for r in scored))
    assert len({r.reward for r in everything.records}) > 1 and len(everything.records) > len(data.records)
    t = loop["train"]
    assert t["task"] == "orchestrate" and t["prompt"]["task"] == "orchestrate" and t["kind"] == "full-model"
    assert t["data"]["orchestrator"]["regions"] == data.info["regions"]
    assert t["reward_judge"].startswith("attributes.") and "use it: --system planner-orchestrator" in loop["learned"]


def test_the_overfitted_model_orchestrates_and_its_choice_is_executed(loop):
    tool, params, region = _best_choice(loop["run"])
    store = RunStore.open(loop["with_model"])
    (meta_sys,) = store.read_meta()["components"]["systems"]
    assert meta_sys["info"]["trained"] is True and meta_sys["info"]["reward_judge"].startswith("attributes.")
    trajs = list(store.trajectories().values())
    assert len(trajs) == 6
    for t in trajs:
        assert t.status == "ok", t.error
        (sub,) = t.plan.subtasks
        assert "orchestrator: trained model" in (sub.reasoning or "")  # the choice came from the model
        (step,) = t.steps
        assert (step.tool, step.params, step.region.kind, step.region.name) == (tool, params, "named", region["name"])
    scores = [j.scores["overall"] for j in store.judgements().values()]
    assert scores and min(scores) == pytest.approx(1.0)  # the documented best edit, judged exactly


def test_the_model_folder_is_identified_by_content_and_rejected_as_a_planner(loop, tmp_path):
    import shutil

    from bench.components import build_component
    from bench.errors import UsageError

    folder = loop["root"] / "model"
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("checkpoints"))
    a = build_component("systems", parse_spec(f"planner-orchestrator:policy={folder}")).id
    b = build_component("systems", parse_spec(f"planner-orchestrator:policy={copy}")).id
    assert a == b != build_component("systems", parse_spec("planner-orchestrator")).id
    with pytest.raises(UsageError, match="task 'orchestrate'"):
        build_component("systems", parse_spec(f"planner-orchestrator:planner={folder}"))
