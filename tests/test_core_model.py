"""Data model round trips, identities, specs and the registry."""

import hashlib
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from bench import registry
from bench.errors import RegistryError, UsageError
from bench.ids import component_id, derive_seed, image_id
from bench.jsonio import dumps_line, loads
from bench.model import (
    Criterion,
    ImageRef,
    Judgement,
    Plan,
    Region,
    Sample,
    ScoreSpec,
    Step,
    Subtask,
    Telemetry,
    Trajectory,
)
from bench.spec import ComponentSpec, parse_spec, spec_from_obj


def _roundtrip(rec):
    line = dumps_line(rec.to_dict())
    assert "NaN" not in line and "Infinity" not in line
    return type(rec).from_dict(loads(line))


def test_sample_roundtrip_and_system_view():
    s = Sample(
        id="a/1", image=ImageRef(id="ab" * 32, path="img/x.png", width=4, height=3), goal="make it festive",
        checklist=(Criterion("c1", "snow on the ground", "goal", 2.0), Criterion("c2", "keep the logo", "preserve")),
        context={"season": "summer"}, preserve=("logo",), tags={"complexity": "simple"},
        description="an advert", reference={"plan": [1, 2]}, truth={"season": "winter"},
    )
    assert _roundtrip(s) == s
    view = s.for_system()
    assert view.truth is None and view.reference is None and view.goal == s.goal
    assert s.for_system(oracle=True) is s


def test_trajectory_roundtrip_with_plan_steps_regions():
    region = Region(kind="box", box=(0.1, 0.2, 0.5, 0.9), feather=0.02)
    plan = Plan(checklist=(Criterion("c1", "x"),), context={"time_of_day": "noon"},
                subtasks=(Subtask("t1", "make it dusk", "sky first", action="time_of_day",
                                  action_params={"value": "dusk"}, tool="time_of_day", params={"value": "dusk"},
                                  region=region),), instruction="dusk", reasoning="why", raw="r" * 64)
    t = Trajectory(suite="s@1", sample_id="x", system_id="sys.abc", plan=plan,
                   steps=(Step(tool="time_of_day", input="a" * 64, output="b" * 64, subtask="t1",
                               params={"value": "dusk", "strength": 0.5}, region=region,
                               telemetry=Telemetry(calls=1, seconds=0.25)),),
                   final="b" * 64, telemetry=Telemetry(seconds=1.5, dollars=0.01))
    back = _roundtrip(t)
    assert back == t
    assert back.steps[0].region.box == (0.1, 0.2, 0.5, 0.9)
    assert back.telemetry.seconds == 1.5


def test_judgement_nan_roundtrip_and_telemetry_ignored():
    j = Judgement(suite="s@1", sample_id="x", system_id="a", judge_id="j", scores={"psnr": math.inf, "q": math.nan, "ok": 0.5},
                  draws={"q": [1.0, math.nan]}, status="ok", telemetry=Telemetry(seconds=3))
    line = dumps_line(j.to_dict())
    assert "NaN" not in line
    back = Judgement.from_dict(loads(line))
    assert math.isnan(back.scores["q"]) and math.isnan(back.draws["q"][1]) and back.scores["ok"] == 0.5
    assert back.same_result(j.replace(scores={**j.scores, "psnr": math.nan}))
    assert j.replace(telemetry=Telemetry(seconds=99)) == j


def test_score_spec_roundtrip():
    sp = ScoreSpec("ssim", 0.0, 1.0, True, "{:.3f}", "similarity")
    assert _roundtrip(sp) == sp


def test_strict_from_dict_rejects_unknown_field():
    with pytest.raises(ValueError, match="unknown field 'gaol'"):
        Sample.from_dict({"id": "x", "image": {"id": "a"}, "goal": "g", "gaol": "typo"}, strict=True)
    with pytest.raises(TypeError, match="goal"):
        Sample.from_dict({"id": "x", "image": {"id": "a"}, "goal": 5})


def test_image_id_is_of_pixels_and_stable():
    arr = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    img = Image.fromarray(arr)
    # Fixed value: equal on any machine (the scheme is sha256 of b"RGB8|w|h|" + raw bytes).
    assert image_id(img) == "262aa4cc6801b9a0005cf43eec92bd898a0f5ede499925cfa67a2b46f484905c"
    assert image_id(img) == hashlib.sha256(b"RGB8|3|2|" + arr.tobytes()).hexdigest()
    assert image_id(img.convert("RGBA").convert("RGB")) == image_id(img)


def test_component_id_stable_and_ignores_transport():
    a = component_id("edit-only", {"strength": 0.5, "tags": ["a", "b"]}, "1")
    assert a == "edit-only.5489e53826e0"
    assert component_id("edit-only", {"tags": ["a", "b"], "strength": 0.5, "retries": 9, "api_key": "sk-x", "concurrency": 64}, "1") == a
    assert component_id("edit-only", {"strength": 0.5, "tags": ["a", "b"]}, "2") != a
    assert derive_seed(0, "ads@1", "s1", "edit-only.abc") == 3791879812687220625


