"""Flat-design product drawings for the ``ads-abstract`` suite: a dozen products from Pillow shapes.

Each painter draws one product inside a pixel box, keeping the product's own aspect ratio, and
returns the box it actually covered (what the suite records as the product's layout box).

Determinism: coordinates are computed with Python float ``+ - * /`` only (no ``sin``/``cos``: the
few angles needed are written as constants) and rounded to ints before Pillow rasterises them, so
one spec gives the same pixels on any machine with the same Pillow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageDraw

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]


def clamp8(v: float) -> int:
    return 0 if v <= 0 else 255 if v >= 255 else int(round(v))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend from ``a`` (t=0) to ``b`` (t=1)."""
    return (
        clamp8(a[0] + (b[0] - a[0]) * t),
        clamp8(a[1] + (b[1] - a[1]) * t),
        clamp8(a[2] + (b[2] - a[2]) * t),
    )


def lighter(c: RGB, t: float = 0.35) -> RGB:
    return mix(c, (255, 255, 255), t)


def darker(c: RGB, t: float = 0.3) -> RGB:
    return mix(c, (0, 0, 0), t)


def luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def distance(a: RGB, b: RGB) -> float:
    """Squared-free RGB distance, good enough to keep a product off a same-coloured background."""
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2) ** 0.5


@dataclass(frozen=True)
class ProductColors:
    """``main`` is the product's colour (recorded in the sample's context); the rest derive from it."""

    main: RGB
    second: RGB
    dark: RGB = (40, 42, 54)
    metal: RGB = (214, 178, 94)


@dataclass(frozen=True)
class Frame:
    """Maps unit coordinates (u right, v down, both 0..1) of a product onto a pixel box."""

    x0: float
    y0: float
    w: float
    h: float

    def p(self, u: float, v: float) -> tuple[int, int]:
        return (int(round(self.x0 + u * self.w)), int(round(self.y0 + v * self.h)))

    def r(self, u0: float, v0: float, u1: float, v1: float) -> list[int]:
        a, b = self.p(u0, v0), self.p(u1, v1)
        return [a[0], a[1], max(a[0], b[0]), max(a[1], b[1])]

    def poly(self, pts: list[tuple[float, float]]) -> list[tuple[int, int]]:
        return [self.p(u, v) for u, v in pts]

    def circle(self, u: float, v: float, radius_h: float) -> list[int]:
        """A true circle centred at (u, v) with a radius in units of the frame's height."""
        cx, cy = self.p(u, v)
        r = int(round(radius_h * self.h))
        return [cx - r, cy - r, cx + r, cy + r]

    def px(self, length_w: float) -> int:
        """A length in units of the frame's width, in pixels (at least 1)."""
        return max(1, int(round(length_w * self.w)))

    @property
    def box(self) -> Box:
        return (
            int(round(self.x0)),
            int(round(self.y0)),
            int(round(self.x0 + self.w)),
            int(round(self.y0 + self.h)),
        )


Painter = Callable[[ImageDraw.ImageDraw, Frame, ProductColors], None]


def _bottle(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.33, 0.0, 0.67, 0.1), radius=f.px(0.05), fill=c.dark)
    d.rectangle(f.r(0.37, 0.09, 0.63, 0.2), fill=lighter(c.main, 0.2))
    d.polygon(f.poly([(0.37, 0.18), (0.63, 0.18), (0.95, 0.34), (0.05, 0.34)]), fill=c.main)
    d.rounded_rectangle(f.r(0.05, 0.3, 0.95, 1.0), radius=f.px(0.2), fill=c.main)
    d.rectangle(f.r(0.05, 0.48, 0.95, 0.76), fill=c.second)
    d.rectangle(f.r(0.05, 0.56, 0.95, 0.59), fill=lighter(c.second, 0.5))
    d.rounded_rectangle(f.r(0.15, 0.36, 0.24, 0.92), radius=f.px(0.045), fill=lighter(c.main, 0.3))


