"""Region grounding: named words, boxes asked of a (scripted) VLM, and tiny random-weight detectors.

The detector and SAM checkpoints are built from configs (tests/tiny_models.py), saved and loaded
back through ``from_pretrained(path)``; their boxes are meaningless, the path must run and return
a valid region.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from baselines.grounding import (
    SLACK,
    Detector,
    GroundingError,
    Segmenter,
    box_request,
    box_to_mask,
    ground,
    ground_vlm_many,
    match_named,
    parse_box,
)
from bench.backends.base import ChatResponse, ImagePart
from bench.backends.scripted import ScriptedBackend
from bench.errors import ToolError
from bench.images import ImageStore
from bench.model import Region
from bench.regions import region_mask

IMG = Image.new("RGB", (80, 60), (120, 160, 200))


# ----------------------------------------------------------------------------- named


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("the sky", Region(kind="named", name="top")),
        ("Background", Region(kind="named", name="background")),
        ("the backdrop", Region(kind="named", name="background")),
        ("main subject", Region(kind="named", name="foreground")),
        ("the ground", Region(kind="named", name="bottom")),
        ("left half", Region(kind="named", name="left")),
        ("the middle of the image", Region(kind="named", name="center")),
        ("top-left corner", Region(kind="box", box=(0.0, 0.0, 0.5, 0.5))),
        ("the lower right", Region(kind="box", box=(0.5, 0.5, 1.0, 1.0))),
        ("the whole image", Region()),
        ("everything except the sky", Region(kind="named", name="top", invert=True)),
        ("all but the background", Region(kind="named", name="background", invert=True)),
        ("sky in the background", Region(kind="named", name="top")),  # the position is the more specific word
    ],
)
def test_named_words(phrase, expected):
    assert match_named(phrase) == expected
    assert ground(phrase, IMG) == expected  # method=auto, strict: these phrases are pure region words


def test_named_refuses_to_guess():
    assert match_named("the red bottle") is None
    assert match_named("the cup above the table") is None  # relational words name no image region
    assert match_named("the car on the left") == Region(kind="named", name="left")
    assert match_named("the car on the left", strict=True) is None
    with pytest.raises(GroundingError, match="conflicting"):
        match_named("top and bottom")
    with pytest.raises(GroundingError, match="names no region"):
        ground("the red bottle", IMG, method="named")
    with pytest.raises(GroundingError, match="neither a backend nor a detector"):
        ground("the red bottle", IMG)
    with pytest.raises(GroundingError, match="unknown grounding method"):
        ground("sky", IMG, method="magic")
    assert issubclass(GroundingError, ToolError)


# ----------------------------------------------------------------------------- VLM boxes


def test_vlm_box_from_a_scripted_backend():
    backend = ScriptedBackend(['{"box": [0.1, 0.2, 0.6, 0.9]}'])
    region = ground("the bottle", IMG, method="vlm", backend=backend)
    assert region == Region(kind="box", box=(0.1, 0.2, 0.6, 0.9))
    req = backend.requests[0]
    user = req.messages[-1]
    assert any(isinstance(p, ImagePart) for p in user.content) and '"the bottle"' in user.text()
    assert req.response_format["type"] == "json_schema" and req.temperature == 0.0
    mask = region_mask(region, IMG.size)
    assert mask.sum() == pytest.approx(0.5 * 0.7 * 80 * 60, rel=0.05)


def test_auto_uses_named_words_before_asking_the_backend():
    backend = ScriptedBackend(['{"box": [0.0, 0.5, 0.5, 1.0]}'])
    assert ground("the sky", IMG, backend=backend) == Region(kind="named", name="top")
    assert backend.requests == []
    assert ground("the bottle on the left", IMG, backend=backend) == Region(kind="box", box=(0.0, 0.5, 0.5, 1.0))
    assert len(backend.requests) == 1


@pytest.mark.parametrize(
    ("reply", "coords", "box"),
    [
        ('```json\n{"box": [0.25, 0.25, 0.75, 0.5],}\n```', "relative", (0.25, 0.25, 0.75, 0.5)),
        ("[0.1, 0.1, 0.4, 0.4]", "relative", (0.1, 0.1, 0.4, 0.4)),
        ('{"bbox": [[-0.01, 0.0, 1.015, 0.5]]}', "relative", (0.0, 0.0, 1.0, 0.5)),  # clamped within SLACK
        ('{"x0": 0.2, "y0": 0.3, "x1": 0.4, "y1": 0.6}', "relative", (0.2, 0.3, 0.4, 0.6)),
        ('{"box": [8, 6, 40, 30]}', "pixels", (0.1, 0.1, 0.5, 0.5)),
        ('{"box_2d": [100, 200, 500, 1000]}', "per-mille", (0.1, 0.2, 0.5, 1.0)),
    ],
)
def test_parse_box_accepts_well_formed_replies(reply, coords, box):
    assert parse_box(reply, IMG.size, coords) == pytest.approx(box)


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        ("I think it is near the top", "not JSON"),
        ('{"box": null}', "not in the image"),
        ('{"where": [1, 2, 3, 4]}', "no 'box'"),
        ('{"box": [0.1, 0.2, 0.3]}', "4 numbers"),
        ('{"box": [0.1, "a", 0.3, 0.4]}', "4 numbers"),
        ('{"box": [12, 20, 300, 400]}', "set coords=pixels"),
        (f'{{"box": [0.1, 0.1, {1 + 2 * SLACK}, 0.5]}}', "outside the image"),
        ('{"box": [0.6, 0.2, 0.3, 0.9]}', "reversed or empty"),
        ('{"box": [0.3, 0.2, 0.3, 0.9]}', "reversed or empty"),
    ],
)
def test_parse_box_rejects_anything_else_with_the_raw_reply(reply, match):
    with pytest.raises(GroundingError, match=match) as err:
        parse_box(reply, IMG.size)
    assert err.value.raw == reply


def test_backend_failures_and_batches():
    refusal = ChatResponse.failure("I cannot help with that", status="refused")
    with pytest.raises(GroundingError, match="refused"):
        ground("the logo", IMG, method="vlm", backend=ScriptedBackend([refusal]))
    with pytest.raises(GroundingError, match="needs a chat backend"):
        ground("the logo", IMG, method="vlm")
    backend = ScriptedBackend(['{"box": [0, 0, 0.5, 0.5]}', "no idea", '{"box": null}'])
    out = ground_vlm_many(["a", "b", "c"], [IMG] * 3, backend)
    assert out[0] == Region(kind="box", box=(0.0, 0.0, 0.5, 0.5))
    assert isinstance(out[1], GroundingError) and out[1].raw == "no idea"
    assert isinstance(out[2], GroundingError)
    assert len(backend.requests) == 3
    assert "pixels of the image (80x60)" in box_request("x", IMG, coords="pixels").messages[-1].text()


def test_box_to_mask_is_the_explicit_step():
    mask = box_to_mask((0.25, 0.5, 0.75, 1.0), (80, 60))
    assert mask.shape == (60, 80) and mask.dtype == np.float32
    assert mask[45, 40] == 1.0 and mask[10, 40] == 0.0 and mask[45, 5] == 0.0
    assert mask.sum() == 40 * 30


# ----------------------------------------------------------------------------- detectors and SAM


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests import tiny_models

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: one thread is fastest (see test_diffusers_tools)
    root = str(tmp_path_factory.mktemp("tiny-detectors"))
    yield lambda kind: tiny_models.save(kind, root)
    torch.set_num_threads(threads)


def _scene() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB")


@pytest.mark.parametrize("kind", ["owlv2", "owlvit", "grounding-dino"])
def test_detector_path_runs_on_tiny_checkpoints(tiny, kind):
    det = Detector(tiny(kind), device="cpu", threshold=0.0, text_threshold=0.0)
    found = det.detect(_scene(), "a red cat")
    assert found and all(a.score >= b.score for a, b in zip(found, found[1:], strict=False))
    region = ground("the red cat", _scene(), method="detector", detector=det)
    assert region.kind == "box"
    x0, y0, x1, y1 = region.box
    assert 0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0
    assert region_mask(region, (64, 48)).sum() > 0
    with pytest.raises(GroundingError, match="found no"):
        ground("the red cat", _scene(), method="detector",
               detector=Detector(tiny(kind), device="cpu", threshold=1.0, text_threshold=0.0))


def test_sam_refines_the_box_into_a_stored_mask(tiny, tmp_path):
    store = ImageStore(tmp_path / "images")
    det = Detector(tiny("owlv2"), device="cpu", threshold=0.0)
    region = ground("the cat", _scene(), method="detector", detector=det,
                    segmenter=Segmenter(tiny("sam"), device="cpu"), store=store)
    assert region.kind == "mask" and store.has(region.mask)
    mask = region_mask(region, (64, 48), store.get)
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() > 0
    with pytest.raises(GroundingError, match="image store"):
        ground("the cat", _scene(), method="detector", detector=det, segmenter=Segmenter(tiny("sam"), device="cpu"))


def test_missing_detector_weights_say_how_to_supply_them(tiny):
    with pytest.raises(GroundingError, match="model=FOLDER") as err:
        Detector("editbench-tests/no-such-detector", device="cpu").detect(_scene(), "x")
    assert err.value.field == "detector"
    payload = json.dumps({"box": [0.1, 0.1, 0.2, 0.2]})  # the VLM path still works without any weights
    assert ground("x", _scene(), method="vlm", backend=ScriptedBackend([payload])).kind == "box"
