"""The two papers' agents: end to end offline (rules backend) through the runner, against the
loopback chat server with scripted valid plans, and every failure path of issue 5 (retry then
failed with the raw replies, refusal, budgets, refinement drops), plus the policy file format."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from baselines.agents.common import RAW_SEPARATOR, dropped_of, parse_region
from baselines.agents.library import PlanError, read_action, read_actions
from baselines.agents.library import library as action_library
from baselines.agents.planner_orchestrator import PlannerOrchestrator
from baselines.agents.policy import Policy, table_key
from baselines.agents.styling_planner import StylingPlanner
from baselines.tools.classical import TOOLS
from baselines.tools.scene_tool import SceneTool
from bench import registry
from bench.backends.base import ChatResponse
from bench.backends.scripted import ScriptedBackend
from bench.context import Budget, EditContext, ToolBox
from bench.errors import UsageError
from bench.images import ImageStore
from bench.model import Criterion, ImageRef, Region, Sample, Trajectory
from bench.protocols import Component
from bench.runner import RunOptions, Selection, execute
from bench.spec import ComponentSpec
from bench.store import RunStore
from tests.fakes.chat_server import ChatServer, Reply

SIZE = 96
_CONSTRAINTS = {a.id for a in action_library(20)[10:]}


class FakeInstructEdit(Component):
    """An "instruction editor" for tests: tints the image by a hash of the instruction."""

    name = "fake-instruct"
    version = "1"
    description = "Edits the image as the instruction says (test double)."
    params_schema = {"type": "object", "properties": {"instruction": {"type": "string"}},
                     "required": ["instruction"], "additionalProperties": False}

    def __init__(self) -> None:
        pass

    def apply(self, image, params, region, ctx):
        h = int(hashlib.sha256(params["instruction"].encode()).hexdigest()[:6], 16)
        tint = Image.new("RGB", image.size, ((h >> 16) & 255, (h >> 8) & 255, h & 255))
        return Image.blend(image.convert("RGB"), tint, 0.25)


@pytest.fixture(scope="module", autouse=True)
def _registered():
    for name, cls in TOOLS.items():
        registry.register("tools", name, cls)
    registry.register("tools", "scene", SceneTool)
    registry.register("tools", "fake-instruct", FakeInstructEdit)
    registry.register("systems", "planner-orchestrator", "baselines.agents.planner_orchestrator:PlannerOrchestrator")
    registry.register("systems", "styling-planner", "baselines.agents.styling_planner:StylingPlanner")
    registry.register("judges", "attributes", "judges.attributes:AttributesJudge")
    yield


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    from suites.builtin.ads import build_ads_abstract
    from suites.builtin.styling import build_styling_regular

    cache = tmp_path_factory.mktemp("suites")
    return build_ads_abstract(size=2, cache_dir=cache), build_styling_regular(size=2, cache_dir=cache)


def advert() -> Image.Image:
    a = np.full((SIZE, SIZE, 3), (240, 232, 210), np.uint8)
    a[30:70, 30:66] = (20, 140, 130)  # the product, in the middle
    a[78:90, 60:90] = (30, 30, 30)  # a price tag at the bottom right
    return Image.fromarray(a, "RGB")


def sample(goal: str, **kw) -> Sample:
    return Sample(id="t1", image=ImageRef(id="src"), goal=goal, **kw)


def run(system, s: Sample, image: Image.Image, tmp_path, budget: Budget | None = None
        ) -> tuple[Trajectory, ImageStore]:
    images = ImageStore(tmp_path / "images")
    ctx = EditContext(images=images, seed=0, tools=ToolBox(), budget=budget or Budget(), suite="unit@1",
                      sample_id=s.id, system_id=system.name)
    return system.edit(s, image, ctx), images


def check_steps(traj: Trajectory, images: ImageStore, source_id: str) -> None:
    """Successful steps chain from the source to the final image, every image stored; subtasks
    without a successful step are exactly the dropped ones."""
    prev = source_id
    for step in traj.steps:
        assert step.input == prev and images.has(step.input)
        if step.error is None:
            assert images.has(step.output)
            prev = step.output
        else:
            assert step.output is None
        if step.region is not None and step.region.kind == "mask":
            assert images.has(step.region.mask)
    assert traj.final == prev
    done = {s.subtask for s in traj.steps if s.error is None}
    dropped = {d["id"] for d in dropped_of(traj.plan)}
    ids = {st.id for st in traj.plan.subtasks}
    constraints = {st.id for st in traj.plan.subtasks if st.action in _CONSTRAINTS}
    if all(s.subtask for s in traj.steps):  # stepwise: one step per executed subtask
        assert done | dropped | constraints == ids and not done & dropped
    for st in traj.plan.subtasks:
        assert st.reasoning, st
        if st.id in dropped:
            assert "dropped: " in st.reasoning
        elif st.id in constraints and st.id not in done:
            assert "executor: " in st.reasoning  # what became of a constraint is said on it


# -- offline: rules backend through the runner --------------------------------------------------------
def test_both_agents_offline_through_the_runner(suites, tmp_path):
    ads, styling = suites
    specs = [ComponentSpec("planner-orchestrator"), ComponentSpec("styling-planner", {"library": 20})]
    summary = execute(str(tmp_path / "runs"), [ads, styling], specs, [], RunOptions(executor="inline", workers=1))
    assert summary.trajectories == 8 and summary.failed == 0, summary.failures
    store = RunStore.open(summary.run_dir)
    sources = {key: smp.image.id for key, smp in store.samples().items()}
    for traj in store.trajectories().values():
        assert traj.status == "ok" and traj.plan is not None and traj.steps
        check_steps(traj, store.images, sources[(traj.suite, traj.sample_id)])
        assert traj.final != sources[(traj.suite, traj.sample_id)]
        assert traj.telemetry.requests >= 2  # every stage went through the (rules) backend
        if traj.system_id.startswith("styling-planner"):
            assert traj.plan.instruction and set(traj.plan.context) >= {"location", "season", "artistic_medium"}
            assert all(st.action and st.action_params for st in traj.plan.subtasks)
        else:
            assert traj.plan.checklist and all(st.tool for st in traj.plan.subtasks
                                               if st.id not in {d["id"] for d in dropped_of(traj.plan)})


def test_rule_plans_memoised_in_one_run_do_not_leak_masks_into_another(suites, tmp_path):
    """The rules backend memoises plans (with mask ids) per image store: a second run in another
    store must find every mask its steps name in its own store."""
    ads, _ = suites
    for root in ("first", "second"):
        summary = execute(str(tmp_path / root), [ads], [ComponentSpec("planner-orchestrator")], [],
                          RunOptions(executor="inline", workers=1))
        assert summary.failed == 0, summary.failures
        store = RunStore.open(summary.run_dir)
        sources = {key: smp.image.id for key, smp in store.samples().items()}
        for traj in store.trajectories().values():
            check_steps(traj, store.images, sources[(traj.suite, traj.sample_id)])


def test_styling_planner_on_the_scene_tool_is_scored_exactly(suites, tmp_path):
    _, styling = suites
    summary = execute(str(tmp_path / "runs"), [styling],
                      [ComponentSpec("styling-planner", {"executor": "scene", "context": "given"})],
                      [ComponentSpec("attributes")], RunOptions(executor="inline", workers=1))
    assert summary.failed == 0 and summary.judgements == 2, summary.failures
    store = RunStore.open(summary.run_dir)
    for traj in store.trajectories().values():
        assert len(traj.steps) == 1 and traj.steps[0].tool == "scene"  # single mode: one render
        changes = traj.steps[0].params["changes"]
        assert changes and all(st.action_params for st in traj.plan.subtasks)
    for j in store.judgements().values():
        assert j.status == "ok" and 0.0 <= j.scores["reached"] <= 1.0


def test_rules_planner_drops_what_no_tool_can_do(tmp_path):
    img = Image.new("RGB", (SIZE, SIZE), (120, 160, 200))
    traj, images = run(PlannerOrchestrator(), sample("Make it a quiet village at night"), img, tmp_path)
    assert traj.status == "ok"
    drops = dropped_of(traj.plan)
    assert [d["stage"] for d in drops] == ["refine"] and "village" in drops[0]["text"].lower()
    assert "no classical operation" in drops[0]["why"]
    assert [s.tool for s in traj.steps] and all(s.error is None for s in traj.steps)
    check_steps(traj, images, images.put(img))


def test_generated_checklist_and_orchestration_on_the_current_image(tmp_path):
    img = advert()
    s = sample("Make this advert feel like a summer sale. Keep the price as it is.", preserve=("price",),
               context={"product": "kettle"})
    traj, images = run(PlannerOrchestrator(checklist="generate"), s, img, tmp_path)
    assert traj.status == "ok", traj.error
    assert traj.plan.checklist and traj.plan.checklist[0].id == "g1" and "generated" in traj.plan.reasoning
    assert {c.kind for c in traj.plan.checklist} >= {"goal", "preserve"}
    current, _ = run(PlannerOrchestrator(checklist="generate", orchestrate_on="current"), s, img, tmp_path)
    assert [(x.tool, x.params, x.region) for x in current.steps] == [(x.tool, x.params, x.region) for x in traj.steps]
    assert current.telemetry.requests == traj.telemetry.requests  # one choice per subtask either way
    check_steps(current, images, images.put(img))


# -- the loopback chat-completions server ---------------------------------------------------------------
def _stage(call) -> str:
    return ((call.body.get("response_format") or {}).get("json_schema") or {}).get("name", "")


def _last_user(call) -> str:
    return call.prompt()


ORCHESTRATION = {
    "Warm up the background": {"reasoning": "a grade", "tool": "color_grading",
                               "params": {"grade": "warm", "intensity": 0.6},
                               "region": {"kind": "named", "name": "background"}},
    "Recolour the product teal-green": {"reasoning": "recolour it", "tool": "recolor_region",
                                        "params": {"color": "#2E7D32", "strength": 0.5},
                                        "region": {"kind": "phrase", "phrase": "the product"}},
    "Add the headline GO GREEN": {"reasoning": "text on top", "tool": "add_text",
                                  "params": {"text": "GO GREEN", "y": 0.1},
                                  "region": {"kind": "box", "box": [0.0, 0.0, 1.0, 0.3]}},
    "Add a spinning 3D hologram": {"reasoning": "a hologram", "tool": "hologram-maker", "params": {},
                                   "region": {"kind": "full"}},
    "Re-render it as a scene": {"reasoning": "the scene tool", "tool": "scene",
                                "params": {"changes": {"season": "winter"}}, "region": {"kind": "full"}},
}


def _po_handler(call):
    stage = _stage(call)
    if stage == "planner":
        assert call.images(), "the planner sees the image"
        assert "[goal] The product looks eco-friendly" in _last_user(call)  # checklist-conditioned
        return Reply(json.dumps({"reasoning": "background, product, text, then extras",
                                 "subtasks": [{"reasoning": "r", "text": t, "region": "x"} for t in ORCHESTRATION]}))
    if stage == "orchestrator":
        text = "\n".join(m["content"] if isinstance(m["content"], str) else
                         "\n".join(p.get("text", "") for p in m["content"]) for m in call.body["messages"])
        for subtask, choice in ORCHESTRATION.items():
            if f"The subtask to execute now: {subtask}" in text:
                return Reply(json.dumps(choice), usage={"prompt_tokens": 100, "completion_tokens": 20})
    return Reply("{}")


def test_planner_orchestrator_against_the_loopback_server(tmp_path):
    img = advert()
    s = sample("Make this ad more eco-friendly", checklist=(
        Criterion("c1", "The product looks eco-friendly"), Criterion("c2", "The price is kept", kind="preserve")),
        preserve=("price",))
    with ChatServer(_po_handler) as srv:
        agent = PlannerOrchestrator(backend="openai", base_url=srv.url, model="fake-model", cache=False,
                                    grounding="words", tools=["color_grading", "recolor_region", "add_text", "scene"])
        traj, images = run(agent, s, img, tmp_path)
        stages = [_stage(c) for c in srv.chat_calls()]
    # 1 plan + 5 choices + 1 re-ask for the unknown tool
    assert stages.count("planner") == 1 and stages.count("orchestrator") == 6
    assert traj.status == "ok", traj.error
    check_steps(traj, images, images.put(img))
    by_sub = {st.subtask: st for st in traj.steps}
    assert by_sub["s1"].region == Region(kind="named", name="background") and by_sub["s1"].tool == "color_grading"
    assert by_sub["s2"].region_query == "the product" and by_sub["s2"].region == Region(kind="named", name="foreground")
    assert by_sub["s3"].region.box == (0.0, 0.0, 1.0, 0.3) and by_sub["s3"].instruction == "Add the headline GO GREEN"
    assert by_sub["s5"].error and by_sub["s5"].output is None  # the scene tool rejects a non-scene image
    drops = {d["id"]: d for d in dropped_of(traj.plan)}
    assert drops["s4"]["stage"] == "refine" and "unknown tool 'hologram-maker'" in drops["s4"]["why"]
    assert drops["s5"]["stage"] == "execute" and "scene" in drops["s5"]["why"]
    assert "s4" not in by_sub
    assert traj.telemetry.requests == 7 and traj.telemetry.tokens_in >= 500
    assert json.loads(traj.plan.raw)["subtasks"][0]["text"] == "Warm up the background"
    assert [c.id for c in traj.plan.checklist] == ["c1", "c2"]


def _styling_handler(target: dict[str, str]):
    aliases = {"time_period": "time_period_era", "season": "season_cycle", "weather": "weather_conditions"}
    from baselines.agents.library import ACTION_OF_DIMENSION, ACTIONS

    actions = []
    for dim, value in target.items():
        aid = ACTION_OF_DIMENSION[dim]
        name = "weather_type" if dim == "weather" else ACTIONS[aid].target_param
        actions.append({"reasoning": f"Because the current {dim} differs, we choose {aid}",
                        "action": aliases.get(dim, aid), "parameters": {name: value}})

    def handler(call):
        stage = _stage(call)
        if stage == "context":
            return Reply(json.dumps({**{d: "x" for d in ("location", "architecture", "time_period", "time_of_day",
                                                          "season", "weather", "mood_lighting", "color_grading",
                                                          "artistic_medium", "atmospheric_effects")},
                                     "scene_description": "a street"}))
        if stage == "styling_plan":
            return Reply(json.dumps({"reasoning": "as asked", "actions": actions}))
        if stage == "instruction":
            return Reply(json.dumps({"instruction": "Make every requested change; keep the rest."}))
        return Reply("{}")

    return handler


def test_styling_planner_against_the_loopback_server_scored_by_attributes(suites, tmp_path):
    _, styling = suites
    first = styling.samples[0]
    with ChatServer(_styling_handler(first.truth["target"])) as srv:
        spec = ComponentSpec("styling-planner", {"backend": "openai", "base_url": srv.url, "model": "fake-model",
                                                 "cache": False, "executor": "scene", "mode": "stepwise"})
        summary = execute(str(tmp_path / "runs"), [styling], [spec], [ComponentSpec("attributes")],
                          RunOptions(executor="inline", workers=1, selection=Selection(limit=1)))
        stages = [_stage(c) for c in srv.chat_calls()]
    assert stages == ["context", "styling_plan", "instruction"]
    store = RunStore.open(summary.run_dir)
    (traj,) = store.trajectories().values()
    assert traj.status == "ok", traj.error
    assert len(traj.steps) == len(first.truth["target"])  # stepwise: one scene call per action
    assert {st.action for st in traj.plan.subtasks} <= set(action_library(10)[i].id for i in range(10))
    assert traj.plan.context["scene_description"] == "a street"
    assert traj.plan.instruction == "Make every requested change; keep the rest."
    (j,) = store.judgements().values()
    assert j.status == "ok" and j.scores["reached"] == 1.0 and j.scores["exact"] == 1.0


def test_instruction_editor_single_and_stepwise(tmp_path):
    img = Image.new("RGB", (SIZE, SIZE), (90, 140, 90))
    s = sample("Make it autumn at golden hour", context={"season": "summer", "time_of_day": "noon"})
    single, images = run(StylingPlanner(executor="fake-instruct", context="given"), s, img, tmp_path)
    assert single.status == "ok" and len(single.steps) == 1
    assert single.steps[0].params == {"instruction": single.plan.instruction}
    assert "autumn" in single.plan.instruction and "golden hour" in single.plan.instruction
    assert StylingPlanner(executor="fake-instruct").info().track == "rewrite-then-edit"
    step, _ = run(StylingPlanner(executor="fake-instruct", context="given", mode="stepwise"), s, img, tmp_path)
    assert step.status == "ok" and len(step.steps) == 2 and [x.subtask for x in step.steps] == ["a1", "a2"]
    assert StylingPlanner(executor="fake-instruct", mode="stepwise").info().track == "planner+tools"
    check_steps(step, images, images.put(img))


# -- failures --------------------------------------------------------------------------------------------
def test_unparseable_plan_is_retried_once_then_failed_with_raw_kept(tmp_path):
    backend = ScriptedBackend(["this is not a plan", "{still: not json"], cycle=False)
    traj, _ = run(PlannerOrchestrator(backend=backend, cache=False), sample("Make it warmer"),
                  advert(), tmp_path)
    assert traj.status == "failed" and "after one retry" in traj.error and traj.final is None
    assert traj.plan.raw == "this is not a plan" + RAW_SEPARATOR + "{still: not json"
    assert len(backend.requests) == 2
    repair = backend.requests[1].messages
    assert repair[-2].role == "assistant" and "could not be used" in repair[-1].text()


def test_invalid_styling_plan_is_repaired_by_the_retry(tmp_path):
    bad = json.dumps({"reasoning": "r", "actions": [{"reasoning": "r", "action": "teleport", "parameters": {}}]})
    good = json.dumps({"reasoning": "r", "actions": [{"reasoning": "Because it is summer, we choose season_cycle",
                                                      "action": "season_cycle",
                                                      "parameters": {"target_season": "winter"}}]})
    backend = ScriptedBackend([bad, good], cycle=False)
    agent = StylingPlanner(backend=backend, cache=False, context="given", synthesis="template")
    traj, _ = run(agent, sample("Make it winter", context={"season": "summer"}), advert(), tmp_path)
    assert traj.status == "ok", traj.error
    assert "unknown action 'teleport'" in backend.requests[1].messages[-1].text()
    assert traj.plan.subtasks[0].action == "season" and traj.steps[0].tool == "season"
    assert RAW_SEPARATOR in traj.plan.raw  # both replies of the retried plan are kept


def test_refusal_is_refused(tmp_path):
    with ChatServer(script=[Reply(text=None, refusal="I can't help with that")]) as srv:
        agent = StylingPlanner(backend="openai", base_url=srv.url, model="fake-model", cache=False, max_retries=0)
        traj, _ = run(agent, sample("Make it winter"), advert(), tmp_path)
    assert traj.status == "refused" and "I can't help with that" in traj.error and traj.final is None


def test_budgets_fail_with_the_reason(tmp_path):
    s = sample("Turn it into a golden-hour winter wonderland")
    img = Image.new("RGB", (SIZE, SIZE), (90, 140, 90))
    traj, images = run(PlannerOrchestrator(max_tool_calls=1), s, img, tmp_path)
    assert traj.status == "failed" and "tool-call budget of 1 exceeded" in traj.error
    assert len(traj.steps) == 1 and traj.plan.subtasks  # what ran and the plan are kept
    plan = json.dumps({"reasoning": "r", "subtasks": [{"text": "Warm up the background"}]})
    traj, _ = run(PlannerOrchestrator(backend=ScriptedBackend([plan]), cache=False, max_model_tokens=5), s, img,
                  tmp_path)
    assert traj.status == "failed" and "token budget of 5 exceeded" in traj.error
    traj, _ = run(StylingPlanner(max_seconds=1e-9), s, img, tmp_path)
    assert traj.status == "failed" and "time budget" in traj.error
    # the runner's own budget is tightened, never loosened
    traj, _ = run(StylingPlanner(max_tool_calls=8), s, img, tmp_path, budget=Budget(max_tool_calls=1))
    assert traj.status == "failed" and "tool-call budget of 1" in traj.error


def test_backend_error_fails_the_sample(tmp_path):
    backend = ScriptedBackend([ChatResponse.failure("server exploded")])
    traj, _ = run(PlannerOrchestrator(backend=backend, cache=False), sample("Warmer"), advert(), tmp_path)
    assert traj.status == "failed" and "server exploded" in traj.error


# -- policy ------------------------------------------------------------------------------------------------
def _policies():
    warm = {"tool": "color_grading", "params": {"grade": "warm"}, "region": {"kind": "named", "name": "background"}}
    text = {"tool": "add_text", "params": {"text": "ECO"}, "region": {"kind": "box", "box": [0, 0, 1, 0.25]}}
    base = {"format": "editbench.orchestrator-policy", "version": 1, "features": {"fields": ["text"], "ngrams": [1]}}
    return {
        "table": {**base, "kind": "table", "entries": [{"key": table_key("Warm up the background"), **warm}],
                  "default": text},
        "nearest-neighbour": {**base, "kind": "nearest-neighbour", "features": {"ngrams": [1], "min_similarity": 0.3},
                              "entries": [{"text": "warm the background colours", **warm},
                                          {"text": "add a headline text", **text}]},
        "linear": {**base, "kind": "linear", "classes": [warm, text], "vocabulary": ["text:warm", "text:headline"],
                   "weights": [[1.0, 0.0], [0.0, 1.0]], "bias": [0.0, 0.0], "default": None},
    }


def test_policy_files_round_trip_and_decide(tmp_path):
    for kind, data in _policies().items():
        path = Policy.from_dict(data).save(tmp_path / kind)  # a folder gets policy.json
        p = Policy.load(tmp_path / kind)
        assert path.name == "policy.json" and p.to_dict() == data and p.kind == kind
        assert p.decide("Warm up the background").tool == "color_grading", kind
        got = p.decide("Add the headline")
        assert got is not None and got.tool == "add_text" and got.why, kind
    assert Policy.from_dict(_policies()["nearest-neighbour"]).decide("completely unrelated words") is None
    with pytest.raises(UsageError, match="kind"):
        Policy.from_dict({**_policies()["table"], "kind": "forest"})
    with pytest.raises(UsageError, match="weights"):
        Policy.from_dict({**_policies()["linear"], "weights": [[1.0]]})


def test_agent_uses_a_policy_file(tmp_path):
    Policy.from_dict(_policies()["table"]).save(tmp_path / "p.json")
    plan = json.dumps({"reasoning": "r", "subtasks": [{"text": "Warm up the background"}, {"text": "Add a slogan"}]})
    agent = PlannerOrchestrator(backend=ScriptedBackend([plan]), cache=False, policy=str(tmp_path / "p.json"),
                                policy_fallback="drop")
    assert agent.info().trained
    traj, images = run(agent, sample("Make it eco"), advert(), tmp_path)
    assert traj.status == "ok", traj.error
    assert [(s.tool, s.region) for s in traj.steps] == [
        ("color_grading", Region(kind="named", name="background")), ("add_text", Region(kind="box", box=(0, 0, 1, 0.25)))]
    assert "policy table" in traj.plan.subtasks[0].reasoning and "policy default" in traj.plan.subtasks[1].reasoning
    # the policy's content is part of the id
    from bench.components import build_component

    a = build_component("systems", ComponentSpec("planner-orchestrator", {"policy": str(tmp_path / "p.json")}))
    Policy.from_dict(_policies()["linear"]).save(tmp_path / "p.json")
    b = build_component("systems", ComponentSpec("planner-orchestrator", {"policy": str(tmp_path / "p.json")}))
    assert a.id != b.id


# -- pieces ---------------------------------------------------------------------------------------------------
def test_library_reads_aliases_and_rejects_bad_actions():
    lib10 = {a.id: a for a in action_library(10)}
    lib20 = {a.id: a for a in action_library(20)}
    assert len(lib10) == 10 and len(lib20) == 20
    a = read_action({"reasoning": "r", "action_id": "weather_conditions", "parameters": {"weather_type": "rainy"}}, 0, lib10)
    assert a.action == "weather" and a.target == "rainy" and a.given_id == "weather_conditions"
    assert read_action({"action": "Time-Period-Era", "params": {"target_era": "victorian"}}, 0, lib10).action == "time_period"
    for bad, msg in (({"action": "season"}, "target_season"), ({"action": "preserve_attribute"}, "unknown action"),
                     ({"action": "season", "parameters": {"target_season": 3}}, "must be a string")):
        with pytest.raises(PlanError, match=msg):
            read_action(bad, 0, lib10)
    with pytest.raises(PlanError, match="must have 1 to 2"):
        read_actions({"actions": [{"action": "season", "parameters": {"target_season": "x"}}] * 3}, lib10, 1, 2)
    with pytest.raises(ValueError, match="library must be 10 or 20"):
        action_library(30)


def test_regions_parse_strictly():
    assert parse_region(None) is None and parse_region({"kind": "full"}) is None
    assert parse_region("background") == Region(kind="named", name="background")
    assert parse_region("the red mug") == Region(kind="phrase", phrase="the red mug")
    assert parse_region({"box": [0.1, 0.2, 0.5, 0.6], "invert": True}).invert
    for bad in ({"kind": "box", "box": [10, 20, 300, 400]}, {"kind": "named", "name": "sky"}, {"kind": "blob"}):
        with pytest.raises(ValueError):
            parse_region(bad)


def test_grounding_goes_through_baselines_grounding_when_present(tmp_path, monkeypatch):
    import sys
    import types

    seen = {}

    def ground(phrase, image, method="auto", backend=None):
        seen.update(phrase=phrase, method=method)
        return Region(kind="box", box=(0.25, 0.25, 0.75, 0.75))

    import baselines

    fake = types.SimpleNamespace(ground=ground)
    monkeypatch.setitem(sys.modules, "baselines.grounding", fake)
    monkeypatch.setattr(baselines, "grounding", fake, raising=False)  # wins over a real module imported earlier
    plan = json.dumps({"reasoning": "r", "subtasks": [{"text": "Recolour the mug"}]})
    choice = json.dumps({"reasoning": "r", "tool": "recolor_region", "params": {"color": "#00AA00"},
                         "region": {"kind": "phrase", "phrase": "the mug", "invert": True}})
    agent = PlannerOrchestrator(backend=ScriptedBackend([plan, choice]), cache=False, grounding="owlv2")
    traj, _ = run(agent, sample("Make the mug green"), advert(), tmp_path)
    assert traj.status == "ok", traj.error
    assert seen == {"phrase": "the mug", "method": "owlv2"}
    assert traj.steps[0].region == Region(kind="box", box=(0.25, 0.25, 0.75, 0.75), invert=True)
    assert traj.steps[0].region_query == "the mug"


def test_options_identity_and_docs():
    a = PlannerOrchestrator(concurrency=2, timeout=5)
    b = PlannerOrchestrator()
    assert a.config() == b.config() and "concurrency" not in a.config()
    assert PlannerOrchestrator(temperature=0.7).config() != b.config()
    for name in ("planner-orchestrator", "styling-planner"):
        first = registry.describe("systems", name)
        assert first.startswith("Paper ") and "|" not in first
    with pytest.raises(UsageError, match="mode=stepwise"):
        StylingPlanner(executor="classical", mode="single")
    with pytest.raises(UsageError, match="checklist"):
        PlannerOrchestrator(checklist="maybe")
    with pytest.raises(UsageError, match="script"):
        PlannerOrchestrator(backend="scripted")


def test_rules_orchestrator_answers_for_its_own_subtasks_only(suites):
    """Another planner's subtask that reuses a rule plan's id gets a choice read from its own words,
    not the rule plan's choice for that id."""
    from baselines.agents import rules

    _, styling = suites
    sample = styling.samples[0]
    inputs = {"sample": sample, "source": styling.image(sample)}
    plan = rules.planner(inputs)
    own = plan["subtasks"][0]
    mine = rules.orchestrator({**inputs, "subtask": own})
    foreign = rules.orchestrator({**inputs, "subtask": {"id": own["id"], "text": "Add falling snow"}})
    assert foreign["tool"] != mine["tool"] or foreign["params"] != mine["params"]
    assert foreign == rules.orchestrator({**inputs, "subtask": {"id": "zz", "text": "Add falling snow"}})
