"""Measuring for the heuristic checklist judge: regions, scale, and a cache per image.

The judge evaluates each criterion with :mod:`judges.measures` on the source and the result. This
module makes that cheap without changing what is measured:

* **Regions.** A ``truth.checks`` REGION (``"full"``, a named region, ``{"box": ...}`` or
  ``{"outside": [boxes]}``, see :mod:`suites.builtin.ads`) becomes a mask exactly as the suite
  rasterises it (:func:`region_mask`, through :func:`bench.regions.region_mask`); the suite's own
  helper is not imported because ``judges`` may import only ``bench``.
* **Scale.** The result is first resized to the source's size with Lanczos (the convention of
  :mod:`judges.measures`). Per-pixel colour and tone measures (:data:`PIXELWISE`) and the mean
  absolute change then run on a box-filtered copy whose long side is at most ``measure_size``
  (256 by default): a mean over a region barely moves when pixels are averaged in 2x2 blocks, and
  HSV conversion is the slow part of measuring. Measures that look at neighbourhoods (edges, text
  strokes, SSIM, haze) or count colours depend on the pixel scale, so they run at up to ``detail_size`` (512: the
  scale at which the built-in suites' thresholds were set). The judge's tests check that verdicts
  at these sizes equal full-resolution ones on the built-in suites.
* **Crops that change nothing.** For :data:`PIXELWISE` measures (and the colour count, which
  counts the pixels its mask holds) over a box, the image is cropped
  to the box's rasterised pixels: the same pixels with the same weights, so the same value.
  ``structure_kept`` and ``text_likelihood`` over a box run on the box plus a margin wider than
  their neighbourhoods, which leaves every per-pixel value inside the box as on the whole frame.
* **Cache.** :class:`ImageMeasures` keeps each value by (measure, region, options), so a source
  measured for several systems, or a region used by several criteria, is measured once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from bench.model import Region
from bench.regions import region_mask as core_region_mask
from judges import measures as M

__all__ = [
    "PIXELWISE",
    "SINGLE_IMAGE",
    "ImageMeasures",
    "PairMeasures",
    "Scales",
    "align",
    "scaled",
    "region_box",
    "region_key",
    "region_mask",
]


def _distinct_colors(image: Any, mask: np.ndarray | None = None) -> float:
    """:func:`judges.measures.distinct_colors` as a float (NaN for a region with no pixel)."""
    if mask is not None and not (np.asarray(mask) >= 0.5).any():
        return math.nan
    return float(M.distinct_colors(image, mask))


#: Single-image measures a check may name, with the function computing each.
SINGLE_IMAGE: dict[str, Callable[..., float]] = {
    "brightness": M.brightness,
    "contrast": M.contrast,
    "saturation": M.saturation,
    "warmth": M.warmth,
    "hue_distance": M.hue_distance,
    "white_coverage": M.white_coverage,
    "edge_density": M.edge_density,
    "colorfulness": M.colorfulness,
    "haze": M.haze,
    "text_likelihood": M.text_likelihood,
    "distinct_colors": _distinct_colors,
}

#: Measures whose value over a box is a function of the box's pixels alone (a weighted mean or
#: standard deviation of per-pixel values), so cropping to the box gives exactly the same value.
PIXELWISE: frozenset[str] = frozenset(
    {"brightness", "contrast", "saturation", "warmth", "hue_distance", "white_coverage", "colorfulness"}
)

#: SSIM's window in :func:`judges.measures.structure_kept` is 7 px: a margin of more than 3 px
#: around a box keeps every SSIM value inside the box as on the whole frame.
_SSIM_MARGIN = 8
#: :func:`judges.measures.text_likelihood` opens and closes with a 9 px square (8 px reach) and
#: drops stroke blobs under 3 px: with a 16 px margin every stroke pixel in a box, and the size
#: test of its blob, come out as on the whole frame.
_TEXT_MARGIN = 16


def _box_slices(box: Any, width: int, height: int) -> tuple[slice, slice]:
    """The rows and columns :func:`bench.regions.region_mask` sets to 1 for ``box``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    r0, c0 = int(round(y0 * height)), int(round(x0 * width))
    r1 = max(int(round(y1 * height)), r0 + 1)
    c1 = max(int(round(x1 * width)), c0 + 1)
    return slice(r0, r1), slice(c0, c1)


