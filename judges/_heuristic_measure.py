"""Measuring for the heuristic checklist judge: regions, scale, and a cache per image.

The judge evaluates each criterion with :mod:`judges.measures` on the source and the result. This
module makes that cheap without changing what is measured:

* **Regions.** A ``truth.checks`` REGION (``"full"``, a named region, ``{"box": ...}`` or
  ``{"outside": [boxes]}``, see :mod:`suites.builtin.ads`) becomes a mask exactly as the suite
  rasterises it (:func:`region_mask`, through :func:`bench.regions.region_mask`); the suite's own
  helper is not imported because ``judges`` may import only ``bench``.
* **Scale.** Both images are brought to the source's size (the result resized with Lanczos, the
  convention of :mod:`judges.measures`) and then reduced so the long side is at most
  ``measure_size`` (box filter: every output pixel is the mean of the input pixels it covers).
  Relative regions rasterise at any size, so thresholds in measure units keep their meaning; the
  judge's tests check that verdicts agree with full-resolution ones on the built-in suites.
* **Crops that change nothing.** For measures that are per-pixel means (brightness, warmth,
  saturation, hue distance, white coverage, colourfulness, contrast) over a box, the image is
  cropped to the box's rasterised pixels: the same pixels with the same weights, so the same
  value. ``structure_kept`` over a box is computed on the box plus a margin wider than the SSIM
  window, which leaves every SSIM value inside the box as it was.
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
    "prepare",
    "region_box",
    "region_key",
    "region_mask",
]

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
}

#: Measures whose value over a box is a function of the box's pixels alone (a weighted mean or
#: standard deviation of per-pixel values), so cropping to the box gives exactly the same value.
PIXELWISE: frozenset[str] = frozenset(
    {"brightness", "contrast", "saturation", "warmth", "hue_distance", "white_coverage", "colorfulness"}
)

#: SSIM's window in :func:`judges.measures.structure_kept` is 7 px: a margin of more than 3 px
#: around a box keeps every SSIM value inside the box as on the whole frame.
_SSIM_MARGIN = 8


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
    raise ValueError(f"region {region!r}: expected 'full', a named region, {{'box': ...}} or {{'outside': [...]}}")


def region_box(region: Any) -> list[float] | None:
    """The box of a ``{"box": ...}`` REGION, else ``None``."""
    if isinstance(region, dict) and "box" in region and "outside" not in region:
        return [float(v) for v in region["box"]]
    return None


def region_key(region: Any) -> str:
    """A canonical string for a REGION (its ``name`` label left out: it does not change the mask)."""
    if isinstance(region, dict):
        region = {k: v for k, v in region.items() if k != "name"}
    return json.dumps(region if region is not None else "full", sort_keys=True)


def prepare(source: Image.Image, result: Image.Image, measure_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Source and result as uint8 ``HxWx3`` arrays of one size, ready to measure.

    The result is first resized to the source's size with Lanczos (as every two-image measure of
    :mod:`judges.measures` does), then both are reduced with a box filter so the long side is at
    most ``measure_size`` (``0``: never reduce).
    """
    src = source.convert("RGB") if source.mode != "RGB" else source
    res = result.convert("RGB") if result.mode != "RGB" else result
    if res.size != src.size:
        res = res.resize(src.size, Image.Resampling.LANCZOS)
    return scaled(src, measure_size), scaled(res, measure_size)


def scaled(image: Image.Image, measure_size: int) -> np.ndarray:
    """``image`` (RGB) as a uint8 array whose long side is at most ``measure_size`` (0: as it is)."""
    w, h = image.size
    long_side = max(w, h)
    if measure_size and long_side > measure_size:
        factor = measure_size / long_side
        new = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
        if w % new[0] == 0 and h % new[1] == 0 and w // new[0] == h // new[1]:
            image = image.reduce(w // new[0])  # an exact box filter, and the fastest
        else:
            image = image.resize(new, Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8)


class ImageMeasures:
    """One image's measures, each computed once: ``value(measure, region, **options)``.

    ``pixels`` is a uint8 ``HxWx3`` array (from :func:`prepare`). Values are floats; NaN where the
    measure is undefined (an empty region, a region with no colour for ``hue_distance``).
    """

    def __init__(self, pixels: np.ndarray) -> None:
        if pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 image, got shape {pixels.shape}")
        self.pixels = pixels
        self.height, self.width = pixels.shape[:2]
        self._values: dict[tuple[str, str, str], float] = {}

    def value(self, measure: str, region: Any = "full", **options: Any) -> float:
        fn = SINGLE_IMAGE.get(measure)
        if fn is None:
            raise ValueError(f"unknown single-image measure {measure!r}; known: {', '.join(sorted(SINGLE_IMAGE))}")
        key = (measure, region_key(region), json.dumps(options, sort_keys=True))
        if key not in self._values:
            self._values[key] = self._compute(fn, measure, region, options)
        return self._values[key]

    def _compute(self, fn: Callable[..., float], measure: str, region: Any, options: dict[str, Any]) -> float:
        box = region_box(region)
        if box is not None and measure in PIXELWISE:
            rows, cols = _box_slices(box, self.width, self.height)
            crop = self.pixels[rows, cols]
            return float(fn(crop, **options)) if crop.size else math.nan
        mask = region_mask(region, self.width, self.height)
        return float(fn(self.pixels, mask=mask, **options))


class PairMeasures:
    """Two-image measures of one (source, result) pair of equal size, each computed once."""

    def __init__(self, source: np.ndarray, result: np.ndarray) -> None:
        if source.shape != result.shape:
            raise ValueError(f"source {source.shape} and result {result.shape} must have one size")
        self.source = source
        self.result = result
        self.height, self.width = source.shape[:2]
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
        box = region_box(region)
        if box is not None:
            rows, cols = _box_slices(box, self.width, self.height)
            m = _SSIM_MARGIN
            r0, r1 = max(0, rows.start - m), min(self.height, rows.stop + m)
            c0, c1 = max(0, cols.start - m), min(self.width, cols.stop + m)
            keep = np.zeros((r1 - r0, c1 - c0), dtype=np.float32)
            keep[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0] = 1.0
            src, res = self.source[r0:r1, c0:c1], self.result[r0:r1, c0:c1]
            if min(src.shape[:2]) < 3:
                return math.nan
            # A crop that the frame cuts on one side loses no SSIM value the whole frame had:
            # measures.structure_kept drops a half-window border of the frame there too.
            return float(M.structure_kept(src, res, 1.0 - keep))
        mask = region_mask(region, self.width, self.height)
        return float(M.structure_kept(self.source, self.result, None if mask is None else 1.0 - mask))

    def change(self, region: Any) -> M.Change:
        """Mean absolute change inside and outside ``region`` (:func:`judges.measures.change_inside_outside`)."""
        key = ("change", region_key(region))
        if key not in self._values:
            mask = region_mask(region, self.width, self.height)
            if mask is None:
                mask = np.ones((self.height, self.width), dtype=np.float32)
            self._values[key] = M.change_inside_outside(self.source, self.result, mask)
        return self._values[key]