def _sneaker(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    upper = [
        (0.02, 0.8),
        (0.02, 0.42),
        (0.07, 0.27),
        (0.27, 0.25),
        (0.36, 0.32),
        (0.47, 0.22),
        (0.57, 0.25),
        (0.64, 0.38),
        (0.82, 0.48),
        (0.96, 0.56),
        (1.0, 0.68),
        (1.0, 0.8),
    ]
    d.polygon(f.poly(upper), fill=c.main)
    d.polygon(
        f.poly([(0.02, 0.42), (0.07, 0.27), (0.16, 0.26), (0.18, 0.8), (0.02, 0.8)]),
        fill=darker(c.main, 0.15),
    )
    d.polygon(f.poly([(0.08, 0.28), (0.27, 0.26), (0.35, 0.33), (0.28, 0.36), (0.1, 0.34)]), fill=c.dark)
    d.polygon(
        f.poly([(0.41, 0.3), (0.47, 0.22), (0.57, 0.25), (0.6, 0.34), (0.5, 0.4)]), fill=lighter(c.main, 0.3)
    )
    d.chord(f.r(0.76, 0.52, 1.0, 1.0), 200, 340, fill=lighter(c.main, 0.18))
    d.polygon(f.poly([(0.2, 0.72), (0.55, 0.5), (0.74, 0.5), (0.42, 0.72)]), fill=c.second)
    for i in range(3):
        u, v = 0.45 + i * 0.06, 0.38 + i * 0.035
        d.line([f.p(u, v), f.p(u + 0.07, v - 0.06)], fill=lighter(c.main, 0.75), width=f.px(0.016))
    d.rounded_rectangle(f.r(0.0, 0.76, 1.02, 1.0), radius=f.px(0.06), fill=(244, 244, 240))
    d.rectangle(f.r(0.03, 0.87, 0.99, 0.9), fill=(205, 205, 200))


def _phone(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.0, 0.0, 1.0, 1.0), radius=f.px(0.16), fill=c.dark)
    d.rounded_rectangle(f.r(0.06, 0.03, 0.94, 0.97), radius=f.px(0.11), fill=c.main)
    d.rounded_rectangle(f.r(0.36, 0.05, 0.64, 0.085), radius=f.px(0.04), fill=c.dark)
    tile = [c.second, lighter(c.second, 0.45), (255, 255, 255), darker(c.main, 0.25)]
    for row in range(4):
        for col in range(3):
            u, v = 0.16 + col * 0.25, 0.16 + row * 0.14
            d.rounded_rectangle(f.r(u, v, u + 0.18, v + 0.09), radius=f.px(0.05), fill=tile[(row + col) % 4])
    d.rounded_rectangle(f.r(0.1, 0.82, 0.9, 0.93), radius=f.px(0.06), fill=lighter(c.main, 0.35))


