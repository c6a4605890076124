"""Sky, sun and moon, clouds, the location's backdrop and the ground (roads, paths, dunes, rocks).

Everything here is drawn on the supersampled :class:`~bench.scene._canvas.Canvas`; see that
module for the determinism rules.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from bench.scene._canvas import RGB, Canvas, mix, scale
from bench.scene.generate import ROAD_BOTTOM, ROAD_TOP

# Ground albedo per location in summer; seasons transform the green ones (see ground_color).
_GROUND: dict[str, RGB] = {
    "city": (118, 150, 88),
    "suburb": (104, 168, 78),
    "village": (122, 162, 70),
    "beach": (232, 212, 160),
    "desert": (226, 186, 122),
    "mountains": (112, 140, 84),
    "forest": (78, 118, 58),
}
_SAND = ("beach", "desert")
SNOW: RGB = (236, 240, 248)
_SEASON_GREEN: dict[str, RGB] = {"spring": (140, 196, 98), "autumn": (184, 150, 70)}


def ground_color(location: str, season: str) -> RGB:
    """The albedo of the open ground: green turns fresh in spring, ochre in autumn, white in winter;
    sand only pales under snow."""
    base = _GROUND[location]
    if season == "winter":
        return mix(base, SNOW, 0.55 if location in _SAND else 1.0)
    if location in _SAND or season == "summer":
        return base
    return mix(base, _SEASON_GREEN[season], 0.75)


def hill_color(season: str) -> RGB:
    """Vegetated hills and lawns in the backdrop."""
    return {
        "spring": (128, 186, 96),
        "summer": (86, 142, 70),
        "autumn": (190, 132, 62),
        "winter": (222, 228, 238),
    }[season]


def paint_base(cv: Canvas) -> None:
    """Sky gradient above the horizon, ground gradient below it (numpy, one pass)."""
    W, H, hz = cv.W, cv.H, cv.horizon_px
    top, hor = cv.light.sky_top, cv.light.sky_horizon
    rows = np.empty((H, 3), dtype=np.uint8)
    for y in range(hz):
        t = y / max(1, hz - 1)
        rows[y] = mix(top, hor, t * t * 0.6 + t * 0.4)
    g = ground_color(cv.spec.location_setting, cv.spec.season)
    far, near = cv.far(g, 0.3), scale(cv.lit(g), 0.86)
    for y in range(hz, H):
        rows[y] = mix(far, near, (y - hz) / max(1, H - hz - 1))
    cv.img.paste(Image.fromarray(rows[:, None, :], "RGB").resize((W, H), Image.NEAREST))


def paint_sky_bodies(cv: Canvas) -> None:
    """Stars, then the sun (with halo) or the moon."""
    hz = cv.horizon_px
    if cv.light.stars:
        rng = cv.rng(11)
        n = 140
        xs, ys = rng.integers(0, cv.W, n), rng.integers(0, max(1, int(hz * 0.85)), n)
        bright, big = rng.integers(150, 256, n), rng.random(n) < 0.15
        for x, y, b, g in zip(xs.tolist(), ys.tolist(), bright.tolist(), big.tolist(), strict=True):
            s = 2 if g else 1
            cv.d.rectangle((x - s, y - s, x + s - 1, y + s - 1), fill=(b, b, min(255, b + 10)))
    if cv.light.sun is not None:
        sx, sy, sr, col = cv.light.sun
        x, y, r = cv.X(sx), int(round(sy * hz)), sr * cv.W
        if sy < 1.0:
            cv.emit(x, y, r * 7, col, 0.55)
            cv.d.ellipse((x - r, y - r, x + r, y + r), fill=col)
        else:  # set: only its afterglow shows on the horizon
            cv.emit(x, hz, r * 9, col, 0.45)
    if cv.light.moon is not None:
        mx, my, mr = cv.light.moon
        x, y, r = cv.X(mx), int(round(my * hz)), mr * cv.W
        cv.emit(x, y, r * 5, (150, 160, 200), 0.35)
        cv.d.ellipse((x - r, y - r, x + r, y + r), fill=(236, 236, 220))
        for dx, dy, k in ((-0.3, -0.2, 0.22), (0.25, 0.15, 0.28), (-0.05, 0.4, 0.15)):
            cx, cy, cr = x + dx * r, y + dy * r, k * r
            cv.d.ellipse((cx - cr, cy - cr, cx + cr, cy + cr), fill=(214, 214, 202))


_CLOUDS = {  # weather: count range, colour (before light), alpha, vertical extent (share of sky)
    "cloudy": ((5, 7), (246, 247, 250), 238, 0.6),
    "rainy": ((6, 8), (150, 154, 164), 245, 0.55),
    "stormy": ((9, 12), (84, 86, 98), 250, 0.6),
    "snowy": ((5, 7), (216, 220, 228), 235, 0.55),
}


def paint_clouds(cv: Canvas) -> None:
    """Cartoon clouds (clusters of ellipses with a shaded underside) for cloudy weathers."""
    if cv.spec.weather not in _CLOUDS:
        return
    (lo, hi), color, alpha, extent = _CLOUDS[cv.spec.weather]
    rng = cv.rng(12)
    hz = cv.horizon_px
    lit = mix(cv.lit(color), cv.light.sky_top, 0.12)
    shade = scale(lit, 0.82)
    for _ in range(int(rng.integers(lo, hi + 1))):
        cx = float(rng.uniform(-0.05, 1.05)) * cv.W
        cy = float(rng.uniform(0.08, extent)) * hz
        cw = float(rng.uniform(0.14, 0.3)) * cv.W
        puffs = int(rng.integers(4, 7))
        parts = []
        for i in range(puffs):
            px = cx - cw / 2 + cw * (i + 0.5) / puffs
            pr = cw / puffs * float(rng.uniform(0.75, 1.25)) * (1.35 if 0 < i < puffs - 1 else 1.0)
            parts.append((px, pr))
        for px, pr in parts:  # shaded underside, then the lit body slightly higher
            cv.da.ellipse((px - pr, cy - pr * 0.8, px + pr, cy + pr * 0.55), fill=(*shade, alpha))
        for px, pr in parts:
            cv.da.ellipse(
                (px - pr * 0.95, cy - pr * 0.95, px + pr * 0.95, cy + pr * 0.35), fill=(*lit, alpha)
            )


def _ridge(
    rng: np.random.Generator, W: int, base: int, lo: float, hi: float, n: int
) -> list[tuple[float, float]]:
    """A jagged skyline polyline from x=0 to x=W: alternate peaks and saddles, each segment split
    once with a random nudge."""
    pts: list[tuple[float, float]] = []
    for i in range(n + 1):
        x = W * i / n + (float(rng.uniform(-0.3, 0.3)) * W / n if 0 < i < n else 0.0)
        h = hi * float(rng.uniform(0.6, 1.0)) if i % 2 else lo + (hi - lo) * float(rng.uniform(0.05, 0.35))
        pts.append((x, base - h))
    out: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        out.append((x0, y0))
        out.append(((x0 + x1) / 2, (y0 + y1) / 2 + float(rng.uniform(-0.08, 0.08)) * hi))
    out.append(pts[-1])
    return out


def _above(points: list[tuple[float, float]], line: float) -> list[list[tuple[float, float]]]:
    """The parts of a polyline above (smaller y than) a horizontal line, each closed along it."""
    runs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if y0 < line:
            cur.append((x0, y0))
        if (y0 < line) != (y1 < line):
            cur.append((x0 + (x1 - x0) * (line - y0) / (y1 - y0), line))
            if y0 < line:
                runs.append(cur)
                cur = []
    if points and points[-1][1] < line:
        cur.append(points[-1])
        runs.append(cur)
    return [r for r in runs if len(r) >= 3]


def paint_backdrop(cv: Canvas) -> None:
    """The location's backdrop standing on the horizon (skyline, hills, sea, mesas, peaks, woods)."""
    loc, season, W, hz = cv.spec.location_setting, cv.spec.season, cv.W, cv.horizon_px
    rng = cv.rng(10)
    if loc == "city":
        night = cv.light.darkness > 0.5
        for i in range(int(rng.integers(16, 22))):
            w = float(rng.uniform(0.04, 0.09)) * W
            x = float(rng.uniform(-0.03, 1.0)) * W
            h = float(rng.uniform(0.06, 0.21)) * cv.H
            col = cv.far((92, 100, 120) if i % 2 else (112, 118, 136), 0.45)
            cv.d.rectangle((x, hz - h, x + w, hz), fill=col)
            if i % 4 == 0:
                cv.d.rectangle((x + w * 0.45, hz - h * 1.12, x + w * 0.5, hz - h), fill=col)
            lit = rng.random((max(1, int(h / 14)), max(1, int(w / 12)))) < 0.35  # drawn always: same stream
            if night:
                for r, c in np.argwhere(lit).tolist():
                    wx, wy = x + 4 + c * 12, hz - h + 6 + r * 14
                    if wx + 5 < x + w:
                        cv.d.rectangle((wx, wy, wx + 5, wy + 6), fill=(200, 170, 104))
    elif loc in ("suburb", "village"):
        layers = ((0.5, 0.07), (0.25, 0.04)) if loc == "village" else ((0.45, 0.035),)
        for k, (fade, amp) in enumerate(layers):
            ridge = _ridge(rng, W, hz, 0.0, amp * cv.H, 6)
            cv.d.polygon(
                [(0, hz)] + ridge + [(W, hz)], fill=cv.far(scale(hill_color(season), 0.9 + 0.1 * k), fade)
            )
        roof = cv.far((150, 92, 80), 0.45)
        for _ in range(int(rng.integers(4, 8))):
            x, s = float(rng.uniform(0.0, 1.0)) * W, float(rng.uniform(0.012, 0.022)) * W
            cv.d.rectangle((x - s, hz - s, x + s, hz), fill=cv.far((210, 200, 186), 0.45))
            cv.d.polygon([(x - s * 1.25, hz - s), (x, hz - s * 1.9), (x + s * 1.25, hz - s)], fill=roof)
    elif loc == "beach":
        isle = _ridge(rng, W // 3, hz, 0.0, 0.035 * cv.H, 4)
        cv.d.polygon(
            [(x + W * 0.6, y) for x, y in [(0, hz)] + isle + [(W // 3, hz)]], fill=cv.far((70, 110, 80), 0.5)
        )
    elif loc == "desert":
        for _ in range(int(rng.integers(2, 4))):
            x, w, h = (
                float(rng.uniform(0.0, 0.9)) * W,
                float(rng.uniform(0.12, 0.24)) * W,
                float(rng.uniform(0.05, 0.1)) * cv.H,
            )
            cv.d.polygon(
                [(x, hz), (x + w * 0.12, hz - h), (x + w * 0.88, hz - h), (x + w, hz)],
                fill=cv.far((186, 104, 66), 0.4),
            )
            cv.d.rectangle(
                (x + w * 0.12, hz - h, x + w * 0.88, hz - h * 0.9), fill=cv.far((210, 130, 84), 0.4)
            )
    elif loc == "mountains":
        snowline_k = {"winter": 0.45, "spring": 0.62, "autumn": 0.7, "summer": 0.74}[season]
        for fade, peak, n in ((0.55, 0.3, 7), (0.28, 0.2, 5)):
            ridge = _ridge(rng, W, hz, 0.02 * cv.H, peak * cv.H, n)
            rock = (104, 110, 130) if fade > 0.3 else (92, 98, 108)
            cv.d.polygon([(0, hz)] + ridge + [(W, hz)], fill=cv.far(rock, fade))
            line = hz - peak * cv.H * snowline_k
            for run in _above(ridge, line):
                cv.d.polygon(run, fill=cv.far((244, 246, 252), fade * 0.8))
    elif loc == "forest":
        for fade, (lo, hi) in ((0.45, (0.07, 0.13)), (0.22, (0.05, 0.1))):
            x = float(rng.uniform(-0.03, 0.0)) * W
            while x < W:
                w, h = float(rng.uniform(0.03, 0.05)) * W, float(rng.uniform(lo, hi)) * cv.H
                col = (46, 92, 58)
                if season == "autumn" and rng.random() < 0.4:
                    col = (196, 112, 44)
                cv.d.polygon([(x - w / 2, hz + 2), (x, hz - h), (x + w / 2, hz + 2)], fill=cv.far(col, fade))
                if season == "winter":
                    cv.d.polygon(
                        [(x - w * 0.2, hz - h * 0.6), (x, hz - h), (x + w * 0.2, hz - h * 0.6)],
                        fill=cv.far(SNOW, fade),
                    )
                x += w * 0.55


def _road(cv: Canvas) -> None:
    """City and suburb streets; their surface follows the time period."""
    period, winter = cv.spec.time_period, cv.spec.season == "winter"
    top, bot = cv.Y(ROAD_TOP), cv.Y(ROAD_BOTTOM)
    walk = cv.Y(ROAD_TOP - 0.02)
    cv.d.rectangle((0, walk, cv.W, top), fill=cv.lit(SNOW if winter else (178, 172, 162)))
    surface = {
        "ancient": (150, 120, 84),
        "medieval": (122, 114, 102),
        "victorian": (104, 100, 96),
        "futuristic": (42, 46, 62),
    }
    cv.d.rectangle((0, top, cv.W, bot), fill=cv.lit(surface.get(period, (80, 80, 86))))
    cv.d.rectangle((0, bot, cv.W, bot + cv.Y(0.012)), fill=cv.lit((150, 146, 140)))
    rng = cv.rng(13)
    if period in ("medieval", "victorian"):
        sw, sh = (22, 12) if period == "medieval" else (14, 9)
        for row, y in enumerate(range(top, bot, sh)):
            for x in range(-(row % 2) * sw // 2, cv.W, sw):
                c = cv.lit(scale(surface[period], float(rng.uniform(0.85, 1.2))))
                y2 = min(bot - 1, y + sh - 2)
                if y2 < y + 1:  # a last row thinner than a stone (small renders): nothing to draw
                    continue
                cv.d.rounded_rectangle((x + 1, y + 1, x + sw - 2, y2), radius=3, fill=c)
    elif period == "ancient":
        for y in (top + (bot - top) // 3, top + 2 * (bot - top) // 3):
            cv.d.line((0, y, cv.W, y), fill=cv.lit((124, 98, 66)), width=3)
    else:
        mid = (top + bot) // 2
        dash = (255, 40, 200) if period == "futuristic" else cv.lit((238, 236, 226))
        for x in range(0, cv.W, 60):
            cv.d.rectangle((x, mid - 2, x + 32, mid + 2), fill=dash)
        if period == "futuristic":
            for y in (top + 3, bot - 3):
                cv.d.line((0, y, cv.W, y), fill=(40, 240, 255), width=3)
    if winter:
        for _ in range(14):
            x, w = float(rng.uniform(0, 1)) * cv.W, float(rng.uniform(0.05, 0.14)) * cv.W
            cv.d.ellipse((x, bot - 8, x + w, bot + 6), fill=cv.lit(SNOW))


def paint_ground(cv: Canvas) -> None:
    """Ground details: sea and shore, dunes, rocks, paths, roads, flowers and fallen leaves."""
    loc, season, W, H, hz = cv.spec.location_setting, cv.spec.season, cv.W, cv.H, cv.horizon_px
    rng = cv.rng(14)
    if loc == "beach":
        shore = hz + int(0.1 * H)
        sea_far, sea_near = mix(cv.lit((40, 110, 160)), cv.light.sky_horizon, 0.45), cv.lit((32, 120, 168))
        if season == "winter":
            sea_far, sea_near = mix(sea_far, (150, 160, 170), 0.4), mix(sea_near, (120, 140, 150), 0.4)
        for i, y in enumerate(range(hz, shore, 2)):
            cv.d.line((0, y, W, y), fill=mix(sea_far, sea_near, i * 2 / max(1, shore - hz)), width=2)
        for _ in range(40):
            x, y = float(rng.uniform(0, 1)) * W, float(rng.uniform(hz + 4, shore - 4))
            cv.d.line(
                (x, y, x + float(rng.uniform(8, 26)), y), fill=mix(sea_near, (255, 255, 255), 0.35), width=2
            )
        if cv.light.sun is not None:
            sx = cv.X(cv.light.sun[0])
            for y in range(hz + 2, shore, 6):
                half = 6 + (y - hz) * 0.25
                cv.da.line((sx - half, y, sx + half, y), fill=(*cv.light.sun[3], 150), width=2)
        cv.d.rectangle((0, shore, W, shore + 6), fill=cv.lit((206, 190, 150)))
        cv.d.line((0, shore, W, shore), fill=cv.lit((250, 250, 246)), width=4)
    elif loc == "desert":
        sand = ground_color(loc, season)
        for i in range(5):
            y0 = hz + (H - hz) * (0.12 + 0.17 * i)
            pts = [
                (x, y0 + 10 * ((x // 80) % 2) + float(rng.uniform(-6, 6))) for x in range(-80, W + 161, 80)
            ]
            cv.d.line(pts, fill=cv.lit(scale(sand, 1.08)), width=5, joint="curve")
            cv.d.line([(x, y + 6) for x, y in pts], fill=cv.lit(scale(sand, 0.88)), width=4, joint="curve")
    elif loc == "mountains":
        for _ in range(18):
            x, y = float(rng.uniform(0, 1)) * W, float(rng.uniform(hz + 10, H - 10))
            s = 6 + (y - hz) * 0.08
            c = cv.lit((132, 130, 126) if season != "winter" else (200, 204, 214))
            cv.d.ellipse((x - s, y - s * 0.6, x + s, y + s * 0.4), fill=c)
    if season in ("spring", "autumn") and loc not in ("beach", "desert"):
        colors = (
            [(250, 190, 210), (255, 236, 120), (250, 250, 250)]
            if season == "spring"
            else [(214, 104, 38), (196, 66, 40), (230, 170, 50)]
        )
        for _ in range(220):
            x, y = float(rng.uniform(0, 1)) * W, float(rng.uniform(hz + 6, H))
            s = 2 + (y - hz) * 0.012
            cv.d.ellipse(
                (x - s, y - s * 0.7, x + s, y + s * 0.7),
                fill=cv.lit(colors[int(rng.integers(0, len(colors)))]),
            )
    if loc in ("village", "forest"):
        mid = W * 0.5 + float(cv.rng(15).uniform(-0.15, 0.15)) * W
        path = cv.lit((164, 134, 94) if season != "winter" else (214, 212, 214))
        cv.d.polygon(
            [(mid - 6, hz + 4), (mid + 6, hz + 4), (mid + 0.18 * W, H), (mid - 0.14 * W, H)], fill=path
        )
    if loc in ("city", "suburb"):
        _road(cv)


def sky_mean(cv: Canvas) -> RGB:
    """A representative sky colour (reflections in water)."""
    return mix(cv.light.sky_top, cv.light.sky_horizon, 0.6)
