"""Region grounding: turn a subtask's region phrase ("the sky", "the product") into a :class:`Region`.

Three methods, each either returns a region or raises :class:`GroundingError` -- never a guess:

``named``
    Words of the phrase matched to the named regions of :data:`bench.regions.NAMED_REGIONS`
    ("the sky" -> ``top``, "backdrop" -> ``background``, "top left corner" -> the top-left quarter
    as a box, "everything except the sky" -> ``top`` inverted, "the whole image" -> ``full``).
``vlm``
    A box asked of a chat backend (:mod:`bench.backends`): the image and "give the box of <phrase>"
    as JSON ``{"box": [x0, y0, x1, y1]}``. The reply is parsed, validated and clamped; a reply
    that does not parse, a box outside the image, a reversed or empty box, or ``{"box": null}`` is
    a :class:`GroundingError` carrying the raw reply. ``coords`` states the convention of the model
    (``relative`` 0..1, ``pixels``, or ``per-mille`` 0..1000 as Qwen2-VL and Gemini answer).
``detector``
    An open-vocabulary detector from transformers (OWLv2, OWL-ViT or Grounding-DINO, loaded with
    ``AutoProcessor`` + ``AutoModelForZeroShotObjectDetection`` from a hub id or a local folder);
    the best box above ``threshold`` becomes the region. :func:`box_to_mask` is the explicit
    box-to-mask step; with a ``segmenter`` (SAM, ``SamModel`` + ``SamProcessor``) the box is refined
    into a segmentation mask, stored in the image store, and the region is that mask.

``auto`` tries a strict ``named`` match first (a phrase made only of region words: free and
exact), then ``vlm`` when a backend is given, then ``detector`` when a detector is given.

Example::

    region = ground("the sky", image)                                   # Region(kind="named", name="top")
    region = ground("the bottle", image, method="vlm", backend=backend)  # Region(kind="box", box=...)
    region = ground("the bottle", image, method="detector", detector="/models/owlv2",
                    segmenter="/models/sam-vit-base", store=ctx.images)  # Region(kind="mask", ...)
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from bench.backends.base import ChatMessage, ChatRequest, ChatResponse, json_schema_format, parse_json_reply
from bench.errors import ToolError
from bench.model import Region
from bench.regions import mask_to_image, region_mask

log = logging.getLogger(__name__)

__all__ = [
    "METHODS", "GroundingError", "Detection", "Detector", "Segmenter", "ground", "match_named", "box_request",
    "parse_box", "ground_vlm", "ground_vlm_many", "ground_detector", "box_to_mask",
]

METHODS: tuple[str, ...] = ("auto", "named", "vlm", "detector")
COORDS: tuple[str, ...] = ("relative", "pixels", "per-mille")
#: How far outside [0, 1] a relative coordinate may stray (rounding by the model) before it is an error.
SLACK = 0.02


class GroundingError(ToolError):
    """A phrase that could not be grounded; ``raw`` holds the model's reply when there was one."""

    def __init__(self, message: str, *, raw: str | None = None, **where: Any) -> None:
        self.raw = raw
        super().__init__(message, field=where.pop("field", "region"), **where)


# ----------------------------------------------------------------------------- named regions

_FULL_WORDS = frozenset({"image", "picture", "photo", "photograph", "everything", "whole", "entire", "scene",
                         "overall", "canvas"})
#: Words that say where without naming a thing; a strict match allows only these and region words.
_FILLER = frozenset({"main", "the", "a", "an", "of", "in", "on", "at", "to", "and", "its", "this", "side", "part", "parts",
                     "half", "corner", "area", "region", "portion", "section", "edge", "hand", "third", "quarter",
                     "zone"})
