"""Trees, people-like figures, street lights, vehicles, ponds and the shadows they cast.

Trees follow the location (palms on beaches, cacti in deserts, conifers in the mountains, mixed
woods in forests) and the season; figures, lights and vehicles follow the time period (robes and
carts, hoods and torches, top hats, gas lamps and carriages, 1950s cars, hover cars and neon).
"""

from __future__ import annotations

from bench.scene._canvas import RGB, Canvas, mix, scale
from bench.scene._world import SNOW, sky_mean
from bench.scene.spec import SceneObject

_CROWN: dict[str, tuple[RGB, ...]] = {
    "spring": ((150, 206, 112),),
    "summer": ((64, 142, 54), (78, 150, 60)),
    "autumn": ((222, 122, 40), (196, 66, 40), (232, 178, 52)),
}
_BARK: RGB = (104, 72, 48)
_SKIN: tuple[RGB, ...] = ((241, 204, 170), (224, 172, 130), (190, 134, 96), (140, 96, 66), (96, 64, 44))
_CLOTHES: dict[str, tuple[RGB, ...]] = {
    "ancient": ((236, 230, 214), (196, 160, 110), (176, 70, 50)),
    "medieval": ((120, 84, 56), (74, 100, 60), (110, 40, 40)),
    "victorian": ((40, 40, 48), (70, 50, 60), (50, 60, 80)),
    "mid_century": ((214, 80, 80), (90, 150, 200), (230, 200, 90)),
    "contemporary": ((60, 120, 200), (220, 90, 60), (80, 170, 110), (240, 200, 70)),
    "futuristic": ((226, 232, 240), (180, 190, 210)),
}
# Branch directions for bare winter trees, (dx, dy) per unit length (no trigonometry needed):
# every fork takes one leftward and one rightward branch.
_FORKS_LEFT = ((-0.55, -0.83), (-0.25, -0.97), (-0.8, -0.6))
_FORKS_RIGHT = ((0.55, -0.83), (0.25, -0.97), (0.8, -0.6))


def _box(obj: SceneObject, cv: Canvas) -> tuple[float, float, float, float]:
    return cv.X(obj.x), cv.Y(obj.y), obj.w * cv.W, obj.h * cv.H


def tree_kind(location: str, index: int) -> str:
    """Which tree a location grows (forests alternate conifers and broadleaves)."""
    if location == "beach":
        return "palm"
    if location == "desert":
        return "cactus"
    if location == "mountains" or location == "forest" and index % 2 == 0:
        return "conifer"
    return "broadleaf"