def _coffee(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.polygon(f.poly([(0.13, 0.2), (0.87, 0.2), (0.77, 1.0), (0.23, 1.0)]), fill=c.main)
    d.polygon(f.poly([(0.16, 0.44), (0.84, 0.44), (0.8, 0.74), (0.2, 0.74)]), fill=c.second)
    d.ellipse(f.circle(0.5, 0.59, 0.09), fill=lighter(c.second, 0.6))
    d.rounded_rectangle(f.r(0.06, 0.1, 0.94, 0.22), radius=f.px(0.05), fill=c.dark)
    d.rounded_rectangle(f.r(0.18, 0.02, 0.82, 0.12), radius=f.px(0.06), fill=lighter(c.dark, 0.15))
    d.rectangle(f.r(0.2, 0.24, 0.26, 0.4), fill=lighter(c.main, 0.35))


def _handbag(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.arc(f.r(0.26, 0.0, 0.74, 0.62), 180, 360, fill=c.dark, width=f.px(0.06))
    d.polygon(f.poly([(0.09, 0.33), (0.91, 0.33), (1.0, 1.0), (0.0, 1.0)]), fill=c.main)
    d.polygon(f.poly([(0.09, 0.33), (0.91, 0.33), (0.84, 0.6), (0.16, 0.6)]), fill=darker(c.main, 0.15))
    d.rounded_rectangle(f.r(0.43, 0.54, 0.57, 0.66), radius=f.px(0.02), fill=c.metal)
    d.rectangle(f.r(0.0, 0.94, 1.0, 1.0), fill=darker(c.main, 0.25))


def _car(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    glass = (200, 226, 240)
    d.polygon(f.poly([(0.2, 0.5), (0.31, 0.1), (0.68, 0.1), (0.84, 0.5)]), fill=c.main)
    d.polygon(f.poly([(0.26, 0.47), (0.35, 0.16), (0.49, 0.16), (0.49, 0.47)]), fill=glass)
    d.polygon(f.poly([(0.52, 0.47), (0.52, 0.16), (0.65, 0.16), (0.77, 0.47)]), fill=glass)
    d.rounded_rectangle(f.r(0.0, 0.44, 1.0, 0.84), radius=f.px(0.06), fill=c.main)
    d.line([f.p(0.5, 0.5), f.p(0.5, 0.8)], fill=darker(c.main, 0.2), width=f.px(0.006))
    d.rectangle(f.r(0.04, 0.62, 0.96, 0.66), fill=c.second)
    d.rounded_rectangle(f.r(0.93, 0.5, 0.995, 0.6), radius=f.px(0.01), fill=(255, 236, 140))
    d.rounded_rectangle(f.r(0.005, 0.5, 0.05, 0.6), radius=f.px(0.01), fill=(229, 57, 53))
    for u in (0.22, 0.78):
        d.ellipse(f.circle(u, 0.8, 0.2), fill=c.dark)
        d.ellipse(f.circle(u, 0.8, 0.1), fill=(190, 196, 204))


def _headphones(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.arc(f.r(0.1, 0.0, 0.9, 0.9), 180, 360, fill=c.main, width=f.px(0.08))
    d.rounded_rectangle(f.r(0.12, 0.04, 0.88, 0.12), radius=f.px(0.04), fill=c.second)
    for u0 in (0.0, 0.72):
        d.rounded_rectangle(f.r(u0, 0.46, u0 + 0.28, 0.98), radius=f.px(0.1), fill=c.main)
    d.rounded_rectangle(f.r(0.2, 0.52, 0.3, 0.92), radius=f.px(0.04), fill=c.dark)
    d.rounded_rectangle(f.r(0.7, 0.52, 0.8, 0.92), radius=f.px(0.04), fill=c.dark)
    d.ellipse(f.circle(0.12, 0.72, 0.07), fill=c.second)
    d.ellipse(f.circle(0.88, 0.72, 0.07), fill=c.second)


def _watch(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.2, 0.0, 0.8, 0.4), radius=f.px(0.08), fill=c.second)
    d.rounded_rectangle(f.r(0.2, 0.6, 0.8, 1.0), radius=f.px(0.08), fill=c.second)
    for v in (0.76, 0.84, 0.92):
        d.ellipse(f.circle(0.5, v, 0.012), fill=darker(c.second, 0.35))
    d.rounded_rectangle(f.r(0.93, 0.47, 1.0, 0.53), radius=f.px(0.02), fill=c.metal)
    d.ellipse(f.circle(0.5, 0.5, 0.27), fill=c.main)
    d.ellipse(f.circle(0.5, 0.5, 0.225), fill=(250, 249, 244))
    cx, cy = f.p(0.5, 0.5)
    r = 0.2 * f.h
    tick = max(2, int(round(0.018 * f.h)))
    for dx, dy in ((0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)):
        x, y = int(round(cx + dx * r * 0.85)), int(round(cy + dy * r * 0.85))
        d.ellipse([x - tick, y - tick, x + tick, y + tick], fill=c.dark)
    # hands at 10:10: unit vectors (-0.866, -0.5) and (0.866, -0.5), written out to avoid trig
    d.line(
        [(cx, cy), (int(round(cx - 0.866 * r * 0.55)), int(round(cy - 0.5 * r * 0.55)))],
        fill=c.dark,
        width=max(2, int(round(0.02 * f.h))),
    )
    d.line(
        [(cx, cy), (int(round(cx + 0.866 * r * 0.75)), int(round(cy - 0.5 * r * 0.75)))],
        fill=c.dark,
        width=max(2, int(round(0.014 * f.h))),
    )
    d.ellipse([cx - tick, cy - tick, cx + tick, cy + tick], fill=(229, 57, 53))


def _laptop(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.1, 0.0, 0.9, 0.8), radius=f.px(0.03), fill=c.dark)
    d.rectangle(f.r(0.13, 0.04, 0.87, 0.75), fill=c.main)
    d.rectangle(f.r(0.13, 0.04, 0.87, 0.12), fill=darker(c.main, 0.2))
    d.rounded_rectangle(f.r(0.18, 0.18, 0.5, 0.5), radius=f.px(0.02), fill=lighter(c.main, 0.5))
    d.rounded_rectangle(f.r(0.55, 0.18, 0.82, 0.3), radius=f.px(0.02), fill=c.second)
    d.rounded_rectangle(f.r(0.55, 0.35, 0.82, 0.5), radius=f.px(0.02), fill=lighter(c.second, 0.4))
    d.rounded_rectangle(f.r(0.18, 0.56, 0.82, 0.68), radius=f.px(0.02), fill=lighter(c.main, 0.3))
    d.polygon(f.poly([(0.0, 0.82), (1.0, 0.82), (0.96, 0.94), (0.04, 0.94)]), fill=(200, 204, 210))
    d.rectangle(f.r(0.0, 0.79, 1.0, 0.84), fill=(222, 226, 230))
    d.rounded_rectangle(f.r(0.42, 0.82, 0.58, 0.86), radius=f.px(0.01), fill=(170, 174, 180))


def _perfume(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.34, 0.0, 0.66, 0.2), radius=f.px(0.04), fill=c.metal)
    d.rectangle(f.r(0.41, 0.19, 0.59, 0.3), fill=darker(c.metal, 0.2))
    d.rounded_rectangle(f.r(0.0, 0.28, 1.0, 1.0), radius=f.px(0.14), fill=lighter(c.main, 0.55))
    d.rounded_rectangle(f.r(0.08, 0.42, 0.92, 0.94), radius=f.px(0.1), fill=c.main)
    d.rectangle(f.r(0.24, 0.56, 0.76, 0.74), fill=(252, 250, 245))
    d.rectangle(f.r(0.3, 0.64, 0.7, 0.66), fill=c.dark)
    d.rounded_rectangle(f.r(0.1, 0.33, 0.18, 0.9), radius=f.px(0.04), fill=lighter(c.main, 0.75))


def _backpack(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.arc(f.r(0.34, 0.0, 0.66, 0.24), 180, 360, fill=c.dark, width=f.px(0.05))
    d.rounded_rectangle(f.r(0.0, 0.3, 0.1, 0.86), radius=f.px(0.04), fill=c.dark)
    d.rounded_rectangle(f.r(0.9, 0.3, 1.0, 0.86), radius=f.px(0.04), fill=c.dark)
    d.rounded_rectangle(f.r(0.06, 0.1, 0.94, 1.0), radius=f.px(0.28), fill=c.main)
    d.rounded_rectangle(f.r(0.2, 0.56, 0.8, 0.92), radius=f.px(0.1), fill=c.second)
    d.line([f.p(0.26, 0.64), f.p(0.74, 0.64)], fill=darker(c.second, 0.3), width=f.px(0.015))
    d.rounded_rectangle(f.r(0.3, 0.24, 0.7, 0.3), radius=f.px(0.03), fill=darker(c.main, 0.2))


def _sunglasses(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.line([f.p(0.0, 0.22), f.p(0.06, 0.22)], fill=c.main, width=f.px(0.025))
    d.line([f.p(0.94, 0.22), f.p(1.0, 0.22)], fill=c.main, width=f.px(0.025))
    d.arc(f.r(0.42, 0.12, 0.58, 0.6), 200, 340, fill=c.main, width=f.px(0.025))
    for u0 in (0.04, 0.54):
        d.rounded_rectangle(f.r(u0, 0.1, u0 + 0.42, 0.95), radius=f.px(0.12), fill=c.main)
        d.rounded_rectangle(f.r(u0 + 0.025, 0.2, u0 + 0.395, 0.86), radius=f.px(0.1), fill=c.dark)
        d.line([f.p(u0 + 0.08, 0.62), f.p(u0 + 0.2, 0.32)], fill=lighter(c.dark, 0.35), width=f.px(0.02))


def _camera(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.3, 0.04, 0.66, 0.26), radius=f.px(0.03), fill=c.dark)
    d.rounded_rectangle(f.r(0.08, 0.08, 0.22, 0.22), radius=f.px(0.02), fill=c.second)
    d.rounded_rectangle(f.r(0.0, 0.2, 1.0, 1.0), radius=f.px(0.07), fill=c.main)
    d.rectangle(f.r(0.0, 0.36, 1.0, 0.84), fill=c.dark)
    d.ellipse(f.circle(0.5, 0.6, 0.34), fill=c.main)
    d.ellipse(f.circle(0.5, 0.6, 0.27), fill=c.dark)
    d.ellipse(f.circle(0.5, 0.6, 0.17), fill=c.second)
    d.ellipse(f.circle(0.46, 0.55, 0.05), fill=lighter(c.second, 0.7))
    d.rounded_rectangle(f.r(0.78, 0.26, 0.94, 0.33), radius=f.px(0.01), fill=(255, 248, 220))


def _suitcase(d: ImageDraw.ImageDraw, f: Frame, c: ProductColors) -> None:
    d.rounded_rectangle(f.r(0.34, 0.0, 0.66, 0.12), radius=f.px(0.05), outline=c.dark, width=f.px(0.05))
    d.ellipse(f.circle(0.18, 0.955, 0.045), fill=c.dark)
    d.ellipse(f.circle(0.82, 0.955, 0.045), fill=c.dark)
    d.rounded_rectangle(f.r(0.0, 0.09, 1.0, 0.94), radius=f.px(0.1), fill=c.main)
    for u in (0.25, 0.5, 0.75):
        d.rounded_rectangle(
            f.r(u - 0.035, 0.14, u + 0.035, 0.89), radius=f.px(0.03), fill=darker(c.main, 0.15)
        )
    d.rectangle(f.r(0.0, 0.46, 1.0, 0.5), fill=c.second)


@dataclass(frozen=True)
class Product:
    """A drawable product: its painter, its natural width/height ratio and the words adverts use."""

    name: str
    aspect: float
    paint: Painter
    noun: str
    plural: bool = False


PRODUCTS: dict[str, Product] = {
    p.name: p
    for p in (
        Product("bottle", 0.42, _bottle, "water bottle"),
        Product("sneaker", 1.9, _sneaker, "running shoe"),
        Product("phone", 0.5, _phone, "smartphone"),
        Product("coffee", 0.72, _coffee, "coffee"),
        Product("handbag", 1.05, _handbag, "handbag"),
        Product("car", 2.2, _car, "car"),
        Product("headphones", 1.0, _headphones, "headphones", plural=True),
        Product("watch", 0.55, _watch, "watch"),
        Product("laptop", 1.45, _laptop, "laptop"),
        Product("perfume", 0.8, _perfume, "perfume"),
        Product("backpack", 0.8, _backpack, "backpack"),
        Product("sunglasses", 2.6, _sunglasses, "sunglasses", plural=True),
        Product("camera", 1.45, _camera, "camera"),
        Product("suitcase", 0.7, _suitcase, "suitcase"),
    )
}


def fit_frame(box: tuple[float, float, float, float], aspect: float) -> Frame:
    """The largest frame of ``aspect`` (w/h) centred in ``box`` (pixels), resting on its bottom third."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    w, h = (bw, bw / aspect) if bw / bh < aspect else (bh * aspect, bh)
    return Frame(x0 + (bw - w) / 2, y0 + (bh - h) * 0.6, w, h)


def paint_product(
    d: ImageDraw.ImageDraw,
    name: str,
    box: tuple[float, float, float, float],
    colors: ProductColors,
    shadow: RGB | None,
) -> Box:
    """Draw product ``name`` fitted in ``box`` (with a flat shadow ellipse under it); the box it covers,
    shadow included (the shadow belongs to the product when a judge checks it was kept). The covered
    box stays inside ``box``."""
    product = PRODUCTS[name]
    if shadow is None:
        f = fit_frame(box, product.aspect)
        product.paint(d, f, colors)
        return f.box
    # The shadow reaches 4 % of the width past each side and 6 % of the height below: fit the
    # product with its shadow, then take the product's own frame out of it.
    outer = fit_frame(box, product.aspect * 1.08 / 1.06)
    f = Frame(outer.x0 + outer.w * 0.04 / 1.08, outer.y0, outer.w / 1.08, outer.h / 1.06)
    d.ellipse(f.r(-0.04, 0.96, 1.04, 1.06), fill=shadow)
    product.paint(d, f, colors)
    x0, y0, _, _ = f.box
    sx0, _, sx1, sy1 = f.r(-0.04, 0.96, 1.04, 1.06)
    return (min(x0, sx0), y0, sx1, sy1)
