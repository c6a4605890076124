"""Editor tools on diffusers, and text rendering for advert copy.

Three :class:`~bench.protocols.Tool` s:

``instruct-edit``
    An instruction editor: ``{"instruction": "make it winter"}`` -> the edited image. The pipeline is
    chosen by class name (``pipeline=``): ``StableDiffusionInstructPix2PixPipeline`` (default,
    ``timbrooks/instruct-pix2pix``), ``FluxKontextPipeline`` (``black-forest-labs/FLUX.1-Kontext-dev``),
    ``QwenImageEditPipeline`` (``Qwen/Qwen-Image-Edit``) or ``QwenImageEditPlusPipeline``
    (``Qwen/Qwen-Image-Edit-2509``) -- every one that diffusers 0.42 provides. Given a region other
    than the whole image, the edit is composited through the region's mask.
``inpaint``
    Regenerates only inside a :class:`~bench.model.Region` (``StableDiffusionInpaintPipeline``,
    default ``stable-diffusion-v1-5/stable-diffusion-inpainting``) from ``{"prompt": ...}``; the
    result is composited so every pixel outside the mask is exactly the input's.
``render-text``
    Draws text (Pillow's built-in font, through the ``add_text`` op) inside a region's bounding box,
    wrapped and sized to fit. No model.

Options of the two diffusers tools (the same names on the command line, in YAML and in Python):
``pipeline``, ``model`` (hub id or local folder; default: the pipeline's reference checkpoint),
``revision``, ``device`` (``auto``: the run's device when it is CUDA, else CUDA when available,
else CPU), ``dtype`` (``auto``: the family's half precision on CUDA, float32 on CPU), ``download``
(let diffusers fetch missing weights; off by default: no weights is a :class:`ToolError` saying how
to supply them), ``offload`` (model CPU offload, for GPUs too small for the pipeline),
``batch_size`` (most images per pipeline call in :meth:`apply_many`) and ``resolution`` (``None``:
work at the input's size; an integer: scale so the longer side has that many pixels first).
Pipelines load once per process (:mod:`baselines.tools._pipelines`).

Size handling: a pipeline works at sizes that are multiples of its factor (8 for Stable Diffusion,
16 for FLUX and Qwen-Image: the VAE's scale times the transformer's patch). The input is resized
(Lanczos) to the nearest such size, edited, and the output resized back to the input's size, so a
tool's output always has its input's size. Kontext's ``auto_resize`` (default on) additionally
feeds the input at the nearest resolution the model was trained on.

Parameters (recorded in the trajectory by :meth:`bench.context.EditContext.apply_tool`): ``steps``,
``guidance_scale`` (InstructPix2Pix and inpainting: text classifier-free guidance; Kontext: the
distilled guidance embedding; Qwen-Image-Edit: the true CFG scale, with ``negative_prompt``),
``image_guidance_scale`` (InstructPix2Pix only), ``seed`` (``null``: the context's seed, itself
derived from the run seed, sample, tool id and step). Defaults are each family's model-card values.

Example::

    tool = InstructEdit(model="/models/instruct-pix2pix", device="cuda")
    out = tool.apply(image, {"instruction": "make it snow", "steps": 20, "seed": 1}, None, tool_ctx)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from baselines.tools import _pipelines as pl
from baselines.tools._pipelines import EDITORS, INPAINTERS, Batch, PipelineFamily
from baselines.tools.classical import check_params
from baselines.tools.ops import ALL_OPS, blend
from bench.errors import ToolError
from bench.jsonio import canonical_json
from bench.model import Region
from bench.protocols import Component

if TYPE_CHECKING:
    from bench.context import ToolContext

log = logging.getLogger(__name__)

__all__ = ["DiffusionTool", "InstructEdit", "Inpaint", "RenderText", "work_size", "entry_point_lines"]

_SEED = {"type": ["integer", "null"], "minimum": 0, "maximum": 2**63 - 1, "default": None,
         "description": "Random seed of the edit; null uses the context's seed (derived from the run seed)"}
_NEGATIVE = {"type": "string", "maxLength": 1000, "default": "", "description": "What the result should not show"}


def work_size(size: tuple[int, int], factor: int, resolution: int | None = None) -> tuple[int, int]:
    """The size a pipeline works at: ``size`` (or scaled so its longer side is ``resolution``)
    rounded to the nearest multiples of ``factor`` (at least one ``factor``).

    >>> work_size((501, 333), 8), work_size((1000, 500), 16, resolution=512)
    ((504, 336), (512, 256))
    """
    w, h = size
    if resolution is not None:
        scale = resolution / max(w, h)
        w, h = w * scale, h * scale
    return (max(factor, int(round(w / factor)) * factor), max(factor, int(round(h / factor)) * factor))


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def _rgb(image: Any, who: str) -> Image.Image:
    if not isinstance(image, Image.Image):
        raise ToolError(f"tool {who!r}: expected a PIL image, got {type(image).__name__}", field="image")
    return image if image.mode == "RGB" else image.convert("RGB")


@dataclass
class _Item:
    """One image of an :meth:`DiffusionTool.apply_many` call, prepared and validated."""

    image: Image.Image
    values: dict[str, Any]
    mask: np.ndarray | None  # None: the whole image
    seed: int
    device: str


class DiffusionTool(Component):
    """Shared machinery of ``instruct-edit`` and ``inpaint``: options, identity, loading, batching."""

    name: str = ""
    version: str = "1"
    description: str = ""
    FAMILIES: ClassVar[Mapping[str, PipelineFamily]] = {}
    DEFAULT_PIPELINE: ClassVar[str] = ""
    #: schema properties every family of this tool takes (before the family's own)
    COMMON: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, pipeline: str | None = None, model: str | None = None, revision: str | None = None,
                 device: str = "auto", dtype: str = "auto", download: bool = False, offload: bool = False,
                 batch_size: int = 8, resolution: int | None = None) -> None:
        self.pipeline = pipeline or self.DEFAULT_PIPELINE
        if self.pipeline not in self.FAMILIES:
            raise ToolError(f"tool {self.name!r}: pipeline {self.pipeline!r} is not supported; supported: "
                            f"{', '.join(self.FAMILIES)}", field="pipeline")
        self.family = self.FAMILIES[self.pipeline]
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise ToolError(f"tool {self.name!r}: model must be a hub id or a folder, got {model!r}", field="model")
        self.model = model or self.family.default_model
        self.revision = revision
        self.device = pl.check_device(device, self.name)
        self.dtype = pl.check_dtype(dtype, self.name)
        self.download = bool(download)
        self.offload = bool(offload)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ToolError(f"tool {self.name!r}: batch_size must be a positive integer, got {batch_size!r}",
                            field="batch_size")
        self.batch_size = batch_size
        if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, int)
                                       or resolution < 8):
            raise ToolError(f"tool {self.name!r}: resolution must be null or an integer >= 8, got {resolution!r}",
                            field="resolution")
        self.resolution = resolution
        self.params_schema = self._schema()

    # -- identity ------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Options that decide outputs: a local model folder by its content hash; ``download`` and
        ``offload`` left out (same weights, same numbers), like ``device`` and ``batch_size``."""
        cfg = super().config()
        cfg.pop("download", None)
        cfg.pop("offload", None)
        cfg["model"] = pl.weights_identity(self.model, self.revision) if pl.looks_like_path(self.model) else self.model
        return cfg

    def identity_extra(self) -> dict[str, Any]:
        """The weights (``hub:id@revision`` or ``sha256:`` of a folder) and the pipeline class."""
        return {"weights": pl.weights_identity(self.model, self.revision), "pipeline": self.pipeline}

    @property
    def models(self) -> tuple[str, ...]:
        return (f"{self.model}@{self.revision}" if self.revision else self.model,)

    # -- parameters ----------------------------------------------------------------------------
    def _schema(self) -> dict[str, Any]:
        props: dict[str, dict[str, Any]] = {}
        for key, prop in {**self.COMMON, **self.family.params}.items():
            prop = dict(prop)
            if key in self.family.defaults:
                prop["default"] = self.family.defaults[key]
            props[key] = prop
        return {"type": "object", "properties": props,
                "required": [k for k, v in props.items() if "default" not in v], "additionalProperties": False}

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Checked params with defaults filled; a :class:`ToolError` naming the field otherwise."""
        return check_params(self.name, self.params_schema, params or {})

    # -- running -------------------------------------------------------------------------------
    def _device(self, ctx_device: str) -> str:
        if self.device == "auto" and str(ctx_device).startswith("cuda"):
            return pl.resolve_device(ctx_device, self.name)
        return pl.resolve_device(self.device, self.name)

    def loaded(self, device: str) -> pl.LoadedPipeline:
        """The shared pipeline for ``device`` (loaded on first use)."""
        dtype = pl.resolve_dtype(self.dtype, device, self.family.half)
        return pl.load_pipeline(self.pipeline, tuple(self.FAMILIES), self.model, revision=self.revision,
                                device=device, dtype=dtype, download=self.download, offload=self.offload,
                                who=f"tool {self.name!r}")

    def apply(self, image: Image.Image, params: dict[str, Any], region: Region | None, ctx: ToolContext) -> Image.Image:
        """Edit one image (see the module docstring); the result has the input's size."""
        return self.apply_many([image], [params], [region], ctx)[0]

    def apply_many(self, images: Sequence[Image.Image], params_list: Sequence[Mapping[str, Any] | None],
                   regions: Sequence[Region | None], ctx: ToolContext | Sequence[ToolContext]) -> list[Image.Image]:
        """Edit several images, one pipeline call per group of up to ``batch_size`` images that share
        their numeric params and working size (prompts, masks and seeds may differ).

        ``ctx`` is one context for all images or one per image (each image's seed defaults to its
        context's). Every image gets its own generator, so a batched result equals the same edit
        made alone up to floating-point rounding. Families that gain nothing from batching (large
        compute-bound transformers) run one image per call. All params are validated before any
        pipeline call.
        """
        n = len(images)
        if len(params_list) != n or len(regions) != n:
            raise ToolError(f"tool {self.name!r}: apply_many needs as many params and regions as images "
                            f"({n}, {len(params_list)}, {len(regions)})")
        ctxs = list(ctx) if isinstance(ctx, Sequence) else [ctx] * n
        if len(ctxs) != n:
            raise ToolError(f"tool {self.name!r}: apply_many got {len(ctxs)} contexts for {n} images")
        items = [self._prepare(img, p, r, c) for img, p, r, c in zip(images, params_list, regions, ctxs, strict=True)]
        out: list[Image.Image | None] = [None] * n
        groups: dict[tuple[str, str, tuple[int, int]], list[int]] = {}
        for i, it in enumerate(items):
            if it.mask is not None and not (it.mask > 0).any():
                log.info("tool %s: empty region, image %d returned unchanged", self.name, i)
                out[i] = it.image.copy()
                continue
            numeric = {k: v for k, v in it.values.items() if k not in self.family.per_item}
            groups.setdefault((it.device, canonical_json(numeric), it.image.size), []).append(i)
        for (device, _, _), idxs in groups.items():
            loaded = self.loaded(device)
            size = work_size(items[idxs[0]].image.size, self.family.factor(loaded.pipe), self.resolution)
            chunk = self.batch_size if self.family.batched else 1
            for start in range(0, len(idxs), chunk):
                part = idxs[start:start + chunk]
                for i, edited in zip(part, self._run(loaded, [items[i] for i in part], size), strict=True):
                    out[i] = edited
        assert all(o is not None for o in out)
        return out  # type: ignore[return-value]

    def _prepare(self, image: Image.Image, params: Mapping[str, Any] | None, region: Region | None,
                 ctx: ToolContext) -> _Item:
        rgb = _rgb(image, self.name)
        values = self.validate(params)
        mask = None
        if region is not None and (region.kind != "full" or region.invert or region.feather > 0):
            mask = ctx.mask(region, rgb.size)
        elif self.family.needs_mask:
            mask = np.ones((rgb.height, rgb.width), np.float32)
        seed = values["seed"] if values.get("seed") is not None else int(ctx.seed) % (2**63)
        return _Item(rgb, values, mask, seed, self._device(getattr(ctx, "device", "cpu")))

    def _run(self, loaded: pl.LoadedPipeline, items: list[_Item], size: tuple[int, int]) -> list[Image.Image]:
        import torch

        masks = None
        if self.family.needs_mask:
            # The pipeline regenerates wherever the (bilinearly resized) mask is non-zero: a superset
            # of the region, so the composite below never shows un-inpainted pixels.
            masks = []
            for it in items:
                assert it.mask is not None
                small = Image.fromarray(np.round(it.mask * 255).astype(np.uint8), "L").resize(size, Image.BILINEAR)
                masks.append(Image.fromarray(np.where(np.asarray(small) > 0, 255, 0).astype(np.uint8), "L"))
        batch = Batch(
            prompts=[it.values[self.family.prompt_key] for it in items],
            negatives=[it.values.get("negative_prompt", "") for it in items],
            images=[_resize(it.image, size) for it in items],
            masks=masks,
            size=size,
            values=items[0].values,
            generators=[torch.Generator("cpu").manual_seed(it.seed) for it in items],
        )
        try:
            with loaded.lock, torch.inference_mode():
                result = loaded.pipe(**self.family.call(loaded.pipe, batch))
        except (ValueError, TypeError, RuntimeError) as err:  # bad settings for this pipeline, out of memory
            raise ToolError(f"tool {self.name!r}: {self.pipeline} failed on {len(items)} image(s) at {size}: "
                            f"{type(err).__name__}: {err}") from err
        edited = list(result.images)
        if len(edited) != len(items):
            raise ToolError(f"tool {self.name!r}: {self.pipeline} returned {len(edited)} images for {len(items)}")
        out = []
        for it, img in zip(items, edited, strict=True):
            img = _resize(img.convert("RGB"), it.image.size)
            out.append(img if it.mask is None else blend(it.image, img, it.mask))
        return out


