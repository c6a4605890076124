"""The ``scene`` tool and the exact ``attributes`` judge, alone and end to end through the runner."""

from __future__ import annotations

import json

import pytest
from PIL import ImageEnhance

from baselines.tools.scene_tool import SceneTool, resolve_changes
from bench import registry
from bench.context import EditContext, ToolBox, ToolContext
from bench.errors import ToolError
from bench.ids import image_id
from bench.images import ImageStore
from bench.model import Criterion, ImageRef, Region, Sample, Step, Trajectory
from bench.protocols import Component, JudgeItem, SystemInfo
from bench.runner import RunOptions, execute
from bench.scene import CONTEXT_KEYS, SIDE_CAR_SUFFIX, VOCAB, SceneSpec, diff, edit, random_spec, render
from bench.spec import ComponentSpec
from bench.store import RunStore
from judges.attributes import SCORES, AttributesJudge


def _register(kind: str, name: str, target) -> None:
    if name not in registry.names(kind):  # entry points (once declared) win; never unregister them
        registry.register(kind, name, target)


@pytest.fixture(autouse=True, scope="module")
def _components():
    _register("tools", "scene", "baselines.tools.scene_tool:SceneTool")
    _register("judges", "attributes", "judges.attributes:AttributesJudge")
    _register("suites", "styling-simple", "suites.builtin.styling:build_styling_simple")
    registry.register("systems", "test-oracle-scene", OracleSceneSystem)
    registry.register("systems", "test-scene-then-pixels", SceneThenPixelsSystem)
    yield


SOURCE = random_spec(11, plain=1.0, location_setting="village", architecture_style="art_deco")


@pytest.fixture()
def store(tmp_path):
    images = ImageStore(tmp_path / "images")
    image = render(SOURCE)
    iid = images.put(image)
    images.put_sidecar(iid, SIDE_CAR_SUFFIX, (SOURCE.to_json() + "\n").encode())
    return images


def _spec_of(images: ImageStore, image) -> SceneSpec:
    data = images.get_sidecar(image_id(image), SIDE_CAR_SUFFIX)
    assert data is not None
    return SceneSpec.from_json(data.decode())


# ------------------------------------------------------------------------------------------ the tool


def test_scene_tool_edits_exactly_the_requested_dimensions(store):
    tool, ctx = SceneTool(), ToolContext(images=store)
    out = tool.apply(render(SOURCE), {"changes": {"time_of_day": "night", "season": "winter"}}, None, ctx)
    spec = _spec_of(store, out)
    assert diff(SOURCE, spec) == {"time_of_day": ("noon", "night"), "season": ("summer", "winter")}
    assert image_id(out) == image_id(render(spec)) and store.has(image_id(out))
    again = tool.apply(render(SOURCE), {"changes": {"season": "winter", "time_of_day": "night"}}, Region(), ctx)
    assert image_id(again) == image_id(out)  # deterministic, order-free
    # the next step reads the output's sidecar
    third = tool.apply(out, {"changes": {"weather": "foggy"}}, None, ctx)
    assert diff(SOURCE, _spec_of(store, third)) == {"time_of_day": ("noon", "night"), "season": ("summer", "winter"),
                                                     "weather": ("clear", "foggy")}


def test_scene_tool_accepts_every_spelling():
    assert resolve_changes({"location": "Tropical Island", "architecture_style": "gothic", "time_period_era": "1950s",
                            "season_cycle": "fall", "weather_conditions": "thunderstorm", "time of day": "sunset",
                            "artistic_medium": "oil painting"}) == {
        "location_setting": "beach", "architecture_style": "victorian_gothic", "time_period": "mid_century",
        "season": "autumn", "weather": "stormy", "time_of_day": "golden_hour", "artistic_medium": "oil_paint"}
    assert resolve_changes({"location": "city", "location_setting": "urban_city"}) == {"location_setting": "city"}


@pytest.mark.parametrize("params, region, message", [
    ({"changes": {"time_of_day": "night"}}, Region(kind="named", name="top"), "as a whole"),
    ({"changes": {"time_of_day": "night"}}, Region(invert=True), "as a whole"),
    ({"changes": {}}, None, "non-empty"),
    ({}, None, "non-empty"),
    ({"changes": {"time_of_day": "night"}, "strength": 2}, None, "unknown parameters"),
    ({"changes": {"colour": "red"}}, None, "not a scene dimension"),
    ({"changes": {"season": "monsoon"}}, None, "monsoon"),
    ({"changes": {"season": 3}}, None, "must be a string"),
    ({"changes": {"location": "city", "location_setting": "desert"}}, None, "given twice"),
])
def test_scene_tool_rejects_bad_calls(store, params, region, message):
    with pytest.raises(ToolError, match=message):
        SceneTool().apply(render(SOURCE), params, region, ToolContext(images=store))