def paint_tree(cv: Canvas, obj: SceneObject, index: int) -> None:
    """Draw one tree of the location's kind in the scene's season."""
    cx, base, w, h = _box(obj, cv)
    season, rng = cv.spec.season, cv.rng(100 + index)
    kind = tree_kind(cv.spec.location_setting, index)
    bark = cv.lit(_BARK)
    if kind == "broadleaf":
        cv.d.rectangle((cx - w * 0.08, base - h * 0.5, cx + w * 0.08, base), fill=bark)
        cy, rx, ry = base - h * 0.64, w / 2, h * 0.34
        if season == "winter":
            tips = [(cx, base - h * 0.45, 0.0, -1.0, h * 0.26, w * 0.14)]
            for _ in range(4):
                nxt = []
                for x, y, dx, dy, ln, wd in tips:
                    x1, y1 = x + dx * ln, y + dy * ln
                    cv.d.line((x, y, x1, y1), fill=bark, width=max(1, int(wd)))
                    for side in (_FORKS_LEFT, _FORKS_RIGHT):
                        fx, fy = side[int(rng.integers(0, len(side)))]
                        nxt.append((x1, y1, fx, fy, ln * 0.72, wd * 0.6))
                tips = nxt
            for x, y, *_ in tips:
                cv.d.ellipse((x - 4, y - 3, x + 4, y + 2), fill=cv.lit(SNOW))
            return
        colors = _CROWN[season]
        puffs = (
            (0.0, -0.35, 0.6),
            (-0.45, -0.02, 0.55),
            (0.45, 0.0, 0.55),
            (-0.2, 0.3, 0.6),
            (0.25, 0.28, 0.58),
            (0.0, 0.0, 0.7),
        )
        for i, (ox, oy, r) in enumerate(puffs):
            c = cv.lit(colors[(i + index) % len(colors)])
            px, py, pr = cx + ox * rx, cy + oy * ry, r * rx * float(rng.uniform(0.9, 1.1))
            cv.d.ellipse(
                (px - pr + 3, py - pr * 0.9 + 4, px + pr + 3, py + pr * 0.9 + 4), fill=scale(c, 0.78)
            )
            cv.d.ellipse((px - pr, py - pr * 0.9, px + pr, py + pr * 0.9), fill=c)
        hl = scale(cv.lit(colors[0]), 1.18)
        cv.d.ellipse((cx - rx * 0.45, cy - ry * 0.55, cx - rx * 0.05, cy - ry * 0.2), fill=hl)
        if season == "spring":
            for _ in range(26):
                x, y = cx + float(rng.uniform(-0.8, 0.8)) * rx, cy + float(rng.uniform(-0.8, 0.7)) * ry
                cv.d.ellipse((x - 3, y - 3, x + 3, y + 3), fill=cv.lit((250, 182, 206)))
        elif season == "autumn":
            for _ in range(16):
                x, y = cx + float(rng.uniform(-1.2, 1.2)) * rx, base + float(rng.uniform(-4, 6))
                cv.d.ellipse((x - 4, y - 2, x + 4, y + 2), fill=cv.lit(colors[int(rng.integers(0, 3))]))
    elif kind == "conifer":
        cv.d.rectangle((cx - w * 0.07, base - h * 0.2, cx + w * 0.07, base), fill=bark)
        green = {
            "spring": (70, 132, 76),
            "summer": (44, 100, 62),
            "autumn": (52, 96, 60),
            "winter": (40, 84, 60),
        }[season]
        for i in range(3):
            yb, tw = base - h * 0.14 - i * h * 0.24, w * (1.0 - 0.24 * i)
            apex = yb - h * 0.42
            cv.d.polygon([(cx - tw / 2, yb), (cx, apex), (cx + tw / 2, yb)], fill=cv.lit(green))
            cv.d.polygon([(cx, yb), (cx, apex), (cx + tw / 2, yb)], fill=cv.lit(scale(green, 0.82)))
            if season == "winter":
                cv.d.polygon(
                    [(cx - tw * 0.22, apex + h * 0.2), (cx, apex), (cx + tw * 0.22, apex + h * 0.2)],
                    fill=cv.lit(SNOW),
                )
                cv.d.line((cx - tw / 2, yb, cx + tw / 2, yb), fill=cv.lit(SNOW), width=4)
    elif kind == "palm":
        bend = w * float(rng.uniform(-0.35, 0.35))
        pts = [(cx + bend * (t / 10) * (t / 10), base - h * 0.82 * t / 10) for t in range(11)]
        for i, (p, q) in enumerate(zip(pts, pts[1:], strict=False)):
            cv.d.line(
                (*p, *q),
                fill=cv.lit(scale((150, 116, 80), 1.0 if i % 2 else 0.85)),
                width=max(3, int(w * (0.12 - 0.004 * i))),
            )
        tx, ty = pts[-1]
        frond = cv.lit(
            {
                "summer": (60, 150, 70),
                "spring": (90, 170, 80),
                "autumn": (150, 152, 64),
                "winter": (116, 128, 84),
            }[season]
        )
        for dx, dy in (
            (-0.6, 0.14),
            (0.6, 0.14),
            (-0.48, -0.06),
            (0.48, -0.06),
            (-0.18, -0.14),
            (0.2, -0.13),
        ):
            ex, ey = tx + dx * w, ty + dy * h
            mx, my = (tx + ex) / 2, min(ty, ey) - h * 0.06
            curve = [
                (
                    tx + (mx - tx) * t * 2 if t < 0.5 else mx + (ex - mx) * (t - 0.5) * 2,
                    ty + (my - ty) * t * 2 if t < 0.5 else my + (ey - my) * (t - 0.5) * 2,
                )
                for t in (0.0, 0.25, 0.5, 0.75, 1.0)
            ]
            cv.d.line(curve, fill=frond, width=max(3, int(w * 0.09)), joint="curve")
        for k in (-1, 1):
            cv.d.ellipse((tx + k * 7 - 5, ty + 2, tx + k * 7 + 5, ty + 12), fill=cv.lit((110, 76, 40)))
    else:  # cactus
        green = cv.lit((84, 146, 84) if season != "autumn" else (110, 140, 80))
        cv.d.rounded_rectangle(
            (cx - w * 0.12, base - h * 0.85, cx + w * 0.12, base), radius=w * 0.12, fill=green
        )
        for k, (ay, reach) in enumerate(((0.45, 0.34), (0.6, 0.3))):
            sx = -1 if k == 0 else 1
            x_in, x_out = cx + sx * w * 0.1, cx + sx * w * reach
            y = base - h * ay
            cv.d.rectangle((min(x_in, x_out), y - w * 0.05, max(x_in, x_out), y + w * 0.05), fill=green)
            cv.d.rounded_rectangle(
                (x_out - w * 0.07, y - h * 0.22, x_out + w * 0.07, y + w * 0.05), radius=w * 0.07, fill=green
            )
        cv.d.line((cx, base - h * 0.8, cx, base), fill=scale(green, 0.78), width=2)
        if season == "spring":
            for dx in (-0.06, 0.0, 0.06):
                cv.d.ellipse(
                    (cx + dx * w - 4, base - h * 0.87 - 4, cx + dx * w + 4, base - h * 0.87 + 4),
                    fill=cv.lit((244, 110, 170)),
                )
        elif season == "winter":
            cv.d.ellipse((cx - w * 0.12, base - h * 0.88, cx + w * 0.12, base - h * 0.8), fill=cv.lit(SNOW))


