"""Season and weather: vegetation hue shifts, snow cover, cloud, rain and fog layers.

Vegetation is found by colour alone (green-to-cyan hues with some saturation), so green objects
that are not plants change too, and plants that are not green are missed; snow settles by a
"ground and lit surfaces" proxy rather than on real geometry. The descriptions say so.
"""

from __future__ import annotations

import numpy as np

from ._color import (
    apply_gains,
    blur,
    clip01,
    ground_weight,
    hsv_to_rgb,
    lerp,
    luma,
    rgb_to_hsv,
    scale_of,
    set_contrast,
    set_saturation,
    sky_weight,
    smooth_noise,
    smoothstep,
    tint,
)
from ._core import (
    enum_param,
    int_param,
    make_op,
    number_param,
)
from .atmosphere import fog_veil, rain_layer, snow_layer

__all__ = ["season", "weather", "vegetation_weight", "snow_cover", "SPEC"]

_SNOW_RGB = np.array([0.94, 0.96, 1.0], dtype=np.float32)


def vegetation_weight(img: np.ndarray) -> np.ndarray:
    """Soft ``HxW`` weight of "plant-like" pixels: hue 60-170 degrees, some saturation and light."""
    hsv = rgb_to_hsv(img)
    hue = hsv[..., 0] * 360.0
    band = smoothstep(50.0, 70.0, hue) * (1.0 - smoothstep(160.0, 180.0, hue))
    return (band * smoothstep(0.12, 0.3, hsv[..., 1]) * smoothstep(0.06, 0.18, hsv[..., 2])).astype(
        np.float32
    )


def snow_cover(img: np.ndarray, amount: float, horizon: float = 0.45) -> np.ndarray:
    """Snow settled on the ground, on plants and on lit surfaces (a geometry-free proxy).

    ``amount`` in [0, 1] scales how much of that area turns white.
    """
    h, w = img.shape[:2]
    y = luma(img)
    where = 0.9 * ground_weight(h, w, horizon) * smoothstep(0.1, 0.45, y) + 0.6 * vegetation_weight(img)
    where = where + 0.35 * smoothstep(0.55, 0.9, y)
    where = smoothstep(0.25, 0.6, blur(np.clip(where, 0.0, 1.0), 1.5 * scale_of(h, w)))
    detail = y - blur(y, 2.0 * scale_of(h, w) + 0.5)  # keep a trace of the surface texture
    snow = np.clip(_SNOW_RGB * (0.95 + 0.05 * y[..., None]) + 0.3 * detail[..., None], 0.0, 1.0)
    return lerp(img, snow, np.clip(where * amount * 1.3, 0.0, 1.0)[..., None])


_SEASONS = ("spring", "summer", "autumn", "winter")


@make_op(
    "season",
    "Change the season: spring (fresh yellow-green foliage, lighter), summer (deep saturated greens, "
    "warm), autumn (foliage to reds, oranges and yellows, warm), winter (bare desaturated foliage, "
    "cool light, white snow cover). Foliage is found by colour, so other green things change too; "
    "snow settles by a ground/brightness proxy, not on real geometry.",
    {
        "target": enum_param(_SEASONS, "autumn", "The season to look like"),
        "intensity": number_param(0.8, 0.0, 1.0, "Strength of the colour changes"),
        "snow": number_param(0.7, 0.0, 1.0, "winter: how much of the likely area is covered in snow"),
        "horizon": number_param(0.45, 0.05, 0.95, "Relative row below which the ground starts"),
    },
    category="dimension",
    dimension="season",
)
def season(img: np.ndarray, *, target: str, intensity: float, snow: float, horizon: float) -> np.ndarray:
    veg = vegetation_weight(img)
    hsv = rgb_to_hsv(img)
    hue = hsv[..., 0] * 360.0
    if target == "spring":
        new_hue, s_gain, v_gain, gains, sat = np.full_like(hue, 92.0), 1.1, 1.08, (1.02, 1.02, 0.98), 1.05
    elif target == "summer":
        new_hue, s_gain, v_gain, gains, sat = np.full_like(hue, 118.0), 1.3, 0.95, (1.04, 1.01, 0.95), 1.1
    elif target == "autumn":
        # Map the green band onto reds-oranges-yellows so foliage keeps some variety.
        new_hue = 12.0 + np.clip((hue - 60.0) / 110.0, 0.0, 1.0) * 38.0
        s_gain, v_gain, gains, sat = 1.15, 0.97, (1.08, 0.98, 0.85), 0.95
    elif target == "winter":
        new_hue, s_gain, v_gain, gains, sat = hue, 0.25, 0.9, (0.92, 0.97, 1.08), 0.75
    else:
        raise KeyError(target)
    shifted = hsv.copy()
    shifted[..., 0] = ((hue + (new_hue - hue) * veg) / 360.0) % 1.0
    shifted[..., 1] = np.clip(hsv[..., 1] * (1.0 + (s_gain - 1.0) * veg), 0.0, 1.0)
    shifted[..., 2] = np.clip(hsv[..., 2] * (1.0 + (v_gain - 1.0) * veg), 0.0, 1.0)
    out = set_saturation(apply_gains(hsv_to_rgb(shifted), gains), sat)
    out = lerp(img, out, intensity)
    if target == "winter" and snow > 0:
        out = snow_cover(out, snow * min(1.0, 0.25 + intensity), horizon)
    return out