def test_scene_tool_needs_a_sidecar(store):
    photo = ImageEnhance.Brightness(render(SOURCE)).enhance(1.2)  # a pixel edit: no spec describes it
    with pytest.raises(ToolError, match="only images rendered from a scene spec"):
        SceneTool().apply(photo, {"changes": {"season": "winter"}}, None, ToolContext(images=store))


def test_scene_tool_publishes_its_library():
    tool = SceneTool()
    changes = tool.params_schema["properties"]["changes"]["properties"]
    assert set(changes) == set(CONTEXT_KEYS.values())
    for dim, key in CONTEXT_KEYS.items():
        assert changes[key]["enum"] == list(VOCAB[dim])
    assert tool.name == "scene" and "scene" in tool.description and tool.version.startswith("1")
    json.dumps(tool.params_schema)


def test_scene_tool_through_an_edit_context_records_the_step(store):
    ctx = EditContext(images=store, seed=0, tools=ToolBox())
    out, step = ctx.apply_tool("scene", render(SOURCE), {"changes": {"mood_lighting": "dramatic"}})
    assert step.output == image_id(out) and step.input == image_id(render(SOURCE)) and step.error is None
    with pytest.raises(ToolError):
        ctx.apply_tool("scene", render(SOURCE), {"changes": {"mood_lighting": "dramatic"}}, Region(kind="named", name="left"))
    assert ctx.steps[-1].error and "as a whole" in ctx.steps[-1].error


# ------------------------------------------------------------------------------------------ the judge


TARGET = {"time_of_day": "night", "season": "winter"}
KEEP = ["architecture", "weather"]


def _sample() -> Sample:
    checklist = (Criterion("c1", "It is night"), Criterion("c2", "It is winter"),
                 Criterion("c3", "The buildings are kept", "preserve"), Criterion("c4", "The weather is kept", "preserve"),
                 Criterion("c5", "Looks clean", "quality", 0.5))
    truth = {"source": SOURCE.to_dict(), "target": TARGET, "keep": KEEP, "theme": None,
             "dimensions": {"c1": ["time_of_day"], "c2": ["season"], "c3": ["architecture"], "c4": ["weather"], "c5": []},
             "checks": {}}
    return Sample(id="s1", image=ImageRef(image_id(render(SOURCE))), goal="Make it a winter night.",
                  checklist=checklist, truth=truth)


def _judge(store: ImageStore, final, sample: Sample | None = None):
    sample = sample or _sample()
    final_id = store.put(final)
    traj = Trajectory(suite="styling-simple@1", sample_id=sample.id, system_id="sys", final=final_id,
                      steps=(Step(tool="scene", input="x", output=final_id, params={"changes": TARGET}),))
    item = JudgeItem(suite=traj.suite, sample=sample, source=render(SOURCE), final=store.get(final_id),
                     trajectory=traj, load_image=store.get)
    (j,) = AttributesJudge().judge([item])
    return j


def _scene(store: ImageStore, changes: dict[str, str]):
    return SceneTool().apply(render(SOURCE), {"changes": changes}, None, ToolContext(images=store))


def test_judge_declares_its_scores():
    specs = {s.name: s for s in AttributesJudge().score_specs()}
    assert set(specs) == {"reached", "kept", "exact", "overall"} == {s.name for s in SCORES}
    assert all(s.min == 0.0 and s.max == 1.0 and s.higher_is_better for s in specs.values())
    assert AttributesJudge.scope == "sample"


def test_perfect_plan_reaches_and_keeps_everything(store):
    j = _judge(store, _scene(store, TARGET))
    assert j.status == "ok" and j.scores == {"reached": 1.0, "kept": 1.0, "exact": 1.0, "overall": 1.0}
    assert j.verdicts == {"c1": "pass", "c2": "pass", "c3": "pass", "c4": "pass", "c5": "undecidable"}


def test_a_wrong_value_misses_a_target(store):
    j = _judge(store, _scene(store, {"time_of_day": "dusk", "season": "winter"}))
    assert j.scores["reached"] == 0.5 and j.scores["kept"] == 1.0 and j.scores["exact"] == 0.0
    assert j.scores["overall"] == 0.75 and j.verdicts["c1"] == "fail" and j.verdicts["c2"] == "pass"
    assert j.rationale["missed"] == {"time_of_day": {"target": "night", "final": "dusk"}}


def test_a_changed_keep_dimension_is_not_kept(store):
    j = _judge(store, _scene(store, {**TARGET, "weather": "snowy", "mood_lighting": "warm_cozy"}))
    assert j.scores["reached"] == 1.0 and j.scores["kept"] == 0.5 and j.scores["exact"] == 0.0
    assert j.verdicts["c4"] == "fail" and j.verdicts["c3"] == "pass"
    assert j.rationale["also_changed"] == {"mood_lighting": {"source": "neutral", "final": "warm_cozy"}}