class InstructEdit(DiffusionTool):
    """``instruct-edit``: edit the whole image (or a region of it) from a natural-language instruction."""

    name = "instruct-edit"
    version = "1"
    description = (
        "Edits the image from a natural-language instruction with a diffusion instruction editor "
        "(InstructPix2Pix, FLUX.1 Kontext or Qwen-Image-Edit). Good for global changes (season, weather, "
        "time of day, style) and object edits it can locate itself; with a region, only that region changes."
    )
    FAMILIES = EDITORS
    DEFAULT_PIPELINE = "StableDiffusionInstructPix2PixPipeline"
    COMMON = {
        "instruction": {"type": "string", "minLength": 1, "maxLength": 1000,
                        "description": "The edit to make, as an instruction (\"make it winter\")"},
        "steps": {"type": "integer", "minimum": 1, "maximum": 200, "description": "Denoising steps"},
        "guidance_scale": {"type": "number", "minimum": 0.0, "maximum": 30.0,
                           "description": "How strongly the result follows the instruction"},
        "seed": _SEED,
    }


class Inpaint(DiffusionTool):
    """``inpaint``: regenerate only the region from a prompt; pixels outside stay exactly the input's."""

    name = "inpaint"
    version = "1"
    description = (
        "Regenerates only the given region from a prompt describing what it should show (replace an object, "
        "change a background, add an element); every pixel outside the region is kept exactly. Needs a region "
        "(a box, a named region or a mask); on the whole image it repaints everything."
    )
    FAMILIES = INPAINTERS
    DEFAULT_PIPELINE = "StableDiffusionInpaintPipeline"
    COMMON = {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 1000,
                   "description": "What the region should show after the edit"},
        "negative_prompt": _NEGATIVE,
        "steps": {"type": "integer", "minimum": 1, "maximum": 200, "description": "Denoising steps"},
        "guidance_scale": {"type": "number", "minimum": 0.0, "maximum": 30.0,
                           "description": "How strongly the region follows the prompt"},
        "strength": {"type": "number", "minimum": 0.01, "maximum": 1.0,
                     "description": "How much of the region's content is replaced (1 = fully)"},
        "seed": _SEED,
    }


