"""Light and colour: time of day, mood lighting, colour grading, brightness/contrast, saturation.

These are the dimensions a classical grade can reach honestly: they change tone and colour, never
geometry, so a "night" look darkens and cools the scene but adds no moon and casts no new shadow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._color import (
    apply_gains,
    blur,
    clip01,
    gray3,
    ground_weight,
    hex_to_rgb,
    lerp,
    lift_gamma_gain,
    rgb_to_hsv,
    s_curve,
    screen,
    set_contrast,
    set_saturation,
    sky_weight,
    split_tone,
    tint,
)
from ._color import vignette as vignette_map
from ._core import (
    color_param,
    enum_param,
    make_op,
    number_param,
)

__all__ = ["time_of_day", "mood_lighting", "color_grading", "brightness_contrast", "saturation", "SPEC"]


@dataclass(frozen=True)
class _TimeLook:
    exposure: float
    gains: tuple[float, float, float]
    saturation: float
    contrast: float
    sky: tuple[float, float, float]
    sky_strength: float
    ground: tuple[float, float, float]
    ground_strength: float


_TIMES: dict[str, _TimeLook] = {
    "dawn": _TimeLook(0.82, (1.04, 0.94, 1.02), 0.9, 0.95, (0.98, 0.62, 0.68), 0.65, (0.72, 0.68, 0.9), 0.2),
    "morning": _TimeLook(
        1.04, (1.05, 1.01, 0.93), 1.05, 1.0, (0.62, 0.78, 0.98), 0.4, (1.0, 0.9, 0.75), 0.12
    ),
    "noon": _TimeLook(1.1, (1.0, 1.0, 1.02), 1.1, 1.12, (0.45, 0.68, 1.0), 0.45, (1.0, 1.0, 1.0), 0.0),
    "golden_hour": _TimeLook(
        0.98, (1.18, 1.0, 0.72), 1.15, 1.05, (1.0, 0.62, 0.25), 0.7, (1.0, 0.7, 0.4), 0.3
    ),
    "dusk": _TimeLook(0.6, (0.98, 0.82, 1.08), 0.85, 1.0, (0.55, 0.33, 0.7), 0.7, (0.35, 0.35, 0.6), 0.3),
    "night": _TimeLook(0.32, (0.75, 0.88, 1.25), 0.55, 1.1, (0.08, 0.12, 0.3), 0.8, (0.2, 0.25, 0.45), 0.35),
}


@make_op(
    "time_of_day",
    "Relight for a time of day (dawn, morning, noon, golden_hour, dusk, night) with a global grade "
    "(exposure, white balance, saturation, contrast) plus a sky-weighted colour wash that fades down "
    "to the horizon. Tone only: it moves no sun and casts no shadows.",
    {
        "target": enum_param(tuple(_TIMES), "golden_hour", "The time of day to look like"),
        "intensity": number_param(0.8, 0.0, 1.0, "Strength of the whole effect"),
        "sky_color": color_param(None, "Override the sky wash colour (#RRGGBB); null uses the target's"),
        "horizon": number_param(0.6, 0.05, 1.0, "Relative row where the sky wash has faded out"),
    },
    category="dimension",
    dimension="time_of_day",
)
def time_of_day(
    img: np.ndarray, *, target: str, intensity: float, sky_color: str | None, horizon: float
) -> np.ndarray:
    look = _TIMES[target]
    h, w = img.shape[:2]
    out = apply_gains(img * look.exposure, look.gains)
    out = set_saturation(out, look.saturation)
    out = set_contrast(out, look.contrast)
    sky_rgb = hex_to_rgb(sky_color) if sky_color else np.asarray(look.sky, dtype=np.float32)
    out = tint(out, sky_rgb, sky_weight(h, w, horizon) * look.sky_strength)
    if look.ground_strength > 0:
        out = tint(out, look.ground, ground_weight(h, w, horizon * 0.8) * look.ground_strength)
    return lerp(img, out, intensity)


@dataclass(frozen=True)
class _Mood:
    gains: tuple[float, float, float]
    saturation: float
    contrast: float
    curve: float
    gamma: float
    lift: float
    glow: float
    vignette: float


_MOODS: dict[str, _Mood] = {
    "warm": _Mood((1.1, 1.0, 0.84), 1.05, 1.0, 0.1, 1.0, 0.02, 0.0, 0.15),
    "cool": _Mood((0.88, 0.98, 1.12), 0.95, 1.0, 0.1, 1.0, 0.0, 0.0, 0.1),
    "dramatic": _Mood((1.0, 1.0, 1.0), 0.9, 1.25, 0.8, 1.1, 0.0, 0.0, 0.5),
    "soft": _Mood((1.02, 1.0, 0.98), 0.92, 0.75, 0.0, 0.95, 0.06, 0.35, 0.0),
    "moody": _Mood((0.92, 0.97, 1.05), 0.65, 1.1, 0.3, 1.5, 0.0, 0.0, 0.55),
}


@make_op(
    "mood_lighting",
    "Set the emotional lighting (warm, cool, dramatic, soft, moody) with tone curves, white balance, "
    "shadow depth, a soft glow and a vignette. Global tone only: no new light sources.",
    {
        "mood": enum_param(tuple(_MOODS), "dramatic", "The lighting mood"),
        "intensity": number_param(0.8, 0.0, 1.0, "Strength of the whole effect"),
        "vignette": {
            "type": ["number", "null"],
            "minimum": 0.0,
            "maximum": 1.0,
            "default": None,
            "description": "Corner darkening 0-1; null uses the mood's own",
        },
    },
    category="dimension",
    dimension="mood_lighting",
)
def mood_lighting(img: np.ndarray, *, mood: str, intensity: float, vignette: float | None) -> np.ndarray:
    m = _MOODS[mood]
    out = apply_gains(img, m.gains)
    out = lift_gamma_gain(out, lift=m.lift, gamma=m.gamma)
    out = s_curve(out, m.curve)
    out = set_contrast(out, m.contrast)
    out = set_saturation(out, m.saturation)
    if m.glow > 0:
        sigma = max(img.shape[:2]) / 60.0
        out = lerp(out, screen(out, blur(out, sigma)), m.glow)
    v = m.vignette if vignette is None else vignette
    if v > 0:
        out = out * vignette_map(img.shape[0], img.shape[1], v)[..., None]
    return lerp(img, clip01(out), intensity)


def _vibrance(img: np.ndarray, amount: float) -> np.ndarray:
    """Boost weakly saturated pixels more than saturated ones (avoids clipping skin and sky)."""
    s = rgb_to_hsv(img)[..., 1]
    return set_saturation(img, 1.0 + amount * (1.0 - s))


def _grade(img: np.ndarray, grade: str) -> np.ndarray:
    if grade == "teal_orange":
        out = split_tone(img, (0.0, 0.5, 0.55), (1.0, 0.6, 0.25), 0.45)
        return set_contrast(set_saturation(out, 1.1), 1.08)
    if grade == "warm":
        return apply_gains(img, (1.12, 1.02, 0.82))
    if grade == "cool":
        return apply_gains(img, (0.85, 0.98, 1.15))
    if grade == "desaturated":
        return set_contrast(set_saturation(img, 0.35), 0.95)
    if grade == "vibrant":
        return set_contrast(_vibrance(set_saturation(img, 1.25), 0.8), 1.05)
    if grade == "sepia":
        toned = tint(gray3(img), (0.70, 0.52, 0.32), 0.85)
        return lift_gamma_gain(toned, lift=0.03, gain=0.97)
    if grade == "black_and_white":
        return s_curve(gray3(img), 0.3)
    if grade == "cinematic":
        out = s_curve(img, 0.6)
        out = split_tone(out, (0.0, 0.45, 0.5), (1.0, 0.65, 0.35), 0.2)
        out = set_saturation(out, 0.85)
        return lift_gamma_gain(out, lift=0.02)
    raise KeyError(grade)


_GRADES = ("teal_orange", "warm", "cool", "desaturated", "vibrant", "sepia", "black_and_white", "cinematic")


@make_op(
    "color_grading",
    "Apply a colour grade: teal_orange (teal shadows, orange highlights), warm, cool, desaturated, "
    "vibrant, sepia, black_and_white or cinematic (S-curve, light split-tone, muted colour).",
    {
        "grade": enum_param(_GRADES, "cinematic", "The colour grade"),
        "intensity": number_param(1.0, 0.0, 1.0, "Mix between the original (0) and the full grade (1)"),
    },
    category="dimension",
    dimension="color_grading",
)
def color_grading(img: np.ndarray, *, grade: str, intensity: float) -> np.ndarray:
    return lerp(img, _grade(img, grade), intensity)


@make_op(
    "brightness_contrast",
    "Adjust brightness (-1 = black, 0 = unchanged, 1 = white; negative scales down, positive mixes "
    "toward white) and contrast around mid-grey (-1 = flat grey, 0 = unchanged, 1 = doubled).",
    {
        "brightness": number_param(0.0, -1.0, 1.0, "Brightness change"),
        "contrast": number_param(0.0, -1.0, 1.0, "Contrast change"),
    },
    category="adjustment",
)
def brightness_contrast(img: np.ndarray, *, brightness: float, contrast: float) -> np.ndarray:
    out = img * (1.0 + brightness) if brightness < 0 else img + (1.0 - img) * brightness
    return clip01((out - 0.5) * (1.0 + contrast) + 0.5)


@make_op(
    "saturation",
    "Scale colour saturation around each pixel's luma (0 = greyscale, 1 = unchanged, >1 = more "
    "vivid); brightness is kept.",
    {"factor": number_param(1.5, 0.0, 4.0, "Saturation multiplier")},
    category="adjustment",
)
def saturation(img: np.ndarray, *, factor: float) -> np.ndarray:
    return set_saturation(img, factor)


#: The ops of this module, in catalogue order.
SPEC = tuple(op.spec for op in (time_of_day, mood_lighting, color_grading, brightness_contrast, saturation))
