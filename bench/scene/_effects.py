"""Full-resolution passes after the geometry: ground texture, light glows, weather and
atmospheric overlays.

Each pass takes and returns an RGB ``PIL.Image`` at the output size. Masks are built at low
resolution and enlarged with Pillow's resampling; blends are integer numpy (see ``_canvas`` for
the determinism rules).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.scene._canvas import RGB, Emitter, Light, mix, scale
from bench.scene.spec import SceneSpec


def _stream(spec: SceneSpec, purpose: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([spec.seed, purpose]))


def _arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.uint8).astype(np.int32)


def _img(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")


def _blend_to(a: np.ndarray, color: RGB, mask: np.ndarray) -> np.ndarray:
    """``a`` moved towards ``color`` by ``mask`` (0..256 per pixel, shape (H, W))."""
    m = mask[:, :, None]
    return a + (((np.asarray(color, dtype=np.int32) - a) * m) >> 8)


def _soft_mask(size: tuple[int, int], draw_fn, blur: float) -> np.ndarray:
    """A 0..256 mask drawn at a quarter of the size, blurred and enlarged (bilinear)."""
    w, h = size
    small = Image.new("L", (max(1, w // 4), max(1, h // 4)), 0)
    draw_fn(ImageDraw.Draw(small), small.size)
    if blur:
        small = small.filter(ImageFilter.GaussianBlur(blur))
    big = np.asarray(small.resize(size, Image.BILINEAR), dtype=np.int32)
    return big + (big >> 7)  # 255 -> 256


def ground_texture(img: Image.Image, spec: SceneSpec) -> Image.Image:
    """Low-frequency mottling and a little grain below the horizon, so flat fills read as ground."""
    w, h = img.size
    hz = int(round(spec.horizon * h))
    rng = _stream(spec, 20)
    coarse = rng.integers(116, 141, (max(2, h // 24), max(2, w // 24))).astype(np.uint8)
    blot = np.asarray(Image.fromarray(coarse, "L").resize((w, h), Image.BILINEAR), dtype=np.int32) - 128
    grain = rng.integers(-3, 4, (h, w)).astype(np.int32)
    a = _arr(img)
    a[hz:] += (blot[hz:] + grain[hz:])[:, :, None]
    return _img(a)


def glows(img: Image.Image, emitters: list[Emitter]) -> Image.Image:
    """Additive halos around every recorded light source (lamps, lit windows, neon, headlights)."""
    if not emitters:
        return img
    w, h = img.size
    acc = np.zeros((h, w, 3), dtype=np.float32)
    for e in emitters:
        r = max(2.0, e.radius)
        x0, x1 = max(0, int(e.x - r)), min(w, int(e.x + r) + 1)
        y0, y1 = max(0, int(e.y - r)), min(h, int(e.y + r) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        dx = np.arange(x0, x1, dtype=np.float32) - np.float32(e.x)
        dy = np.arange(y0, y1, dtype=np.float32) - np.float32(e.y)
        d2 = dy[:, None] * dy[:, None] + dx[None, :] * dx[None, :]
        r0 = np.float32((r * 0.3) * (r * 0.3))
        f = np.float32(1.0) / (np.float32(1.0) + d2 / r0) - np.float32(1.0 / (1.0 + 1.0 / 0.09))
        f = np.maximum(f, np.float32(0.0)) * np.float32(e.strength * 0.85)
        acc[y0:y1, x0:x1] += f[:, :, None] * np.asarray(e.color, dtype=np.float32)[None, None, :]
    return _img(_arr(img) + np.rint(acc).astype(np.int32))


def _streaks(
    img: Image.Image,
    rng: np.random.Generator,
    n: int,
    length: tuple[int, int],
    color: RGB,
    alpha: int,
    width: int,
) -> None:
    d = ImageDraw.Draw(img, "RGBA")
    w, h = img.size
    xs, ys = rng.integers(-w // 6, w, n).tolist(), rng.integers(-20, h, n).tolist()
    ls = rng.integers(length[0], length[1] + 1, n).tolist()
    for x, y, ln in zip(xs, ys, ls, strict=True):
        d.line((x, y, x + ln // 4, y + ln), fill=(*color, alpha), width=width)


def _flakes(img: Image.Image, rng: np.random.Generator, n: int, rmax: float, alpha: tuple[int, int]) -> None:
    d = ImageDraw.Draw(img, "RGBA")
    w, h = img.size
    xs, ys = rng.integers(0, w, n).tolist(), rng.integers(0, h, n).tolist()
    rs, al = rng.uniform(0.8, rmax, n).tolist(), rng.integers(alpha[0], alpha[1] + 1, n).tolist()
    for x, y, r, a in zip(xs, ys, rs, al, strict=True):
        d.ellipse((x - r, y - r, x + r, y + r), fill=(250, 252, 255, a))


def _lightning(img: Image.Image, rng: np.random.Generator, horizon: float) -> None:
    w, h = img.size
    x, y = float(rng.uniform(0.2, 0.8)) * w, 0.0
    pts = [(x, y)]
    while y < horizon * h * 0.9:
        y += float(rng.uniform(0.04, 0.08)) * h
        x += float(rng.uniform(-0.05, 0.05)) * w
        pts.append((x, y))
    d = ImageDraw.Draw(img, "RGBA")
    d.line(pts, fill=(200, 190, 255, 70), width=11, joint="curve")
    d.line(pts, fill=(250, 248, 255, 255), width=3, joint="curve")


def weather(img: Image.Image, spec: SceneSpec, light: Light) -> Image.Image:
    """Rain streaks, snowfall, a lightning bolt, or distance fog, as the weather says."""
    rng = _stream(spec, 30)
    kind = spec.weather
    if kind in ("rainy", "stormy"):
        img = img.copy()
        _streaks(
            img,
            rng,
            420 if kind == "rainy" else 800,
            (12, 24),
            (206, 214, 230),
            90 if kind == "rainy" else 120,
            1,
        )
        if kind == "stormy":
            _lightning(img, rng, spec.horizon)
    elif kind == "snowy":
        img = img.copy()
        _flakes(img, rng, 300, 2.6, (170, 240))
    elif kind == "foggy":
        w, h = img.size
        hz = spec.horizon * h
        rows = np.arange(h, dtype=np.float32)
        far = np.where(
            rows < hz,
            0.45 + 0.25 * rows / np.float32(hz),
            0.7 - 0.45 * (rows - hz) / np.float32(max(1.0, h - hz)),
        )
        mask = np.rint(far * 256).astype(np.int32)[:, None] * np.ones((1, w), dtype=np.int32)
        fog = mix(
            light.sky_horizon,
            scale((214, 216, 220), (light.ambient[0] + light.ambient[1] + light.ambient[2]) / 3),
            0.5,
        )
        img = _img(_blend_to(_arr(img), fog, mask))
    return img


def atmosphere(img: Image.Image, spec: SceneSpec, light: Light) -> Image.Image:
    """The atmospheric-effects overlay: ground fog, haze, falling snow, rain, embers or light rays."""
    effect = spec.atmospheric_effects
    if effect == "none":
        return img
    rng = _stream(spec, 40)
    w, h = img.size
    amb = (light.ambient[0] + light.ambient[1] + light.ambient[2]) / 3
    if effect in ("fog", "haze"):
        hz = spec.horizon

        def draw(d: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
            sw, sh = size
            for y in range(sh):
                t = y / sh
                if effect == "fog":
                    v = 50 if t < hz - 0.1 else 50 + 110 * min(1.0, (t - hz + 0.1) / 0.4)
                else:
                    v = 80 + 40 * max(0.0, 1.0 - abs(t - hz) / 0.25)
                d.line((0, y, sw, y), fill=int(v))
            if effect == "fog":
                for _ in range(12):
                    cx, cy = float(rng.uniform(0, 1)) * sw, float(rng.uniform(hz - 0.06, 0.98)) * sh
                    rx, ry = float(rng.uniform(0.15, 0.35)) * sw, float(rng.uniform(0.02, 0.05)) * sh
                    d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=int(rng.integers(170, 250)))

        mask = _soft_mask((w, h), draw, 5 if effect == "fog" else 2)
        base = (222, 224, 228) if effect == "fog" else (226, 214, 196)
        color = mix(scale(base, min(1.1, amb + 0.1)), light.sky_horizon, 0.35)
        return _img(_blend_to(_arr(img), color, mask))
    img = img.copy()
    if effect == "snow":
        _flakes(img, rng, 520, 3.4, (190, 255))
        return img
    if effect == "rain":
        _streaks(img, rng, 650, (18, 34), (196, 206, 224), 110, 2)
        return img
    if effect == "embers":
        d = ImageDraw.Draw(img, "RGBA")
        n = 150
        xs = rng.uniform(0, w, n).tolist()
        ys = (h * (1.0 - rng.uniform(0, 1, n) * rng.uniform(0, 1, n))).tolist()  # denser low down
        rs, ks = rng.uniform(1.0, 3.2, n).tolist(), rng.integers(0, 3, n).tolist()
        palette = ((255, 120, 30), (255, 190, 60), (230, 60, 30))
        for x, y, r, k in zip(xs, ys, rs, ks, strict=True):
            d.ellipse((x - 3 * r, y - 3 * r, x + 3 * r, y + 3 * r), fill=(*palette[k], 45))
            d.ellipse((x - r, y - r, x + r, y + r), fill=(*palette[k], 255))
        a = _arr(img)
        a[:, :, 0] += 10
        a[:, :, 2] -= 10
        return _img(a)
    # light_rays: soft wedges from the sun (or from above the frame), screened on
    if light.sun is not None:
        ox, oy = light.sun[0], light.sun[1] * spec.horizon
    elif light.moon is not None:
        ox, oy = light.moon[0], light.moon[1] * spec.horizon
    else:
        ox, oy = 0.72, -0.12
    rays = [
        (float(rng.uniform(-0.4, 1.4)), float(rng.uniform(0.03, 0.09)), int(rng.integers(150, 256)))
        for _ in range(7)
    ]

    def draw_rays(d: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
        sw, sh = size
        for tx, half, v in rays:
            d.polygon(
                [(ox * sw, oy * sh), ((tx - half) * sw, 1.15 * sh), ((tx + half) * sw, 1.15 * sh)], fill=v
            )

    mask = _soft_mask((w, h), draw_rays, 3)
    fade = np.rint(256 - 150 * np.arange(h, dtype=np.float32) / np.float32(h)).astype(np.int32)
    strength = 0.95 if light.darkness < 0.5 else 0.45
    mask = (mask * fade[:, None] * int(strength * 256)) >> 16
    a = _arr(img)
    tint = np.asarray((255, 236, 190), dtype=np.int32)
    return _img(a + ((((255 - a) * tint) >> 8) * mask[:, :, None] >> 8))
