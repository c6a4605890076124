"""Advertising edits: text, recolouring, background replacement, badges, patterns and borders.

Text uses Pillow's built-in font (``ImageFont.load_default(size=...)``), so the pixels are the same
on machines without system fonts. Positions and sizes are relative to the image (x, y in [0, 1]
from the top-left; sizes as fractions of the height or the short side) so one plan fits any size.
Shapes are drawn at 4x and downsampled for anti-aliasing.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ._color import (
    clip01,
    hex_to_rgb,
    hsv_to_rgb,
    lerp,
    luma,
    match_luma,
    rgb_to_hsv,
)
from ._core import (
    bool_param,
    color_param,
    enum_param,
    int_param,
    make_op,
    number_param,
    string_param,
)
from .masks import DIRECTIONS, gradient_mask

__all__ = ["add_text", "recolor_region", "replace_background", "add_badge", "add_pattern_or_border", "SPEC"]

_SS = 4  # supersampling factor for shapes


def _pil(img: np.ndarray) -> Image.Image:
    return Image.fromarray(np.rint(clip01(img) * 255.0).astype(np.uint8), "RGB")


def _composite(img: np.ndarray, layer: Image.Image) -> np.ndarray:
    """Alpha-composite an RGBA layer of the image's size over ``img``."""
    base = _pil(img).convert("RGBA")
    return np.asarray(Image.alpha_composite(base, layer).convert("RGB"), dtype=np.float32) / 255.0


def _rgba(hex_color: str, alpha: float) -> tuple[int, int, int, int]:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return r, g, b, int(round(255 * alpha))


def _fit_font(
    draw: ImageDraw.ImageDraw, text: str, size_px: int, max_w: float
) -> tuple[ImageFont.FreeTypeFont, tuple]:
    """The largest built-in font size <= ``size_px`` whose text box is at most ``max_w`` wide."""
    size = max(6, size_px)
    while True:
        font = ImageFont.load_default(size=size)
        box = draw.multiline_textbbox((0, 0), text, font=font, align="center")
        if box[2] - box[0] <= max_w or size <= 6:
            return font, box
        size = max(6, int(size * 0.9))


@make_op(
    "add_text",
    "Draw text (Pillow's built-in font) at a relative position, optionally on a rounded background "
    "box; the font shrinks to fit max_width. Multi-line text uses '\\n'.",
    {
        "text": string_param("The text to draw", 200),
        "x": number_param(0.5, 0.0, 1.0, "Relative x of the anchor point"),
        "y": number_param(0.1, 0.0, 1.0, "Relative y of the text box's centre"),
        "size": number_param(0.08, 0.01, 0.5, "Font size as a fraction of the image height"),
        "color": color_param("#FFFFFF", "Text colour"),
        "align": enum_param(("center", "left", "right"), "center", "Which side of the text sits at x"),
        "background": color_param(None, "Colour of a box behind the text; null for none"),
        "background_opacity": number_param(0.7, 0.0, 1.0, "Opacity of the background box"),
        "stroke": number_param(0.0, 0.0, 0.2, "Outline width as a fraction of the font size"),
        "stroke_color": color_param("#000000", "Outline colour"),
        "max_width": number_param(0.9, 0.1, 1.0, "Widest the text may be, as a fraction of the width"),
    },
    category="advert",
)
def add_text(
    img: np.ndarray,
    *,
    text: str,
    x: float,
    y: float,
    size: float,
    color: str,
    align: str,
    background: str | None,
    background_opacity: float,
    stroke: float,
    stroke_color: str,
    max_width: float,
) -> np.ndarray:
    h, w = img.shape[:2]
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font, box = _fit_font(draw, text, int(round(size * h)), max_width * w)
    stroke_px = int(round(stroke * font.size))
    bw, bh = box[2] - box[0] + 2 * stroke_px, box[3] - box[1] + 2 * stroke_px
    left = {"center": x * w - bw / 2, "left": x * w, "right": x * w - bw}[align]
    top = y * h - bh / 2
    if background is not None:
        pad = 0.3 * font.size
        draw.rounded_rectangle(
            (left - pad, top - pad, left + bw + pad, top + bh + pad),
            radius=0.25 * font.size,
            fill=_rgba(background, background_opacity),
        )
    origin = (left - box[0] + stroke_px, top - box[1] + stroke_px)
    draw.multiline_text(
        origin,
        text,
        font=font,
        fill=_rgba(color, 1.0),
        align=align,
        stroke_width=stroke_px,
        stroke_fill=_rgba(stroke_color, 1.0),
    )
    return _composite(img, layer)