_NEGATIONS = re.compile(r"\b(?:except(?: for)?|but|excluding|apart from|other than|not|besides|save for)\b")
# Relational prepositions ("above", "behind", "in front of") are deliberately absent: "the cup above the
# table" names a cup, not the top of the image.
_POSITION_WORDS: dict[str, frozenset[str]] = {
    "top": frozenset({"top", "upper", "sky", "skies", "ceiling", "clouds", "cloud", "heavens", "skyline"}),
    "bottom": frozenset({"bottom", "lower", "ground", "floor", "road", "street", "pavement", "sidewalk", "grass",
                         "lawn", "terrain"}),
    "left": frozenset({"left", "leftmost"}),
    "right": frozenset({"right", "rightmost"}),
    "center": frozenset({"center", "centre", "middle", "central", "centered", "centred"}),
}
_LAYER_WORDS: dict[str, frozenset[str]] = {
    "foreground": frozenset({"foreground", "subject"}),
    "background": frozenset({"background", "backdrop", "surroundings", "scenery"}),
}
_REGION_WORDS = frozenset().union(_FULL_WORDS, *_POSITION_WORDS.values(), *_LAYER_WORDS.values())
# A vertical and a horizontal position together name a quarter (or a centred half) of the image.
_COMBINED: dict[frozenset[str], tuple[float, float, float, float]] = {
    frozenset({"top", "left"}): (0.0, 0.0, 0.5, 0.5),
    frozenset({"top", "right"}): (0.5, 0.0, 1.0, 0.5),
    frozenset({"bottom", "left"}): (0.0, 0.5, 0.5, 1.0),
    frozenset({"bottom", "right"}): (0.5, 0.5, 1.0, 1.0),
    frozenset({"top", "center"}): (0.25, 0.0, 0.75, 0.5),
    frozenset({"bottom", "center"}): (0.25, 0.5, 0.75, 1.0),
    frozenset({"left", "center"}): (0.0, 0.25, 0.5, 0.75),
    frozenset({"right", "center"}): (0.5, 0.25, 1.0, 0.75),
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _match_positive(text: str, strict: bool) -> Region | None:
    words = set(_words(text))
    if strict and not words <= _REGION_WORDS | _FILLER:
        return None  # the phrase names something else too ("the red car on the left")
    positions = {name for name, vocab in _POSITION_WORDS.items() if words & vocab}
    layers = {name for name, vocab in _LAYER_WORDS.items() if words & vocab}
    if positions:  # positions are more specific than layers ("the background at the top" -> top)
        if len(positions) == 1:
            return Region(kind="named", name=positions.pop())
        box = _COMBINED.get(frozenset(positions))
        if box is None:
            raise GroundingError(f"region phrase {text!r} names conflicting positions {sorted(positions)}")
        return Region(kind="box", box=box)
    if len(layers) == 1:
        return Region(kind="named", name=layers.pop())
    if len(layers) > 1:
        raise GroundingError(f"region phrase {text!r} names both the foreground and the background")
    if words and words <= _FULL_WORDS | _FILLER and words & _FULL_WORDS:
        return Region()
    return None


def match_named(phrase: str, *, strict: bool = False) -> Region | None:
    """The named region (or quarter box, or the whole image) a phrase's words name; ``None`` if none.

    "everything except the sky" (and "not", "but", "excluding", "apart from"...) inverts the named
    part. Conflicting words ("top and bottom") raise :class:`GroundingError`. ``strict`` matches
    only phrases made of region words ("the upper left corner"), not phrases that also name a
    thing ("the red car on the left"), which a VLM or a detector should locate.

    >>> match_named("the sky").name, match_named("top-left corner").box, match_named("all but the sky").invert
    ('top', (0.0, 0.0, 0.5, 0.5), True)
    """
    text = phrase.strip().lower()
    neg = _NEGATIONS.search(text)
    if neg:
        head = set(_words(text[: neg.start()]))
        inner = _match_positive(text[neg.end():], strict)
        if inner is not None and head <= _FULL_WORDS | _FILLER | {"all", "whole"}:
            if inner.kind == "full" or inner.invert:
                raise GroundingError(f"region phrase {phrase!r} excludes the whole image")
            return Region(kind=inner.kind, name=inner.name, box=inner.box, invert=True)
        if strict:
            return None
    return _match_positive(text, strict)


# ----------------------------------------------------------------------------- boxes from a VLM

_BOX_SCHEMA = {
    "type": "object",
    "properties": {"box": {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 4, "maxItems": 4}},
    "required": ["box"],
    "additionalProperties": False,
}
_COORD_TEXT = {
    "relative": "as fractions of the image width and height (0 to 1)",
    "pixels": "in pixels of the image ({w}x{h})",
    "per-mille": "on a 0 to 1000 scale of the image width and height",
}
BOX_PROMPT_VERSION = "1"


def box_request(phrase: str, image: Image.Image, *, coords: str = "relative", max_tokens: int = 200) -> ChatRequest:
    """The chat request asking a VLM for the box of ``phrase`` in ``image`` (JSON, temperature 0)."""
    if coords not in COORDS:
        raise GroundingError(f"coords must be one of {', '.join(COORDS)}, got {coords!r}", field="coords")
    unit = _COORD_TEXT[coords].format(w=image.width, h=image.height)
    text = (
        f'Give the bounding box of "{phrase}" in this image as JSON {{"box": [x0, y0, x1, y1]}}: (x0, y0) is the '
        f"top-left and (x1, y1) the bottom-right corner, {unit}. If it is not in the image, reply "
        '{"box": null}. Reply with the JSON only.'
    )
    return ChatRequest(
        (ChatMessage.system("You locate things in images precisely."), ChatMessage.user(image, text)),
        max_tokens=max_tokens, temperature=0.0, response_format=json_schema_format(_BOX_SCHEMA, name="box"),
    )


def _box_values(value: Any) -> list[Any] | None:
    if isinstance(value, Mapping):
        for key in ("box", "bbox", "bounding_box", "box_2d"):
            if key in value:
                return _box_values(value[key])
        if all(k in value for k in ("x0", "y0", "x1", "y1")):
            return [value["x0"], value["y0"], value["x1"], value["y1"]]
        raise ValueError(f"no 'box' in the reply's object (keys {sorted(value)})")
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 1 and isinstance(value[0], (Sequence, Mapping)) and not isinstance(value[0], str):
            return _box_values(value[0])  # [[x0, y0, x1, y1]] or [{"box": ...}]
        return list(value)
    raise ValueError(f"a box must be a list of 4 numbers, got {type(value).__name__}")


def parse_box(text: str, size: tuple[int, int], coords: str = "relative") -> tuple[float, float, float, float]:
    """A relative ``(x0, y0, x1, y1)`` box from a model's reply, validated and clamped to the image.

    Raises :class:`GroundingError` (with ``raw``) when the reply has no JSON box, says ``null``,
    holds anything but four finite numbers, lies outside the image by more than :data:`SLACK`
    (after converting ``coords``), or is reversed or empty after clamping.

    >>> parse_box('{"box": [0.1, 0.2, 0.5, 1.01]}', (100, 100))
    (0.1, 0.2, 0.5, 1.0)
    """
    if coords not in COORDS:
        raise GroundingError(f"coords must be one of {', '.join(COORDS)}, got {coords!r}", field="coords")
    try:
        values = _box_values(parse_json_reply(text))
    except ValueError as err:
        raise GroundingError(f"the box reply is not JSON with a box: {err}", raw=text) from None
    if values is None:
        raise GroundingError("the model answered that the phrase is not in the image (box null)", raw=text)
    if len(values) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise GroundingError(f"a box must be 4 numbers, got {values!r}", raw=text)
    if not all(math.isfinite(v) for v in values):
        raise GroundingError(f"a box must be finite, got {values!r}", raw=text)
    w, h = size
    scale = {"relative": (1.0, 1.0), "pixels": (float(w), float(h)), "per-mille": (1000.0, 1000.0)}[coords]
    rel = [values[0] / scale[0], values[1] / scale[1], values[2] / scale[0], values[3] / scale[1]]
    if any(v < -SLACK or v > 1 + SLACK for v in rel):
        hint = "" if coords != "relative" else " (if the model answers in pixels or 0-1000, set coords=pixels or per-mille)"
        raise GroundingError(f"box {values!r} lies outside the image in {coords} coordinates{hint}", raw=text)
    x0, y0, x1, y1 = (round(min(1.0, max(0.0, v)), 6) for v in rel)
    if not (x0 < x1 and y0 < y1):
        raise GroundingError(f"box {values!r} is reversed or empty (needs x0 < x1 and y0 < y1)", raw=text)
    return (x0, y0, x1, y1)


def _vlm_region(phrase: str, image: Image.Image, resp: ChatResponse, coords: str) -> Region:
    if resp.status != "ok":
        raise GroundingError(f"the backend did not give a box for {phrase!r}: {resp.status}: {resp.error}",
                             raw=resp.raw)
    return Region(kind="box", box=parse_box(resp.text, image.size, coords))


def ground_vlm(phrase: str, image: Image.Image, backend: Any, *, coords: str = "relative") -> Region:
    """A box region for ``phrase`` asked of ``backend`` (any :class:`bench.backends.base.Backend`)."""
    return _vlm_region(phrase, image, backend.chat(box_request(phrase, image, coords=coords)), coords)


def ground_vlm_many(phrases: Sequence[str], images: Sequence[Image.Image], backend: Any, *,
                    coords: str = "relative") -> list[Region | GroundingError]:
    """Ground several phrases in one ``chat_many`` call; a failure is returned in place, not raised."""
    responses = backend.chat_many([box_request(p, im, coords=coords) for p, im in zip(phrases, images, strict=True)])
    out: list[Region | GroundingError] = []
    for p, im, resp in zip(phrases, images, responses, strict=True):
        try:
            out.append(_vlm_region(p, im, resp, coords))
        except GroundingError as err:
            out.append(err)
    return out


# ----------------------------------------------------------------------------- detector and segmenter

_MODELS: dict[tuple[Any, ...], Any] = {}
_MODELS_LOCK = threading.Lock()


def _load(kind: str, model: str, revision: str | None, device: str, download: bool, loader: Any) -> Any:
    """Load (once per process) a transformers model and processor; GroundingError saying how to supply weights."""
    from baselines.tools._pipelines import no_weights_message, resolve_source

    key = (kind, model, revision, device)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                source, rev = resolve_source(model, revision, download=download, who=kind, what=kind)
            except ToolError as err:
                raise GroundingError(err.message, field=kind) from err
            try:
                net, proc = loader(source, rev, not download)
            except ImportError as err:
                raise GroundingError(f"{kind}: needs transformers and torch (pip install 'editbench[transformers]'): "
                                     f"{err}", field=kind) from err
            except Exception as err:
                raise GroundingError(no_weights_message(kind, kind, model, revision, err), field=kind) from err
            _MODELS[key] = (net.eval().to(device), proc)
        return _MODELS[key]


@dataclass(frozen=True)
class Detection:
    """One detected box in pixels ``(x0, y0, x1, y1)`` with its score and label text."""

    box: tuple[float, float, float, float]
    score: float
    label: str


class Detector:
    """An open-vocabulary detector (OWLv2, OWL-ViT, Grounding-DINO) from transformers.

    ``model`` is a hub id (looked up in the local cache only, unless ``download``) or a folder with
    the model and its processor. ``threshold`` is the box score below which nothing counts;
    ``text_threshold`` is Grounding-DINO's token threshold.
    """

    def __init__(self, model: str = "google/owlv2-base-patch16-ensemble", *, revision: str | None = None,
                 device: str = "auto", download: bool = False, threshold: float = 0.1,
                 text_threshold: float = 0.25) -> None:
        self.model, self.revision, self.device, self.download = model, revision, device, download
        self.threshold, self.text_threshold = float(threshold), float(text_threshold)

    def _net(self) -> tuple[Any, Any, str]:
        from baselines.tools._pipelines import resolve_device

        device = resolve_device(self.device, "detector")

        def loader(src: str, rev: str | None, local_only: bool) -> tuple[Any, Any]:
            from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

            kw = {"revision": rev, "local_files_only": local_only}
            return AutoModelForZeroShotObjectDetection.from_pretrained(src, **kw), AutoProcessor.from_pretrained(src, **kw)

        net, proc = _load("detector", self.model, self.revision, device, self.download, loader)
        return net, proc, device

    def detect(self, image: Image.Image, phrase: str) -> list[Detection]:
        """Every box for ``phrase`` scoring above the threshold, best first (pixel coordinates)."""
        import inspect

        import torch

        net, proc, device = self._net()
        rgb = image.convert("RGB")
        labels = [[phrase]]
        inputs = proc(text=labels, images=rgb, return_tensors="pt").to(device)
        with torch.inference_mode():
            outputs = net(**inputs)
        target = [(rgb.height, rgb.width)]
        post = getattr(proc, "post_process_grounded_object_detection", None)
        if post is not None and "text_threshold" in inspect.signature(post).parameters:  # Grounding-DINO
            res = post(outputs, input_ids=inputs["input_ids"], threshold=self.threshold,
                       text_threshold=self.text_threshold, target_sizes=target)[0]
        elif post is not None:  # OWLv2 / OWL-ViT processors
            res = post(outputs, threshold=self.threshold, target_sizes=target, text_labels=labels)[0]
        else:
            res = proc.image_processor.post_process_object_detection(outputs, threshold=self.threshold,
                                                                     target_sizes=target)[0]
        found = [Detection(tuple(float(v) for v in box.tolist()), float(score), phrase)  # type: ignore[arg-type]
                 for box, score in zip(res["boxes"], res["scores"], strict=True)]
        return sorted(found, key=lambda d: -d.score)


class Segmenter:
    """SAM (``SamModel`` + ``SamProcessor``): refines a box into a segmentation mask."""

    def __init__(self, model: str = "facebook/sam-vit-base", *, revision: str | None = None, device: str = "auto",
                 download: bool = False) -> None:
        self.model, self.revision, self.device, self.download = model, revision, device, download

    def refine(self, image: Image.Image, box_px: tuple[float, float, float, float]) -> np.ndarray:
        """A float32 ``HxW`` mask (1 inside) of the object in ``box_px``, at the image's size."""
        import torch

        from baselines.tools._pipelines import resolve_device

        device = resolve_device(self.device, "segmenter")

        def loader(src: str, rev: str | None, local_only: bool) -> tuple[Any, Any]:
            from transformers import SamModel, SamProcessor

            kw = {"revision": rev, "local_files_only": local_only}
            return SamModel.from_pretrained(src, **kw), SamProcessor.from_pretrained(src, **kw)

        net, proc = _load("segmenter", self.model, self.revision, device, self.download, loader)
        rgb = image.convert("RGB")
        inputs = proc(images=rgb, input_boxes=[[list(box_px)]], return_tensors="pt").to(device)
        with torch.inference_mode():
            out = net(**inputs, multimask_output=False)
        masks = proc.image_processor.post_process_masks(out.pred_masks.cpu(), inputs["original_sizes"].cpu(),
                                                        inputs["reshaped_input_sizes"].cpu())
        return masks[0][0, 0].numpy().astype(np.float32)


def box_to_mask(box: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
    """The box-to-mask step: a relative box as a float32 ``HxW`` mask (1 inside) for ``size = (w, h)``."""
    return region_mask(Region(kind="box", box=box), size)


def ground_detector(phrase: str, image: Image.Image, detector: Detector | str | None = None, *,
                    segmenter: Segmenter | str | None = None, store: Any = None) -> Region:
    """The best detection of ``phrase`` as a box region, or (with ``segmenter`` and ``store``) as a
    SAM mask stored in ``store`` (an :class:`bench.images.ImageStore`)."""
    det = detector if isinstance(detector, Detector) else Detector(detector) if detector else Detector()
    w, h = image.size
    best, rel = None, (0.0, 0.0, 0.0, 0.0)
    for found in det.detect(image, phrase):  # best first; boxes wholly outside the image (OWLv2 pads
        x0, y0, x1, y1 = found.box           # inputs to a square) are skipped
        rel = tuple(round(min(1.0, max(0.0, v)), 6) for v in (x0 / w, y0 / h, x1 / w, y1 / h))
        if rel[0] < rel[2] and rel[1] < rel[3]:
            best = found
            break
    if best is None:
        raise GroundingError(f"the detector found no {phrase!r} inside the image scoring above {det.threshold}")
    if segmenter is None:
        return Region(kind="box", box=rel)  # type: ignore[arg-type]
    if store is None:
        raise GroundingError("a segmenter needs an image store (store=) to keep its mask in")
    seg = segmenter if isinstance(segmenter, Segmenter) else Segmenter(segmenter)
    mask = seg.refine(image, (rel[0] * w, rel[1] * h, rel[2] * w, rel[3] * h))
    if not (mask > 0.5).any():
        raise GroundingError(f"the segmenter returned an empty mask for {phrase!r} in box {best.box}")
    return Region(kind="mask", mask=store.put(mask_to_image((mask > 0.5).astype(np.float32))))


# ----------------------------------------------------------------------------- the entry point


def ground(phrase: str, image: Image.Image, *, method: str = "auto", backend: Any = None,
           detector: Detector | str | None = None, segmenter: Segmenter | str | None = None, store: Any = None,
           coords: str = "relative") -> Region:
    """``phrase`` as a :class:`Region` in ``image`` by ``method`` (see the module docstring).

    Raises :class:`GroundingError` when the method cannot ground the phrase; nothing falls back to
    the whole image silently.
    """
    if not isinstance(phrase, str) or not phrase.strip():
        raise GroundingError(f"a region phrase must be a non-empty string, got {phrase!r}")
    if method not in METHODS:
        raise GroundingError(f"unknown grounding method {method!r}; known: {', '.join(METHODS)}", field="method")
    if method in ("auto", "named"):
        named = match_named(phrase, strict=method == "auto")
        if named is not None:
            return named
        if method == "named":
            raise GroundingError(f"region phrase {phrase!r} names no region of the image (named regions: top, "
                                 "bottom, left, right, center, foreground, background and their synonyms); "
                                 "ground it with method=vlm or method=detector")
    if method == "vlm" or (method == "auto" and backend is not None):
        if backend is None:
            raise GroundingError("method=vlm needs a chat backend (backend=)", field="backend")
        return ground_vlm(phrase, image, backend, coords=coords)
    if method == "detector" or (method == "auto" and detector is not None):
        return ground_detector(phrase, image, detector, segmenter=segmenter, store=store)
    raise GroundingError(f"region phrase {phrase!r} names no named region, and neither a backend nor a detector "
                         "was given to locate it")
