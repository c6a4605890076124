"""Weight-free image measurements for heuristic judges.

Pure functions of PIL images (or ``HxWx3`` uint8 / float arrays) and an optional region mask,
each returning a float on a documented scale. They let a judge check a goal's *direction* without
a model — "night" should be darker than the source, "golden hour" warmer, "winter" whiter, a
sketch less colourful and more edged — and check that an edit stayed inside its region.

Conventions:

* Colours are in [0, 1]; luma is Rec. 601 (``0.299 R + 0.587 G + 0.114 B``); hue, saturation and
  value are HSV.
* ``mask`` (optional) is an ``HxW`` array in [0, 1] of the (source) image's size; a measure
  restricted to a region weighs every pixel by the mask (bool masks work too). A region with no
  weight gives NaN, never 0 — "not measurable" is not "none".
* Two-image measures align sizes by resizing the *result* to the source's size with Lanczos, so a
  system that changes resolution is compared on the source's pixel grid.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import color as skcolor
from skimage.feature import canny
from skimage.metrics import structural_similarity

__all__ = [
    "Change",
    "brightness",
    "contrast",
    "saturation",
    "warmth",
    "hue_distance",
    "haze",
    "white_coverage",
    "edge_density",
    "colorfulness",
    "distinct_colors",
    "change_inside_outside",
    "structure_kept",
    "text_likelihood",
]

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)

ImageLike = Image.Image | np.ndarray


class Change(NamedTuple):
    """Mean absolute per-pixel change (0-1, averaged over RGB) inside and outside a mask."""

    inside: float
    outside: float


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


def _rgb(image: ImageLike) -> np.ndarray:
    """Any supported image as float64 ``HxWx3`` in [0, 1]."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 image, got shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    return np.clip(arr.astype(np.float64), 0.0, 1.0)


