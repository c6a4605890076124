"""Location, architecture and era: the dimensions a classical op can only *approximate*.

Moving a scene to a desert, making buildings gothic or sending them back a century needs new
content; a pixel operation can only shift the palette, paint a simple procedural backdrop into a
(background) mask, or treat surfaces and edges. Each description says which of these it does, so a
planner reading the catalogue is not misled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._color import (
    apply_gains,
    blur,
    clip01,
    edge_magnitude,
    gray3,
    horizon_bands,
    lerp,
    lift_gamma_gain,
    luma,
    scale_of,
    screen,
    set_contrast,
    set_saturation,
    smooth_noise,
    smoothstep,
    split_tone,
    tint,
    vignette,
)
from ._core import (
    enum_param,
    int_param,
    make_op,
    number_param,
)
from .environment import snow_cover

__all__ = ["location_setting", "architecture_style", "time_period", "SPEC"]


@dataclass(frozen=True)
class _Place:
    sky: tuple[float, float, float]
    ground: tuple[float, float, float]
    gains: tuple[float, float, float]
    saturation: float


_PLACES: dict[str, _Place] = {
    "desert": _Place((0.93, 0.80, 0.60), (0.87, 0.70, 0.45), (1.12, 1.0, 0.8), 0.95),
    "beach": _Place((0.50, 0.78, 0.95), (0.93, 0.85, 0.66), (1.03, 1.02, 1.0), 1.15),
    "snowy_mountains": _Place((0.70, 0.80, 0.92), (0.93, 0.95, 0.98), (0.92, 0.98, 1.1), 0.7),
    "city": _Place((0.62, 0.66, 0.72), (0.48, 0.50, 0.55), (0.95, 0.98, 1.05), 0.7),
    "forest": _Place((0.62, 0.78, 0.72), (0.22, 0.42, 0.18), (0.95, 1.05, 0.9), 1.1),
}


def _backdrop(h: int, w: int, target: str, horizon: float, rng: np.random.Generator) -> np.ndarray:
    """A simple procedural landscape for ``target``: sky gradient, ground and one silhouette."""
    place = _PLACES[target]
    ys = (np.arange(h, dtype=np.float32) + 0.5) / h
    xs = (np.arange(w, dtype=np.float32) + 0.5) / w
    sky_top = np.asarray(place.sky, dtype=np.float32) * 0.85
    sky_low = lerp(np.asarray(place.sky, dtype=np.float32), np.ones(3, np.float32), 0.35)
    t = np.clip(ys / max(horizon, 1e-3), 0.0, 1.0)[:, None, None]
    img = np.broadcast_to(lerp(sky_top, sky_low, t), (h, w, 3)).copy()
    texture = smooth_noise(h, w, rng, max(4.0, min(h, w) / 24.0))[..., None]
    ground = np.asarray(place.ground, dtype=np.float32) * (0.88 + 0.2 * texture)
    line = np.full(w, horizon, dtype=np.float32)  # the silhouette's top edge, per column
    if target == "desert":
        phase = rng.uniform(0, 2 * np.pi, 2)
        line = horizon + 0.04 * np.sin(xs * 7.0 + phase[0]) + 0.02 * np.sin(xs * 17.0 + phase[1])
        shade = 0.85 + 0.15 * np.sin(ys[:, None] * 40.0 + xs[None, :] * 12.0)[..., None]
        ground = ground * shade
    elif target == "beach":
        sea = np.array([0.2, 0.6, 0.72], dtype=np.float32)
        band = ((ys > horizon) & (ys < horizon + 0.15))[:, None, None]
        waves = 0.9 + 0.1 * np.sin(ys[:, None] * 180.0 + 4.0 * np.sin(xs[None, :] * 9.0))[..., None]
        ground = np.where(band, sea * waves, ground)
    elif target == "snowy_mountains":
        walk = rng.normal(0.0, 1.0, w).cumsum()
        walk = (walk - walk.min()) / max(float(np.ptp(walk)), 1e-6) - 0.5
        ridge = np.abs(np.sin(xs * 5.0 + rng.uniform(0, 6)))
        peaks = np.clip(horizon - 0.16 - 0.14 * ridge + 0.1 * walk, 0.03, horizon - 0.04)
        rock = np.array([0.45, 0.48, 0.55], dtype=np.float32)
        in_mtn = (ys[:, None] >= peaks[None, :]) & (ys[:, None] < horizon)
        cap = ys[:, None] < peaks[None, :] + 0.06
        mtn = np.where(cap[..., None], np.asarray(place.ground, np.float32), rock * (0.9 + 0.2 * texture))
        img = np.where(in_mtn[..., None], mtn, img)
    elif target == "city":
        n_buildings = int(np.clip(w // 12, 3, 40))
        edges = np.sort(rng.choice(np.arange(1, w), size=min(n_buildings, w - 1), replace=False))
        tops = rng.uniform(horizon - 0.4, horizon - 0.08, len(edges) + 1)
        col_top = tops[np.searchsorted(edges, np.arange(w), side="right")]
        in_bld = (ys[:, None] >= col_top[None, :]) & (ys[:, None] < horizon)
        windows = ((np.arange(h)[:, None] // max(2, h // 60)) % 3 == 0) & (
            (np.arange(w)[None, :] // max(2, w // 80)) % 3 == 0
        )
        bld = np.where(
            windows[..., None],
            np.array([0.9, 0.85, 0.6], np.float32),
            np.array([0.36, 0.38, 0.43], np.float32),
        )
        img = np.where(in_bld[..., None], bld, img)
    elif target == "forest":
        canopy = horizon - 0.25 * smooth_noise(1, w, rng, max(3.0, w / 30.0))[0]
        in_trees = (ys[:, None] >= canopy[None, :]) & (ys[:, None] < horizon)
        trees = np.array([0.12, 0.3, 0.12], dtype=np.float32) * (0.75 + 0.5 * texture)
        img = np.where(in_trees[..., None], trees, img)
    below = ys[:, None] >= line[None, :]
    return clip01(np.where(below[..., None], ground, img))


@make_op(
    "location_setting",
    "Approximate a change of location (desert, beach, snowy_mountains, city, forest). mode=tint "
    "only shifts the palette toward the place (warm sand tones, sea blues, snowy whites, city "
    "grey-blue, forest greens) with a sky/ground split; mode=backdrop paints a simple procedural "
    "landscape (use it with a background mask), keeping some of the original's shading. Neither "
    "adds real scenery or moves objects.",
    {
        "target": enum_param(tuple(_PLACES), "desert", "The location to suggest"),
        "mode": enum_param(("tint", "backdrop"), "tint", "Palette shift, or a painted backdrop"),
        "intensity": number_param(0.7, 0.0, 1.0, "Strength of the change"),
        "horizon": number_param(0.5, 0.1, 0.9, "Relative row of the horizon (sky above, ground below)"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for the backdrop's shapes and textures"),
    },
    category="dimension",
    dimension="location",
)
def location_setting(
    img: np.ndarray, *, target: str, mode: str, intensity: float, horizon: float, seed: int
) -> np.ndarray:
    place = _PLACES[target]
    h, w = img.shape[:2]
    if mode == "backdrop":
        backdrop = _backdrop(h, w, target, horizon, np.random.default_rng(seed))
        detail = luma(img) - blur(luma(img), 2.0 * scale_of(h, w) * 4)
        out = clip01(backdrop + 0.5 * detail[..., None])
        return lerp(img, out, intensity)
    out = set_saturation(apply_gains(img, place.gains), place.saturation)
    sky, ground = horizon_bands(h, w, horizon)
    out = tint(out, place.sky, sky * 0.7)
    out = tint(out, place.ground, ground * 0.75)
    if target == "snowy_mountains":
        out = snow_cover(out, 0.6, horizon)
    return lerp(img, out, intensity)


_STYLES = ("gothic", "art_deco", "brutalist", "futuristic", "classical")
_GOLD = np.array([0.83, 0.66, 0.28], dtype=np.float32)


def _palette_map(y: np.ndarray, stops: list[tuple[float, tuple[float, float, float]]]) -> np.ndarray:
    """Map luma through a piecewise-linear colour ramp."""
    pos = np.array([p for p, _ in stops], dtype=np.float32)
    cols = np.array([c for _, c in stops], dtype=np.float32)
    return np.stack([np.interp(y, pos, cols[:, c]) for c in range(3)], axis=-1).astype(np.float32)


@make_op(
    "architecture_style",
    "Approximate an architectural style by surface and edge treatment only: gothic (dark, cool, "
    "emphasised verticals), art_deco (black-gold-cream palette, gold edge lines), brutalist "
    "(raw concrete grey and texture), futuristic (cool, smooth, glowing cyan edges), classical "
    "(warm marble whites, carved edges). It cannot change building shapes or add ornament.",
    {
        "style": enum_param(_STYLES, "gothic", "The architectural style to suggest"),
        "intensity": number_param(0.7, 0.0, 1.0, "Strength of the treatment"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for material textures"),
    },
    category="dimension",
    dimension="architecture",
)
def architecture_style(img: np.ndarray, *, style: str, intensity: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    s = scale_of(h, w)
    y = luma(img)
    edges = np.clip(edge_magnitude(blur(y, 0.8 * s)) * 3.0, 0.0, 1.0)
    if style == "gothic":
        # Horizontal luma gradient (Sobel / 8 = central difference): vertical lines get inked.
        gx = np.abs(ndimage.sobel(blur(y, 0.8 * s), axis=1, mode="reflect")) / 8.0 * 6.0
        out = set_contrast(set_saturation(lift_gamma_gain(img, gamma=1.3), 0.6), 1.2)
        out = apply_gains(out, (0.92, 0.95, 1.05)) * (1.0 - 0.5 * np.clip(gx, 0, 1))[..., None]
        out = out * vignette(h, w, 0.35)[..., None]
    elif style == "art_deco":
        ramp = _palette_map(y, [(0.0, (0.06, 0.05, 0.05)), (0.5, tuple(_GOLD)), (1.0, (0.96, 0.91, 0.78))])
        out = lerp(lerp(img, ramp, 0.6), _GOLD, (edges * 0.7)[..., None])
    elif style == "brutalist":
        grain = rng.normal(0.0, 0.02, (h, w)).astype(np.float32)
        blotch = smooth_noise(h, w, rng, max(4.0, 24.0 * s)) - 0.5
        concrete = tint(set_saturation(img, 0.15), (0.62, 0.62, 0.6), 0.5)
        out = set_contrast(concrete, 0.9) + (grain + 0.08 * blotch)[..., None]
        out = out * (1.0 - 0.3 * edges)[..., None]
    elif style == "futuristic":
        base = set_saturation(apply_gains(blur(img, 0.8 * s), (0.9, 1.0, 1.12)), 1.1)
        glow = blur(edges, 2.0 * s + 0.5)
        out = screen(base, np.clip(glow * 1.5, 0, 1)[..., None] * np.array([0.1, 0.9, 1.0], np.float32))
    elif style == "classical":
        marble = lerp(
            img, np.array([0.95, 0.92, 0.86], np.float32), (0.35 * smoothstep(0.2, 0.9, y))[..., None]
        )
        out = set_saturation(set_contrast(marble, 0.9), 0.7) * (1.0 - 0.2 * edges)[..., None]
    else:
        raise KeyError(style)
    return lerp(img, clip01(out), intensity)


_ERAS = ("medieval", "victorian", "vintage", "mid_century", "futuristic")


@make_op(
    "time_period",
    "Suggest an era with a period look: medieval (earthy, dark, desaturated), victorian (sepia "
    "photograph: soft, grainy, heavy vignette), vintage (faded warm print with grain), mid_century "
    "(saturated warm film stock), futuristic (neon cyan-magenta split tone with glow). Props, "
    "clothing and technology are not changed.",
    {
        "era": enum_param(_ERAS, "vintage", "The period look"),
        "intensity": number_param(0.8, 0.0, 1.0, "Strength of the look"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for film grain"),
    },
    category="dimension",
    dimension="time_period",
)
def time_period(img: np.ndarray, *, era: str, intensity: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    s = scale_of(h, w)

    def grain(amount: float) -> np.ndarray:
        return rng.normal(0.0, amount, (h, w, 1)).astype(np.float32)

    if era == "medieval":
        out = lift_gamma_gain(set_saturation(apply_gains(img, (1.05, 0.95, 0.78)), 0.55), gamma=1.25)
        out = out * vignette(h, w, 0.4)[..., None] + grain(0.015)
    elif era == "victorian":
        sepia = tint(gray3(blur(img, 0.6 * s)), (0.66, 0.5, 0.33), 0.9)
        out = lift_gamma_gain(sepia, lift=0.06, gain=0.92) * vignette(h, w, 0.5)[..., None] + grain(0.025)
    elif era == "vintage":
        warm = apply_gains(set_saturation(img, 0.7), (1.06, 1.0, 0.88))
        out = lift_gamma_gain(tint(warm, (0.7, 0.55, 0.38), 0.45), lift=0.08, gain=0.92)
        out = out * vignette(h, w, 0.3)[..., None] + grain(0.03)
    elif era == "mid_century":
        out = set_contrast(apply_gains(set_saturation(img, 1.25), (1.08, 1.0, 0.9)), 1.1)
        out = lift_gamma_gain(out, lift=0.03) + grain(0.012)
    elif era == "futuristic":
        out = split_tone(img, (0.8, 0.1, 0.9), (0.1, 0.95, 1.0), 0.55)
        out = set_saturation(set_contrast(out, 1.15), 1.3)
        highlights = blur(np.clip(luma(out) - 0.6, 0.0, 1.0) * 2.0, 3.0 * s + 0.5)
        out = screen(out, highlights[..., None] * np.array([0.6, 0.9, 1.0], np.float32))
    else:
        raise KeyError(era)
    return lerp(img, clip01(out), intensity)


#: The ops of this module, in catalogue order.
SPEC = tuple(op.spec for op in (location_setting, architecture_style, time_period))  # type: ignore[attr-defined]
