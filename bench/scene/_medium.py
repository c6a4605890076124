"""Artistic media: the last pass, turning the illustration into a photo, pencil sketch, oil
painting, watercolour, pixel art or comic panel.

Each medium leaves a statistical fingerprint the tests rely on: pencil sketches are nearly grey
with dense strokes; pixel art has few colours in 8x8 blocks; comics have flat posterised colour and
black outlines; watercolours are lighter, softer and mottled; oil paint is blotchy and textured.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from bench.scene.spec import SceneSpec


def _stream(spec: SceneSpec, purpose: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([spec.seed, purpose]))


def _img(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")


def _luma(a: np.ndarray) -> np.ndarray:
    return (77 * a[:, :, 0] + 150 * a[:, :, 1] + 29 * a[:, :, 2]) >> 8


def _noise(
    spec: SceneSpec, purpose: int, size: tuple[int, int], cell: tuple[int, int], amp: int
) -> np.ndarray:
    """Smooth noise in -amp..amp: random values on a coarse grid of ``cell`` pixels, enlarged
    bilinearly (anisotropic cells give brush-stroke streaks)."""
    w, h = size
    gw, gh = max(2, w // cell[0]), max(2, h // cell[1])
    small = _stream(spec, purpose).integers(128 - amp, 128 + amp + 1, (gh, gw)).astype(np.uint8)
    return np.asarray(Image.fromarray(small, "L").resize((w, h), Image.BILINEAR), dtype=np.int32) - 128


def _edges(gray: Image.Image) -> np.ndarray:
    """Edge strength 0..255 of an ``L`` image (Pillow's 3x3 edge kernel)."""
    return np.asarray(gray.filter(ImageFilter.FIND_EDGES), dtype=np.int32)


def photo(img: Image.Image, spec: SceneSpec) -> Image.Image:
    """A photograph: the render with a faint film grain."""
    w, h = img.size
    grain = _stream(spec, 50).integers(-3, 4, (h, w)).astype(np.int32)
    return _img(np.asarray(img, dtype=np.int32) + grain[:, :, None])


def pencil_sketch(img: Image.Image, spec: SceneSpec) -> Image.Image:
    """Colour-dodge sketch of the luminance, hatched in the shadows, on warm paper."""
    w, h = img.size
    gray = ImageOps.autocontrast(img.convert("L"), cutoff=1)  # dark or misty scenes still draw
    g = np.asarray(gray, dtype=np.int32)
    inv_blur = np.asarray(
        Image.fromarray((255 - g).astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(max(1, w // 128))),
        dtype=np.int32,
    )
    dodge = np.minimum(255, (g * 256) // np.maximum(1, 256 - inv_blur))
    dodge = 255 - (((255 - dodge) * 3) >> 1)  # darker strokes
    yy, xx = np.mgrid[0:h, 0:w]
    hatch1 = ((xx + yy) % 7 == 0) & (g < 115)
    hatch2 = ((xx - yy) % 7 == 0) & (g < 90)
    hatch3 = ((xx + 2 * yy) % 5 == 0) & (g < 45)
    tone = dodge - 70 * hatch1 - 70 * hatch2 - 60 * hatch3
    tone = tone + _noise(spec, 51, (w, h), (3, 3), 6)
    tone = np.clip(tone, 0, 255)
    paper = np.asarray((246, 242, 232), dtype=np.int32)
    return _img((tone[:, :, None] * paper[None, None, :]) >> 8)


def watercolor(img: Image.Image, spec: SceneSpec) -> Image.Image:
    """Soft washes: lightly blurred, gently banded colour, pigment pooled at the edges, paper
    showing through, and mottled granulation."""
    w, h = img.size
    # a painter keeps a misty or dark scene legible: stretch the tones half-way first
    img = Image.blend(img, ImageOps.autocontrast(img, cutoff=1, preserve_tone=True), 0.5)
    a = np.asarray(img.filter(ImageFilter.GaussianBlur(max(1, w // 400))), dtype=np.int32)
    a = ((a + 10) // 20) * 20  # wash bands
    a = np.asarray(_img(a).filter(ImageFilter.BoxBlur(1)), dtype=np.int32)
    edge = _edges(Image.fromarray(np.clip(_luma(a), 0, 255).astype(np.uint8), "L"))
    a = a - ((np.minimum(edge, 100) * 90) >> 8)[:, :, None]
    y = _luma(a)[:, :, None]
    a = y + (((a - y) * 300) >> 8)  # pigment is vivid where it lies
    a = a + (((255 - a) * 64) >> 8)  # and thin: paper shows through
    bloom = _noise(spec, 52, (w, h), (20, 20), 10)
    a = a + (bloom + _noise(spec, 53, (w, h), (2, 2), 5))[:, :, None]
    return _img(a)


def oil_paint(img: Image.Image, spec: SceneSpec) -> Image.Image:
    """Blotchy daubs (a mode filter at half size), richer colour and an embossed stroke texture."""
    w, h = img.size
    half = img.reduce(2) if w >= 64 and h >= 64 else img
    daubs = half.filter(ImageFilter.ModeFilter(3)).resize((w, h), Image.BICUBIC)
    a = np.asarray(daubs, dtype=np.int32)
    y = _luma(a)[:, :, None]
    a = y + (((a - y) * 310) >> 8)
    strokes = _noise(spec, 54, (w, h), (12, 4), 36)
    bump = np.zeros_like(strokes)
    bump[2:, 2:] = strokes[2:, 2:] - strokes[:-2, :-2]  # emboss: light from the upper left
    a = a + ((bump * 3) >> 2)[:, :, None] + (_noise(spec, 55, (w, h), (40, 40), 10))[:, :, None]
    return _img(a)


def pixel_art(img: Image.Image, spec: SceneSpec) -> Image.Image:
    """8x8 pixel blocks in an adaptive 32-colour palette (max-coverage), no dithering."""
    w, h = img.size
    small = img.resize((max(1, w // 8), max(1, h // 8)), Image.BOX)
    a = np.asarray(small, dtype=np.int32)
    y = _luma(a)[:, :, None]
    small = _img(y + (((a - y) * 320) >> 8))
    quant = small.quantize(32, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE).convert("RGB")
    return quant.resize((w, h), Image.NEAREST)


def comic(img: Image.Image, spec: SceneSpec, structure: Image.Image | None = None) -> Image.Image:
    """Cel shading (luminance in five flat bands, hues kept), punchy colour, bold black ink
    outlines and Ben-Day dots in the mid-tones.

    Outlines are traced on ``structure`` (the scene before weather and atmospheric overlays,
    when given) so an artist inks buildings and people, not every raindrop and snowflake."""
    w, h = img.size
    smooth = np.asarray(img.filter(ImageFilter.GaussianBlur(1)), dtype=np.int32)
    y = _luma(smooth)
    a = y[:, :, None] + (((smooth - y[:, :, None]) * 350) >> 8)
    band = np.minimum(255, (y // 52) * 52 + 40)
    a = (np.clip(a, 0, 255) * band[:, :, None]) // np.maximum(y, 16)[:, :, None]
    if structure is not None:
        gray = structure.filter(ImageFilter.GaussianBlur(1)).convert("L")
    else:
        gray = Image.fromarray(np.clip(y, 0, 255).astype(np.uint8), "L")
    ink = (
        np.asarray(
            Image.fromarray(np.where(_edges(gray) > 24, 255, 0).astype(np.uint8), "L").filter(
                ImageFilter.MaxFilter(3)
            ),
            dtype=np.int32,
        )
        > 0
    )
    yy, xx = np.mgrid[0:h, 0:w]
    dots = (
        (((xx % 6) - 3) * ((xx % 6) - 3) + ((yy % 6) - 3) * ((yy % 6) - 3) <= 2) & (band > 90) & (band < 200)
    )
    a = a - (30 * dots)[:, :, None]
    a[ink] = 20
    return _img(a)


MEDIA = {
    "photo": photo,
    "pencil_sketch": pencil_sketch,
    "watercolor": watercolor,
    "oil_paint": oil_paint,
    "pixel_art": pixel_art,
    "comic": comic,
}


def stylise(img: Image.Image, spec: SceneSpec, structure: Image.Image | None = None) -> Image.Image:
    """Apply ``spec.artistic_medium``; ``structure`` is the overlay-free scene (see :func:`comic`)."""
    if spec.artistic_medium == "comic":
        return comic(img, spec, structure)
    return MEDIA[spec.artistic_medium](img, spec)