# ----------------------------------------------------------------------------- render-text


class RenderText(Component):
    """``render-text``: draw advert copy inside a region's box, wrapped and sized to fit it.

    The region's bounding box (the whole image without one) less ``padding`` is the text's box; the
    largest font size up to ``max_size`` whose word-wrapped text fits it is chosen; the text is drawn
    by the ``add_text`` op (Pillow's built-in font, identical on every machine) through the region's
    mask, so pixels outside the region are exactly the input's.
    """

    name = "render-text"
    version = "1"
    description = (
        "Writes text (a headline, a price, a call to action) inside the region's box, wrapped onto lines and "
        "sized as large as fits, optionally on a background box; nothing outside the region changes."
    )
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The text to write"},
            "color": {"type": "string", "pattern": r"^#[0-9A-Fa-f]{6}$", "default": "#FFFFFF",
                      "description": "Text colour"},
            "background": {"type": ["string", "null"], "pattern": r"^#[0-9A-Fa-f]{6}$", "default": None,
                           "description": "Colour of a box behind the text; null for none"},
            "background_opacity": {"type": "number", "minimum": 0.0, "maximum": 1.0, "default": 0.7,
                                   "description": "Opacity of the background box"},
            "stroke": {"type": "number", "minimum": 0.0, "maximum": 0.2, "default": 0.0,
                       "description": "Outline width as a fraction of the font size"},
            "stroke_color": {"type": "string", "pattern": r"^#[0-9A-Fa-f]{6}$", "default": "#000000",
                             "description": "Outline colour"},
            "align": {"type": "string", "enum": ["center", "left", "right"], "default": "center",
                      "description": "Horizontal alignment inside the box"},
            "max_size": {"type": "number", "minimum": 0.01, "maximum": 0.5, "default": 0.25,
                         "description": "Largest font size, as a fraction of the image height"},
            "padding": {"type": "number", "minimum": 0.0, "maximum": 0.4, "default": 0.06,
                        "description": "Margin inside the box, as a fraction of its shorter side"},
        },
        "required": ["text"],
        "additionalProperties": False,
    }

    def __init__(self) -> None:
        pass

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return check_params(self.name, self.params_schema, params or {})

    def apply(self, image: Image.Image, params: dict[str, Any], region: Region | None, ctx: ToolContext) -> Image.Image:
        rgb = _rgb(image, self.name)
        v = self.validate(params)
        w, h = rgb.size
        mask = ctx.mask(region, rgb.size)
        ys, xs = np.nonzero(mask > 0)
        if len(xs) == 0:
            raise ToolError(f"tool {self.name!r}: the region {region.describe() if region else ''} is empty",
                            field="region")
        x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
        pad = v["padding"] * min(x1 - x0, y1 - y0)
        box_w, box_h = max(1.0, x1 - x0 - 2 * pad), max(1.0, y1 - y0 - 2 * pad)
        text, size = fit_text(v["text"], box_w, box_h, max(6, int(v["max_size"] * h)), v["stroke"], v["align"])
        anchor_x = {"center": (x0 + x1) / 2, "left": x0 + pad, "right": x1 - pad}[v["align"]]
        op_params = {
            "text": text, "x": min(1.0, max(0.0, anchor_x / w)), "y": min(1.0, max(0.0, (y0 + y1) / 2 / h)),
            "size": min(0.5, max(0.01, size / h)), "color": v["color"], "align": v["align"],
            "background": v["background"], "background_opacity": v["background_opacity"], "stroke": v["stroke"],
            "stroke_color": v["stroke_color"], "max_width": min(1.0, max(0.1, box_w / w)),
        }
        return ALL_OPS["add_text"].fn(rgb, mask, **op_params)