def paint_figure(cv: Canvas, obj: SceneObject, index: int) -> None:
    """A people-like figure dressed for the period (and wrapped up in winter)."""
    cx, base, w, h = _box(obj, cv)
    rng, period = cv.rng(100 + index), cv.spec.time_period
    clothes = _CLOTHES[period]
    coat = cv.lit(clothes[int(rng.integers(0, len(clothes)))])
    skin = cv.lit(_SKIN[int(rng.integers(0, len(_SKIN)))])
    legs = cv.lit((60, 80, 130) if period == "contemporary" else (50, 50, 66))
    r = h * 0.1
    hy, hip = base - h + r, base - h * 0.42
    if period == "ancient":
        cv.d.polygon(
            [
                (cx - w * 0.3, base - h + 2 * r),
                (cx + w * 0.3, base - h + 2 * r),
                (cx + w * 0.42, base),
                (cx - w * 0.42, base),
            ],
            fill=coat,
        )
    else:
        for dx in (-0.2, 0.06):
            cv.d.rectangle((cx + dx * w, hip - 2, cx + (dx + 0.16) * w, base), fill=legs)
        cv.d.polygon(
            [
                (cx - w * 0.36, base - h + 2 * r),
                (cx + w * 0.36, base - h + 2 * r),
                (cx + w * 0.3, hip),
                (cx - w * 0.3, hip),
            ],
            fill=coat,
        )
    for sx in (-1, 1):
        cv.d.line(
            (cx + sx * w * 0.36, base - h + 2.2 * r, cx + sx * w * 0.44, hip + r * 0.5),
            fill=scale(coat, 0.9),
            width=max(2, int(w * 0.14)),
        )
    cv.d.ellipse((cx - r, hy - r, cx + r, hy + r), fill=skin)
    if period == "medieval":
        cv.d.chord(
            (cx - r * 1.25, hy - r * 1.3, cx + r * 1.25, hy + r * 1.1), 180, 360, fill=scale(coat, 0.85)
        )
    elif period == "victorian":
        cv.d.rectangle((cx - r * 1.3, hy - r * 0.75, cx + r * 1.3, hy - r * 0.55), fill=cv.lit((24, 24, 28)))
        cv.d.rectangle((cx - r * 0.8, hy - r * 2.1, cx + r * 0.8, hy - r * 0.6), fill=cv.lit((24, 24, 28)))
    elif period == "mid_century":
        cv.d.chord(
            (cx - r * 1.4, hy - r * 1.3, cx + r * 1.4, hy + r * 0.2), 180, 360, fill=cv.lit((90, 70, 60))
        )
    elif period == "futuristic":
        cv.d.rectangle((cx - r * 0.9, hy - r * 0.25, cx + r * 0.9, hy + r * 0.2), fill=(60, 240, 255))
        cv.d.line((cx - w * 0.3, hip, cx + w * 0.3, hip), fill=(60, 240, 255), width=3)
        cv.emit(cx, hy, r * 3, (60, 240, 255), 0.2 + 0.4 * cv.light.darkness)
    if cv.spec.season == "winter":
        cv.d.rectangle(
            (cx - w * 0.3, base - h + 1.8 * r, cx + w * 0.3, base - h + 2.5 * r), fill=cv.lit((200, 40, 44))
        )