def region_mask(region: Any, width: int, height: int) -> np.ndarray | None:
    """The float32 ``height x width`` mask (1 = inside) of a REGION, or ``None`` for the whole image.

    Same rasterisation as :func:`suites.builtin.ads.region_mask`: ``{"box": b}`` is
    ``Region(kind="box", box=b)``; ``{"outside": boxes}`` is one minus the union of their masks; a
    string other than ``"full"`` is a named region of :data:`bench.regions.NAMED_REGIONS`. Raises
    ``ValueError`` for a region in no known form (or a box outside the image: the
    :class:`~bench.errors.ToolError` of :mod:`bench.regions` is re-raised as ``ValueError``).
    """
    from bench.errors import ToolError

    size = (width, height)
    try:
        if region is None or region == "full":
            return None
        if isinstance(region, str):
            return core_region_mask(Region(kind="named", name=region), size)
        if isinstance(region, dict) and "box" in region:
            return core_region_mask(Region(kind="box", box=tuple(region["box"])), size)
        if isinstance(region, dict) and "outside" in region:
            inside = np.zeros((height, width), dtype=np.float32)
            for box in region["outside"]:
                inside = np.maximum(inside, core_region_mask(Region(kind="box", box=tuple(box)), size))
            return 1.0 - inside
    except (ToolError, TypeError) as err:
        raise ValueError(f"region {region!r}: {err}") from None
    raise ValueError(
        f"region {region!r}: expected 'full', a named region, {{'box': ...}} or {{'outside': [...]}}"
    )