def _measure(text: str, size: int, stroke: float, align: str) -> tuple[float, float]:
    font = ImageFont.load_default(size=size)
    box = ImageDraw.Draw(Image.new("L", (1, 1))).multiline_textbbox(
        (0, 0), text, font=font, align=align, stroke_width=int(round(stroke * size)))
    return box[2] - box[0], box[3] - box[1]


def _wrap(words: list[str], size: int, max_w: float, stroke: float, align: str) -> str:
    """Greedy word wrap at font ``size`` so each line is at most ``max_w`` wide (a long word stays whole)."""
    lines: list[str] = []
    for word in words:
        if lines and _measure(lines[-1] + " " + word, size, stroke, align)[0] <= max_w:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def fit_text(text: str, box_w: float, box_h: float, max_size: int, stroke: float = 0.0,
             align: str = "center") -> tuple[str, int]:
    """The wrapped text and the largest font size (6..``max_size`` px) at which it fits ``box_w x box_h``.

    Explicit line breaks are kept; words are wrapped within each line. When even 6 px does not fit,
    6 px is returned (the caller's mask clips what overflows).
    """
    paragraphs = [p.split() for p in text.splitlines()] or [[text]]

    def layout(size: int) -> str:
        return "\n".join(_wrap(words, size, box_w, stroke, align) if words else "" for words in paragraphs)

    def fits(size: int) -> bool:
        tw, th = _measure(layout(size), size, stroke, align)
        return tw <= box_w and th <= box_h

    lo, hi = 6, max(6, max_size)
    if not fits(lo):
        return layout(lo), lo
    while lo < hi:  # largest size that fits; wrapping makes fit monotone enough for bisection
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return layout(lo), lo


TOOLS: dict[str, type] = {"instruct-edit": InstructEdit, "inpaint": Inpaint, "render-text": RenderText}


def entry_point_lines() -> list[str]:
    """The ``[project.entry-points."editbench.tools"]`` lines for these tools."""
    return [f'{name} = "baselines.tools.diffusers_tools:{cls.__name__}"' for name, cls in TOOLS.items()]