def paint_light(cv: Canvas, obj: SceneObject, index: int) -> None:
    """A light source of the period: torch, gas lamp, electric street lamp or neon pole."""
    cx, base, w, h = _box(obj, cv)
    period = cv.spec.time_period
    if period in ("ancient", "medieval"):
        top = base - h * 0.6
        cv.d.rectangle((cx - 3, top, cx + 3, base), fill=cv.lit((96, 66, 40)))
        cv.d.polygon(
            [(cx - 9, top), (cx + 9, top), (cx + 5, top + 12), (cx - 5, top + 12)], fill=cv.lit((70, 60, 52))
        )
        cv.d.ellipse((cx - 9, top - 26, cx + 9, top + 2), fill=(240, 120, 30))
        cv.d.ellipse((cx - 5, top - 16, cx + 5, top), fill=(255, 220, 110))
        cv.emit(cx, top - 10, h * 0.7, (255, 150, 60), cv.glow_strength(0.9))
        return
    pole = cv.lit(
        (36, 36, 42)
        if period == "victorian"
        else (226, 232, 240)
        if period == "futuristic"
        else (110, 112, 118)
    )
    top = base - h
    cv.d.rectangle((cx - 3, top, cx + 3, base), fill=pole)
    cv.d.rectangle((cx - 7, base - 10, cx + 7, base), fill=pole)
    on = cv.light.darkness > 0.3
    if period == "victorian":
        glass = (255, 214, 140) if on else cv.lit((230, 220, 190))
        cv.d.polygon(
            [(cx - 11, top - 22), (cx + 11, top - 22), (cx + 8, top), (cx - 8, top)],
            fill=glass,
            outline=pole,
            width=3,
        )
        cv.d.polygon([(cx - 13, top - 22), (cx, top - 32), (cx + 13, top - 22)], fill=pole)
        cv.emit(cx, top - 11, h * 0.75, (255, 200, 120), cv.glow_strength())
    elif period == "futuristic":
        for k in range(3):
            y = top + k * 14
            cv.d.rectangle((cx - 6, y, cx + 6, y + 6), fill=(40, 240, 255))
        cv.emit(cx, top + 14, h * 0.9, (40, 240, 255), cv.glow_strength(1.0) + 0.1)
    else:
        arm = w * 0.9
        cv.d.line((cx, top + 4, cx + arm, top + 4), fill=pole, width=5)
        glass = (255, 240, 196) if on else cv.lit((210, 212, 206))
        cv.d.chord((cx + arm - 16, top - 4, cx + arm + 16, top + 18), 180, 360, fill=pole)
        cv.d.rectangle((cx + arm - 12, top + 6, cx + arm + 12, top + 11), fill=glass)
        cv.emit(cx + arm, top + 12, h * 0.8, (255, 232, 170), cv.glow_strength())


