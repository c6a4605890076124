"""Render an :class:`AdSpec` into a 512 px flat-design advert and say where each element landed.

The advert is drawn at twice its size and box-reduced (``Image.reduce``), which gives smooth edges
without relying on any platform's anti-aliasing. Text uses Pillow's built-in font
(``ImageFont.load_default(size=...)``), never a system font. Placement randomness (decoration
positions, small layout jitter) comes from ``random.Random(spec.seed)``, whose stream is fixed
across platforms and Python versions, so a spec always renders to the same pixels.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from suites.builtin._ads_paint import RGB, ProductColors, darker, lighter, luma, mix, paint_product
from suites.builtin._ads_style import LAYOUTS, PALETTES, PRODUCT_COLORS, Palette

SIZE = 512
SCALE = 2
S = SIZE * SCALE  # drawing canvas side

RelBox = tuple[float, float, float, float]
PxBox = tuple[int, int, int, int]


# cos/sin of k * 22.5 degrees, written out so no libm call decides a pixel.
# fmt: off
_C16 = (1.0, 0.92388, 0.70711, 0.38268, 0.0, -0.38268, -0.70711, -0.92388,
        -1.0, -0.92388, -0.70711, -0.38268, 0.0, 0.38268, 0.70711, 0.92388)
# fmt: on
_S16 = _C16[4:] + _C16[:4]


@dataclass(frozen=True)
class AdSpec:
    """Everything that decides an advert's pixels. ``seed`` drives only placement jitter."""

    product: str
    product_color: str
    second_color: str
    brand: str
    logo_mark: str
    headline: str
    subline: str
    price: str
    price_style: str
    palette: str
    background: str
    layout: str
    decorations: tuple[str, ...]
    seed: int

    @classmethod
    def from_json(cls, data: dict) -> AdSpec:
        """The spec stored in a sample's ``truth["spec"]`` (JSON lists back to tuples)."""
        return cls(**{**data, "decorations": tuple(data["decorations"])})


@dataclass(frozen=True)
class Rendered:
    """The advert and where its parts are, as relative boxes ``(x0, y0, x1, y1)`` in 0..1."""

    image: Image.Image
    boxes: dict[str, RelBox]
    decorations: tuple[RelBox, ...] = field(default=())
    panel: RelBox | None = None  # the solid accent area texts sit on, in layouts that have one


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's embedded font at ``size`` px: identical on every machine, with or without fonts."""
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def _px(box: RelBox) -> PxBox:
    return (int(round(box[0] * S)), int(round(box[1] * S)), int(round(box[2] * S)), int(round(box[3] * S)))


def _rel(box: PxBox) -> RelBox:
    return tuple(round(min(1.0, max(0.0, v / S)), 4) for v in box)  # type: ignore[return-value]


