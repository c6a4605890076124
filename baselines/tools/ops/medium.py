"""Artistic medium: pencil sketch, oil paint, watercolour, pixel art, comic.

Classical non-photorealistic rendering: colour-dodge sketching with tone-driven hatching, a
Kuwahara filter for painterly strokes, median-filtered washes with pigment pooling at edges,
block downsampling with an octree palette, and posterised flats with ink outlines.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from ._color import (
    blur,
    clip01,
    edge_magnitude,
    lerp,
    luma,
    scale_of,
    set_contrast,
    set_saturation,
    smooth_noise,
    smoothstep,
)
from ._core import (
    enum_param,
    int_param,
    make_op,
    number_param,
)

__all__ = ["artistic_medium", "kuwahara", "SPEC"]


def kuwahara(img: np.ndarray, q: int) -> np.ndarray:
    """Kuwahara filter: each pixel takes the mean colour of the least-varied of its four quadrants.

    Quadrants are ``(2q+1)``-pixel squares meeting at the pixel; variance is measured on luma. It
    flattens texture into strokes while keeping edges sharp, the classic oil-paint look.
    """
    if q < 1:
        return img.astype(np.float32)
    h, w = img.shape[:2]
    k = 2 * q + 1
    padded = np.pad(img, ((q, q), (q, q), (0, 0)), mode="reflect")
    y = luma(padded)
    mean = ndimage.uniform_filter(padded, size=(k, k, 1), mode="reflect")
    my = ndimage.uniform_filter(y, k, mode="reflect")
    var = ndimage.uniform_filter(y * y, k, mode="reflect") - my * my
    out = np.zeros_like(img, dtype=np.float32)
    best = np.full((h, w), np.inf, dtype=np.float32)
    for oy in (0, 2 * q):
        for ox in (0, 2 * q):
            v = var[oy : oy + h, ox : ox + w]
            better = v < best
            out = np.where(better[..., None], mean[oy : oy + h, ox : ox + w], out)
            best = np.where(better, v, best)
    return out.astype(np.float32)


def _to_pil(img: np.ndarray) -> Image.Image:
    return Image.fromarray(np.rint(clip01(img) * 255.0).astype(np.uint8), "RGB")


def _from_pil(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _quantize(img: np.ndarray, colors: int) -> np.ndarray:
    """Palette of ``colors`` entries (Pillow's fast octree keeps small vivid areas), no dithering."""
    q = _to_pil(img).quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    return _from_pil(q)


def _pencil(img: np.ndarray, detail: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    s = scale_of(h, w)
    gray = luma(img)
    inv_blur = blur(1.0 - gray, (1.0 + 5.0 * (1.0 - detail)) * s + 0.5)
    sketch = np.clip(gray / np.maximum(1.0 - inv_blur, 1e-3), 0.0, 1.0)  # colour dodge
    sketch = sketch**1.6  # darker graphite lines
    dark = 1.0 - blur(gray, 3.0 * s + 1.0)
    period = max(3, int(round(7 * s + 2)))
    yy, xx = np.mgrid[0:h, 0:w]
    hatch = ((xx + yy) % period == 0).astype(np.float32)
    cross = ((xx - yy) % period == 0).astype(np.float32)
    shade = 1.0 - 0.5 * hatch * smoothstep(0.35, 0.8, dark) - 0.5 * cross * smoothstep(0.6, 0.95, dark)
    paper = 1.0 - 0.04 * smooth_noise(h, w, rng, max(2.0, 3.0 * s))
    pencil = np.clip(sketch * shade * paper, 0.0, 1.0)
    return clip01(pencil[..., None] * np.array([1.0, 0.99, 0.96], dtype=np.float32))


def _oil(img: np.ndarray, detail: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    s = scale_of(h, w)
    q = max(1, int(round((1.5 + 4.0 * (1.0 - detail)) * s * 2)))
    painted = set_saturation(kuwahara(img, q), 1.15)
    dabs = ndimage.gaussian_filter(rng.random((h, w)).astype(np.float32), 0.7 * q)
    dabs = (dabs - dabs.mean()) / max(float(dabs.std()), 1e-6)
    period = max(3.0, 6.0 * s)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    canvas = np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)
    return clip01(painted * (1.0 + 0.025 * dabs[..., None] + 0.015 * canvas[..., None]))


def _watercolor(img: np.ndarray, detail: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    s = scale_of(h, w)
    k = max(3, int(round((4 + 8 * (1.0 - detail)) * s)) | 1)
    washes = blur(ndimage.median_filter(img, size=(k, k, 1), mode="reflect"), 0.8 * s + 0.3)
    edges = np.clip(edge_magnitude(luma(washes)) * 2.5, 0.0, 1.0)
    pooled = washes * (1.0 - 0.35 * edges[..., None])
    granulation = 1.0 - 0.06 * smooth_noise(h, w, rng, max(2.0, 5.0 * s))
    paper = np.array([0.98, 0.97, 0.94], dtype=np.float32)
    out = lerp(pooled * granulation[..., None], paper, 0.18)
    return set_contrast(set_saturation(out, 0.9), 0.9)


def _pixel_art(img: np.ndarray, pixel_size: int, colors: int) -> np.ndarray:
    h, w = img.shape[:2]
    block = pixel_size or max(2, int(round(min(h, w) / 48)))
    small_w, small_h = max(1, math.ceil(w / block)), max(1, math.ceil(h / block))
    small = _to_pil(img).resize((small_w, small_h), Image.Resampling.BOX)
    small = small.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    big = small.convert("RGB").resize((small_w * block, small_h * block), Image.Resampling.NEAREST)
    return _from_pil(big.crop((0, 0, w, h)))


def _comic(img: np.ndarray, colors: int, detail: float) -> np.ndarray:
    h, w = img.shape[:2]
    s = scale_of(h, w)
    smooth = ndimage.median_filter(img, size=(3, 3, 1), mode="reflect")
    flats = _quantize(set_contrast(set_saturation(smooth, 1.35), 1.1), colors)
    edges = edge_magnitude(blur(luma(smooth), (0.5 + 1.0 * (1.0 - detail)) * s + 0.3))
    ink = edges > (0.06 + 0.06 * (1.0 - detail))
    ink = ndimage.binary_dilation(ink, iterations=max(1, int(round(1.5 * s))))
    return np.where(ink[..., None], np.float32(0.05), flats).astype(np.float32)


_MEDIA = ("pencil_sketch", "oil_paint", "watercolor", "pixel_art", "comic")


@make_op(
    "artistic_medium",
    "Re-render in an artistic medium: pencil_sketch (graphite lines with tone hatching on paper), "
    "oil_paint (Kuwahara brush strokes), watercolor (flat washes, darker pooled edges, paper "
    "grain), pixel_art (block pixels, limited palette) or comic (flat posterised colours, ink "
    "outlines).",
    {
        "medium": enum_param(_MEDIA, "oil_paint", "The artistic medium"),
        "intensity": number_param(1.0, 0.0, 1.0, "Mix between the original (0) and the full rendering (1)"),
        "detail": number_param(0.5, 0.0, 1.0, "How much fine detail survives (1 = most)"),
        "pixel_size": int_param(
            0, 0, 256, "pixel_art: block size in pixels (0 = about 1/48 of the short side)"
        ),
        "colors": int_param(16, 2, 256, "pixel_art and comic: palette size"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for paper and brush textures"),
    },
    category="dimension",
    dimension="artistic_medium",
)
def artistic_medium(
    img: np.ndarray, *, medium: str, intensity: float, detail: float, pixel_size: int, colors: int, seed: int
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if medium == "pencil_sketch":
        out = _pencil(img, detail, rng)
    elif medium == "oil_paint":
        out = _oil(img, detail, rng)
    elif medium == "watercolor":
        out = _watercolor(img, detail, rng)
    elif medium == "pixel_art":
        out = _pixel_art(img, pixel_size, colors)
    elif medium == "comic":
        out = _comic(img, min(colors, 12), detail)
    else:
        raise KeyError(medium)
    return lerp(img, out, intensity)


#: The ops of this module, in catalogue order.
SPEC = (artistic_medium.spec,)  # type: ignore[attr-defined]
