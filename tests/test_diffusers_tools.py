"""The diffusers editor tools and render-text, end to end on CPU with tiny random-weight pipelines.

The pipelines are built from configs (tests/tiny_models.py), written with ``save_pretrained`` and
loaded back by the tools through the real ``from_pretrained(path)``. Their pixels are meaningless;
what is checked is the contract: sizes, compositing, params recorded, one load per process,
batching, identities, and the error when there are no weights.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from baselines.tools import _pipelines as pl
from baselines.tools.diffusers_tools import (
    DiffusionTool,
    Inpaint,
    InstructEdit,
    RenderText,
    entry_point_lines,
    fit_text,
    work_size,
)
from bench import registry
from bench.context import EditContext, ToolBox, ToolContext
from bench.errors import ToolError
from bench.images import ImageStore
from bench.model import Region
from bench.protocols import Tool

BOX = Region(kind="box", box=(0.25, 0.2, 0.7, 0.75))


def _image(w: int = 27, h: int = 22, seed: int = 0) -> Image.Image:
    """Odd sizes on purpose: the tools must round to the pipeline's factor and come back."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


@pytest.fixture
def tctx(tmp_path) -> ToolContext:
    return ToolContext(images=ImageStore(tmp_path / "images"), seed=11, device="cpu")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Save tiny pipelines on demand: ``tiny("ip2p")`` -> folder.

    Tiny networks run fastest on one thread: with several, torch's thread pool spends more time
    synchronising than computing (30x slower on a busy 2-core CI runner).
    """
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    from tests import tiny_models

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = str(tmp_path_factory.mktemp("tiny-pipelines"))
    yield lambda kind: tiny_models.save(kind, root)
    torch.set_num_threads(threads)


def _changed(a: Image.Image, b: Image.Image) -> float:
    return float((np.asarray(a) != np.asarray(b)).any(axis=-1).mean())


# ----------------------------------------------------------------------------- without torch


def test_tools_satisfy_the_protocol_and_publish_schemas():
    for tool in (InstructEdit(), Inpaint(), RenderText()):
        assert isinstance(tool, Tool)
        assert tool.params_schema["type"] == "object" and tool.params_schema["additionalProperties"] is False
    assert InstructEdit().params_schema["required"] == ["instruction"]
    assert Inpaint().params_schema["required"] == ["prompt"]
    ip2p = InstructEdit().params_schema["properties"]
    assert ip2p["steps"]["default"] == 20 and ip2p["image_guidance_scale"]["default"] == 1.5
    kontext = InstructEdit(pipeline="FluxKontextPipeline").params_schema["properties"]
    assert "image_guidance_scale" not in kontext and kontext["guidance_scale"]["default"] == 2.5
    assert sorted(line.split(" = ")[0] for line in entry_point_lines()) == ["inpaint", "instruct-edit", "render-text"]


def test_bad_options_and_params_name_the_field(tctx):
    with pytest.raises(ToolError, match="not supported") as err:
        InstructEdit(pipeline="StableDiffusionPipeline")
    assert err.value.field == "pipeline"
    with pytest.raises(ToolError) as err:
        InstructEdit(dtype="float8")
    assert err.value.field == "dtype"
    with pytest.raises(ToolError) as err:
        InstructEdit().validate({"instruction": "x", "steps": 0})
    assert err.value.field == "steps"
    with pytest.raises(ToolError, match="missing required"):
        Inpaint().validate({"steps": 3})
    with pytest.raises(ToolError, match="unknown parameter"):
        InstructEdit().validate({"instruction": "x", "strength": 0.5})


def test_identity_hub_id_and_local_folder_by_content(tmp_path):
    hub = InstructEdit()
    assert hub.identity_extra()["weights"] == "hub:timbrooks/instruct-pix2pix@unpinned"
    assert InstructEdit(revision="abc").identity_extra()["weights"] == "hub:timbrooks/instruct-pix2pix@abc"
    assert "download" not in hub.config() and "offload" not in hub.config()
    for name in ("a", "b"):
        (tmp_path / name / "unet").mkdir(parents=True)
        (tmp_path / name / "unet" / "weights.bin").write_bytes(b"same bytes")
    a, b = InstructEdit(model=str(tmp_path / "a")), InstructEdit(model=str(tmp_path / "b"))
    assert a.config() == b.config() and a.config()["model"].startswith("sha256:")
    assert a.identity_extra() == b.identity_extra()
    (tmp_path / "b" / "unet" / "weights.bin").write_bytes(b"other bytes")
    assert InstructEdit(model=str(tmp_path / "b")).config() != a.config()


def test_work_size_rounds_to_the_factor():
    assert work_size((27, 22), 2) == (28, 22)
    assert work_size((501, 333), 8) == (504, 336)
    assert work_size((3, 3), 16) == (16, 16)
    assert work_size((1000, 500), 16, resolution=512) == (512, 256)


# ----------------------------------------------------------------------------- render-text (no torch)


def test_render_text_stays_in_its_region_and_fits(tctx):
    img = Image.new("RGB", (160, 100), (30, 80, 140))
    out = RenderText().apply(img, {"text": "SALE 50% OFF", "background": "#000000"}, BOX, tctx)
    mask = tctx.mask(BOX, img.size)
    a, b = np.asarray(img), np.asarray(out)
    assert (a[mask == 0] == b[mask == 0]).all()
    assert (a[mask > 0] != b[mask > 0]).any(axis=-1).mean() > 0.2
    long_text, size_small = fit_text("a much longer headline that has to wrap", 60, 60, 40)
    short_text, size_big = fit_text("SALE", 60, 60, 40)
    assert "\n" in long_text and size_small < size_big
    assert "\n" not in short_text


def test_render_text_full_image_and_empty_region(tctx):
    img = Image.new("RGB", (64, 48), (200, 200, 200))
    out = RenderText().apply(img, {"text": "NEW", "color": "#FF0000"}, None, tctx)
    assert out.size == img.size and _changed(img, out) > 0
    with pytest.raises(ToolError, match="empty"):
        RenderText().apply(img, {"text": "x"}, Region(kind="full", invert=True), tctx)
    with pytest.raises(ToolError, match="not grounded"):
        RenderText().apply(img, {"text": "x"}, Region(kind="phrase", phrase="the bottle"), tctx)


# ----------------------------------------------------------------------------- tiny pipelines


def test_instruct_edit_end_to_end_records_params_and_loads_once(tiny, tmp_path):
    path = tiny("ip2p")
    registry.register("tools", "instruct-edit", InstructEdit)
    ctx = EditContext(images=ImageStore(tmp_path / "store"), seed=3, tools=ToolBox())
    img = _image()
    params = {"instruction": "make the sky red", "steps": 2, "guidance_scale": 5.0, "seed": 4}
    out, step = ctx.apply_tool("instruct-edit", img, params, tool_args={"model": path, "device": "cpu"})
    assert out.size == img.size and _changed(img, out) > 0.5
    assert step.params == params and step.tool == "instruct-edit" and step.output == ctx.images.put(out)
    # the same seed reproduces the edit; another tool object shares the one loaded pipeline
    again = InstructEdit(model=path, device="cpu").apply(img, params, None, ctx_tool(ctx))
    assert np.array_equal(np.asarray(again), np.asarray(out))
    keys = [k for k in pl.PIPELINES.loads if k.model == path and k.cls_name == "StableDiffusionInstructPix2PixPipeline"]
    assert len(keys) == 1 and pl.PIPELINES.loads[keys[0]] == 1


def ctx_tool(ctx: EditContext) -> ToolContext:
    return ToolContext(images=ctx.images, seed=ctx.seed, device="cpu")


def test_instruct_edit_with_a_region_changes_only_the_region(tiny, tctx):
    tool = InstructEdit(model=tiny("ip2p"), device="cpu")
    img = _image(24, 20, seed=1)
    out = tool.apply(img, {"instruction": "snow", "steps": 1}, BOX, tctx)
    mask = tctx.mask(BOX, img.size)
    assert (np.asarray(out)[mask == 0] == np.asarray(img)[mask == 0]).all()
    assert _changed(img, out) > 0


def test_apply_many_batches_equal_params_into_one_call(tiny, tctx, monkeypatch):
    tool = InstructEdit(model=tiny("ip2p"), device="cpu", batch_size=8)
    loaded = tool.loaded("cpu")
    calls: list[int] = []
    real_call = type(loaded.pipe).__call__

    def counting(self, *args, **kwargs):
        calls.append(len(kwargs["prompt"]))
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(type(loaded.pipe), "__call__", counting)
    imgs = [_image(24, 20, seed=s) for s in range(3)]
    params = [{"instruction": f"edit {i}", "steps": 1, "seed": 100 + i} for i in range(3)]
    batched = tool.apply_many(imgs, params, [None] * 3, tctx)
    assert calls == [3]
    single = tool.apply(imgs[1], params[1], None, tctx)
    diff = np.abs(np.asarray(batched[1], np.int16) - np.asarray(single, np.int16)).max()
    assert diff <= 2, "a batched edit equals the same edit made alone, up to rounding"
    # one context per image: each image's seed defaults to its own context's
    ctxs = [ToolContext(images=tctx.images, seed=s, device="cpu") for s in (5, 6, 7)]
    unseeded = [{"instruction": "same", "steps": 1}] * 3
    calls.clear()
    per_ctx = tool.apply_many(imgs, unseeded, [None] * 3, ctxs)
    assert calls == [3]
    alone = tool.apply(imgs[2], unseeded[2], None, ctxs[2])
    assert np.abs(np.asarray(per_ctx[2], np.int16) - np.asarray(alone, np.int16)).max() <= 2
    calls.clear()
    mixed = [dict(params[0]), dict(params[1], steps=2), dict(params[2])]  # steps differ: two calls
    tool.apply_many(imgs, mixed, [None] * 3, tctx)
    assert sorted(calls) == [1, 2]


def test_inpaint_changes_pixels_only_inside_the_mask(tiny, tctx):
    tool = Inpaint(model=tiny("sd-inpaint"), device="cpu")
    img = _image(25, 21, seed=2)
    for region in (BOX, Region(kind="named", name="left", feather=0.1)):
        out = tool.apply(img, {"prompt": "a red ball", "steps": 2, "seed": 1}, region, tctx)
        mask = tctx.mask(region, img.size)
        a, b = np.asarray(img), np.asarray(out)
        assert out.size == img.size
        assert (a[mask == 0] == b[mask == 0]).all(), "pixels outside the mask must be exactly the input's"
        assert (a[mask == 1] != b[mask == 1]).any(axis=-1).mean() > 0.5


def test_pipeline_errors_become_tool_errors(tiny, tctx):
    tool = Inpaint(model=tiny("sd-inpaint"), device="cpu")
    with pytest.raises(ToolError, match="StableDiffusionInpaintPipeline failed"):
        tool.apply(_image(), {"prompt": "x", "steps": 2, "strength": 0.1}, BOX, tctx)  # 0 denoising steps left


def test_inpaint_with_an_empty_region_returns_the_input_without_loading(tctx):
    pytest.importorskip("torch")  # the device is resolved before anything is skipped
    tool = Inpaint(model="/nonexistent/inpaint-folder", device="cpu")  # would fail if loaded
    img = _image()
    out = tool.apply(img, {"prompt": "x"}, Region(kind="full", invert=True), tctx)
    assert np.array_equal(np.asarray(out), np.asarray(img))


def test_flux_kontext_end_to_end(tiny, tctx):
    tool = InstructEdit(pipeline="FluxKontextPipeline", model=tiny("flux-kontext"), device="cpu")
    img = _image(27, 22, seed=3)
    out = tool.apply(img, {"instruction": "make it blue", "steps": 2, "auto_resize": False}, None, tctx)
    assert out.size == img.size and _changed(img, out) > 0.5


@pytest.mark.parametrize("pipeline", ["QwenImageEditPipeline", "QwenImageEditPlusPipeline"])
def test_qwen_image_edit_end_to_end(tiny, tctx, monkeypatch, pipeline):
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit, pipeline_qwenimage_edit_plus

    # The Qwen pipelines resize the condition image to about 1024x1024 before encoding it, which
    # takes minutes through even a tiny VAE on a CPU; shrink that target so the path runs in seconds.
    for mod in (pipeline_qwenimage_edit, pipeline_qwenimage_edit_plus):
        real = mod.calculate_dimensions
        monkeypatch.setattr(mod, "calculate_dimensions", lambda area, ratio, real=real: real(min(area, 48 * 48), ratio))
        if hasattr(mod, "VAE_IMAGE_SIZE"):
            monkeypatch.setattr(mod, "VAE_IMAGE_SIZE", 48 * 48)
            monkeypatch.setattr(mod, "CONDITION_IMAGE_SIZE", 32 * 32)
    tool = InstructEdit(pipeline=pipeline, model=tiny("qwen-image-edit"), device="cpu")
    img = _image(40, 30, seed=4)
    out = tool.apply(img, {"instruction": "make it blue", "steps": 2, "guidance_scale": 2.0}, None, tctx)
    assert out.size == img.size and _changed(img, out) > 0.5


def test_no_weights_is_a_clear_error(tctx, monkeypatch):
    pytest.importorskip("diffusers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    img = _image()
    with pytest.raises(ToolError) as err:
        InstructEdit(model="editbench-tests/no-such-model", device="cpu").apply(img, {"instruction": "x"}, None, tctx)
    msg = str(err.value)
    assert err.value.field == "model" and "model=FOLDER" in msg and "download=true" in msg
    assert "editbench-tests/no-such-model" in msg
    with pytest.raises(ToolError, match="does not exist"):
        Inpaint(model="/nonexistent/folder", device="cpu").apply(img, {"prompt": "x"}, BOX, tctx)


def test_a_folder_of_the_wrong_pipeline_fails_clearly(tiny, tctx, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny("ip2p"), broken)
    shutil.rmtree(broken / "unet")
    with pytest.raises(ToolError, match="cannot load"):
        InstructEdit(model=str(broken), device="cpu").apply(_image(), {"instruction": "x"}, None, tctx)


def test_diffusion_tool_is_abstract_over_families():
    assert set(InstructEdit.FAMILIES) >= {"StableDiffusionInstructPix2PixPipeline", "FluxKontextPipeline",
                                          "QwenImageEditPipeline"}
    assert issubclass(Inpaint, DiffusionTool) and Inpaint.FAMILIES["StableDiffusionInpaintPipeline"].needs_mask
