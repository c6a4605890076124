"""Global tone: mood lighting and colour grading as LUTs, integer colour mixing and vignettes.

A recipe is a short list of named operations; tone curves are built in pure Python arithmetic
(smoothstep S-curves, quadratic darkening, lifts and gains) into 256-entry LUTs applied with
``Image.point``, the rest is integer numpy. Each recipe moves a measurable statistic: warm moods
raise mean(R-B), dark ones lower mean brightness, dramatic ones raise contrast, muted ones lower
saturation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageFilter

Op = tuple[str, Any]

MOODS: dict[str, list[Op]] = {
    "neutral": [],
    "warm_cozy": [("curve", {"gains": (1.14, 1.02, 0.8), "lift": 0.04}), ("vignette", 0.2)],
    "cool_calm": [("curve", {"gains": (0.86, 0.97, 1.12), "s": -0.3}), ("saturation", 0.88)],
    "dramatic": [("curve", {"s": 1.3, "darken": 0.25}), ("saturation", 1.12), ("vignette", 0.55)],
    "mysterious": [
        ("curve", {"gains": (0.7, 0.8, 0.92), "darken": 0.55}),
        ("saturation", 0.7),
        ("vignette", 0.6),
    ],
    "ethereal": [
        ("bloom", 0.45),
        ("curve", {"gains": (1.04, 1.0, 1.07), "lift": 0.2, "s": -0.3}),
        ("saturation", 0.78),
    ],
    "melancholic": [("saturation", 0.45), ("curve", {"gains": (0.9, 0.95, 1.03), "darken": 0.2, "s": -0.2})],
}

GRADINGS: dict[str, list[Op]] = {
    "natural": [],
    "warm_cinematic": [("curve", {"gains": (1.12, 1.0, 0.84), "s": 0.35}), ("saturation", 1.05)],
    "cool_blue": [("curve", {"gains": (0.84, 0.96, 1.18)}), ("saturation", 0.95)],
    "sepia": [("sepia", None), ("curve", {"s": 0.15})],
    "black_white": [("saturation", 0.0), ("curve", {"s": 0.25})],
    "teal_orange": [("split", 0.32), ("saturation", 1.1)],
    "vibrant": [("saturation", 1.65), ("curve", {"s": 0.15})],
    "pastel": [("saturation", 0.55), ("curve", {"lift": 0.3})],
}


def _curve_lut(
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0),
    s: float = 0.0,
    darken: float = 0.0,
    lift: float = 0.0,
) -> list[int]:
    """A 768-entry LUT: per-channel gain, then S-curve (``s`` > 0 more contrast, < 0 less), then
    quadratic darkening of the mid-tones, then a lift of the blacks."""
    lut: list[int] = []
    for g in gains:
        for i in range(256):
            x = min(1.0, i / 255 * g)
            x = x + s * (x * x * (3 - 2 * x) - x)
            x = min(1.0, max(0.0, x))
            x = x * (1 - darken) + x * x * darken
            x = lift + (1 - lift) * x
            lut.append(min(255, max(0, int(round(x * 255)))))
    return lut


def _luma(a: np.ndarray) -> np.ndarray:
    return (77 * a[:, :, 0] + 150 * a[:, :, 1] + 29 * a[:, :, 2]) >> 8


def _vignette(size: tuple[int, int], k: float) -> np.ndarray:
    """Per-pixel factor 0..256 darkening towards the corners by up to ``k``."""
    w, h = size
    x = (np.arange(w, dtype=np.float32) - np.float32(w / 2)) / np.float32(w / 2)
    y = (np.arange(h, dtype=np.float32) - np.float32(h / 2)) / np.float32(h / 2)
    r2 = (y[:, None] * y[:, None] + x[None, :] * x[None, :]) * np.float32(0.5)
    return np.rint(np.float32(256) * (np.float32(1) - np.float32(k) * r2 * r2)).astype(np.int32)


def apply_ops(img: Image.Image, ops: list[Op]) -> Image.Image:
    """Run a recipe on an RGB image."""
    for name, arg in ops:
        if name == "curve":
            img = img.point(_curve_lut(**arg))
            continue
        if name == "bloom":
            blur = np.asarray(img.filter(ImageFilter.GaussianBlur(img.size[0] / 40)), dtype=np.int32)
            a = np.asarray(img, dtype=np.int32)
            k = int(arg * 256)
            a = a + ((((255 - a) * blur) >> 8) * k >> 8)
        else:
            a = np.asarray(img, dtype=np.int32)
            if name == "saturation":
                y = _luma(a)[:, :, None]
                a = y + (((a - y) * int(round(arg * 256))) >> 8)
            elif name == "vignette":
                a = (a * _vignette(img.size, arg)[:, :, None]) >> 8
            elif name == "sepia":
                r, g, b = a[:, :, 0], a[:, :, 1], a[:, :, 2]
                a = np.stack(
                    [
                        (90 * r + 176 * g + 43 * b) >> 8,
                        (80 * r + 157 * g + 38 * b) >> 8,
                        (62 * r + 122 * g + 30 * b) >> 8,
                    ],
                    axis=2,
                )
            elif name == "split":  # shadows towards teal, highlights towards orange
                d = _luma(a) - 128
                k = int(arg * 256)
                a = a + np.stack([(d * k) >> 8, (d * k) >> 10, -(d * k) >> 8], axis=2)
            else:
                raise ValueError(f"unknown tone operation {name!r}")
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    return img


def mood(img: Image.Image, value: str) -> Image.Image:
    """Apply a ``mood_lighting`` value."""
    return apply_ops(img, MOODS[value])


def grade(img: Image.Image, value: str) -> Image.Image:
    """Apply a ``color_grading`` value."""
    return apply_ops(img, GRADINGS[value])