def test_a_pixel_edit_after_the_scene_tool_is_unscored(store):
    out = _scene(store, TARGET)
    touched = ImageEnhance.Contrast(out).enhance(1.1)
    # even with the spec copied to the new image, the render check catches it
    store.put_sidecar(store.put(touched), SIDE_CAR_SUFFIX, store.get_sidecar(image_id(out), SIDE_CAR_SUFFIX))
    j = _judge(store, touched)
    assert j.status == "unscored" and "changed after" in j.error and not j.scores
    assert set(j.na) == {"reached", "kept", "exact", "overall"}


def test_no_sidecar_is_unscored(store):
    j = _judge(store, ImageEnhance.Brightness(render(SOURCE)).enhance(0.4))
    assert j.status == "unscored" and "no scene sidecar" in j.error and not j.scores


def test_a_different_scene_keeps_nothing(store):
    other = edit(random_spec(99, plain=1.0), {CONTEXT_KEYS_INV[k]: v for k, v in TARGET.items()})
    other = SceneSpec.from_dict({**other.to_dict(), "architecture_style": SOURCE.architecture_style,
                                 "weather": SOURCE.weather})
    image = render(other)
    store.put_sidecar(store.put(image), SIDE_CAR_SUFFIX, other.to_json().encode())
    j = _judge(store, image)
    assert j.status == "ok" and j.scores["reached"] == 1.0 and j.scores["kept"] == 0.0
    assert j.verdicts["c3"] == "fail" and "objects" in j.rationale["layout_changed"]


def test_samples_without_scene_truth_and_corrupt_sidecars(store):
    plain = _sample().replace(truth={"family": "eco"})
    assert "no scene truth" in _judge(store, _scene(store, TARGET), plain).error
    broken = ImageEnhance.Color(render(SOURCE)).enhance(0.5)
    store.put_sidecar(store.put(broken), SIDE_CAR_SUFFIX, b"{not json")
    j = _judge(store, broken)
    assert j.status == "error" and "unreadable" in j.error


CONTEXT_KEYS_INV = {v: k for k, v in CONTEXT_KEYS.items()}


# ------------------------------------------------------------------------------------------ end to end


class OracleSceneSystem(Component):
    """Test-only oracle: applies the scene tool with the sample's true target (it reads ``truth``)."""

    name = "test-oracle-scene"
    version = "1"

    def __init__(self) -> None:
        pass

    def info(self) -> SystemInfo:
        return SystemInfo(track="planner+tools", description="test oracle", oracle=True, tools=("scene",))

    def edit(self, sample, image, ctx):
        out, _ = ctx.apply_tool("scene", image, {"changes": dict(sample.truth["target"])})
        return ctx.trajectory(out)


class SceneThenPixelsSystem(Component):
    """Test-only: a correct scene edit, then a pixel tweak the judge must refuse to believe."""

    name = "test-scene-then-pixels"
    version = "1"

    def __init__(self) -> None:
        pass

    def info(self) -> SystemInfo:
        return SystemInfo(track="planner+tools", description="test", oracle=True, tools=("scene",))

    def edit(self, sample, image, ctx):
        out, _ = ctx.apply_tool("scene", image, {"changes": dict(sample.truth["target"])})
        return ctx.trajectory(ImageEnhance.Sharpness(out).enhance(2.0))


def test_runner_end_to_end_oracle_scores_one(tmp_path):
    suite = registry.get("suites", "styling-simple")(size=3, seed=2, cache_dir=tmp_path / "cache")
    summary = execute(str(tmp_path / "runs"), [suite],
                      [ComponentSpec("test-oracle-scene", {}), ComponentSpec("test-scene-then-pixels", {})],
                      [ComponentSpec("attributes", {})],
                      RunOptions(executor="inline", workers=1, show_progress=False))
    assert summary.failed == 0 and summary.trajectories == 6
    store = RunStore.open(summary.run_dir)
    for sample in suite.samples:  # the runner copied each source's sidecar into the run store
        assert store.images.get_sidecar(sample.image.id, SIDE_CAR_SUFFIX) is not None
    judgements = list(store.judgements().values())
    oracle = [j for j in judgements if j.system_id.startswith("test-oracle-scene")]
    tweaked = [j for j in judgements if j.system_id.startswith("test-scene-then-pixels")]
    assert len(oracle) == len(tweaked) == 3
    for j in oracle:
        assert j.status == "ok" and j.scores == {"reached": 1.0, "kept": 1.0, "exact": 1.0, "overall": 1.0}
        assert all(v in ("pass", "undecidable") for v in j.verdicts.values())
    # the sharpened result is a new image with no sidecar: its attributes are unknown, never guessed
    assert all(j.status == "unscored" and "not produced by the scene tool" in j.error for j in tweaked)