def region_box(region: Any) -> list[float] | None:
    """The box of a ``{"box": ...}`` REGION, else ``None``; ``ValueError`` for a box that is not
    ``[x0, y0, x1, y1]`` with ``0 <= x0 < x1 <= 1`` and ``0 <= y0 < y1 <= 1``."""
    if isinstance(region, dict) and "box" in region and "outside" not in region:
        box = region["box"]
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise ValueError(f"region box {box!r} is not [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
            raise ValueError(f"region box {box!r} is not inside [0, 1] with x0 < x1 and y0 < y1")
        return [x0, y0, x1, y1]
    return None


def region_key(region: Any) -> str:
    """A canonical string for a REGION (its ``name`` label left out: it does not change the mask)."""
    if isinstance(region, dict):
        region = {k: v for k, v in region.items() if k != "name"}
    return json.dumps(region if region is not None else "full", sort_keys=True)


def align(source: Image.Image, result: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Source and result in RGB, the result resized to the source's size with Lanczos (as every
    two-image measure of :mod:`judges.measures` does)."""
    src = source.convert("RGB") if source.mode != "RGB" else source
    res = result.convert("RGB") if result.mode != "RGB" else result
    if res.size != src.size:
        res = res.resize(src.size, Image.Resampling.LANCZOS)
    return src, res


def scaled(image: Image.Image, long_side: int) -> np.ndarray:
    """``image`` (RGB) as a uint8 array whose long side is at most ``long_side`` (0: as it is).

    A box filter: every output pixel is the mean of the input pixels it covers, so means of
    per-pixel colour measures change little.
    """
    w, h = image.size
    if long_side and max(w, h) > long_side:
        factor = long_side / max(w, h)
        new = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
        if w % new[0] == 0 and h % new[1] == 0 and w // new[0] == h // new[1]:
            image = image.reduce(w // new[0])  # an exact box filter, and the fastest
        else:
            image = image.resize(new, Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8)


class Scales:
    """One image at the two measuring scales, each made on first use.

    ``tone``: long side at most ``measure_size``, for the per-pixel colour and tone measures
    (:data:`PIXELWISE`) and mean absolute change. ``detail``: long side at most ``detail_size``,
    for the measures that look at neighbourhoods of pixels (edges, text strokes, SSIM, haze):
    their values depend on the pixel scale, and the built-in suites' thresholds were set on
    512 px images.
    """

    def __init__(self, image: Image.Image, measure_size: int, detail_size: int) -> None:
        self.image = image.convert("RGB") if image.mode != "RGB" else image
        self.measure_size = measure_size
        self.detail_size = detail_size
        self._tone: np.ndarray | None = None
        self._detail: np.ndarray | None = None

    @property
    def tone(self) -> np.ndarray:
        if self._tone is None:
            self._tone = scaled(self.image, self.measure_size)
        return self._tone

    @property
    def detail(self) -> np.ndarray:
        if self._detail is None:
            self._detail = scaled(self.image, self.detail_size)
        return self._detail


def _crop(pixels: np.ndarray, box: Any, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """The box's pixels plus ``margin`` on every side the frame allows, and the box's mask there."""
    height, width = pixels.shape[:2]
    rows, cols = _box_slices(box, width, height)
    r0, r1 = max(0, rows.start - margin), min(height, rows.stop + margin)
    c0, c1 = max(0, cols.start - margin), min(width, cols.stop + margin)
    keep = np.zeros((r1 - r0, c1 - c0), dtype=np.float32)
    keep[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0] = 1.0
    return pixels[r0:r1, c0:c1], keep


class ImageMeasures:
    """One image's single-image measures, each computed once: ``value(measure, region, **options)``.

    Values are floats; NaN where the measure is undefined (an empty region, a region with no
    colour for ``hue_distance``).
    """

    def __init__(self, scales: Scales) -> None:
        self.scales = scales
        self._values: dict[tuple[str, str, str], float] = {}

    def value(self, measure: str, region: Any = "full", **options: Any) -> float:
        fn = SINGLE_IMAGE.get(measure)
        if fn is None:
            raise ValueError(
                f"unknown single-image measure {measure!r}; known: {', '.join(sorted(SINGLE_IMAGE))}"
            )
        key = (measure, region_key(region), json.dumps(options, sort_keys=True))
        if key not in self._values:
            self._values[key] = self._compute(fn, measure, region, options)
        return self._values[key]

    def _compute(self, fn: Callable[..., float], measure: str, region: Any, options: dict[str, Any]) -> float:
        box = region_box(region)
        pixels = self.scales.tone if measure in PIXELWISE else self.scales.detail
        if box is not None and (measure in PIXELWISE or measure == "distinct_colors"):
            crop, _ = _crop(pixels, box, 0)  # the box's own pixels: the same value as with its mask
            return float(fn(crop, **options)) if crop.size else math.nan
        if box is not None and measure == "text_likelihood":
            crop, keep = _crop(pixels, box, _TEXT_MARGIN)
            return float(fn(crop, mask=keep, **options))
        height, width = pixels.shape[:2]
        return float(fn(pixels, mask=region_mask(region, width, height), **options))


class PairMeasures:
    """Two-image measures of one (source, result) pair, each computed once.

    Both :class:`Scales` must hold images of one size (the result aligned with :func:`align`).
    """

    def __init__(self, source: Scales, result: Scales) -> None:
        if source.image.size != result.image.size:
            raise ValueError(f"source {source.image.size} and result {result.image.size} must have one size")
        self.source = source
        self.result = result
        self._values: dict[tuple[str, str], Any] = {}

    def structure_kept(self, region: Any) -> float:
        """Luma SSIM averaged over ``region`` (what must keep its structure); NaN for an empty region.

        :func:`judges.measures.structure_kept` averages over ``1 - mask``, its mask marking what
        was allowed to change; here ``region`` is what must be kept, so the mask passed is
        ``1 - region``.
        """
        key = ("structure_kept", region_key(region))
        if key not in self._values:
            self._values[key] = self._structure(region)
        return float(self._values[key])

    def _structure(self, region: Any) -> float:
        src, res = self.source.detail, self.result.detail
        box = region_box(region)
        if box is not None:
            src_crop, keep = _crop(src, box, _SSIM_MARGIN)
            res_crop, _ = _crop(res, box, _SSIM_MARGIN)
            if min(src_crop.shape[:2]) < 3:
                return math.nan
            # Where the frame cuts the margin, measures.structure_kept drops the same half-window
            # border on the whole frame, so every SSIM value averaged is the whole frame's.
            return float(M.structure_kept(src_crop, res_crop, 1.0 - keep))
        height, width = src.shape[:2]
        mask = region_mask(region, width, height)
        return float(M.structure_kept(src, res, None if mask is None else 1.0 - mask))

    def change(self, region: Any) -> M.Change:
        """Mean absolute change inside and outside ``region`` (:func:`judges.measures.change_inside_outside`)."""
        key = ("change", region_key(region))
        if key not in self._values:
            src, res = self.source.tone, self.result.tone
            height, width = src.shape[:2]
            mask = region_mask(region, width, height)
            if mask is None:
                mask = np.ones((height, width), dtype=np.float32)
            self._values[key] = M.change_inside_outside(src, res, mask)
        return self._values[key]
