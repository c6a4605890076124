"""Shared drawing state for the renderer: the light of the scene and the canvas painters draw on.

Determinism rules every painter follows (they are why a spec renders to the same bytes on any
machine with the same numpy/Pillow wheels):
- geometry and colours are computed with Python float arithmetic only (+ - * /, no libm
  transcendental functions whose last bit may vary between C libraries) and rounded to ints;
- pixels are written by Pillow's integer rasterisers, ``Image.point`` LUTs and integer numpy;
- randomness comes from ``numpy.random.Generator(PCG64)`` seeded by ``(spec.seed, purpose)``, so
  each element of the scene has its own stream and editing one dimension does not reshuffle the
  noise of another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from bench.scene.spec import SceneSpec

RGB = tuple[int, int, int]

#: Supersampling factor of the geometry pass (drawn at 2x, box-reduced: smooth edges, no
#: platform-dependent anti-aliasing).
SCALE = 2


def clamp8(v: float) -> int:
    """Round and clip to 0..255 (round-half-even, as Python's ``round``)."""
    return 0 if v <= 0 else 255 if v >= 255 else int(round(v))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend from ``a`` (t=0) to ``b`` (t=1)."""
    return (
        clamp8(a[0] + (b[0] - a[0]) * t),
        clamp8(a[1] + (b[1] - a[1]) * t),
        clamp8(a[2] + (b[2] - a[2]) * t),
    )


def scale(c: RGB, k: float) -> RGB:
    return (clamp8(c[0] * k), clamp8(c[1] * k), clamp8(c[2] * k))


def luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


@dataclass(frozen=True)
class Light:
    """The illumination a time of day and a weather give: sky colours, the ambient multiplier every
    surface colour is lit with, the sun or moon, and how dark it is (drives lit windows and glows).

    ``sun`` is ``(x, y, radius, colour)`` in relative canvas coordinates or ``None`` when hidden;
    ``shadow`` is ``(dx, strength)``: horizontal shadow length per unit of object height (negative
    is leftwards) and its darkness 0..1."""

    sky_top: RGB
    sky_horizon: RGB
    ambient: tuple[float, float, float]
    sun: tuple[float, float, float, RGB] | None
    moon: tuple[float, float, float] | None
    stars: bool
    darkness: float
    shadow: tuple[float, float]


# time_of_day: sky top, sky at the horizon, ambient light, darkness, shadow (dx, strength),
# sun or moon position (x, y as a fraction of the horizon height) and size, sun colour.
_TIME = {
    "dawn": (
        (78, 92, 150),
        (248, 182, 150),
        (0.92, 0.82, 0.84),
        0.25,
        (1.6, 0.3),
        (0.16, 0.86, 0.05),
        (255, 214, 170),
    ),
    "morning": (
        (92, 152, 228),
        (205, 228, 246),
        (1.0, 0.98, 0.95),
        0.0,
        (0.9, 0.38),
        (0.24, 0.36, 0.045),
        (255, 246, 214),
    ),
    "noon": (
        (58, 128, 218),
        (172, 210, 245),
        (1.06, 1.06, 1.06),
        0.0,
        (0.22, 0.45),
        (0.64, 0.14, 0.04),
        (255, 252, 232),
    ),
    "golden_hour": (
        (118, 128, 190),
        (255, 172, 86),
        (1.16, 0.9, 0.62),
        0.15,
        (-1.8, 0.4),
        (0.82, 0.74, 0.065),
        (255, 196, 96),
    ),
    "dusk": (
        (34, 36, 84),
        (198, 104, 112),
        (0.58, 0.5, 0.66),
        0.65,
        (0.0, 0.0),
        (0.78, 1.06, 0.07),
        (255, 150, 110),
    ),
    "night": (
        (6, 10, 30),
        (26, 36, 74),
        (0.24, 0.28, 0.45),
        1.0,
        (0.0, 0.0),
        (0.74, 0.22, 0.035),
        (236, 236, 220),
    ),
}

# weather: share of sky turned grey, grey level (x the sky's own brightness), ambient factor,
# shadow factor.
_WEATHER = {
    "clear": (0.0, 1.0, 1.0, 1.0),
    "cloudy": (0.5, 0.98, 0.86, 0.3),
    "rainy": (0.74, 0.74, 0.72, 0.0),
    "snowy": (0.72, 1.08, 0.94, 0.0),
    "foggy": (0.78, 1.04, 0.88, 0.1),
    "stormy": (0.88, 0.5, 0.55, 0.0),
}


def scene_light(time_of_day: str, weather: str) -> Light:
    """The :class:`Light` of a time of day under a weather."""
    top, hor, amb, dark, (sdx, sstr), (sx, sy, sr), scol = _TIME[time_of_day]
    grey_mix, grey_k, amb_k, shadow_k = _WEATHER[weather]
    if grey_mix:
        g = luma(mix(top, hor, 0.5)) * grey_k
        grey = (clamp8(g * 0.96), clamp8(g * 0.98), clamp8(g * 1.04))
        top, hor = mix(top, scale(grey, 0.9), grey_mix), mix(hor, grey, grey_mix)
    sun = moon = None
    if weather == "clear" or weather == "cloudy" and time_of_day != "night":
        if time_of_day == "night":
            moon = (sx, sy, sr)
        else:
            sun = (sx, sy, sr, scol)
    return Light(
        sky_top=top,
        sky_horizon=hor,
        ambient=(amb[0] * amb_k, amb[1] * amb_k, amb[2] * amb_k),
        sun=sun,
        moon=moon,
        stars=time_of_day == "night" and weather == "clear",
        darkness=min(1.0, dark + (0.2 if weather in ("rainy", "stormy") else 0.0)),
        shadow=(sdx, sstr * shadow_k),
    )


@dataclass(frozen=True)
class Emitter:
    """A light source recorded while drawing, glowed later at 1x: centre (px), radius (px),
    colour, strength 0..1."""

    x: float
    y: float
    radius: float
    color: RGB
    strength: float


@dataclass
class Canvas:
    """The supersampled image painters draw on, with the scene, its light and helpers.

    ``d`` paints opaque; ``da`` blends RGBA fills (shadows, clouds, glows). ``emitters`` collects
    light sources in *1x* pixel coordinates for the glow pass."""

    spec: SceneSpec
    light: Light
    img: Image.Image
    emitters: list[Emitter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.d = ImageDraw.Draw(self.img)
        self.da = ImageDraw.Draw(self.img, "RGBA")
        self.W, self.H = self.img.size

    def X(self, rx: float) -> int:
        return int(round(rx * self.W))

    def Y(self, ry: float) -> int:
        return int(round(ry * self.H))

    @property
    def horizon_px(self) -> int:
        return self.Y(self.spec.horizon)

    def rng(self, purpose: int) -> np.random.Generator:
        """An independent stream for one element of the scene (see the module doc)."""
        return np.random.Generator(np.random.PCG64([self.spec.seed, purpose]))

    def lit(self, c: RGB) -> RGB:
        """A surface colour under the scene's ambient light."""
        a = self.light.ambient
        return (clamp8(c[0] * a[0]), clamp8(c[1] * a[1]), clamp8(c[2] * a[2]))

    def far(self, c: RGB, t: float) -> RGB:
        """A lit colour faded towards the horizon sky by ``t`` (aerial perspective)."""
        return mix(self.lit(c), self.light.sky_horizon, t)

    def emit(self, x: int, y: int, radius: float, color: RGB, strength: float) -> None:
        """Record a light source at canvas coordinates (converted to 1x)."""
        if strength > 0.01:
            self.emitters.append(Emitter(x / SCALE, y / SCALE, radius / SCALE, color, min(1.0, strength)))

    def glow_strength(self, base: float = 1.0) -> float:
        """How strongly lamps and windows shine: little by day, fully at night."""
        return base * (0.12 + 0.88 * self.light.darkness)
