"""Weight-free image measures on synthetic images whose answers are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage.metrics import structural_similarity

from judges import measures as M

H, W = 64, 96


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (W, H)) -> Image.Image:
    return Image.new("RGB", size, rgb)


def halves(left: tuple[int, int, int], right: tuple[int, int, int]) -> Image.Image:
    arr = np.zeros((H, W, 3), np.uint8)
    arr[:, : W // 2], arr[:, W // 2 :] = left, right
    return Image.fromarray(arr, "RGB")


LEFT = np.zeros((H, W), np.float32)
LEFT[:, : W // 2] = 1.0


def test_brightness_and_contrast() -> None:
    assert M.brightness(solid((0, 0, 0))) == 0.0
    assert M.brightness(solid((255, 255, 255))) == pytest.approx(1.0)
    assert M.brightness(solid((255, 0, 0))) == pytest.approx(0.299)
    assert M.brightness(solid((128, 128, 128))) == pytest.approx(128 / 255)
    bw = halves((0, 0, 0), (255, 255, 255))
    assert M.brightness(bw) == pytest.approx(0.5)
    assert M.contrast(bw) == pytest.approx(0.5)
    assert M.contrast(solid((90, 30, 200))) == pytest.approx(0.0, abs=1e-12)
    assert M.brightness(bw, LEFT) == 0.0 and M.contrast(bw, LEFT) == 0.0


def test_saturation_and_warmth() -> None:
    assert M.saturation(solid((255, 0, 0))) == pytest.approx(1.0)
    assert M.saturation(solid((120, 120, 120))) == 0.0
    assert M.saturation(solid((200, 100, 100))) == pytest.approx(0.5)
    assert M.warmth(solid((255, 0, 0))) == pytest.approx(1.0)
    assert M.warmth(solid((0, 0, 255))) == pytest.approx(-1.0)
    assert M.warmth(solid((77, 77, 77))) == 0.0
    assert M.warmth(halves((255, 0, 0), (0, 0, 255))) == pytest.approx(0.0)
    assert M.warmth(halves((255, 0, 0), (0, 0, 255)), LEFT) == pytest.approx(1.0)


def test_hue_distance() -> None:
    red = solid((255, 0, 0))
    assert M.hue_distance(red, 0.0) == pytest.approx(0.0)
    assert M.hue_distance(red, 360.0) == pytest.approx(0.0)
    assert M.hue_distance(red, 180.0) == pytest.approx(1.0)
    assert M.hue_distance(red, 90.0) == pytest.approx(0.5)
    assert M.hue_distance(red, -90.0) == pytest.approx(0.5)
    assert M.hue_distance(solid((0, 0, 255)), 0.0) == pytest.approx(120 / 180)
    # Saturation weighting: a grey half counts for nothing.
    assert M.hue_distance(halves((255, 0, 0), (128, 128, 128)), 0.0) == pytest.approx(0.0)
    # Two equally saturated halves average: red (0) and blue (120 away from 0).
    assert M.hue_distance(halves((255, 0, 0), (0, 0, 255)), 0.0) == pytest.approx((0 + 120 / 180) / 2)
    # Half-saturated blue weighs half as much as pure red.
    mixed = halves((255, 0, 0), (128, 128, 255))
    s_blue = (255 - 128) / 255
    assert M.hue_distance(mixed, 0.0) == pytest.approx(s_blue * (120 / 180) / (1 + s_blue))
    assert math.isnan(M.hue_distance(solid((40, 40, 40)), 0.0))


def test_haze_dark_channel() -> None:
    assert M.haze(solid((255, 0, 0))) == 0.0  # a saturated colour has a zero channel
    assert M.haze(solid((255, 255, 255))) == pytest.approx(1.0)
    assert M.haze(solid((200, 180, 160))) == pytest.approx(160 / 255)
    rng = np.random.default_rng(0)
    clear = rng.integers(0, 256, (H, W, 3)).astype(np.float64)
    fogged = 0.4 * clear + 0.6 * 220.0  # scattering model with airlight 220, t = 0.4
    h_clear = M.haze(Image.fromarray(clear.astype(np.uint8)))
    h_fog = M.haze(Image.fromarray(fogged.astype(np.uint8)))
    assert h_clear < 0.05 and h_fog > 0.5
    # The patch minimum: one dark pixel darkens its whole neighbourhood.
    arr = np.full((H, W, 3), 200, np.uint8)
    arr[H // 2, W // 2] = 0
    assert M.haze(Image.fromarray(arr), patch=5) == pytest.approx(200 / 255 * (1 - 25 / (H * W)))


def test_white_coverage() -> None:
    img = halves((250, 250, 252), (255, 0, 0))
    assert M.white_coverage(img) == pytest.approx(0.5)
    assert M.white_coverage(img, LEFT) == pytest.approx(1.0)
    assert M.white_coverage(img, 1.0 - LEFT) == 0.0
    assert M.white_coverage(solid((150, 150, 150))) == 0.0  # grey, not white
    assert M.white_coverage(solid((255, 230, 200))) == 0.0  # bright but too saturated (0.22)


def test_edge_density() -> None:
    assert M.edge_density(solid((10, 200, 30))) == 0.0
    gradient = np.repeat(np.linspace(0, 255, W)[None, :, None], H, axis=0).repeat(3, axis=2).astype(np.uint8)
    assert M.edge_density(Image.fromarray(gradient)) == 0.0  # smooth: below the absolute threshold
    square = np.zeros((H, W, 3), np.uint8)
    square[16:48, 32:64] = 255
    one = M.edge_density(Image.fromarray(square))
    perimeter = 4 * 32 / (H * W)
    assert perimeter <= one <= 2 * perimeter  # the outline, 1-2 px thick
    yy, xx = np.mgrid[0:H, 0:W]
    checker = ((((yy // 4) + (xx // 4)) % 2) * 255).astype(np.uint8)
    assert M.edge_density(Image.fromarray(np.dstack([checker] * 3))) > 4 * one


def test_colorfulness_matches_the_paper_formula() -> None:
    assert M.colorfulness(solid((128, 128, 128))) == 0.0
    # Red | green halves: rg = +-255 (mean 0, std 255); yb = 127.5 everywhere (std 0).
    assert M.colorfulness(halves((255, 0, 0), (0, 255, 0))) == pytest.approx(255 + 0.3 * 127.5)
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (H, W, 3)).astype(np.float64)
    rg, yb = arr[..., 0] - arr[..., 1], 0.5 * (arr[..., 0] + arr[..., 1]) - arr[..., 2]
    expected = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    assert M.colorfulness(Image.fromarray(arr.astype(np.uint8))) == pytest.approx(expected)
    assert M.colorfulness(halves((255, 0, 0), (0, 255, 0)), LEFT) == pytest.approx(
        0.3 * math.hypot(255, 127.5)
    )


def test_distinct_colors() -> None:
    img = halves((255, 0, 0), (0, 0, 255))
    assert M.distinct_colors(img) == 2
    assert M.distinct_colors(img, LEFT) == 1
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 4, axis=0).repeat(3, axis=2)
    assert M.distinct_colors(Image.fromarray(ramp), bits=8) == 256
    assert M.distinct_colors(Image.fromarray(ramp), bits=5) == 32
    assert M.distinct_colors(np.zeros((4, 4, 3), np.float32)) == 1
    with pytest.raises(ValueError):
        M.distinct_colors(img, bits=0)


def test_change_inside_outside() -> None:
    src = np.full((H, W, 3), 100, np.uint8)
    res = src.copy()
    res[:, : W // 2] += 51  # +0.2 inside
    change = M.change_inside_outside(Image.fromarray(src), Image.fromarray(res), LEFT)
    assert isinstance(change, M.Change)
    assert change.inside == pytest.approx(0.2) and change.outside == 0.0
    inside, outside = change  # unpacks like the (inside, outside) tuple it is
    assert inside > outside
    # A result at another size is resized to the source first (a solid image resizes exactly).
    big = Image.new("RGB", (2 * W, 2 * H), (151, 151, 151))
    resized = M.change_inside_outside(Image.fromarray(src), big, LEFT)
    assert resized.inside == pytest.approx(0.2) and resized.outside == pytest.approx(0.2)
    empty = M.change_inside_outside(Image.fromarray(src), Image.fromarray(res), np.zeros((H, W)))
    assert math.isnan(empty.inside) and empty.outside == pytest.approx(0.1)
    with pytest.raises(ValueError, match="shape"):
        M.change_inside_outside(Image.fromarray(src), Image.fromarray(res), np.zeros((3, 3)))


def _textured(seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    base = 120 + 60 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + rng.normal(0, 5, (H, W))
    return np.clip(np.dstack([base, base * 0.8, base * 0.6]), 0, 255).astype(np.uint8)


def test_structure_kept() -> None:
    src = _textured()
    assert M.structure_kept(Image.fromarray(src), Image.fromarray(src)) == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    noisy = np.clip(src + rng.normal(0, 40, src.shape), 0, 255).astype(np.uint8)
    inside_only = src.copy()
    inside_only[:, : W // 2] = noisy[:, : W // 2]
    # Only the area near the mask's edge (within SSIM's window) may drop below 1.
    kept = M.structure_kept(Image.fromarray(src), Image.fromarray(inside_only), LEFT)
    assert kept > 0.9
    everywhere = M.structure_kept(Image.fromarray(src), Image.fromarray(noisy), LEFT)
    assert everywhere < 0.7
    # Without a mask it is scikit-image's mean SSIM of the luma.
    luma = np.array([0.299, 0.587, 0.114])
    ref = structural_similarity(src / 255.0 @ luma, noisy / 255.0 @ luma, data_range=1.0, win_size=7)
    assert M.structure_kept(Image.fromarray(src), Image.fromarray(noisy)) == pytest.approx(ref)


def _text_image(text: str, size: int) -> Image.Image:
    img = Image.new("RGB", (W * 2, H), (235, 235, 230))
    ImageDraw.Draw(img).text(
        (6, H // 2), text, font=ImageFont.load_default(size=size), fill=(20, 20, 20), anchor="lm"
    )
    return img


def test_text_likelihood() -> None:
    blank = Image.new("RGB", (W * 2, H), (235, 235, 230))
    assert M.text_likelihood(blank) == 0.0
    assert M.text_likelihood(_text_image("SUMMER SALE 50%", 22)) > 0.7
    gradient = (
        np.repeat(np.linspace(0, 255, 2 * W)[None, :, None], H, axis=0).repeat(3, axis=2).astype(np.uint8)
    )
    assert M.text_likelihood(Image.fromarray(gradient)) < 0.05
    block = np.full((H, 2 * W, 3), 235, np.uint8)
    block[10:54, 30:150] = 20  # a big dark shape: edges but no strokes
    assert M.text_likelihood(Image.fromarray(block)) < 0.1
    region = np.zeros((H, 2 * W), np.float32)
    region[:, :40] = 1.0
    text = _text_image("SALE", 22)
    assert M.text_likelihood(text, region) > M.text_likelihood(text, 1.0 - region)


def test_region_and_input_handling() -> None:
    img = halves((255, 0, 0), (0, 0, 255))
    arr_u8 = np.asarray(img)
    assert M.warmth(arr_u8) == pytest.approx(M.warmth(img))
    assert M.warmth(arr_u8.astype(np.float32) / 255.0) == pytest.approx(M.warmth(img))
    assert M.brightness(img, LEFT.astype(bool)) == pytest.approx(0.299)
    assert math.isnan(M.brightness(img, np.zeros((H, W))))
    with pytest.raises(ValueError, match="shape"):
        M.brightness(img, np.ones((W, H)))
    with pytest.raises(ValueError, match="HxWx3"):
        M.brightness(np.zeros((4, 4, 2)))
