"""Scene ground truth: spec validation and round trips, sidecars, and the renderer's determinism
and per-dimension effects (each dimension must move a simple image statistic the stated way)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.scene import (
    ALIASES,
    CONTEXT_KEYS,
    DEFAULTS,
    DIMENSIONS,
    RENDER_VERSION,
    SIDE_CAR_SUFFIX,
    VOCAB,
    SceneObject,
    SceneSpec,
    canonical_value,
    diff,
    edit,
    random_spec,
    read_sidecar,
    render,
    sidecar_path,
    write_sidecar,
)

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
SEEDS = (0, 1)


# --- statistics ------------------------------------------------------------------------------


def _f(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


def _luma(a: np.ndarray) -> np.ndarray:
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def brightness(img: Image.Image) -> float:
    return float(_luma(_f(img)).mean())


def contrast(img: Image.Image) -> float:
    return float(_luma(_f(img)).std())


def warmth(img: Image.Image) -> float:
    a = _f(img)
    return float((a[..., 0] - a[..., 2]).mean())


def greenness(img: Image.Image) -> float:
    a = _f(img)
    return float((a[..., 1] - (a[..., 0] + a[..., 2]) / 2).mean())


def saturation(img: Image.Image) -> float:
    a = _f(img)
    mx, mn = a.max(axis=2), a.min(axis=2)
    return float(((mx - mn) / np.maximum(mx, 1)).mean())


def sky_saturation(img: Image.Image) -> float:
    return saturation(img.crop((0, 0, img.width, img.height * 2 // 5)))


def white_share(img: Image.Image) -> float:
    return float((_f(img).min(axis=2) > 215).mean())


def white_share_lower_half(img: Image.Image) -> float:
    a = _f(img)[img.height // 2 :]
    return float((a.min(axis=2) > 200).mean())


def lower_half_brightness(img: Image.Image) -> float:
    """Snow under a coloured light is not near-white, but it is bright."""
    return brightness(img.crop((0, img.height // 2, img.width, img.height)))


def edge_density(img: Image.Image) -> float:
    lum = _luma(_f(img))
    dx, dy = np.abs(np.diff(lum, axis=1))[:-1], np.abs(np.diff(lum, axis=0))[:, :-1]
    return float(((dx + dy) > 40).mean())


def distinct_colours(img: Image.Image) -> int:
    a = np.asarray(img).reshape(-1, 3).astype(np.int64)
    return int(len(np.unique((a[:, 0] << 16) | (a[:, 1] << 8) | a[:, 2])))


def dark_share(img: Image.Image) -> float:
    return float((_luma(_f(img)) < 40).mean())


def neon_share(img: Image.Image) -> float:
    a = _f(img)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return float((((g > 180) & (b > 180) & (r < 110)) | ((r > 200) & (b > 150) & (g < 110))).mean())


def flat_texture(img: Image.Image) -> float:
    """Spread of luminance along the rows of a sky window away from the sun (paint texture)."""
    lum = _luma(_f(img))
    win = lum[: img.height // 4, : int(img.width * 0.35)]
    return float((win - win.mean(axis=1, keepdims=True)).std())


# --- helpers ---------------------------------------------------------------------------------


def plain(seed: int, **changes: str) -> SceneSpec:
    """A default scene (clear summer noon city photo) with a random layout, some dims changed."""
    dims = dict(DEFAULTS)
    dims.update(changes)
    return random_spec(seed, **dims)


@functools.cache
def rendered(seed: int, items: tuple[tuple[str, str], ...]) -> Image.Image:
    return render(plain(seed, **dict(items)))


def img_of(seed: int, **changes: str) -> Image.Image:
    return rendered(seed, tuple(sorted(changes.items())))


def sha(img: Image.Image) -> str:
    return hashlib.sha256(img.tobytes()).hexdigest()


# --- spec ------------------------------------------------------------------------------------


def test_vocab_covers_the_ten_dimensions_with_5_to_8_values() -> None:
    assert DIMENSIONS == tuple(VOCAB)
    assert len(DIMENSIONS) == 10
    for dim, values in VOCAB.items():
        assert 4 <= len(values) <= 8, dim  # season has exactly the four seasons
        assert len(set(values)) == len(values)
        assert DEFAULTS[dim] == values[0]
    assert CONTEXT_KEYS["location_setting"] == "location"
    assert CONTEXT_KEYS["architecture_style"] == "architecture"
    assert set(VOCAB["time_of_day"]) == {"dawn", "morning", "noon", "golden_hour", "dusk", "night"}
    assert set(VOCAB["artistic_medium"]) == {
        "photo",
        "pencil_sketch",
        "oil_paint",
        "watercolor",
        "pixel_art",
        "comic",
    }


@pytest.mark.parametrize("seed", range(5))
def test_json_round_trip_is_lossless(seed: int) -> None:
    spec = random_spec(seed, width=320, height=200)
    text = json.dumps(spec.to_dict())
    back = SceneSpec.from_dict(json.loads(text))
    assert back == spec
    assert back.to_dict() == spec.to_dict()
    assert SceneSpec.from_json(spec.to_json()) == spec
    assert spec.to_json() == back.to_json()  # canonical


def test_round_trip_keeps_pinned_styles_and_int_coordinates() -> None:
    spec = SceneSpec(
        objects=[
            SceneObject("building", 0.5, 0.7, 0.2, 0.3, style="traditional_asian"),
            {"kind": "tree", "x": 1, "y": 1, "w": 0.1, "h": 0.2},
        ]
    )
    assert isinstance(spec.objects, tuple) and spec.objects[1].x == 1.0
    back = SceneSpec.from_json(spec.to_json())
    assert back == spec
    assert back.building_style(back.objects[0]) == "traditional_asian"
    assert (
        edit(back, {"architecture_style": "brutalist"}).building_style(back.objects[0]) == "traditional_asian"
    )
    assert spec.context()["architecture"] == spec.architecture_style


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"season": "monsoon"}, ["season", "monsoon"]),
        ({"time_of_day": "Night"}, ["time_of_day", "Night"]),
        ({"artistic_medium": 3}, ["artistic_medium", "3"]),
        ({"width": 8}, ["width", "8"]),
        ({"height": True}, ["height", "True"]),
        ({"seed": -1}, ["seed", "-1"]),
        ({"horizon": float("nan")}, ["horizon", "nan"]),
        ({"objects": [{"kind": "dragon", "x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1}]}, ["kind", "dragon"]),
        (
            {"objects": [{"kind": "tree", "x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1, "style": "art_deco"}]},
            ["style", "art_deco"],
        ),
        (
            {"objects": [{"kind": "building", "x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1, "style": "rococo"}]},
            ["architecture_style", "rococo"],
        ),
        ({"objects": [{"kind": "figure", "x": 0.5, "y": 0.5, "w": 0.0, "h": 0.1}]}, ["w", "0.0"]),
    ],
)
def test_validation_names_the_field_and_the_value(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        SceneSpec(**kwargs)
    for word in words:
        assert word in str(err.value)


def test_from_dict_rejects_unknown_keys_and_newer_versions() -> None:
    data = SceneSpec().to_dict()
    with pytest.raises(ValueError, match="unknown keys.*mood"):
        SceneSpec.from_dict({**data, "mood": "warm"})
    with pytest.raises(ValueError, match="version"):
        SceneSpec.from_dict({**data, "v": 99})
    with pytest.raises(ValueError, match="invalid JSON"):
        SceneSpec.from_json("{not json")
    assert SceneSpec.from_dict({"season": "winter"}) == SceneSpec(season="winter")


def test_canonical_value_maps_paper_b_tokens() -> None:
    assert canonical_value("time_of_day", "sunset_golden") == "golden_hour"
    assert canonical_value("time_of_day", "Night Moonlit") == "night"
    assert canonical_value("location_setting", "urban_city") == "city"
    assert canonical_value("artistic_medium", "photorealistic") == "photo"
    assert canonical_value("color_grading", "black-white") == "black_white"
    with pytest.raises(ValueError, match="location_setting.*cave_underground"):
        canonical_value("location_setting", "cave_underground")
    with pytest.raises(ValueError, match="lighting"):
        canonical_value("lighting", "warm")
    for dim, aliases in ALIASES.items():
        assert set(aliases.values()) <= set(VOCAB[dim]), dim


def test_edit_and_diff() -> None:
    a = random_spec(11)
    b = edit(
        a,
        {
            "season": "winter" if a.season != "winter" else "summer",
            "weather": "foggy" if a.weather != "foggy" else "clear",
        },
    )
    assert b.objects == a.objects and b.seed == a.seed
    d = diff(a, b)
    assert list(d) == ["season", "weather"]
    assert d["season"] == (a.season, b.season)
    assert diff(a, a) == {}
    with pytest.raises(ValueError, match="season.*monsoon"):
        edit(a, {"season": "monsoon"})
    with pytest.raises(ValueError, match="'mood'"):
        edit(a, {"mood": "neutral"})
    moved = SceneSpec.from_dict({**a.to_dict(), "seed": a.seed + 1, "width": 256})
    d2 = diff(a, moved)
    assert set(d2) == {"seed", "width"} and d2["width"] == ("512", "256")
    assert diff(a, moved, dimensions_only=True) == {}


def test_random_spec_is_seeded_and_fixing_a_field_changes_only_that_field() -> None:
    assert random_spec(5) == random_spec(5)
    assert random_spec(5) == random_spec(np.random.Generator(np.random.PCG64(5)))
    assert random_spec(5) != random_spec(6)
    base = random_spec(7)
    for dim in DIMENSIONS:
        value = next(v for v in VOCAB[dim] if v != getattr(base, dim))
        fixed = random_spec(7, **{dim: value})
        assert diff(base, fixed) == {dim: (getattr(base, dim), value)}
    assert random_spec(random.Random(3)) == random_spec(random.Random(3))
    assert random_spec(3, plain=1.0).dims() == DEFAULTS
    assert random_spec(3, plain=1.0).objects == random_spec(3).objects
    with pytest.raises(ValueError, match="unknown fields"):
        random_spec(1, colour="red")
    with pytest.raises(ValueError, match="weather"):
        random_spec(1, weather="hail")
    kinds = {o.kind for s in range(20) for o in random_spec(s).objects}
    assert {"building", "tree", "figure", "light"} <= kinds


# --- sidecars --------------------------------------------------------------------------------


def test_sidecar_round_trip(tmp_path: Path) -> None:
    png = tmp_path / "images" / "ab" / "abcd1234.png"
    assert sidecar_path(png) == tmp_path / "images" / "ab" / f"abcd1234{SIDE_CAR_SUFFIX}"
    assert read_sidecar(png) is None
    spec = random_spec(2)
    written = write_sidecar(png, spec)
    assert written.name == "abcd1234.scene.json"
    assert read_sidecar(png) == spec
    first = written.read_bytes()
    write_sidecar(str(png), spec)  # idempotent: same bytes
    assert written.read_bytes() == first
    assert [p.name for p in written.parent.iterdir()] == ["abcd1234.scene.json"]  # no temp files left
    written.write_text('{"season": "monsoon"}')
    with pytest.raises(ValueError, match=r"abcd1234\.scene\.json.*monsoon"):
        read_sidecar(png)


# --- rendering -------------------------------------------------------------------------------


def test_render_size_mode_and_determinism() -> None:
    spec = random_spec(21, width=200, height=120)
    t0 = time.perf_counter()
    img = render(spec)
    log.info("render 200x120 in %.1f ms", (time.perf_counter() - t0) * 1000)
    assert img.mode == "RGB" and img.size == (200, 120)
    assert render(spec).tobytes() == img.tobytes()
    assert render(SceneSpec.from_json(spec.to_json())).tobytes() == img.tobytes()
    assert isinstance(RENDER_VERSION, int)
    with pytest.raises(TypeError):
        render(spec.to_dict())  # type: ignore[arg-type]


def _without_simd_dispatch() -> dict[str, str]:
    """Environment that turns off numpy's runtime SIMD dispatch (AVX2, AVX-512...), so the child
    computes like an older CPU would."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_dispatch__
        except ImportError:
            return {}
    return {"NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__)} if __cpu_dispatch__ else {}


def test_render_is_identical_in_a_fresh_process_without_simd() -> None:
    specs = [random_spec(s) for s in (31, 32)] + [
        random_spec(33, artistic_medium=m) for m in ("oil_paint", "watercolor", "comic")
    ]
    child = (
        "import hashlib, sys\n"
        "from bench.scene import SceneSpec, render\n"
        "for line in sys.stdin.read().splitlines():\n"
        "    print(hashlib.sha256(render(SceneSpec.from_json(line)).tobytes()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", **_without_simd_dispatch()}
    out = subprocess.run(
        [sys.executable, "-c", child],
        input="\n".join(s.to_json() for s in specs),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=True,
        timeout=60,
    )
    assert out.stdout.split() == [sha(render(s)) for s in specs]


def test_render_time_is_logged() -> None:
    spec = random_spec(41)
    render(spec)  # warm-up
    times = []
    for medium in VOCAB["artistic_medium"]:
        t0 = time.perf_counter()
        render(edit(spec, {"artistic_medium": medium}))
        times.append((medium, (time.perf_counter() - t0) * 1000))
    log.info("512x512 render times (ms): %s", ", ".join(f"{m} {t:.0f}" for m, t in times))


@pytest.mark.parametrize("dim", DIMENSIONS)
def test_every_value_renders_and_changes_the_image(dim: str) -> None:
    base = random_spec(51, width=96, height=96, **{d: v for d, v in DEFAULTS.items() if d != dim})
    hashes = {sha(render(edit(base, {dim: value}))) for value in VOCAB[dim]}
    assert len(hashes) == len(VOCAB[dim]), f"two values of {dim} render the same image"


# (dimension, value expected higher, value expected lower, statistic, other changes)
EFFECTS = [
    ("time_of_day", "noon", "night", brightness, {}),
    ("time_of_day", "noon", "dusk", brightness, {}),
    ("time_of_day", "golden_hour", "noon", warmth, {}),
    ("season", "winter", "summer", white_share_lower_half, {}),
    ("season", "autumn", "summer", warmth, {}),
    ("weather", "clear", "cloudy", sky_saturation, {}),
    ("weather", "clear", "rainy", brightness, {}),
    ("weather", "clear", "stormy", brightness, {}),
    ("weather", "snowy", "clear", white_share, {}),
    ("weather", "clear", "foggy", contrast, {}),
    ("location_setting", "desert", "city", warmth, {}),
    ("location_setting", "forest", "desert", greenness, {}),
    ("architecture_style", "traditional_asian", "modern_glass", warmth, {}),
    ("time_period", "futuristic", "contemporary", neon_share, {}),
    ("time_period", "medieval", "contemporary", edge_density, {}),
    ("time_period", "ancient", "contemporary", warmth, {}),
    ("mood_lighting", "warm_cozy", "neutral", warmth, {}),
    ("mood_lighting", "neutral", "cool_calm", warmth, {}),
    ("mood_lighting", "dramatic", "neutral", contrast, {}),
    ("mood_lighting", "neutral", "mysterious", brightness, {}),
    ("mood_lighting", "ethereal", "neutral", brightness, {}),
    ("mood_lighting", "neutral", "melancholic", saturation, {}),
    ("color_grading", "warm_cinematic", "natural", warmth, {}),
    ("color_grading", "natural", "cool_blue", warmth, {}),
    ("color_grading", "natural", "sepia", saturation, {}),
    ("color_grading", "natural", "black_white", saturation, {}),
    ("color_grading", "vibrant", "natural", saturation, {}),
    ("color_grading", "natural", "pastel", saturation, {}),
    ("color_grading", "pastel", "natural", brightness, {}),
    ("artistic_medium", "photo", "pixel_art", distinct_colours, {}),
    ("artistic_medium", "pencil_sketch", "photo", edge_density, {}),
    ("artistic_medium", "photo", "pencil_sketch", saturation, {}),
    ("artistic_medium", "photo", "comic", distinct_colours, {}),
    ("artistic_medium", "comic", "photo", dark_share, {}),
    ("artistic_medium", "watercolor", "photo", brightness, {}),
    ("artistic_medium", "photo", "watercolor", edge_density, {}),
    ("artistic_medium", "oil_paint", "photo", flat_texture, {}),
    ("atmospheric_effects", "none", "fog", contrast, {}),
    ("atmospheric_effects", "none", "haze", contrast, {}),
    ("atmospheric_effects", "snow", "none", white_share, {}),
    ("atmospheric_effects", "rain", "none", edge_density, {}),
    ("atmospheric_effects", "embers", "none", warmth, {}),
    ("atmospheric_effects", "light_rays", "none", brightness, {}),
    ("time_of_day", "noon", "night", brightness, {"location_setting": "forest", "season": "winter"}),
    (
        "season",
        "winter",
        "summer",
        white_share_lower_half,
        {"location_setting": "village", "time_of_day": "morning"},
    ),
    (
        "season",
        "winter",
        "summer",
        lower_half_brightness,
        {"location_setting": "mountains", "time_of_day": "golden_hour"},
    ),
]


@pytest.mark.parametrize(
    ("dim", "high", "low", "stat", "others"),
    EFFECTS,
    ids=[f"{e[0]}:{e[1]}>{e[2]}:{e[3].__name__}" for e in EFFECTS],
)
def test_dimension_moves_its_statistic(dim: str, high: str, low: str, stat, others: dict) -> None:
    for seed in SEEDS:
        hi, lo = stat(img_of(seed, **others, **{dim: high})), stat(img_of(seed, **others, **{dim: low}))
        assert hi > lo, (
            f"seed {seed}: {stat.__name__}({dim}={high}) = {hi:.4f} <= {stat.__name__}({dim}={low}) = {lo:.4f}"
        )


def test_pixel_art_is_made_of_8x8_blocks_and_few_colours() -> None:
    img = img_of(0, artistic_medium="pixel_art")
    a = np.asarray(img)
    blocks = a.reshape(64, 8, 64, 8, 3)
    assert (blocks == blocks[:, :1, :, :1, :]).all()
    assert distinct_colours(img) <= 32


def test_black_white_is_grey_and_architectures_differ_where_buildings_stand() -> None:
    a = np.asarray(img_of(0, color_grading="black_white"), dtype=np.int32)
    assert (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all()
    tops = {s: _f(img_of(0, architecture_style=s))[: 512 * 7 // 10] for s in VOCAB["architecture_style"]}
    styles = list(tops)
    for i, s in enumerate(styles):
        for t in styles[i + 1 :]:
            assert np.abs(tops[s] - tops[t]).mean() > 1.0, (s, t)


def test_editing_one_dimension_leaves_the_layout_alone() -> None:
    """Noise streams are per element: changing the weather must not move the backdrop or
    reshuffle tree shapes, so the ground below the street (no rain there in 'cloudy') agrees."""
    a = np.asarray(img_of(1), dtype=np.int32)
    b = np.asarray(img_of(1, mood_lighting="neutral", weather="cloudy"), dtype=np.int32)
    lower = slice(int(512 * 0.88), 512)
    ratio = (b[lower].sum(axis=2) + 1) / (a[lower].sum(axis=2) + 1)  # cloudy only dims the light
    assert ratio.std() < 0.05
