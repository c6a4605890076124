"""Colour and tone maths shared by the classical ops, on float32 arrays in [0, 1].

Grading primitives (gains, lift/gamma/gain, S-curves, saturation and contrast around luma,
luminance-preserving tints and split tones), blend modes, and the spatial helpers the ops build
their layers from (blur, vignette, sky/ground weights from a horizon row, seeded value noise).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from skimage import color as skcolor

#: Rec. 601 luma weights, used by every op that needs "brightness" (as ``judges.measures`` does).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def hex_to_rgb(value: str) -> np.ndarray:
    """``#RRGGBB`` to a float32 RGB triple in [0, 1]."""
    return np.array([int(value[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32) / 255.0


def luma(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an ``...x3`` array."""
    return (img @ LUMA_WEIGHTS).astype(np.float32)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """``a + (b - a) * t``; ``t`` broadcasts (pass ``HxWx1`` for per-pixel weights)."""
    return (a + (b - a) * t).astype(np.float32)


def clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    return skcolor.rgb2hsv(img.astype(np.float32)).astype(np.float32)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    return clip01(skcolor.hsv2rgb(np.clip(hsv, 0.0, 1.0).astype(np.float32)))


def set_saturation(img: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    """Scale colourfulness around each pixel's luma (factor 0 = grey, 1 = unchanged); luma kept."""
    y = luma(img)[..., None]
    f = factor[..., None] if isinstance(factor, np.ndarray) and factor.ndim == 2 else factor
    return clip01(y + (img - y) * f)


def set_contrast(img: np.ndarray, factor: float, pivot: float | None = None) -> np.ndarray:
    """Stretch (>1) or flatten (<1) around ``pivot`` (default: the image's mean luma)."""
    p = float(luma(img).mean()) if pivot is None else pivot
    return clip01((img - p) * factor + p)


def s_curve(img: np.ndarray, strength: float) -> np.ndarray:
    """Blend each channel toward a smoothstep tone curve: deeper shadows, brighter highlights."""
    curved = img * img * (3.0 - 2.0 * img)
    return clip01(lerp(img, curved, strength))


def apply_gains(img: np.ndarray, gains: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """Per-channel multipliers (a white-balance shift)."""
    return clip01(img * np.asarray(gains, dtype=np.float32))


def lift_gamma_gain(img: np.ndarray, lift: float = 0.0, gamma: float = 1.0, gain: float = 1.0) -> np.ndarray:
    """Classic grading: raise blacks by ``lift``, bend mid-tones by ``gamma`` (>1 darker), scale whites."""
    x = np.power(np.clip(img, 0.0, 1.0), gamma) * gain
    return clip01(lift + x * (1.0 - lift))


def match_luma(rgb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Colours with the chroma direction of ``rgb`` and luma exactly ``target``.

    Darker targets scale the colour down; brighter ones mix it toward white, so the result stays in
    gamut. ``rgb`` broadcasts against ``target[..., None]``; black ``rgb`` yields grey.
    """
    t = np.clip(target, 0.0, 1.0)[..., None].astype(np.float32)
    c = np.broadcast_to(np.asarray(rgb, dtype=np.float32), t.shape[:-1] + (3,))
    lc = luma(c)[..., None]
    safe = np.maximum(lc, 1e-6)
    darker = c * (t / safe)
    brighter = c + (1.0 - c) * ((t - lc) / np.maximum(1.0 - lc, 1e-6))
    out = np.where(t <= lc, darker, brighter)
    grey = np.broadcast_to(t, out.shape)
    return clip01(np.where(lc <= 1e-6, grey, out))


def tint(
    img: np.ndarray, rgb: np.ndarray | tuple[float, float, float], amount: float | np.ndarray
) -> np.ndarray:
    """Move ``img`` toward the hue/saturation of ``rgb`` at each pixel's own luma."""
    target = match_luma(np.asarray(rgb, dtype=np.float32), luma(img))
    a = amount[..., None] if isinstance(amount, np.ndarray) and amount.ndim == 2 else amount
    return clip01(lerp(img, target, a))


def split_tone(img: np.ndarray, shadow_rgb: tuple, highlight_rgb: tuple, amount: float) -> np.ndarray:
    """Tint shadows and highlights toward two colours (teal/orange and friends)."""
    y = luma(img)
    out = tint(img, shadow_rgb, (1.0 - y) ** 1.5 * amount)
    return tint(out, highlight_rgb, y**1.5 * amount)


def screen(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return clip01(1.0 - (1.0 - a) * (1.0 - b))


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return clip01(a * b)


def overlay(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return clip01(np.where(a < 0.5, 2.0 * a * b, 1.0 - 2.0 * (1.0 - a) * (1.0 - b)))


def soft_light(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The W3C soft-light formula (gentle contrast from ``b`` over ``a``)."""
    d = np.where(a <= 0.25, ((16.0 * a - 12.0) * a + 4.0) * a, np.sqrt(np.clip(a, 0.0, 1.0)))
    return clip01(np.where(b <= 0.5, a - (1.0 - 2.0 * b) * a * (1.0 - a), a + (2.0 * b - 1.0) * (d - a)))


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an ``HxW`` or ``HxWxC`` array, spatial axes only."""
    if sigma <= 0:
        return img.astype(np.float32)
    s = (sigma, sigma) + (0,) * (img.ndim - 2)
    return ndimage.gaussian_filter(img.astype(np.float32), s, mode="reflect")


def scale_of(h: int, w: int) -> float:
    """Resolution factor (1.0 at a 512 px short side) so radii and counts scale with the image."""
    return max(min(h, w) / 512.0, 0.125)


def vignette(h: int, w: int, strength: float) -> np.ndarray:
    """Multiplicative ``HxW`` map: 1 at the centre, ``1 - strength`` in the corners."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h * 2.0 - 1.0
    x = (np.arange(w, dtype=np.float32) + 0.5) / w * 2.0 - 1.0
    r2 = (x[None, :] ** 2 + y[:, None] ** 2) / 2.0
    return (1.0 - strength * smoothstep(0.15, 1.0, r2)).astype(np.float32)


def sky_weight(h: int, w: int, horizon: float) -> np.ndarray:
    """``HxW`` weight: 1 at the top, easing to 0 at the relative row ``horizon`` (a sky proxy)."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    col = 1.0 - smoothstep(0.0, max(horizon, 1e-3), y)
    return np.repeat(col[:, None], w, axis=1).astype(np.float32)


def ground_weight(h: int, w: int, horizon: float) -> np.ndarray:
    """``HxW`` weight: 0 above the relative row ``horizon``, easing to 1 at the bottom."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    col = smoothstep(min(horizon, 0.999), 1.0, y)
    return np.repeat(col[:, None], w, axis=1).astype(np.float32)


def horizon_bands(h: int, w: int, horizon: float, softness: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """``(sky, ground)`` ``HxW`` weights that cross over within ``softness`` of the relative row ``horizon``."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    ground = smoothstep(horizon - softness / 2, horizon + softness, y)
    sky = 1.0 - smoothstep(horizon - softness, horizon + softness / 2, y)
    return np.repeat(sky[:, None], w, axis=1), np.repeat(ground[:, None], w, axis=1)


def smooth_noise(h: int, w: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """Seeded value noise in [0, 1] with features about ``cell`` pixels across."""
    gh, gw = max(2, int(math.ceil(h / cell)) + 2), max(2, int(math.ceil(w / cell)) + 2)
    grid = rng.random((gh, gw)).astype(np.float32)
    field_ = ndimage.zoom(grid, (h / (gh - 2), w / (gw - 2)), order=3, mode="nearest", grid_mode=True)
    field_ = field_[:h, :w]
    if field_.shape != (h, w):
        field_ = np.pad(field_, ((0, h - field_.shape[0]), (0, w - field_.shape[1])), mode="edge")
    lo, hi = float(field_.min()), float(field_.max())
    return ((field_ - lo) / max(hi - lo, 1e-6)).astype(np.float32)


def edge_magnitude(gray: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of an ``HxW`` array, normalised so a unit step gives about 1."""
    gx = ndimage.sobel(gray, axis=1, mode="reflect")
    gy = ndimage.sobel(gray, axis=0, mode="reflect")
    return (np.hypot(gx, gy) / 4.0).astype(np.float32)


def gray3(img: np.ndarray) -> np.ndarray:
    """Luma broadcast back to three channels."""
    return np.repeat(luma(img)[..., None], 3, axis=2)