def paint_vehicle(cv: Canvas, obj: SceneObject, index: int) -> None:
    """A vehicle of the period: cart, carriage, rounded 1950s car, modern car or hover car."""
    cx, base, w, h = _box(obj, cv)
    rng, period = cv.rng(100 + index), cv.spec.time_period
    L, R, T = cx - w / 2, cx + w / 2, base - h
    tyre = cv.lit((30, 30, 34))

    def wheel(x: float, r: float, spokes: bool, rim: RGB) -> None:
        cv.d.ellipse((x - r, base - 2 * r, x + r, base), fill=tyre)
        cv.d.ellipse((x - r * 0.55, base - r * 1.55, x + r * 0.55, base - r * 0.45), fill=rim)
        if spokes:
            for dx, dy in ((1, 0), (0, 1), (0.7, 0.7), (0.7, -0.7)):
                cv.d.line((x - dx * r, base - r - dy * r, x + dx * r, base - r + dy * r), fill=tyre, width=2)

    if period in ("ancient", "medieval"):
        wood = cv.lit((130, 90, 56))
        cv.d.rectangle((L + w * 0.1, T + h * 0.2, R - w * 0.2, base - h * 0.45), fill=wood)
        cv.d.line((R - w * 0.2, base - h * 0.5, R + w * 0.05, base - h * 0.7), fill=wood, width=4)
        wheel(cx - w * 0.05, h * 0.42, True, cv.lit((150, 110, 70)))
    elif period == "victorian":
        body = cv.lit(((40, 36, 40), (96, 30, 40))[int(rng.integers(0, 2))])
        cv.d.rounded_rectangle(
            (L + w * 0.15, T - h * 0.3, R - w * 0.15, base - h * 0.4), radius=10, fill=body
        )
        cv.d.rectangle(
            (cx - w * 0.12, T - h * 0.1, cx + w * 0.12, T + h * 0.25), fill=cv.lit((150, 160, 170))
        )
        for x in (L + w * 0.22, R - w * 0.22):
            wheel(x, h * 0.45, True, cv.lit((120, 30, 30)))
    elif period == "futuristic":
        lift = h * 0.35
        cv.da.ellipse(
            (L + w * 0.05, base - lift * 0.5, R - w * 0.05, base + lift * 0.3), fill=(40, 240, 255, 110)
        )
        body = cv.lit((228, 234, 242))
        cv.d.polygon(
            [
                (L, base - lift),
                (L + w * 0.1, T - h * 0.05),
                (cx + w * 0.2, T - h * 0.2),
                (R, base - lift - h * 0.25),
                (R - w * 0.02, base - lift),
            ],
            fill=body,
        )
        cv.d.polygon(
            [(cx - w * 0.15, T - h * 0.02), (cx + w * 0.18, T - h * 0.17), (cx + w * 0.3, T + h * 0.1)],
            fill=cv.lit((40, 60, 90)),
        )
        cv.d.line(
            (L + w * 0.05, base - lift - 3, R - w * 0.05, base - lift - 3), fill=(255, 50, 210), width=3
        )
        cv.emit(cx, base - lift * 0.3, w * 0.6, (40, 240, 255), 0.2 + 0.5 * cv.light.darkness)
    else:
        mid = period == "mid_century"
        paint = (
            ((240, 170, 150), (160, 215, 190), (214, 80, 80))
            if mid
            else ((200, 40, 40), (40, 90, 180), (230, 230, 226), (50, 50, 56))
        )
        body = cv.lit(paint[int(rng.integers(0, len(paint)))])
        cv.d.rounded_rectangle(
            (L, T + h * 0.35, R, base - h * 0.22), radius=h * (0.25 if mid else 0.12), fill=body
        )
        cab = [
            (L + w * 0.22, T + h * 0.36),
            (L + w * 0.32, T),
            (R - w * 0.3, T),
            (R - w * 0.18, T + h * 0.36),
        ]
        cv.d.polygon(cab, fill=body)
        cv.d.polygon(
            [
                (L + w * 0.28, T + h * 0.34),
                (L + w * 0.35, T + h * 0.08),
                (R - w * 0.33, T + h * 0.08),
                (R - w * 0.24, T + h * 0.34),
            ],
            fill=cv.lit((90, 120, 150)),
        )
        if mid:
            cv.d.line((L, base - h * 0.3, R, base - h * 0.3), fill=cv.lit((220, 222, 226)), width=3)
        for x in (L + w * 0.22, R - w * 0.22):
            wheel(x, h * 0.26, False, cv.lit((236, 236, 236) if mid else (150, 150, 156)))
        cv.d.rectangle((R - 8, T + h * 0.42, R, T + h * 0.55), fill=(255, 240, 200))
        cv.emit(R, T + h * 0.48, w * 0.4, (255, 240, 200), 0.9 * cv.light.darkness)