def _weights(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(mask, dtype=np.float64)
    if m.shape != tuple(shape):
        raise ValueError(f"mask has shape {m.shape}, the image is {tuple(shape)} (H, W)")
    if not np.isfinite(m).all():
        raise ValueError("mask contains NaN or infinity")
    return np.clip(m, 0.0, 1.0)


def _mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    if weights is None:
        return float(values.mean()) if values.size else math.nan
    total = float(weights.sum())
    return float((values * weights).sum() / total) if total > 0 else math.nan


def _std(values: np.ndarray, weights: np.ndarray | None) -> float:
    mu = _mean(values, weights)
    return math.sqrt(max(_mean((values - mu) ** 2, weights), 0.0)) if math.isfinite(mu) else math.nan


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _LUMA


def _hsv(rgb: np.ndarray) -> np.ndarray:
    return skcolor.rgb2hsv(rgb)


def _aligned(source: ImageLike, result: ImageLike) -> tuple[np.ndarray, np.ndarray]:
    """Source and result as float arrays of the source's size (result resized with Lanczos)."""
    src = _rgb(source)
    if isinstance(result, Image.Image):
        res_img = result.convert("RGB")
    else:
        res_img = Image.fromarray(np.rint(_rgb(result) * 255.0).astype(np.uint8), "RGB")
    if res_img.size != (src.shape[1], src.shape[0]):
        res_img = res_img.resize((src.shape[1], src.shape[0]), Image.Resampling.LANCZOS)
    return src, np.asarray(res_img, dtype=np.float64) / 255.0


# --------------------------------------------------------------------------------------------------
# Single-image measures
# --------------------------------------------------------------------------------------------------


def brightness(image: ImageLike, mask: np.ndarray | None = None) -> float:
    """Mean luma, 0 (black) to 1 (white)."""
    rgb = _rgb(image)
    return _mean(_luma(rgb), _weights(mask, rgb.shape[:2]))


def contrast(image: ImageLike, mask: np.ndarray | None = None) -> float:
    """Standard deviation of luma, 0 (flat) to 0.5 (half black, half white)."""
    rgb = _rgb(image)
    return _std(_luma(rgb), _weights(mask, rgb.shape[:2]))


def saturation(image: ImageLike, mask: np.ndarray | None = None) -> float:
    """Mean HSV saturation, 0 (greys) to 1 (pure colours)."""
    rgb = _rgb(image)
    return _mean(_hsv(rgb)[..., 1], _weights(mask, rgb.shape[:2]))


def warmth(image: ImageLike, mask: np.ndarray | None = None) -> float:
    """Mean ``R - B``, -1 (pure blue) to 1 (pure red); 0 for greys. Golden light raises it."""
    rgb = _rgb(image)
    return _mean(rgb[..., 0] - rgb[..., 2], _weights(mask, rgb.shape[:2]))


def hue_distance(image: ImageLike, target_hue_degrees: float, mask: np.ndarray | None = None) -> float:
    """How far the palette is from a hue: saturation-weighted mean circular hue distance.

    0 means every coloured pixel has the target hue, 1 that every one is opposite it (180 degrees
    away); greys count for nothing, so an image (or region) with no colour at all gives NaN.
    Red is 0/360, orange ~30, yellow 60, green 120, cyan 180, blue 240, magenta 300.
    """
    rgb = _rgb(image)
    hsv = _hsv(rgb)
    diff = np.abs(hsv[..., 0] * 360.0 - (target_hue_degrees % 360.0))
    dist = np.minimum(diff, 360.0 - diff) / 180.0
    w = hsv[..., 1]
    region = _weights(mask, rgb.shape[:2])
    if region is not None:
        w = w * region
    total = float(w.sum())
    return float((dist * w).sum() / total) if total > 1e-9 else math.nan


def haze(image: ImageLike, mask: np.ndarray | None = None, patch: int | None = None) -> float:
    """Dark-channel-prior haze score, 0 (clear) to 1 (white-out).

    He et al.'s prior: in haze-free outdoor images most patches have some channel near 0, so the
    minimum over channels and over a ``patch``-pixel window (default ~1/32 of the short side, odd,
    >= 3) stays dark; fog and haze lift it toward the airlight. The score is the mean dark channel.
    Large bright, colourless surfaces (snow, white walls, overcast sky) also score high; read it
    together with :func:`contrast` (haze lowers contrast, a white wall does not have to).
    """
    rgb = _rgb(image)
    size = patch or max(3, (min(rgb.shape[:2]) // 32) | 1)
    dark = ndimage.minimum_filter(rgb.min(axis=2), size=size, mode="nearest")
    return _mean(dark, _weights(mask, rgb.shape[:2]))


def white_coverage(
    image: ImageLike, mask: np.ndarray | None = None, min_value: float = 0.8, max_saturation: float = 0.15
) -> float:
    """Fraction (0-1) of near-white pixels: HSV value >= ``min_value`` and saturation <= ``max_saturation``.

    Snow cover, white backgrounds and blown highlights all count.
    """
    rgb = _rgb(image)
    hsv = _hsv(rgb)
    white = ((hsv[..., 2] >= min_value) & (hsv[..., 1] <= max_saturation)).astype(np.float64)
    return _mean(white, _weights(mask, rgb.shape[:2]))


def edge_density(image: ImageLike, mask: np.ndarray | None = None, sigma: float = 1.0) -> float:
    """Fraction (0-1) of pixels on a Canny edge of the luma (sigma ``sigma``; fixed thresholds).

    The thresholds are absolute (gradient 0.1 / 0.2 on a 0-1 scale), not quantiles, so a flat
    image or a smooth gradient scores 0 and sketches, textures and text score high. A sharp step
    between two pixels marks one or both of them, so a shape's outline counts 1-2 px thick.
    """
    rgb = _rgb(image)
    edges = canny(_luma(rgb), sigma=sigma, low_threshold=0.1, high_threshold=0.2)
    return _mean(edges.astype(np.float64), _weights(mask, rgb.shape[:2]))


def colorfulness(image: ImageLike, mask: np.ndarray | None = None) -> float:
    """Hasler and Süsstrunk's (2003) colourfulness, on their 0-255 scale.

    ``M = sqrt(std_rg^2 + std_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)`` with ``rg = R - G`` and
    ``yb = (R + G) / 2 - B``. 0 is grey; their scale reads ~15 slightly, ~33 moderately, ~59
    quite, ~82 highly and ~109 extremely colourful.
    """
    rgb = _rgb(image) * 255.0
    w = _weights(mask, rgb.shape[:2])
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    std = math.hypot(_std(rg, w), _std(yb, w))
    mean = math.hypot(_mean(rg, w), _mean(yb, w))
    return std + 0.3 * mean


def distinct_colors(image: ImageLike, mask: np.ndarray | None = None, bits: int = 5) -> int:
    """Number of distinct colours after keeping ``bits`` bits per channel (light quantisation).

    With a mask, only pixels where it is >= 0.5 count. Pixel art and posterised styles score low;
    photographs and noise score high. An integer count, not a fraction.
    """
    if not 1 <= bits <= 8:
        raise ValueError(f"bits must lie in 1..8, got {bits}")
    rgb = np.rint(_rgb(image) * 255.0).astype(np.uint32) >> (8 - bits)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    w = _weights(mask, rgb.shape[:2])
    if w is not None:
        codes = codes[w >= 0.5]
    return int(np.unique(codes).size)


# --------------------------------------------------------------------------------------------------
# Source-vs-result measures
# --------------------------------------------------------------------------------------------------


def change_inside_outside(source: ImageLike, result: ImageLike, mask: np.ndarray) -> Change:
    """Mean absolute change (0-1, averaged over RGB) weighted by ``mask`` and by ``1 - mask``.

    An edit confined to its region has ``outside`` near 0. The result is resized to the source's
    size (Lanczos) first. An empty side (mask all 0 or all 1) gives NaN for that side.
    """
    if mask is None:
        raise ValueError("change_inside_outside needs a mask")
    src, res = _aligned(source, result)
    w = _weights(mask, src.shape[:2])
    assert w is not None  # for the type checker: mask is not None here
    diff = np.abs(res - src).mean(axis=2)
    return Change(inside=_mean(diff, w), outside=_mean(diff, 1.0 - w))


def structure_kept(source: ImageLike, result: ImageLike, mask: np.ndarray | None = None) -> float:
    """Mean SSIM of luma outside the mask (weights ``1 - mask``); the whole image without one.

    SSIM (Wang et al. 2004, scikit-image, 7-pixel window or the image's odd short side if
    smaller, data range 1) runs on the whole frame and its map is averaged over the kept region;
    like scikit-image's mean SSIM it leaves out a half-window border, so with no mask it equals
    ``structural_similarity(...)`` on the luma. 1 means the unedited area kept its structure
    exactly; it can fall below 0 for inverted structure. Pixels within half a window of the mask's
    edge see some edited pixels. The result is resized to the source's size (Lanczos) first.
    """
    src, res = _aligned(source, result)
    short = min(src.shape[:2])
    if short < 3:
        raise ValueError(f"structure_kept needs images at least 3 px on a side, got {src.shape[:2]}")
    win = min(7, short if short % 2 else short - 1)
    _, ssim_map = structural_similarity(_luma(src), _luma(res), data_range=1.0, win_size=win, full=True)
    edited = _weights(mask, src.shape[:2])
    pad = (win - 1) // 2
    inner = (slice(pad, src.shape[0] - pad), slice(pad, src.shape[1] - pad))
    return _mean(ssim_map[inner], None if edited is None else (1.0 - edited)[inner])


def text_likelihood(image: ImageLike, mask: np.ndarray | None = None, stroke_px: int = 4) -> float:
    """How text-like a region is, 0 to 1: a stroke-based proxy, not OCR.

    Text is thin, high-contrast strokes. A morphological top-hat (light strokes) and black-hat
    (dark strokes) with a ``(2 * stroke_px + 1)``-pixel square keeps only structures narrower than
    about ``2 * stroke_px`` pixels: flat areas, gradients and the edges of large shapes give ~0.
    Stroke pixels are those with a response above 0.2; blobs under 3 pixels (noise) are dropped.
    The score is the stroke fraction of the region divided by 0.10 (typical for set text) and
    capped at 1. Fine texture (grass, hatching, fabric) also scores high, so read it on a region
    expected to be plain, or as a change between source and result.
    """
    rgb = _rgb(image)
    y = _luma(rgb)
    size = 2 * max(1, int(stroke_px)) + 1
    opened = ndimage.grey_opening(y, size=(size, size), mode="nearest")
    closed = ndimage.grey_closing(y, size=(size, size), mode="nearest")
    response = np.maximum(y - opened, closed - y)
    strokes = response > 0.2
    labels, n = ndimage.label(strokes, structure=np.ones((3, 3)))
    if n:
        sizes = ndimage.sum_labels(strokes, labels, index=np.arange(1, n + 1))
        keep = np.concatenate([[False], sizes >= 3])
        strokes = keep[labels]
    fraction = _mean(strokes.astype(np.float64), _weights(mask, rgb.shape[:2]))
    return min(1.0, fraction / 0.10) if math.isfinite(fraction) else math.nan
