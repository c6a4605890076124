"""Mask helpers: paper B's constraint actions that are really statements about *where* to edit.

``exclude_region`` and ``preserve_attribute``/``preserve_object_category`` become
:func:`mask_exclude` (take a region out of the edit mask); ``spatial_constraint`` and the spatial
half of ``graduated_effect`` become :func:`gradient_mask`. Masks are float32 ``HxW`` arrays in
[0, 1] where 1 means "edit here", the same convention every op uses.
"""

from __future__ import annotations

import numpy as np

from ._color import blur
from ._core import OpError, check_mask

__all__ = [
    "DIRECTIONS",
    "CURVES",
    "gradient_mask",
    "mask_exclude",
    "mask_union",
    "mask_intersect",
    "feather_mask",
]

#: Gradient directions: the ramp runs from ``start`` at the named origin to ``end`` opposite it.
DIRECTIONS = (
    "top_to_bottom",
    "bottom_to_top",
    "left_to_right",
    "right_to_left",
    "center_outward",
    "outward_to_center",
)

#: Intensity curves of paper B's ``graduated_effect`` (``intensity_curve``).
CURVES = ("linear", "exponential", "sigmoid")


def _curve(t: np.ndarray, curve: str) -> np.ndarray:
    if curve == "linear":
        return t
    if curve == "exponential":
        k = 3.0
        return (np.expm1(k * t) / np.expm1(k)).astype(np.float32)
    if curve == "sigmoid":
        lo, hi = 1.0 / (1.0 + np.exp(5.0)), 1.0 / (1.0 + np.exp(-5.0))
        return ((1.0 / (1.0 + np.exp(-10.0 * (t - 0.5))) - lo) / (hi - lo)).astype(np.float32)
    raise OpError(f"gradient_mask: curve must be one of {CURVES}, got {curve!r}")


def gradient_mask(
    h: int,
    w: int,
    direction: str = "top_to_bottom",
    start: float = 0.0,
    end: float = 1.0,
    curve: str = "linear",
) -> np.ndarray:
    """A ramp mask: ``start`` at the origin side, ``end`` at the far side, shaped by ``curve``.

    The first row (or column, or the centre pixel for ``center_outward``) gets exactly ``start``,
    the last row (column, corners) exactly ``end``. Use it to graduate an effect ("fog dense at the
    bottom, clear at the top" is ``bottom_to_top`` from 1 to 0) or as a spatial constraint.
    """
    if h < 1 or w < 1:
        raise OpError(f"gradient_mask: size must be positive, got {h}x{w}")
    if direction not in DIRECTIONS:
        raise OpError(f"gradient_mask: direction must be one of {DIRECTIONS}, got {direction!r}")
    if not (0.0 <= start <= 1.0 and 0.0 <= end <= 1.0):
        raise OpError(f"gradient_mask: start and end must lie in [0, 1], got {start}, {end}")
    ys = np.arange(h, dtype=np.float32) / max(h - 1, 1)
    xs = np.arange(w, dtype=np.float32) / max(w - 1, 1)
    if direction == "top_to_bottom":
        t = np.repeat(ys[:, None], w, axis=1)
    elif direction == "bottom_to_top":
        t = np.repeat(1.0 - ys[:, None], w, axis=1)
    elif direction == "left_to_right":
        t = np.repeat(xs[None, :], h, axis=0)
    elif direction == "right_to_left":
        t = np.repeat(1.0 - xs[None, :], h, axis=0)
    else:
        r = np.sqrt(((xs[None, :] - 0.5) * 2.0) ** 2 + ((ys[:, None] - 0.5) * 2.0) ** 2) / np.sqrt(2.0)
        r = np.clip(r / max(float(r.max()), 1e-6), 0.0, 1.0)
        t = r if direction == "center_outward" else 1.0 - r
    shaped = _curve(t.astype(np.float32), curve)
    return np.clip(start + (end - start) * shaped, 0.0, 1.0).astype(np.float32)


def _pair(name: str, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float32)
    if a.ndim != 2:
        raise OpError(f"{name}: masks must be 2-D (H, W), got shape {a.shape}")
    return check_mask(a, a.shape), check_mask(b, a.shape)


def mask_exclude(mask: np.ndarray, other: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """``mask`` with ``other`` taken out: ``mask * (1 - strength * other)``.

    ``strength`` 1 is paper B's "complete" exclusion, e.g. 0.5 a "partial" one; excluding a
    region is also how an attribute or object category is preserved while the rest is edited.
    """
    if not 0.0 <= strength <= 1.0:
        raise OpError(f"mask_exclude: strength must lie in [0, 1], got {strength}")
    m, o = _pair("mask_exclude", mask, other)
    return np.clip(m * (1.0 - strength * o), 0.0, 1.0).astype(np.float32)


def mask_union(mask: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Pixel-wise maximum of two masks."""
    m, o = _pair("mask_union", mask, other)
    return np.maximum(m, o)


def mask_intersect(mask: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Pixel-wise minimum of two masks."""
    m, o = _pair("mask_intersect", mask, other)
    return np.minimum(m, o)


def feather_mask(mask: np.ndarray, sigma_px: float) -> np.ndarray:
    """Soften a mask's edge with a Gaussian of ``sigma_px`` pixels (hides seams between regions)."""
    m = np.asarray(mask, dtype=np.float32)
    if m.ndim != 2:
        raise OpError(f"feather_mask: mask must be 2-D (H, W), got shape {m.shape}")
    if sigma_px < 0:
        raise OpError(f"feather_mask: sigma_px must be >= 0, got {sigma_px}")
    return np.clip(blur(check_mask(m, m.shape), sigma_px), 0.0, 1.0).astype(np.float32)