@make_op(
    "recolor_region",
    "Recolour the masked region: mode=target gives every pixel the target colour's hue and "
    "saturation, mode=shift rotates hues by hue_shift degrees; with preserve_luminance the "
    "original shading (luma) is kept exactly, so texture and lighting survive.",
    {
        "mode": enum_param(("target", "shift"), "target", "Set a target colour, or rotate hues"),
        "color": color_param("#E53935", "mode=target: the colour to recolour toward"),
        "hue_shift": number_param(0.0, -180.0, 180.0, "mode=shift: hue rotation in degrees"),
        "strength": number_param(1.0, 0.0, 1.0, "Mix between the original (0) and the recolour (1)"),
        "preserve_luminance": bool_param(True, "Keep each pixel's luma"),
    },
    category="advert",
)
def recolor_region(
    img: np.ndarray, *, mode: str, color: str, hue_shift: float, strength: float, preserve_luminance: bool
) -> np.ndarray:
    y = luma(img)
    if mode == "target":
        target = hex_to_rgb(color)
        out = match_luma(target, y) if preserve_luminance else np.broadcast_to(target, img.shape).copy()
    else:
        hsv = rgb_to_hsv(img)
        hsv[..., 0] = (hsv[..., 0] + hue_shift / 360.0) % 1.0
        rotated = hsv_to_rgb(hsv)
        out = match_luma(rotated, y) if preserve_luminance else rotated
    return lerp(img, out, strength)