def paint_water(cv: Canvas, obj: SceneObject, index: int) -> None:
    """A pond reflecting the sky (frozen in winter)."""
    cx, base, w, h = _box(obj, cv)
    box = (cx - w / 2, base - h, cx + w / 2, base)
    rng = cv.rng(100 + index)
    if cv.spec.season == "winter":
        ice = cv.lit((206, 222, 236))
        cv.d.ellipse(box, fill=ice, outline=scale(ice, 0.8), width=3)
        for _ in range(4):
            x = cx + float(rng.uniform(-0.3, 0.3)) * w
            cv.d.line(
                (x, base - h * 0.7, x + float(rng.uniform(-0.15, 0.15)) * w, base - h * 0.3),
                fill=(255, 255, 255),
                width=2,
            )
        return
    water = mix(sky_mean(cv), cv.lit((36, 96, 146)), 0.45)
    cv.d.ellipse(box, fill=water, outline=cv.lit((96, 120, 80)), width=4)
    for _ in range(7):
        x, y = cx + float(rng.uniform(-0.32, 0.25)) * w, base - h * float(rng.uniform(0.25, 0.75))
        cv.d.line(
            (x, y, x + w * float(rng.uniform(0.05, 0.12)), y), fill=mix(water, (255, 255, 255), 0.4), width=2
        )


def paint_shadows(cv: Canvas) -> None:
    """Cast shadows on the ground for every upright object (none under overcast or dark skies)."""
    dx, strength = cv.light.shadow
    if strength <= 0.02:
        return
    alpha = int(200 * strength)
    for obj in cv.spec.objects:
        if obj.kind == "water":
            continue
        cx, base, w, h = _box(obj, cv)
        reach, depth = dx * h * 0.55, max(4.0, h * 0.05)
        half = w * (0.5 if obj.kind in ("building", "vehicle") else 0.25)
        cv.da.polygon(
            [
                (cx - half, base + 2),
                (cx + half, base + 2),
                (cx + half + reach, base - depth),
                (cx - half + reach, base - depth),
            ],
            fill=(0, 0, 0, alpha),
        )
        cv.da.ellipse(
            (cx - half * 1.1, base - depth * 0.6, cx + half * 1.1, base + depth * 0.5), fill=(0, 0, 0, alpha)
        )
