"""Buildings: one silhouette per architecture style, dressed by the time period.

A style function draws the silhouette inside the object's box and returns the main facade
rectangle and the roof-top point; the period then adds its material texture (stone blocks, bricks,
sandstone courses), its windows' light at night and its ornaments (banners, chimneys and smoke,
awnings, neon outlines and antennas).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.scene._canvas import RGB, Canvas, mix, scale
from bench.scene.spec import SceneObject

Box = tuple[float, float, float, float]

_MATERIAL: dict[str, tuple[RGB, float]] = {  # period: colour blended into every wall, and how much
    "ancient": ((206, 182, 138), 0.5),
    "medieval": ((138, 132, 122), 0.45),
    "victorian": ((150, 78, 58), 0.4),
    "futuristic": ((226, 234, 244), 0.4),
}
_PASTELS: tuple[RGB, ...] = ((160, 215, 190), (240, 170, 150), (240, 220, 150), (160, 200, 230))
_LIT_SHARE = {"ancient": 0.25, "medieval": 0.3, "victorian": 0.5}
NEON: tuple[RGB, RGB] = ((40, 240, 255), (255, 50, 210))


class _Style:
    """What one building drawing needs: the canvas, its box, its colours and its random stream."""

    def __init__(self, cv: Canvas, obj: SceneObject, index: int) -> None:
        self.cv = cv
        self.period = cv.spec.time_period
        self.rng: np.random.Generator = cv.rng(100 + index)
        self.cx, self.B = cv.X(obj.x), cv.Y(obj.y)
        self.w, self.h = obj.w * cv.W, obj.h * cv.H
        self.L, self.R, self.T = self.cx - self.w / 2, self.cx + self.w / 2, self.B - self.h
        self.pastel = _PASTELS[int(self.rng.integers(0, len(_PASTELS)))]

    def wall(self, c: RGB) -> RGB:
        """A wall colour in the period's material, lit."""
        if self.period in _MATERIAL:
            tint, k = _MATERIAL[self.period]
            c = mix(c, tint, k)
        elif self.period == "mid_century":
            c = mix(c, self.pastel, 0.4)
        return self.cv.lit(c)

    def facade(self, box: Box, c: RGB) -> None:
        """Fill a wall and add the period's masonry."""
        cv, (x0, y0, x1, y1) = self.cv, box
        fill = self.wall(c)
        cv.d.rectangle(box, fill=fill)
        line = scale(fill, 0.68)
        if self.period in ("medieval", "victorian"):
            rh, bw, lw = (12, 26, 3) if self.period == "medieval" else (8, 18, 2)
            for row, y in enumerate(np.arange(y0 + rh, y1, rh).tolist()):
                cv.d.line((x0, y, x1, y), fill=line, width=lw)
                for x in np.arange(x0 + (row % 2) * bw / 2, x1, bw).tolist():
                    cv.d.line((x, y - rh, x, y), fill=line, width=lw)
        elif self.period == "ancient":
            for y in np.arange(y0 + 16, y1, 16).tolist():
                cv.d.line((x0, y, x1, y), fill=scale(fill, 1.08), width=2)

    def windows(
        self, box: Box, cols: int, rows: int, shape: str = "rect", glass: RGB = (70, 92, 122)
    ) -> None:
        """A grid of windows; at night a share of them is lit (more with electric light)."""
        cv, (x0, y0, x1, y1) = self.cv, box
        cw, ch = (x1 - x0) / cols, (y1 - y0) / rows
        dark = self.period == "ancient"
        unlit = cv.lit((48, 40, 34) if dark else glass)
        share = _LIT_SHARE.get(self.period, 0.65) if cv.light.darkness > 0.4 else 0.0
        warm = (150, 236, 255) if self.period == "futuristic" else (255, 214, 130)
        if self.period in ("ancient", "medieval"):
            warm = (236, 150, 70)
        n = 0
        for r in range(rows):
            for c in range(cols):
                on = float(self.rng.random()) < share
                fill = warm if on else unlit
                wx0, wy0 = x0 + c * cw + cw * 0.25, y0 + r * ch + ch * 0.22
                wx1, wy1 = wx0 + cw * 0.5, wy0 + ch * 0.58
                if shape == "slit":
                    wx0, wx1 = x0 + c * cw + cw * 0.38, x0 + c * cw + cw * 0.62
                cv.d.rectangle((wx0, wy0, wx1, wy1), fill=fill)
                if shape == "arch":
                    cv.d.pieslice(
                        (wx0, wy0 - (wx1 - wx0) / 2, wx1, wy0 + (wx1 - wx0) / 2), 180, 360, fill=fill
                    )
                elif shape == "pointed":
                    cv.d.polygon(
                        [(wx0, wy0), ((wx0 + wx1) / 2, wy0 - (wx1 - wx0) * 0.8), (wx1, wy0)], fill=fill
                    )
                if on:
                    n += 1
                    if n % 3 == 1:
                        cv.emit(
                            (wx0 + wx1) / 2,
                            (wy0 + wy1) / 2,
                            (wx1 - wx0) * 2.2,
                            warm,
                            0.35 * cv.light.darkness,
                        )

    def ornaments(self, body: Box, top: tuple[float, float]) -> None:
        """The period's ornaments on the facade and the roof top."""
        cv, (x0, y0, x1, y1), (tx, ty) = self.cv, body, top
        if self.period == "medieval":
            pole = self.h * 0.1
            cv.d.line((tx, ty, tx, ty - pole), fill=cv.lit((60, 50, 40)), width=3)
            color = ((176, 40, 40), (40, 70, 160))[int(self.rng.integers(0, 2))]
            cv.d.polygon(
                [(tx, ty - pole), (tx + pole * 0.7, ty - pole * 0.82), (tx, ty - pole * 0.64)],
                fill=cv.lit(color),
            )
        elif self.period == "victorian":
            for cx in (x0 + (x1 - x0) * 0.2, x1 - (x1 - x0) * 0.22):
                cv.d.rectangle((cx - 6, y0 - 18, cx + 6, y0), fill=cv.lit((120, 62, 48)))
                for k in range(4):
                    r = 7 + 3 * k
                    cv.da.ellipse(
                        (cx - r + 5 * k, y0 - 30 - 18 * k - r, cx + r + 5 * k, y0 - 30 - 18 * k + r),
                        fill=(*cv.lit((190, 190, 196)), 110 - 20 * k),
                    )
        elif self.period == "mid_century":
            band = (y1 - (y1 - y0) * 0.07, y1 - (y1 - y0) * 0.02)
            n = max(4, int((x1 - x0) / 14))
            for i in range(n):
                c = (214, 70, 64) if i % 2 else (246, 242, 232)
                cv.d.rectangle(
                    (x0 + (x1 - x0) * i / n, band[0], x0 + (x1 - x0) * (i + 1) / n, band[1]), fill=cv.lit(c)
                )
        elif self.period == "futuristic":
            c = NEON[int(self.rng.integers(0, 2))]
            cv.d.rectangle(body, outline=c, width=4)
            for y in np.arange(y0 + (y1 - y0) / 3, y1 - 4, (y1 - y0) / 3).tolist():
                cv.d.line((x0, y, x1, y), fill=NEON[1] if c == NEON[0] else NEON[0], width=3)
            cv.d.line((tx, ty, tx, ty - self.h * 0.12), fill=cv.lit((200, 206, 214)), width=3)
            cv.d.ellipse((tx - 5, ty - self.h * 0.12 - 5, tx + 5, ty - self.h * 0.12 + 5), fill=NEON[1])
            cv.emit(tx, ty - self.h * 0.12, 40, NEON[1], 0.25 + 0.5 * cv.light.darkness)
            cv.emit((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * 1.1, c, 0.12 + 0.35 * cv.light.darkness)
        if self.cv.spec.season == "winter" or self.cv.spec.weather == "snowy":
            cv.d.rectangle((x0 - 2, y0 - 4, x1 + 2, y0 + 2), fill=cv.lit((240, 244, 250)))


def _modern_glass(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, L, R, T, B, w, h = s.cv, s.L, s.R, s.T, s.B, s.w, s.h
    body = (L, T, R, B)
    s.facade(body, (118, 160, 198))
    cv.d.rectangle((L + 0.6 * w, T - 0.04 * h, L + 0.85 * w, T), fill=s.wall((150, 156, 164)))
    cols, rows = max(3, int(w / 22)), max(6, int(h / 20))
    s.windows(body, cols, rows, glass=(96, 140, 186))
    mull = scale(s.wall((118, 160, 198)), 0.7)
    for i in range(1, cols):
        x = L + w * i / cols
        cv.d.line((x, T, x, B), fill=mull, width=2)
    cv.da.polygon(
        [(L + 0.15 * w, T), (L + 0.4 * w, T), (L, T + 0.55 * h), (L, T + 0.3 * h)], fill=(255, 255, 255, 40)
    )
    return body, (L + 0.72 * w, T - 0.04 * h)


def _classical_greek(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, L, R, B, w = s.cv, s.L, s.R, s.B, s.w
    th = min(s.h, w * 0.85)
    T = B - th
    marble = s.wall((234, 228, 214))
    for i in range(3):
        cv.d.rectangle(
            (L + w * 0.02 * i, B - th * 0.04 * (i + 1), R - w * 0.02 * i, B - th * 0.04 * i),
            fill=scale(marble, 0.92 + 0.03 * i),
        )
    base = B - th * 0.12
    cv.d.rectangle((L + 0.1 * w, T + 0.35 * th, R - 0.1 * w, base), fill=scale(marble, 0.62))
    n = 6
    for i in range(n):
        x = L + 0.1 * w + (w * 0.8) * i / (n - 1)
        cv.d.rectangle((x - w * 0.03, T + 0.37 * th, x + w * 0.03, base), fill=marble)
        cv.d.line((x + w * 0.012, T + 0.37 * th, x + w * 0.012, base), fill=scale(marble, 0.85), width=2)
        cv.d.rectangle((x - w * 0.045, T + 0.35 * th, x + w * 0.045, T + 0.38 * th), fill=marble)
    cv.d.rectangle((L + 0.04 * w, T + 0.25 * th, R - 0.04 * w, T + 0.35 * th), fill=marble)
    cv.d.polygon(
        [(L + 0.02 * w, T + 0.25 * th), (s.cx, T), (R - 0.02 * w, T + 0.25 * th)], fill=scale(marble, 0.95)
    )
    cv.d.polygon(
        [(L + 0.12 * w, T + 0.23 * th), (s.cx, T + 0.06 * th), (R - 0.12 * w, T + 0.23 * th)],
        fill=scale(marble, 0.8),
    )
    return (L + 0.1 * w, T + 0.25 * th, R - 0.1 * w, base), (s.cx, T)


def _victorian_gothic(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, L, R, T, B, w, h, cx = s.cv, s.L, s.R, s.T, s.B, s.w, s.h, s.cx
    stone = (104, 96, 108)
    body = (L + 0.06 * w, T + 0.32 * h, R - 0.06 * w, B)
    s.facade(body, stone)
    dark = scale(s.wall(stone), 0.7)
    cv.d.polygon([(L, T + 0.33 * h), (cx, T + 0.14 * h), (R, T + 0.33 * h)], fill=dark)
    cv.d.polygon([(cx - 0.06 * w, T + 0.24 * h), (cx, T), (cx + 0.06 * w, T + 0.24 * h)], fill=dark)
    for x in (L, R - 0.14 * w):
        cv.d.rectangle((x, T + 0.24 * h, x + 0.14 * w, B), fill=s.wall(scale(stone, 0.9)))
        cv.d.polygon(
            [(x - 0.01 * w, T + 0.25 * h), (x + 0.07 * w, T + 0.08 * h), (x + 0.15 * w, T + 0.25 * h)],
            fill=dark,
        )
    s.windows(
        (L + 0.2 * w, T + 0.48 * h, R - 0.2 * w, B - 0.14 * h),
        3,
        max(2, int(h / 70)),
        "pointed",
        glass=(60, 70, 110),
    )
    r = 0.1 * w
    cv.d.ellipse(
        (cx - r, T + 0.38 * h - r, cx + r, T + 0.38 * h + r),
        fill=s.wall((150, 60, 80)),
        outline=dark,
        width=3,
    )
    cv.d.rectangle((cx - 0.07 * w, B - 0.1 * h, cx + 0.07 * w, B), fill=scale(dark, 0.7))
    cv.d.polygon(
        [(cx - 0.07 * w, B - 0.1 * h), (cx, B - 0.15 * h), (cx + 0.07 * w, B - 0.1 * h)],
        fill=scale(dark, 0.7),
    )
    return body, (cx, T)


def _art_deco(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, L, R, T, B, w, h, cx = s.cv, s.L, s.R, s.T, s.B, s.w, s.h, s.cx
    cream, gold = (222, 206, 172), s.cv.lit((214, 172, 80))
    tiers = [
        (L, T + 0.35 * h, R, B),
        (L + 0.14 * w, T + 0.17 * h, R - 0.14 * w, T + 0.35 * h),
        (L + 0.28 * w, T + 0.06 * h, R - 0.28 * w, T + 0.17 * h),
    ]
    cv.d.polygon([(cx - 0.035 * w, T + 0.06 * h), (cx, T), (cx + 0.035 * w, T + 0.06 * h)], fill=gold)
    for x0, y0, x1, y1 in tiers:
        s.facade((x0, y0, x1, y1), cream)
        n = max(3, int((x1 - x0) / 16))
        for i in range(1, n):
            x = x0 + (x1 - x0) * i / n
            cv.d.line((x, y0, x, y1), fill=scale(s.wall(cream), 0.82), width=3)
        cv.d.rectangle((x0, y0, x1, y0 + 0.015 * h), fill=gold)
    s.windows(
        (L + 0.04 * w, T + 0.4 * h, R - 0.04 * w, B - 0.05 * h),
        max(3, int(w / 16)),
        max(4, int(h / 30)),
        "slit",
    )
    return tiers[0], (cx, T)


def _brutalist(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, L, R, T, B, w, h = s.cv, s.L, s.R, s.T, s.B, s.w, s.h
    concrete = (158, 158, 152)
    cv.d.rectangle((L + 0.08 * w, B - 0.09 * h, R - 0.08 * w, B), fill=s.wall((70, 70, 72)))
    for x in (L + 0.1 * w, s.cx - 0.04 * w, R - 0.18 * w):
        cv.d.rectangle((x, B - 0.09 * h, x + 0.08 * w, B), fill=s.wall(scale(concrete, 0.85)))
    body = (L + 0.04 * w, T + 0.22 * h, R - 0.04 * w, B - 0.09 * h)
    s.facade(body, concrete)
    s.facade((L, T, R, T + 0.24 * h), scale(concrete, 1.04))
    cv.d.rectangle((L, T + 0.24 * h, R, T + 0.26 * h), fill=scale(s.wall(concrete), 0.55))
    s.windows(body, max(3, int(w / 24)), max(4, int(h / 26)), glass=(54, 56, 62))
    s.windows(
        (L + 0.05 * w, T + 0.04 * h, R - 0.05 * w, T + 0.2 * h), max(4, int(w / 18)), 2, glass=(54, 56, 62)
    )
    for y in np.arange(body[1] + 20, body[3], 26).tolist():
        cv.d.line((body[0], y, body[2], y), fill=scale(s.wall(concrete), 1.1), width=2)
    return body, (L + 0.2 * w, T)


def _traditional_asian(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, T, B, w, h, cx = s.cv, s.T, s.B, s.w, s.h, s.cx
    red, roof = (176, 54, 42), s.cv.lit(((52, 86, 84), (58, 58, 66))[int(s.rng.integers(0, 2))])
    n = 3 if h < 1.6 * w else 4 if h < 2.4 * w else 5
    cv.d.rectangle((cx - 0.42 * w, B - 0.04 * h, cx + 0.42 * w, B), fill=s.wall((150, 146, 140)))
    yb, th = B - 0.04 * h, (h * 0.86) / n
    body: Box = (cx, yb, cx, yb)
    for i in range(n):
        ww = w * (0.62 - 0.07 * i)
        wall = (cx - ww / 2, yb - th * 0.62, cx + ww / 2, yb)
        s.facade(wall, red)
        if i == 0:
            body = wall
        s.windows(wall, 2 if i else 3, 1, "arch", glass=(70, 44, 36))
        yr, yt, ew = yb - th * 0.62, yb - th, min(w * 1.08, ww * 1.55)
        cv.d.polygon(
            [
                (cx - ew / 2, yr - th * 0.16),
                (cx - ew / 2 + ew * 0.12, yr),
                (cx + ew / 2 - ew * 0.12, yr),
                (cx + ew / 2, yr - th * 0.16),
                (cx + ww * 0.3, yt),
                (cx - ww * 0.3, yt),
            ],
            fill=roof,
        )
        cv.d.line((cx - ew / 2 + ew * 0.12, yr, cx + ew / 2 - ew * 0.12, yr), fill=scale(roof, 0.6), width=3)
        yb = yt
    cv.d.line((cx, yb, cx, T), fill=s.cv.lit((190, 150, 70)), width=4)
    for k in range(3):
        y = yb - (yb - T) * (0.3 + 0.22 * k)
        cv.d.ellipse((cx - 6, y - 4, cx + 6, y + 4), fill=s.cv.lit((190, 150, 70)))
    return body, (cx, T)


def _middle_eastern(s: _Style) -> tuple[Box, tuple[float, float]]:
    cv, L, R, T, B, w, h, cx = s.cv, s.L, s.R, s.T, s.B, s.w, s.h, s.cx
    sand = (218, 188, 140)
    dome = s.cv.lit(((52, 140, 150), (214, 170, 70))[int(s.rng.integers(0, 2))])
    mx = R - 0.12 * w
    cv.d.rectangle((mx, T + 0.1 * h, mx + 0.1 * w, B), fill=s.wall(scale(sand, 0.95)))
    cv.d.rectangle((mx - 0.02 * w, T + 0.25 * h, mx + 0.12 * w, T + 0.28 * h), fill=s.wall(scale(sand, 0.8)))
    cv.d.pieslice((mx - 0.01 * w, T + 0.03 * h, mx + 0.11 * w, T + 0.17 * h), 180, 360, fill=dome)
    cv.d.ellipse((cx - 0.26 * w, T + 0.16 * h, cx + 0.26 * w, T + 0.7 * h), fill=dome)
    cv.d.line((cx, T + 0.16 * h, cx, T + 0.08 * h), fill=s.cv.lit((214, 170, 70)), width=4)
    cv.d.ellipse((cx - 5, T + 0.08 * h - 10, cx + 5, T + 0.08 * h), fill=s.cv.lit((214, 170, 70)))
    cv.d.rectangle((cx - 0.22 * w, T + 0.4 * h, cx + 0.22 * w, T + 0.46 * h), fill=s.wall(scale(sand, 0.9)))
    body = (L + 0.02 * w, T + 0.46 * h, R - 0.14 * w, B)
    s.facade(body, sand)
    cv.d.rectangle((body[0], body[1], body[2], body[1] + 0.02 * h), fill=s.wall(scale(sand, 0.82)))
    s.windows(
        (body[0], body[1] + 0.08 * h, body[2], B - 0.18 * h),
        4,
        max(1, int(h / 110)),
        "arch",
        glass=(60, 64, 80),
    )
    dw = 0.09 * w
    door = scale(s.wall(sand), 0.4)
    cv.d.rectangle(((body[0] + body[2]) / 2 - dw, B - 0.14 * h, (body[0] + body[2]) / 2 + dw, B), fill=door)
    cv.d.pieslice(
        ((body[0] + body[2]) / 2 - dw, B - 0.14 * h - dw, (body[0] + body[2]) / 2 + dw, B - 0.14 * h + dw),
        180,
        360,
        fill=door,
    )
    return body, (cx, T + 0.08 * h)


STYLES: dict[str, Callable[[_Style], tuple[Box, tuple[float, float]]]] = {
    "modern_glass": _modern_glass,
    "classical_greek": _classical_greek,
    "victorian_gothic": _victorian_gothic,
    "art_deco": _art_deco,
    "brutalist": _brutalist,
    "traditional_asian": _traditional_asian,
    "middle_eastern": _middle_eastern,
}


def paint_building(cv: Canvas, obj: SceneObject, index: int) -> None:
    """Draw one building in its style (the object's own or the scene's) and the scene's period."""
    s = _Style(cv, obj, index)
    body, top = STYLES[cv.spec.building_style(obj)](s)
    s.ornaments(body, top)
