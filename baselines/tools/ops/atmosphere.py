"""Atmospheric effects (fog, haze, snow, rain, embers, light rays) and the layers weather reuses.

Every layer is drawn from an explicit ``numpy.random.Generator`` seeded by the op's ``seed``
parameter, so equal inputs give equal pixels. Fog and haze follow the atmospheric scattering model
``I = J * t + A * (1 - t)`` (scene radiance ``J``, airlight ``A``, transmission ``t``); with no depth
map, depth is approximated by height in the frame (farther = nearer the horizon/top).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, signal
from skimage.draw import line_aa

from ._color import (
    blur,
    clip01,
    hex_to_rgb,
    lerp,
    scale_of,
    screen,
    set_contrast,
    set_saturation,
    smooth_noise,
)
from ._core import (
    color_param,
    enum_param,
    int_param,
    make_op,
    number_param,
)

__all__ = [
    "atmospheric_effects",
    "fog_veil",
    "rain_layer",
    "snow_layer",
    "ember_layer",
    "ray_layer",
    "SPEC",
]


def fog_veil(img: np.ndarray, density: np.ndarray | float, airlight: np.ndarray) -> np.ndarray:
    """Scattering model: ``img * t + airlight * (1 - t)`` with ``t = 1 - density`` (HxW or scalar)."""
    d = np.clip(density, 0.0, 1.0)
    d = d[..., None] if isinstance(d, np.ndarray) and d.ndim == 2 else d
    return clip01(img * (1.0 - d) + np.asarray(airlight, dtype=np.float32) * d)


def _impulses(h: int, w: int, rng: np.random.Generator, count: int, y_power: float = 1.0) -> np.ndarray:
    """``count`` random impulses of random strength; ``y_power`` < 1 pushes them toward the bottom."""
    field_ = np.zeros((h, w), dtype=np.float32)
    if count <= 0:
        return field_
    ys = (h * rng.random(count) ** y_power).astype(int).clip(0, h - 1)
    xs = rng.integers(0, w, count)
    np.add.at(field_, (ys, xs), rng.uniform(0.5, 1.0, count).astype(np.float32))
    return field_


def rain_layer(
    h: int, w: int, rng: np.random.Generator, density: float, angle_deg: float = 15.0
) -> np.ndarray:
    """Rain streaks as an ``HxW`` alpha in [0, 1]: impulses smeared along a slanted line."""
    s = scale_of(h, w)
    length = max(5, int(round(28 * s)))
    count = int(density * h * w / max(120.0 * s * s * 4, 30.0))
    drops = _impulses(h, w, rng, count)
    a = math.radians(angle_deg)
    dy, dx = length * math.cos(a), length * math.sin(a)
    size = int(math.ceil(max(abs(dy), abs(dx)))) + 1
    kernel = np.zeros((size, size), dtype=np.float32)
    y0, x0 = 0, 0 if dx >= 0 else size - 1
    rr, cc, val = line_aa(y0, x0, int(round(abs(dy))), int(round(x0 + dx)))
    keep = (rr >= 0) & (rr < size) & (cc >= 0) & (cc < size)
    kernel[rr[keep], cc[keep]] = val[keep]
    streaks = signal.fftconvolve(drops, kernel, mode="same")
    return clip01(blur(streaks.astype(np.float32), 0.5 * s) * 0.9)


def snow_layer(h: int, w: int, rng: np.random.Generator, density: float) -> np.ndarray:
    """Falling snowflakes as an ``HxW`` alpha in [0, 1], in three sizes (depth)."""
    s = scale_of(h, w)
    out = np.zeros((h, w), dtype=np.float32)
    for sigma, share in ((0.8, 0.6), (1.6, 0.3), (3.0, 0.1)):
        sig = max(sigma * s * 1.5, 0.6)
        count = int(density * share * h * w / max(260.0 * s * s, 12.0))
        flakes = _impulses(h, w, rng, count)
        # Scale so an isolated flake peaks near its impulse strength.
        out += ndimage.gaussian_filter(flakes, sig) * (2.0 * math.pi * sig * sig)
    return clip01(out)


def ember_layer(h: int, w: int, rng: np.random.Generator, density: float) -> np.ndarray:
    """Glowing embers (core plus halo) as an ``HxW`` map, denser toward the bottom."""
    s = scale_of(h, w)
    count = int(density * h * w / max(900.0 * s * s, 40.0))
    sparks = _impulses(h, w, rng, count, y_power=0.5)
    core_sigma, halo_sigma = max(1.2 * s, 0.7), max(5.0 * s, 1.5)
    core = ndimage.gaussian_filter(sparks, core_sigma) * (2.0 * math.pi * core_sigma**2)
    halo = ndimage.gaussian_filter(sparks, halo_sigma) * (2.0 * math.pi * halo_sigma**2) * 0.35
    return clip01(core + halo)


def ray_layer(
    h: int, w: int, rng: np.random.Generator, source_x: float, source_y: float = -0.1
) -> np.ndarray:
    """Crepuscular light rays fanning out from a source point (relative coords), ``HxW`` in [0, 1]."""
    sx, sy = source_x * w, source_y * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.arctan2(yy - sy, xx - sx)
    bins = 96
    profile = ndimage.gaussian_filter1d(rng.random(bins).astype(np.float32), 1.2, mode="wrap")
    profile = (profile - profile.min()) / max(float(np.ptp(profile)), 1e-6)
    idx = (angle + math.pi) / (2 * math.pi) * bins
    i0 = np.floor(idx).astype(int) % bins
    frac = idx - np.floor(idx)
    rays = profile[i0] * (1 - frac) + profile[(i0 + 1) % bins] * frac
    dist = np.hypot(yy - sy, xx - sx) / math.hypot(h, w)
    falloff = np.exp(-dist / 0.7)
    return clip01(rays**2.5 * falloff * 1.2)


_EFFECTS = ("fog", "haze", "snow", "rain", "embers", "light_rays")
_DEFAULT_COLORS = {
    "fog": (0.84, 0.86, 0.88),
    "haze": (0.86, 0.85, 0.8),
    "snow": (0.97, 0.98, 1.0),
    "rain": (0.8, 0.85, 0.92),
    "embers": (1.0, 0.52, 0.12),
    "light_rays": (1.0, 0.93, 0.72),
}


@make_op(
    "atmospheric_effects",
    "Add an atmospheric effect over the scene: fog (dense veil), haze (light, warm-grey veil), "
    "snow (falling flakes), rain (slanted streaks), embers (glowing sparks, denser low) or "
    "light_rays (rays fanning from a point above the frame). Depth is approximated by height in "
    "the frame, so the veils ignore real scene depth.",
    {
        "effect": enum_param(_EFFECTS, "fog", "The atmospheric effect"),
        "intensity": number_param(0.6, 0.0, 1.0, "Density/strength of the effect"),
        "color": color_param(None, "Tint of the effect (#RRGGBB); null uses the effect's natural colour"),
        "source_x": number_param(0.7, 0.0, 1.0, "light_rays: relative x of the light source"),
        "angle": number_param(15.0, -60.0, 60.0, "rain: streak angle from vertical in degrees"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for the random particles and textures"),
    },
    category="dimension",
    dimension="atmospheric_effects",
)
def atmospheric_effects(
    img: np.ndarray,
    *,
    effect: str,
    intensity: float,
    color: str | None,
    source_x: float,
    angle: float,
    seed: int,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    rgb = hex_to_rgb(color) if color else np.asarray(_DEFAULT_COLORS[effect], dtype=np.float32)
    if effect == "fog":
        noise = smooth_noise(h, w, rng, cell=max(h, w) / 4.0)
        ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        depth = 1.0 - 0.35 * ys  # the top of the frame is farther away
        return fog_veil(img, intensity * 0.9 * depth * (0.75 + 0.25 * noise), rgb)
    if effect == "haze":
        ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        veiled = fog_veil(img, np.broadcast_to(intensity * 0.6 * (1.0 - 0.3 * ys), (h, w)), rgb)
        return set_saturation(veiled, 1.0 - 0.3 * intensity)
    if effect == "snow":
        alpha = snow_layer(h, w, rng, density=0.3 + 1.7 * intensity)
        veiled = fog_veil(img, 0.12 * intensity, rgb)
        return lerp(veiled, np.broadcast_to(rgb, img.shape), alpha[..., None] * 0.95)
    if effect == "rain":
        alpha = rain_layer(h, w, rng, density=0.3 + 1.7 * intensity, angle_deg=angle)
        dim = set_contrast(img * (1.0 - 0.15 * intensity), 1.0 - 0.1 * intensity)
        return lerp(dim, np.broadcast_to(rgb, img.shape), alpha[..., None] * (0.45 + 0.35 * intensity))
    if effect == "embers":
        glow = ember_layer(h, w, rng, density=0.3 + 1.7 * intensity)
        return screen(img, glow[..., None] * rgb)
    if effect == "light_rays":
        rays = ray_layer(h, w, rng, source_x)
        return screen(img, rays[..., None] * rgb * (0.3 + 0.7 * intensity))
    raise KeyError(effect)


#: The ops of this module, in catalogue order.
SPEC = (atmospheric_effects.spec,)  # type: ignore[attr-defined]
