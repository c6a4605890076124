"""The classical tools behind the ``Tool`` protocol: one per op, confined to their region,
deterministic, seeded from the context, with schemas exposed and errors that name the field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from baselines.tools.classical import (
    TOOLS,
    ClassicalTool,
    catalog,
    check_params,
    entry_point_lines,
    tool_class,
)
from baselines.tools.ops import ALL_OPS
from bench import registry
from bench.context import EditContext, ToolBox, ToolContext
from bench.errors import ToolError
from bench.images import ImageStore
from bench.model import Region
from bench.protocols import Tool
from bench.regions import mask_to_image
from bench.spec import ComponentSpec

H, W = 72, 96

# Params that make every tool visibly act inside the centre box (overlays drawn there too).
PARAMS: dict[str, dict] = {
    "add_text": {"text": "HELLO", "y": 0.5, "size": 0.2},
    "add_badge": {"x": 0.5, "y": 0.5},
    "add_pattern_or_border": {"pattern": "stripes"},
    "brightness_contrast": {"brightness": 0.3},  # its defaults are the identity
}
BOX = Region(kind="box", box=(0.25, 0.25, 0.75, 0.75))
SEEDED = sorted(n for n, s in ALL_OPS.items() if "seed" in s.params_schema["properties"])


@pytest.fixture(scope="module", autouse=True)
def _registered_tools():
    for name, cls in TOOLS.items():
        registry.register("tools", name, cls)
    yield


def _scene() -> Image.Image:
    """Sky gradient over green ground, a red block, a grey tower, mild noise: every op has work."""
    rng = np.random.default_rng(0)
    y = np.linspace(0, 1, H)[:, None, None]
    img = np.broadcast_to(np.array([0.35, 0.6, 0.95]) * (1 - y) + np.array([0.8, 0.88, 0.98]) * y, (H, W, 3)).copy()
    img[int(H * 0.55):] = (0.25, 0.55, 0.22)
    img[30:50, 20:40] = (0.8, 0.2, 0.15)
    img[15:55, 60:75] = (0.5, 0.5, 0.52)
    img += rng.normal(0, 0.02, img.shape)
    return Image.fromarray(np.clip(np.rint(img * 255), 0, 255).astype(np.uint8), "RGB")


SCENE = _scene()


@pytest.fixture()
def ctx(tmp_path) -> ToolContext:
    return ToolContext(images=ImageStore(tmp_path / "images"), seed=1234567890123)


def _diff(a: Image.Image, b: Image.Image) -> np.ndarray:
    return np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max(axis=2)


def test_one_tool_per_op_with_the_ops_contract():
    assert set(TOOLS) == set(ALL_OPS)
    for name, cls in TOOLS.items():
        tool = cls()
        spec = ALL_OPS[name]
        assert isinstance(tool, Tool) and isinstance(tool, ClassicalTool)
        assert tool.name == name and tool.description == spec.description
        assert tool.params_schema == spec.params_schema and tool.params_schema is not spec.params_schema
        assert tool.version.endswith("." + spec.version)
        assert tool.config() == {}  # the constructor takes nothing: the id depends on name and version
    assert tool_class("season") is TOOLS["season"]
    with pytest.raises(ToolError, match="no classical tool named 'seasons'"):
        tool_class("seasons")


def test_catalog_is_json_and_lists_every_tool():
    entries = catalog()
    assert [e["name"] for e in entries] == list(ALL_OPS)
    json.dumps(entries)
    for e in entries:
        assert e["description"] and e["params_schema"]["type"] == "object" and "properties" in e["params_schema"]
    assert {e["name"] for e in catalog("dimension")} == {s.name for s in ALL_OPS.values() if s.category == "dimension"}
    assert len(entry_point_lines()) == len(TOOLS)
    for name, line in zip(TOOLS, entry_point_lines(), strict=True):
        assert line.startswith(f'{name} = "baselines.tools.classical:')


@pytest.mark.parametrize("name", sorted(ALL_OPS))
def test_box_and_named_regions_confine_the_change(name, ctx):
    tool = TOOLS[name]()
    params = PARAMS.get(name, {})
    out = tool.apply(SCENE, params, BOX, ctx)
    assert out.size == SCENE.size and out.mode == "RGB"
    d = _diff(out, SCENE)
    inside = np.zeros((H, W), bool)
    inside[round(0.25 * H): round(0.75 * H), round(0.25 * W): round(0.75 * W)] = True
    assert d[~inside].max() == 0, f"{name} changed pixels outside its box"
    assert d[inside].max() > 0, f"{name} did nothing inside its box"

    top = tool.apply(SCENE, params if name != "add_text" else {**params, "y": 0.25},
                     Region(kind="named", name="top"), ctx)
    d = _diff(top, SCENE)
    assert d[H // 2:].max() == 0 and d[: H // 2].max() > 0

    again = tool.apply(SCENE, params, BOX, ctx)
    assert again.tobytes() == out.tobytes(), f"{name} is not deterministic"


def test_mask_and_inverted_regions(ctx):
    tool = TOOLS["color_grading"]()
    mask = np.zeros((H, W), np.float32)
    mask[:, : W // 3] = 1.0
    mask_id = ctx.images.put(mask_to_image(mask))
    out = tool.apply(SCENE, {"grade": "black_and_white"}, Region(kind="mask", mask=mask_id), ctx)
    d = _diff(out, SCENE)
    assert d[:, W // 3:].max() == 0 and d[:, : W // 3].max() > 0
    inv = tool.apply(SCENE, {"grade": "black_and_white"}, Region(kind="box", box=(0.0, 0.0, 0.5, 1.0), invert=True), ctx)
    d = _diff(inv, SCENE)
    assert d[:, : W // 2].max() == 0 and d[:, W // 2:].max() > 0
    full = tool.apply(SCENE, {"grade": "black_and_white"}, None, ctx)
    assert (_diff(full, SCENE) > 0).mean() > 0.9
    with pytest.raises(ToolError, match="not grounded"):
        tool.apply(SCENE, {}, Region(kind="phrase", phrase="the red block"), ctx)


@pytest.mark.parametrize("name", SEEDED)
def test_seed_comes_from_the_context_unless_given(name, tmp_path):
    store = ImageStore(tmp_path / "images")
    tool = TOOLS[name]()
    params = dict(PARAMS.get(name, {}))
    if name == "location_setting":
        params["mode"] = "backdrop"  # the tint mode draws no random shapes
    a = tool.apply(SCENE, params, None, ToolContext(images=store, seed=1))
    b = tool.apply(SCENE, params, None, ToolContext(images=store, seed=2))
    fixed = {**params, "seed": 7}
    c = tool.apply(SCENE, fixed, None, ToolContext(images=store, seed=1))
    d = tool.apply(SCENE, fixed, None, ToolContext(images=store, seed=2))
    assert c.tobytes() == d.tobytes()  # an explicit seed wins over the context's
    if name in ("atmospheric_effects", "weather", "location_setting", "add_pattern_or_border"):
        params_b = {**params, "effect": "snow"} if name == "atmospheric_effects" else params
        if name == "add_pattern_or_border":
            params_b = {"pattern": "snowflakes"}
        a = tool.apply(SCENE, params_b, None, ToolContext(images=store, seed=1))
        b = tool.apply(SCENE, params_b, None, ToolContext(images=store, seed=2))
        assert a.tobytes() != b.tobytes(), f"{name} ignores the context's seed"


def test_nested_ops_get_the_context_seed(ctx):
    tool = TOOLS["graduated_effect"]()
    seeded = tool._seeded({"op": "atmospheric_effects", "params": {"effect": "snow"}}, 42)
    assert seeded["params"]["seed"] == 42
    kept = tool._seeded({"op": "atmospheric_effects", "params": {"seed": 3}}, 42)
    assert kept["params"]["seed"] == 3
    layered = TOOLS["layered_blend"]()._seeded({"op_a": "color_grading", "op_b": "weather"}, 5)
    assert "seed" not in layered.get("params_a", {}) and layered["params_b"]["seed"] == 5


@pytest.mark.parametrize(
    "name, params, field",
    [
        ("time_of_day", {"target": "teatime"}, "target"),
        ("time_of_day", {"intensity": 3}, "intensity"),
        ("time_of_day", {"intensity": "strong"}, "intensity"),
        ("season", {"colour": "red"}, "colour"),
        ("add_text", {}, "text"),
        ("add_badge", {"color": "red"}, "color"),
        ("graduated_effect", {"op": "time_of_day", "params": {"intensity": 5}}, "params.intensity"),
        ("layered_blend", {"op_b": "season", "params_b": {"target": "monsoon"}}, "params_b.target"),
        ("graduated_effect", {"op": "no_such_op"}, "op"),
    ],
)
def test_bad_params_name_the_tool_and_field(name, params, field, ctx):
    with pytest.raises(ToolError) as err:
        TOOLS[name]().apply(SCENE, params, None, ctx)
    assert err.value.field == field
    assert f"tool {name!r}" in str(err.value) and field.split(".")[-1] in str(err.value)


def test_check_params_rejects_a_non_object():
    with pytest.raises(ToolError) as err:
        check_params("season", ALL_OPS["season"].params_schema, ["winter"])
    assert err.value.field == "params"


def _mean(img: Image.Image, box=(0.25, 0.25, 0.75, 0.75)) -> np.ndarray:
    a = np.asarray(img, np.float32) / 255
    x0, y0, x1, y1 = box
    return a[round(y0 * H): round(y1 * H), round(x0 * W): round(x1 * W)].reshape(-1, 3)


def _luma(px: np.ndarray) -> float:
    return float((px @ np.array([0.299, 0.587, 0.114])).mean())


def _sat(px: np.ndarray) -> float:
    return float((px.max(axis=1) - px.min(axis=1)).mean())


@pytest.mark.parametrize(
    "name, params, check",
    [
        ("time_of_day", {"target": "night"}, lambda a, b: _luma(b) < _luma(a) - 0.1),
        ("color_grading", {"grade": "black_and_white"}, lambda a, b: _sat(b) < 0.02 < _sat(a)),
        ("color_grading", {"grade": "warm"}, lambda a, b: (b[:, 0] - b[:, 2]).mean() > (a[:, 0] - a[:, 2]).mean()),
        ("brightness_contrast", {"brightness": 0.5}, lambda a, b: _luma(b) > _luma(a) + 0.1),
        ("saturation", {"factor": 0.0}, lambda a, b: _sat(b) < 0.02),
        ("atmospheric_effects", {"effect": "fog", "intensity": 1.0}, lambda a, b: b.std() < a.std()),
        ("artistic_medium", {"medium": "pencil_sketch"}, lambda a, b: _sat(b) < _sat(a) / 2),
        ("replace_background", {"color": "#FFFFFF"}, lambda a, b: b.min() > 0.99),
        ("recolor_region", {"color": "#2E7D32", "preserve_luminance": False},
         lambda a, b: (b[:, 1] - b[:, 0]).mean() > (a[:, 1] - a[:, 0]).mean() + 0.1),
    ],
)
def test_effects_go_the_intended_way_inside_the_region(name, params, check, ctx):
    out = TOOLS[name]().apply(SCENE, params, BOX, ctx)
    assert check(_mean(SCENE), _mean(out))


def test_tools_run_through_the_registry_and_edit_context(tmp_path):
    tool = registry.build("tools", ComponentSpec("season"))
    assert isinstance(tool, TOOLS["season"])
    ectx = EditContext(images=ImageStore(tmp_path / "images"), seed=3, tools=ToolBox())
    out, step = ectx.apply_tool("season", SCENE, {"target": "winter"}, BOX, subtask="s1")
    assert step.tool == "season" and step.subtask == "s1" and step.region == BOX and step.error is None
    assert ectx.images.get(step.input).tobytes() == SCENE.tobytes()
    assert ectx.images.get(step.output).tobytes() == out.tobytes()
    with pytest.raises(ToolError):
        ectx.apply_tool("season", SCENE, {"target": "monsoon"})
    assert ectx.steps[-1].error and "target" in ectx.steps[-1].error