def test_ids_equal_in_a_fresh_interpreter():
    code = ("from bench.ids import component_id, derive_seed; "
            "print(component_id('edit-only', {'strength': 0.5, 'tags': ['a', 'b']}, '1'), derive_seed(0, 'ads@1', 's1', 'edit-only.abc'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout.split()
    assert out == ["edit-only.5489e53826e0", "3791879812687220625"]


@pytest.mark.parametrize("text,name,args", [
    ("edit-only", "edit-only", {}),
    ("checklist:backend=openai,base_url='http://host:8000/v1',model=gpt-4o", "checklist",
     {"backend": "openai", "base_url": "http://host:8000/v1", "model": "gpt-4o"}),
    ("x:steps=20,fast=true,w=0.5,tags=[a, b],name=\"a,b\"", "x", {"steps": 20, "fast": True, "w": 0.5, "tags": ["a", "b"], "name": "a,b"}),
    ("x:url=http://h:1/v1", "x", {"url": "http://h:1/v1"}),
])
def test_parse_spec(text, name, args):
    spec = parse_spec(text)
    assert spec == ComponentSpec(name, args)
    assert parse_spec(str(spec)) == spec  # printing and re-parsing is lossless


@pytest.mark.parametrize("bad", ["", ":a=1", "x:a", "x:a=1,a=2", "x:a='open"])
def test_parse_spec_errors(bad):
    with pytest.raises(UsageError):
        parse_spec(bad)


def test_spec_from_yaml_forms():
    assert spec_from_obj({"name": "x", "args": {"a": 1}}) == ComponentSpec("x", {"a": 1})
    assert spec_from_obj({"name": "x", "a": 1}) == ComponentSpec("x", {"a": 1})
    assert spec_from_obj({"x": {"a": 1}}) == ComponentSpec("x", {"a": 1})
    assert spec_from_obj("x:a=1") == ComponentSpec("x", {"a": 1})


def test_registry_did_you_mean_and_unknown_option():
    with pytest.raises(RegistryError, match="did you mean 'fake-brighten'"):
        registry.get("systems", "fake-brigten")
    with pytest.raises(UsageError, match="no option 'factr'.*did you mean 'factor'"):
        registry.build("systems", ComponentSpec("fake-brighten", {"factr": 2}))
    sys_ = registry.build("systems", ComponentSpec("fake-brighten", {"factor": 2.0}))
    assert sys_.config() == {"factor": 2.0, "fail_on": "", "delay": 0.0}


def test_registry_entry_points_lazy_and_listed():
    assert {"edit-only", "rule-pipeline"} <= set(registry.names("systems"))
    assert {"ssim", "psnr"} <= set(registry.names("judges"))
    with pytest.raises(RegistryError, match="unknown plug-in kind"):
        registry.names("widgets")


def test_registry_third_party_registration():
    class Custom:
        """A custom judge."""

    registry.register("judges", "custom-x", Custom)
    try:
        assert registry.get("judges", "custom-x") is Custom
        assert registry.describe("judges", "custom-x") == "A custom judge."
    finally:
        registry.unregister("judges", "custom-x")


def test_import_bench_loads_no_heavy_library():
    code = ("import sys, bench, bench.cli, bench.runner, bench.store, bench.registry, bench.results, bench.report, "
            "bench.compose, bench.context, bench.regions; "
            "heavy = [m for m in ('torch', 'transformers', 'diffusers', 'open_clip', 'lpips', 'torchmetrics', 'openai', "
            "'peft', 'suites', 'judges', 'baselines', 'leaderboard') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_region_masks():
    from bench.regions import region_mask

    full = region_mask(None, (8, 4))
    assert full.shape == (4, 8) and full.min() == 1
    top = region_mask(Region(kind="named", name="top"), (8, 4))
    assert top[:2].min() == 1 and top[2:].max() == 0
    box = region_mask(Region(kind="box", box=(0.5, 0.0, 1.0, 0.5)), (8, 4))
    assert box.sum() == 8 and box[0, 4:].min() == 1
    inv = region_mask(Region(kind="box", box=(0.5, 0.0, 1.0, 0.5), invert=True), (8, 4))
    assert np.allclose(inv + box, 1)
    fg = region_mask(Region(kind="named", name="foreground"), (64, 64))
    bg = region_mask(Region(kind="named", name="background"), (64, 64))
    assert np.allclose(fg + bg, 1) and fg[35, 32] == 1 and fg[0, 0] == 0
    from bench.errors import ToolError
    with pytest.raises(ToolError, match="not grounded"):
        region_mask(Region(kind="phrase", phrase="the product"), (8, 8))
    with pytest.raises(ToolError, match="unknown named region"):
        region_mask(Region(kind="named", name="sky"), (8, 8))