_WEATHERS = ("clear", "cloudy", "rainy", "snowy", "foggy", "stormy")


def _clouds(
    img: np.ndarray, rng: np.random.Generator, rgb: tuple, cover: float, horizon: float
) -> np.ndarray:
    h, w = img.shape[:2]
    noise = 0.65 * smooth_noise(h, w, rng, max(h, w) / 3.0) + 0.35 * smooth_noise(h, w, rng, max(h, w) / 9.0)
    alpha = sky_weight(h, w, horizon) * smoothstep(0.55 - 0.45 * cover, 0.95 - 0.3 * cover, noise) * 0.9
    return lerp(img, np.asarray(rgb, dtype=np.float32) * (0.85 + 0.15 * noise[..., None]), alpha[..., None])


@make_op(
    "weather",
    "Change the weather: clear (crisper, bluer sky), cloudy (grey cloud layer in the sky, flatter "
    "light), rainy (darker, cooler, rain streaks), snowy (falling snow, light snow cover, cool), "
    "foggy (dense veil, low contrast) or stormy (dark clouds, heavy rain). Clouds are drawn in "
    "the upper frame, not on the real sky's shape.",
    {
        "target": enum_param(_WEATHERS, "rainy", "The weather to show"),
        "intensity": number_param(0.7, 0.0, 1.0, "Strength: grading mix and particle density"),
        "horizon": number_param(0.5, 0.05, 0.95, "Relative row where the sky ends"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for clouds and particles"),
    },
    category="dimension",
    dimension="weather",
)
def weather(img: np.ndarray, *, target: str, intensity: float, horizon: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    if target == "clear":
        out = clip01((img - 0.03) / 0.97)  # lift a little of any veil
        out = set_saturation(set_contrast(out, 1.1), 1.15)
        out = tint(out, (0.4, 0.65, 1.0), sky_weight(h, w, horizon) * 0.35)
        return lerp(img, out, intensity)
    if target == "cloudy":
        out = set_contrast(set_saturation(img * 0.92, 0.7), 0.85)
        out = _clouds(out, rng, (0.86, 0.87, 0.89), 0.75, horizon)
        return lerp(img, out, intensity)
    if target == "rainy":
        out = set_contrast(apply_gains(set_saturation(img * 0.72, 0.6), (0.92, 0.97, 1.06)), 0.9)
        out = _clouds(out, rng, (0.55, 0.57, 0.6), 0.85, horizon)
        out = lerp(img, out, intensity)
        streaks = rain_layer(h, w, rng, density=0.5 + 1.5 * intensity)
        return lerp(out, np.full(3, 0.8, dtype=np.float32), streaks[..., None] * 0.45)
    if target == "snowy":
        out = set_saturation(apply_gains(img, (0.93, 0.98, 1.07)), 0.7)
        out = snow_cover(fog_veil(out, 0.12, np.array([0.9, 0.92, 0.95])), 0.5, horizon)
        out = lerp(img, out, intensity)
        flakes = snow_layer(h, w, rng, density=0.5 + 1.5 * intensity)
        return lerp(out, _SNOW_RGB, flakes[..., None] * 0.95)
    if target == "foggy":
        noise = smooth_noise(h, w, rng, max(h, w) / 4.0)
        ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        density = (0.55 + 0.35 * intensity) * (1.0 - 0.3 * ys) * (0.8 + 0.2 * noise)
        out = fog_veil(set_saturation(img, 0.8), density, np.array([0.83, 0.85, 0.87]))
        return lerp(img, out, intensity)
    if target == "stormy":
        out = set_contrast(set_saturation(img * 0.5, 0.45), 1.15)
        out = apply_gains(out, (0.92, 0.98, 1.02))
        out = _clouds(out, rng, (0.28, 0.3, 0.35), 1.0, horizon)
        out = lerp(img, out, intensity)
        streaks = rain_layer(h, w, rng, density=1.0 + 2.0 * intensity, angle_deg=22.0)
        return lerp(out, np.full(3, 0.75, dtype=np.float32), streaks[..., None] * 0.5)
    raise KeyError(target)


#: The ops of this module, in catalogue order.
SPEC = (season.spec, weather.spec)  # type: ignore[attr-defined]