def _pattern_map(h: int, w: int, pattern: str, scale: float, angle: float = 45.0) -> np.ndarray:
    """A binary-ish ``HxW`` map of a repeating pattern with period ``scale`` * short side."""
    period = max(2.0, scale * min(h, w))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if pattern == "stripes":
        a = math.radians(angle)
        u = xx * math.cos(a) + yy * math.sin(a)
        return ((u / period) % 1.0 < 0.5).astype(np.float32)
    if pattern == "checker":
        return (((xx // period) + (yy // period)) % 2 == 0).astype(np.float32)
    if pattern == "dots":
        row = np.floor(yy / period)
        shift = (row % 2) * period / 2.0  # staggered rows
        dx = ((xx + shift) % period) - period / 2.0
        dy = (yy % period) - period / 2.0
        return np.clip(period * 0.28 - np.hypot(dx, dy) + 0.5, 0.0, 1.0).astype(np.float32)
    raise KeyError(pattern)


@make_op(
    "replace_background",
    "Fill the masked region (meant for the background) with a solid colour, a linear or radial "
    "gradient, or a pattern (stripes, dots, checker); keep_shading carries some of the original's "
    "light and shadow into the fill.",
    {
        "fill": enum_param(
            ("solid", "linear_gradient", "radial_gradient", "pattern"), "solid", "Kind of fill"
        ),
        "color": color_param("#FFFFFF", "Main colour"),
        "color2": color_param("#D0D0D0", "Second colour (gradient end, pattern)"),
        "direction": enum_param(DIRECTIONS[:4], "top_to_bottom", "linear_gradient: from color to color2"),
        "pattern": enum_param(("stripes", "dots", "checker"), "stripes", "fill=pattern: which pattern"),
        "scale": number_param(0.08, 0.01, 0.5, "Pattern period as a fraction of the short side"),
        "keep_shading": number_param(0.0, 0.0, 1.0, "How much of the original's shading modulates the fill"),
    },
    category="advert",
)
def replace_background(
    img: np.ndarray,
    *,
    fill: str,
    color: str,
    color2: str,
    direction: str,
    pattern: str,
    scale: float,
    keep_shading: float,
) -> np.ndarray:
    h, w = img.shape[:2]
    c1, c2 = hex_to_rgb(color), hex_to_rgb(color2)
    if fill == "solid":
        t = np.zeros((h, w), dtype=np.float32)
    elif fill == "linear_gradient":
        t = gradient_mask(h, w, direction)
    elif fill == "radial_gradient":
        t = gradient_mask(h, w, "center_outward")
    else:
        t = 1.0 - _pattern_map(h, w, pattern, scale)
    out = lerp(np.broadcast_to(c1, img.shape), np.broadcast_to(c2, img.shape), t[..., None])
    if keep_shading > 0:
        y = luma(img)
        ratio = y / max(float(y.mean()), 1e-3)
        out = out * (1.0 + (ratio - 1.0) * keep_shading)[..., None]
    return clip01(out)


def _star(cx: float, cy: float, r_out: float, r_in: float, points: int) -> list[tuple[float, float]]:
    pts = []
    for i in range(2 * points):
        r = r_out if i % 2 == 0 else r_in
        a = -math.pi / 2 + i * math.pi / points
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


@make_op(
    "add_badge",
    "Stamp a badge (circle, star, burst or rounded_rect) with short text such as SALE, NEW or ECO "
    "at a relative position, optionally outlined and rotated.",
    {
        "text": string_param("Short badge text", 12, default="SALE"),
        "shape": enum_param(("circle", "star", "burst", "rounded_rect"), "circle", "Badge shape"),
        "x": number_param(0.85, 0.0, 1.0, "Relative x of the badge centre"),
        "y": number_param(0.15, 0.0, 1.0, "Relative y of the badge centre"),
        "size": number_param(0.22, 0.05, 0.8, "Badge width as a fraction of the short side"),
        "color": color_param("#E53935", "Badge fill"),
        "text_color": color_param("#FFFFFF", "Text colour"),
        "outline": color_param(None, "Outline colour; null for none"),
        "rotation": number_param(0.0, -180.0, 180.0, "Rotation in degrees, counter-clockwise"),
    },
    category="advert",
)
def add_badge(
    img: np.ndarray,
    *,
    text: str,
    shape: str,
    x: float,
    y: float,
    size: float,
    color: str,
    text_color: str,
    outline: str | None,
    rotation: float,
) -> np.ndarray:
    h, w = img.shape[:2]
    d = max(8, int(round(size * min(h, w))))
    big = d * _SS
    tile_h = big if shape != "rounded_rect" else big // 2
    tile = Image.new("RGBA", (big, tile_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    fill, line = _rgba(color, 1.0), (_rgba(outline, 1.0) if outline else None)
    lw = max(1, big // 40) if outline else 0
    inset = lw + 1
    c = big / 2
    if shape == "circle":
        draw.ellipse((inset, inset, big - inset, big - inset), fill=fill, outline=line, width=lw)
        text_w = 0.72 * big
    elif shape == "star":
        draw.polygon(_star(c, c * 1.08, c - inset, 0.5 * (c - inset), 5), fill=fill, outline=line, width=lw)
        text_w = 0.42 * big
    elif shape == "burst":
        draw.polygon(_star(c, c, c - inset, 0.82 * (c - inset), 16), fill=fill, outline=line, width=lw)
        text_w = 0.66 * big
    else:
        draw.rounded_rectangle(
            (inset, inset, big - inset, tile_h - inset), radius=tile_h // 4, fill=fill, outline=line, width=lw
        )
        text_w = 0.84 * big
    font, box = _fit_font(draw, text, int(0.32 * tile_h if shape == "rounded_rect" else 0.26 * big), text_w)
    cy = tile_h / 2 + (0.04 * big if shape == "star" else 0)
    tx = c - (box[0] + box[2]) / 2
    ty = cy - (box[1] + box[3]) / 2
    draw.multiline_text((tx, ty), text, font=font, fill=_rgba(text_color, 1.0), align="center")
    tile = tile.resize((d, max(1, tile_h // _SS)), Image.Resampling.LANCZOS)
    if rotation:
        tile = tile.rotate(rotation, resample=Image.Resampling.BICUBIC, expand=True)
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    _place(layer, tile, int(round(x * w - tile.width / 2)), int(round(y * h - tile.height / 2)))
    return _composite(img, layer)


def _place(layer: Image.Image, tile: Image.Image, left: int, top: int) -> None:
    """Alpha-composite ``tile`` onto ``layer`` at (left, top), clipping at every edge."""
    crop_l, crop_t = max(0, -left), max(0, -top)
    crop_r = min(tile.width, layer.width - left)
    crop_b = min(tile.height, layer.height - top)
    if crop_r <= crop_l or crop_b <= crop_t:
        return
    part = tile.crop((crop_l, crop_t, crop_r, crop_b))
    layer.alpha_composite(part, dest=(left + crop_l, top + crop_t))


def _snowflake(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: tuple, width: int) -> None:
    for k in range(6):
        a = k * math.pi / 3
        ex, ey = cx + r * math.cos(a), cy + r * math.sin(a)
        draw.line((cx, cy, ex, ey), fill=fill, width=width)
        for frac in (0.55,):
            bx, by = cx + frac * r * math.cos(a), cy + frac * r * math.sin(a)
            for side in (-1, 1):
                b = a + side * math.pi / 4
                draw.line(
                    (bx, by, bx + 0.3 * r * math.cos(b), by + 0.3 * r * math.sin(b)), fill=fill, width=width
                )


def _leaf(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, angle: float, fill: tuple, vein: tuple
) -> None:
    ts = np.linspace(0.0, math.pi, 12)
    half = [(r * math.cos(t), 0.38 * r * math.sin(t)) for t in ts]
    outline = half + [(px, -py) for px, py in reversed(half)]
    ca, sa = math.cos(angle), math.sin(angle)
    pts = [(cx + px * ca - py * sa, cy + px * sa + py * ca) for px, py in outline]
    draw.polygon(pts, fill=fill)
    draw.line((cx - r * ca, cy - r * sa, cx + r * ca, cy + r * sa), fill=vein, width=max(1, int(r / 10)))


_LEAF_COLORS = ("#C0392B", "#E67E22", "#F1C40F", "#A04000", "#D35400")
_PATTERN_COLORS = {
    "border": "#FFFFFF",
    "stripes": "#FFFFFF",
    "dots": "#FFFFFF",
    "snowflakes": "#FFFFFF",
    "leaves": None,
}


@make_op(
    "add_pattern_or_border",
    "Overlay a decorative pattern or frame: border (a frame along the image edges), stripes, "
    "dots, snowflakes or leaves (scattered by seed; leaves default to autumn colours).",
    {
        "pattern": enum_param(
            ("border", "stripes", "dots", "snowflakes", "leaves"), "border", "What to draw"
        ),
        "color": color_param(None, "Colour; null uses the pattern's default (white; autumn mix for leaves)"),
        "opacity": number_param(0.85, 0.0, 1.0, "Opacity of the overlay"),
        "scale": number_param(0.08, 0.02, 0.5, "Spacing or motif size as a fraction of the short side"),
        "width": number_param(0.04, 0.005, 0.25, "border: thickness as a fraction of the short side"),
        "angle": number_param(45.0, -90.0, 90.0, "stripes: angle in degrees"),
        "seed": int_param(0, 0, 2**31 - 1, "Seed for scattered motifs"),
    },
    category="advert",
)
def add_pattern_or_border(
    img: np.ndarray,
    *,
    pattern: str,
    color: str | None,
    opacity: float,
    scale: float,
    width: float,
    angle: float,
    seed: int,
) -> np.ndarray:
    h, w = img.shape[:2]
    short = min(h, w)
    hex_color = color or _PATTERN_COLORS[pattern]
    if pattern in ("border", "stripes", "dots"):
        if pattern == "border":
            t = max(1, int(round(width * short)))
            alpha = np.zeros((h, w), dtype=np.float32)
            alpha[:t, :], alpha[-t:, :], alpha[:, :t], alpha[:, -t:] = 1.0, 1.0, 1.0, 1.0
        else:
            alpha = _pattern_map(h, w, pattern, scale, angle)
        return lerp(img, hex_to_rgb(hex_color), (alpha * opacity)[..., None])
    rng = np.random.default_rng(seed)
    layer = Image.new("RGBA", (w * _SS, h * _SS), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    motif = scale * short * _SS
    count = max(1, int(round(h * w / (scale * short) ** 2 * 0.35)))
    for _ in range(count):
        cx, cy = rng.uniform(0, w * _SS), rng.uniform(0, h * _SS)
        r = motif * rng.uniform(0.3, 0.5)
        if pattern == "snowflakes":
            _snowflake(draw, cx, cy, r, _rgba(hex_color, opacity), max(_SS, int(r / 6)))
        else:
            leaf = hex_color or _LEAF_COLORS[int(rng.integers(len(_LEAF_COLORS)))]
            _leaf(draw, cx, cy, r, rng.uniform(0, math.pi), _rgba(leaf, opacity), _rgba("#5D2E0C", opacity))
    return _composite(img, layer.resize((w, h), Image.Resampling.LANCZOS))


#: The ops of this module, in catalogue order.
SPEC = tuple(
    op.spec  # type: ignore[attr-defined]
    for op in (add_text, recolor_region, replace_background, add_badge, add_pattern_or_border)
)