def _union(a: PxBox | None, b: PxBox) -> PxBox:
    return b if a is None else (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _overlaps(a: PxBox, b: PxBox, margin: int = 0) -> bool:
    return not (
        a[2] + margin <= b[0] or b[2] + margin <= a[0] or a[3] + margin <= b[1] or b[3] + margin <= a[1]
    )


# --------------------------------------------------------------------------------- background


def _ramp(a: RGB, b: RGB, n: int) -> np.ndarray:
    """``n`` colours from ``a`` to ``b`` (uint8, ``n x 3``): gradients are lookups into this ramp."""
    t = np.arange(n, dtype=np.float64) / max(1, n - 1)
    lo, hi = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    return np.clip(np.rint(lo[None, :] + (hi - lo)[None, :] * t[:, None]), 0, 255).astype(np.uint8)


def _background(spec: AdSpec, pal: Palette, focus: tuple[float, float]) -> Image.Image:
    kind = spec.background
    idx = np.arange(S)
    if kind == "gradient":
        rgb = np.broadcast_to(_ramp(pal.bg, pal.bg2, S)[:, None, :], (S, S, 3))
    elif kind == "diagonal":
        rgb = _ramp(pal.bg, pal.bg2, 2 * S - 1)[idx[:, None] + idx[None, :]]
    elif kind == "radial":
        coords = (idx.astype(np.float64) + 0.5) / S
        dy = coords[:, None] - focus[1]
        dx = coords[None, :] - focus[0]
        t = np.minimum(np.sqrt(dx * dx + dy * dy) / 0.75, 1.0)
        rgb = _ramp(lighter(pal.bg, 0.25), pal.bg, 1024)[(t * 1023.0 + 0.5).astype(np.intp)]
    else:
        rgb = None
    img = (
        Image.new("RGB", (S, S), pal.bg) if rgb is None else Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    )
    d = ImageDraw.Draw(img)
    soft = mix(pal.bg, (255, 255, 255) if luma(pal.bg) < 170 else (0, 0, 0), 0.1)
    if kind == "dots":
        step = S // 16
        r = S // 160
        for y in range(step // 2, S, step):
            for x in range(step // 2 + (step // 2 if (y // step) % 2 else 0), S, step):
                d.ellipse([x - r, y - r, x + r, y + r], fill=soft)
    elif kind == "stripes":
        w = S // 20
        for k in range(-S, S, 2 * w):
            d.polygon([(k, S), (k + w, S), (k + w + S, 0), (k + S, 0)], fill=soft)
    elif kind == "disc":
        cx, cy = int(round(focus[0] * S)), int(round(focus[1] * S))
        r = int(round(0.3 * S))
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=lighter(pal.bg, 0.3))
    return img


# ------------------------------------------------------------------------------------- text


def _fit_lines(
    text: str, width: int, height: int, max_size: int, max_lines: int = 2
) -> tuple[list[str], int]:
    """Split ``text`` into at most ``max_lines`` balanced lines and the largest size that fits."""
    words = text.split()
    options: list[list[str]] = [[text]]
    if max_lines >= 2 and len(words) > 1:
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        best = min(splits, key=lambda p: max(len(p[0]), len(p[1])))
        options.append(list(best))
    best_lines, best_size = options[0], 8
    for lines in options:
        size = max_size
        while size > 8:
            f = font(size)
            w = max(f.getlength(line) for line in lines)
            h = size * 1.15 * len(lines)
            if w <= width and h <= height:
                break
            size -= 2
        if size > best_size:
            best_lines, best_size = lines, size
    return best_lines, best_size


def _text_block(
    d: ImageDraw.ImageDraw,
    text: str,
    box: PxBox,
    color: RGB,
    max_size: int,
    align: str,
    bold: bool = True,
    max_lines: int = 2,
) -> PxBox:
    """Draw ``text`` fitted into ``box`` (top-aligned); the box its ink covers."""
    lines, size = _fit_lines(text, box[2] - box[0], box[3] - box[1], max_size, max_lines)
    f = font(size)
    stroke = max(1, size // 28) if bold else 0
    covered: PxBox | None = None
    y = box[1]
    for line in lines:
        w = f.getlength(line)
        x = box[0] if align == "left" else (box[0] + box[2] - w) / 2 if align == "center" else box[2] - w
        xy = (int(round(x)), int(round(y)))
        d.text(xy, line, fill=color, font=f, stroke_width=stroke, stroke_fill=color)
        covered = _union(covered, tuple(int(v) for v in d.textbbox(xy, line, font=f, stroke_width=stroke)))  # type: ignore[arg-type]
        y += size * 1.15
    assert covered is not None
    return covered


# ------------------------------------------------------------------------------ logo, price


def _logo(
    d: ImageDraw.ImageDraw, spec: AdSpec, anchor: tuple[float, float], align: str, color: RGB, mark_color: RGB
) -> PxBox:
    """A geometric mark and the brand name beside it; ``anchor`` is its top-left (or top-right/centre)."""
    m = int(round(0.055 * S))
    f = font(int(round(0.036 * S)))
    name = spec.brand.upper()
    text_w = int(round(f.getlength(name))) + 2
    total = m + m // 3 + text_w
    ax, ay = int(round(anchor[0] * S)), int(round(anchor[1] * S))
    x0 = ax if align == "left" else ax - total if align == "right" else ax - total // 2
    box = (x0, ay, x0 + m, ay + m)
    cx, cy, r = x0 + m // 2, ay + m // 2, m // 2
    kind = spec.logo_mark
    if kind == "circle":
        d.ellipse(box, fill=mark_color)
    elif kind == "ring":
        d.ellipse(box, outline=mark_color, width=max(2, m // 6))
    elif kind == "triangle":
        d.polygon([(cx, ay), (x0 + m, ay + m), (x0, ay + m)], fill=mark_color)
    elif kind == "diamond":
        d.polygon([(cx, ay), (x0 + m, cy), (cx, ay + m), (x0, cy)], fill=mark_color)
    elif kind == "square":
        d.rounded_rectangle(box, radius=m // 5, fill=mark_color)
    elif kind == "hexagon":
        h = 0.866 * r
        d.polygon(
            [
                (cx - r, cy),
                (cx - r / 2, cy - h),
                (cx + r / 2, cy - h),
                (cx + r, cy),
                (cx + r / 2, cy + h),
                (cx - r / 2, cy + h),
            ],
            fill=mark_color,
        )
    elif kind == "twin":
        d.ellipse((x0, ay + m // 4, x0 + 2 * m // 3, ay + m // 4 + 2 * m // 3), fill=mark_color)
        d.ellipse(
            (x0 + m // 3, ay + m // 12, x0 + m, ay + m // 12 + 2 * m // 3),
            outline=mark_color,
            width=max(2, m // 8),
        )
    else:  # half
        d.pieslice(box, 180, 360, fill=mark_color)
        d.rectangle((x0, cy + m // 8, x0 + m, cy + m // 4), fill=mark_color)
    tx = x0 + m + m // 3
    ty = ay + (m - int(round(0.036 * S))) // 2
    d.text((tx, ty), name, fill=color, font=f, stroke_width=1, stroke_fill=color)
    tb = d.textbbox((tx, ty), name, font=f, stroke_width=1)
    return _union(box, tuple(int(v) for v in tb))  # type: ignore[arg-type]


def _price(d: ImageDraw.ImageDraw, spec: AdSpec, box: PxBox, fill: RGB, ink: RGB) -> PxBox:
    """The price tag in ``box`` (its style decides the shape); the box it covers."""
    x0, y0, x1, y1 = box
    style = spec.price_style
    if style in ("badge", "burst"):
        side = min(x1 - x0, y1 - y0)
        cx, cy, r = (x0 + x1) // 2, (y0 + y1) // 2, side // 2
        if style == "badge":
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        else:
            pts = []
            for k in range(32):
                rr = r if k % 2 == 0 else r * 0.84
                c, s = (
                    (_C16[k // 2], _S16[k // 2])
                    if k % 2 == 0
                    else (
                        (_C16[k // 2] + _C16[(k // 2 + 1) % 16]) / 1.96157,
                        (_S16[k // 2] + _S16[(k // 2 + 1) % 16]) / 1.96157,
                    )
                )
                pts.append((int(round(cx + c * rr)), int(round(cy + s * rr))))
            d.polygon(pts, fill=fill)
        inner = (cx - int(r * 0.72), cy - int(r * 0.3), cx + int(r * 0.72), cy + int(r * 0.3))
        _text_block(d, spec.price, inner, ink, max_size=int(r * 0.6), align="center", max_lines=1)
        return (cx - r, cy - r, cx + r, cy + r)
    height = min(y1 - y0, int(0.12 * S))
    ty0 = y0 + (y1 - y0 - height) // 2
    f_size = int(height * 0.55)
    width = min(
        x1 - x0, int(font(f_size).getlength(spec.price)) + int(height * (1.3 if style == "tag" else 0.9))
    )
    tx0 = x0 if x0 < S // 2 else x1 - width
    rect = (tx0, ty0, tx0 + width, ty0 + height)
    if style == "pill":
        d.rounded_rectangle(rect, radius=height // 2, fill=fill)
        inner = (rect[0] + height // 3, rect[1] + height // 4, rect[2] - height // 3, rect[3] - height // 5)
    else:  # tag: a label with a pointed left end and a punched hole
        notch = height // 2
        d.polygon(
            [
                (rect[0], ty0 + height // 2),
                (rect[0] + notch, ty0),
                (rect[2], ty0),
                (rect[2], rect[3]),
                (rect[0] + notch, rect[3]),
            ],
            fill=fill,
        )
        hr = max(3, height // 10)
        hx, hy = rect[0] + notch // 2 + hr, ty0 + height // 2
        d.ellipse([hx - hr, hy - hr, hx + hr, hy + hr], fill=mix(fill, (255, 255, 255), 0.85))
        inner = (rect[0] + notch + hr, rect[1] + height // 4, rect[2] - height // 4, rect[3] - height // 5)
    _text_block(d, spec.price, inner, ink, max_size=f_size, align="center", max_lines=1)
    return rect


# ------------------------------------------------------------------------------ decorations


def _decorate(
    d: ImageDraw.ImageDraw, kind: str, rng: random.Random, pal: Palette, reserved: list[PxBox], zone: PxBox
) -> list[PxBox]:
    """Scatter a few items of ``kind`` in ``zone`` away from every reserved box; their boxes."""
    colors = [pal.pop, lighter(pal.bg, 0.45), pal.accent]
    out: list[PxBox] = []
    want = {"dots": 7, "confetti": 9, "sparkles": 4, "rings": 3, "zigzag": 2, "blobs": 2}[kind]
    tries = 0
    while len(out) < want and tries < want * 25:
        tries += 1
        size = {
            "dots": 0.018,
            "confetti": 0.03,
            "sparkles": 0.05,
            "rings": 0.07,
            "zigzag": 0.12,
            "blobs": 0.14,
        }[kind]
        s = int(round(size * S * rng.uniform(0.7, 1.3)))
        x = rng.randint(zone[0], max(zone[0], zone[2] - s))
        y = rng.randint(zone[1], max(zone[1], zone[3] - s))
        box = (x, y, x + s, y + (s // 3 if kind == "zigzag" else s))
        if any(_overlaps(box, r, margin=S // 60) for r in reserved + out):
            continue
        color = colors[rng.randrange(len(colors))]
        if kind == "dots":
            d.ellipse(box, fill=color)
        elif kind == "confetti":
            if rng.random() < 0.5:
                d.rectangle((x, y + s // 3, x + s, y + 2 * s // 3), fill=color)
            else:
                d.rectangle((x + s // 3, y, x + 2 * s // 3, y + s), fill=color)
        elif kind == "sparkles":
            cx, cy, q = x + s // 2, y + s // 2, s // 8
            d.polygon(
                [
                    (cx, y),
                    (cx + q, cy - q),
                    (x + s, cy),
                    (cx + q, cy + q),
                    (cx, y + s),
                    (cx - q, cy + q),
                    (x, cy),
                    (cx - q, cy - q),
                ],
                fill=pal.pop,
            )
        elif kind == "rings":
            d.ellipse(box, outline=color, width=max(3, s // 9))
        elif kind == "zigzag":
            n = 5
            pts = [(x + k * s // n, y + (0 if k % 2 else box[3] - y)) for k in range(n + 1)]
            d.line(pts, fill=color, width=max(3, s // 22), joint="curve")
        else:  # blobs: soft, flat shapes in a tint of the background
            d.ellipse(box, fill=lighter(pal.bg, 0.18) if luma(pal.bg) < 200 else darker(pal.bg, 0.06))
        out.append(box)
    return out


# ---------------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class _Plan:
    product: RelBox
    headline: RelBox
    subline: RelBox
    price: RelBox
    logo: tuple[float, float]
    logo_align: str
    text_align: str
    panel: RelBox | None = None  # a solid accent area the texts sit on


def _plan(layout: str, rng: random.Random) -> _Plan:
    j = rng.uniform(-0.02, 0.02)
    k = rng.uniform(-0.02, 0.02)
    if layout == "hero-right":
        return _Plan(
            (0.52, 0.16 + k, 0.95, 0.86 + k),
            (0.06, 0.2 + j, 0.49, 0.44 + j),
            (0.06, 0.47 + j, 0.48, 0.53 + j),
            (0.06, 0.62, 0.32, 0.86),
            (0.06, 0.06),
            "left",
            "left",
        )
    if layout == "hero-left":
        return _Plan(
            (0.05, 0.16 + k, 0.48, 0.86 + k),
            (0.51, 0.2 + j, 0.95, 0.44 + j),
            (0.52, 0.47 + j, 0.95, 0.53 + j),
            (0.64, 0.62, 0.9, 0.86),
            (0.94, 0.06),
            "right",
            "left",
        )
    if layout == "center":
        return _Plan(
            (0.2, 0.31 + k / 2, 0.8, 0.74 + k / 2),
            (0.08, 0.13, 0.92, 0.29),
            (0.05, 0.89, 0.62, 0.95),
            (0.72, 0.76, 0.95, 0.97),
            (0.5, 0.04),
            "center",
            "center",
        )
    if layout == "bottom-band":
        return _Plan(
            (0.2 + j, 0.13, 0.8 + j, 0.64),
            (0.05, 0.71, 0.64, 0.86),
            (0.05, 0.88, 0.64, 0.95),
            (0.7, 0.705, 0.95, 0.975),
            (0.05, 0.05),
            "left",
            "left",
            panel=(0.0, 0.68, 1.0, 1.0),
        )
    if layout == "split":
        return _Plan(
            (0.5, 0.14 + k, 0.96, 0.84 + k),
            (0.05, 0.2 + j, 0.42, 0.46 + j),
            (0.05, 0.49 + j, 0.42, 0.55 + j),
            (0.05, 0.64, 0.29, 0.84),
            (0.05, 0.9),
            "left",
            "left",
            panel=(0.0, 0.0, 0.46, 1.0),
        )
    raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")


def render(spec: AdSpec) -> Rendered:
    """Draw the advert ``spec`` describes at 512 x 512 px, and the boxes of product, headline, price,
    logo (and subline) in relative coordinates."""
    pal = PALETTES[spec.palette]
    rng = random.Random(spec.seed)
    plan = _plan(spec.layout, rng)
    pb = _px(plan.product)
    focus = ((plan.product[0] + plan.product[2]) / 2, (plan.product[1] + plan.product[3]) / 2)
    img = _background(spec, pal, focus)
    d = ImageDraw.Draw(img)
    text_ink, tag_fill, tag_ink, mark = pal.ink, pal.accent, pal.on_accent, pal.accent
    if plan.panel is not None:
        d.rectangle(_px(plan.panel), fill=pal.accent)
        text_ink, tag_fill, mark = pal.on_accent, pal.pop, pal.pop
        tag_ink = (33, 33, 33) if luma(pal.pop) > 150 else (255, 255, 255)
    elif spec.price_style in ("badge", "burst"):
        tag_fill = pal.pop
        tag_ink = (33, 33, 33) if luma(pal.pop) > 150 else (255, 255, 255)
    if luma(mark) > 200 and luma(pal.bg) > 200:
        mark = pal.accent
    colors = ProductColors(PRODUCT_COLORS[spec.product_color], PRODUCT_COLORS[spec.second_color])
    shadow = darker(pal.bg, 0.12)

    boxes: dict[str, PxBox] = {}
    boxes["headline"] = _text_block(
        d, spec.headline, _px(plan.headline), text_ink, int(0.085 * S), plan.text_align
    )
    sub = _px(plan.subline)
    # a centred layout keeps its subline in the bottom-left corner, left-aligned beside the price
    sub_align = "left" if plan.text_align == "center" else plan.text_align
    boxes["subline"] = _text_block(
        d, spec.subline, sub, text_ink, int(0.036 * S), sub_align, bold=False, max_lines=1
    )
    logo_ink = pal.ink if plan.panel is None or plan.logo[1] < plan.panel[1] else pal.on_accent
    if plan.panel is not None and plan.panel[1] == 0.0:
        logo_ink = pal.on_accent
    boxes["logo"] = _logo(d, spec, plan.logo, plan.logo_align, logo_ink, mark)
    boxes["price"] = _price(d, spec, _px(plan.price), tag_fill, tag_ink)
    boxes["product"] = paint_product(d, spec.product, pb, colors, shadow)

    reserved = list(boxes.values())
    if plan.panel is not None:
        reserved.append(_px(plan.panel))
    deco: list[PxBox] = []
    for kind in spec.decorations:
        deco += _decorate(d, kind, rng, pal, reserved + deco, (S // 40, S // 40, S - S // 40, S - S // 40))
    out = img.reduce(SCALE)
    panel = None if plan.panel is None else _rel(_px(plan.panel))
    return Rendered(out, {k: _rel(v) for k, v in boxes.items()}, tuple(_rel(b) for b in deco), panel)
