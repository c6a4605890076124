"""Weight-free checks for the styling suites, derived per sample from the scene truth.

A styling sample's ``truth.checks`` uses the schema of :mod:`suites.builtin.ads` (one heuristic
judge reads both families). Unlike an advert, whose checks are fixed per goal family, a scene's
checks are *measured*: the generator knows the source spec and the target spec, renders both, and
keeps a check only where a measure plainly shows the requested change in this very scene.

Goal checks (one per changed dimension)
    Each (dimension, value) has a short list of *signals* (:data:`GOAL_SIGNALS`): a measure, the
    direction a reader would expect ("night" is darker, "sepia" less saturated, "winter" whiter)
    and a region (``full``, ``sky``, ``ground``, ``trees``...); ``auto`` directions are for
    values that undo something (``natural`` grading, no atmospheric effect), whose direction
    depends on the source. A signal qualifies when

    * the full target moves the measure the expected way by at least its floor
      (:data:`FLOORS`), at full size and at :data:`CALIBRATION_SIZE`, and
    * the target *without this one change* (every other requested change made) moves it by at
      most :data:`DISCRIMINATION` of that (tested at :data:`CALIBRATION_SIZE`), so a result that
      skipped this dimension fails even if the other changes push the same measure (fog brightens
      what night darkens).

    The best qualifying signal (largest margin over its floor) becomes a change test with
    ``min_change = NEED_FRACTION * delta`` (``delta`` measured at full size: the renderer draws
    particles and glows at fixed pixel sizes, so changes depend on the image size) (``min_change_ratio`` for the count-like measures
    ``edge_density`` and ``distinct_colors``, whose scale depends on image size and content). With
    no qualifying signal the check is ``{"measure": null, "why": ...}`` and the judge must answer
    "undecidable". Architecture and era have no signal at all: they are matters of shape.

Preserve checks (one per kept dimension)
    A kept dimension whose change would reshape a known region (:data:`KEEP_REGIONS`: buildings
    for architecture and era, trees for the season, the land for the location, the whole frame
    for the medium and atmospheric effects, the sky for the weather) gets a ``structure_kept``
    test: luma SSIM over that region between source and result. Its threshold lies halfway
    between the true target (the requested changes, this dimension kept) and a *violation* (the
    same, with this dimension changed to another value chosen by the generator); when the two are
    less than :data:`KEEP_SEPARATION` apart, or the true target keeps too little structure (night,
    sketches), the check is null. Tone and colour dimensions (time of day, mood, grading) cannot
    be told apart from the requested changes by structure and are always null.

The measures are re-implemented here (the generator may import only ``bench``) to the letter of
:mod:`judges.measures`; ``tests/test_suite_styling.py`` checks both agree, and that the true
target at full size passes every check while the unedited source fails every goal check.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.feature import canny
from skimage.metrics import structural_similarity

from bench.model import Region
from bench.regions import region_mask as core_mask
from bench.scene import SceneSpec, edit, render
from suites.builtin._styling_text import VALUE_WORDS, value_words

#: Side (px) of the small renders that test whether a change is needed for a measure to move (5x
#: cheaper than 512 px; 256 px is avoided because the renderer's road bricks break at that size).
CALIBRATION_SIZE = 224
#: Fraction of the true change a result must reach to pass (half of it is "partial").
NEED_FRACTION = 0.6
#: The change without this dimension may move the measure by at most this fraction of the full change.
DISCRIMINATION = 0.25
#: Smallest true change (in the measure's own units) worth a check.
FLOORS: dict[str, float] = {
    "brightness": 0.025, "contrast": 0.012, "saturation": 0.025, "warmth": 0.025, "hue_distance": 0.035,
    "haze": 0.02, "white_coverage": 0.02, "colorfulness": 4.0, "edge_density": 0.004, "distinct_colors": 8.0,
}
#: Measures whose threshold is relative to the source's value (``min_change_ratio``), with the
#: smallest relative change worth a check.
RATIO_MEASURES: dict[str, float] = {"edge_density": 0.15, "distinct_colors": 0.15}
#: Preserve checks: the true target and the violation must differ by this much SSIM...
KEEP_SEPARATION = 0.1
#: ... and the true target must keep at least this much.
KEEP_MIN_TRUE = 0.3

Signal = tuple[str, str, str, float | None]  # (measure, increase | decrease | auto, region, target hue)


def _s(measure: str, direction: str, region: str = "full", hue: float | None = None) -> Signal:
    return (measure, direction, region, hue)


GOAL_SIGNALS: dict[str, dict[str, list[Signal]]] = {
    "location_setting": {
        "city": [], "suburb": [], "village": [], "mountains": [],
        "beach": [_s("brightness", "increase", "ground"), _s("warmth", "increase", "ground")],
        "desert": [_s("warmth", "increase", "ground"), _s("hue_distance", "decrease", "ground", 40.0)],
        "forest": [_s("hue_distance", "decrease", "ground", 120.0), _s("brightness", "decrease")],
    },
    "architecture_style": {},
    "time_period": {},
    "time_of_day": {
        "noon": [_s("brightness", "increase"), _s("warmth", "decrease")],
        "dawn": [_s("warmth", "increase", "sky"), _s("brightness", "decrease")],
        "morning": [_s("warmth", "auto", "sky"), _s("brightness", "auto")],
        "golden_hour": [_s("warmth", "increase"), _s("hue_distance", "decrease", "full", 30.0)],
        "dusk": [_s("brightness", "decrease"), _s("warmth", "increase", "sky")],
        "night": [_s("brightness", "decrease"), _s("brightness", "decrease", "sky")],
    },
    "season": {
        # lush summer greenery: greener, more saturated and darker than spring's pale blossom or autumn's orange
        "summer": [_s("hue_distance", "decrease", "ground", 120.0), _s("white_coverage", "decrease", "ground"),
                   _s("saturation", "increase", "ground"), _s("warmth", "decrease", "trees"),
                   _s("brightness", "decrease", "trees")],
        # fresh pale foliage and blossom: lighter trees, greener (less orange) leaves, colour after snow
        "spring": [_s("brightness", "increase", "trees"), _s("warmth", "decrease", "trees"),
                   _s("white_coverage", "decrease", "ground"), _s("saturation", "increase", "ground"),
                   _s("colorfulness", "increase", "trees")],
        "autumn": [_s("warmth", "increase", "trees"), _s("hue_distance", "decrease", "trees", 30.0),
                   _s("warmth", "increase", "ground")],
        "winter": [_s("white_coverage", "increase", "ground"), _s("white_coverage", "increase")],
    },
    "weather": {
        "clear": [_s("haze", "decrease", "sky"), _s("saturation", "increase", "sky"), _s("brightness", "auto", "sky")],
        "cloudy": [_s("saturation", "decrease", "sky"), _s("contrast", "decrease")],
        "rainy": [_s("brightness", "decrease"), _s("saturation", "decrease"), _s("edge_density", "increase")],
        "snowy": [_s("white_coverage", "increase"), _s("saturation", "decrease")],
        "foggy": [_s("haze", "increase"), _s("contrast", "decrease")],
        "stormy": [_s("brightness", "decrease", "sky"), _s("brightness", "decrease"), _s("saturation", "decrease")],
    },
    "mood_lighting": {
        "neutral": [_s("saturation", "auto"), _s("brightness", "auto"), _s("warmth", "auto"), _s("contrast", "auto")],
        "warm_cozy": [_s("warmth", "increase")],
        "cool_calm": [_s("warmth", "decrease")],
        "dramatic": [_s("contrast", "increase"), _s("saturation", "increase")],
        "mysterious": [_s("brightness", "decrease")],
        "ethereal": [_s("brightness", "increase"), _s("haze", "increase"), _s("contrast", "decrease")],
        "melancholic": [_s("saturation", "decrease"), _s("brightness", "decrease")],
    },
    "color_grading": {
        "natural": [_s("saturation", "auto"), _s("warmth", "auto"), _s("colorfulness", "auto")],
        "warm_cinematic": [_s("warmth", "increase")],
        "cool_blue": [_s("warmth", "decrease")],
        "sepia": [_s("hue_distance", "decrease", "full", 35.0), _s("saturation", "decrease"), _s("warmth", "increase")],
        "black_white": [_s("saturation", "decrease"), _s("colorfulness", "decrease")],
        "teal_orange": [_s("saturation", "increase"), _s("colorfulness", "increase")],
        "vibrant": [_s("saturation", "increase"), _s("colorfulness", "increase")],
        "pastel": [_s("saturation", "decrease"), _s("contrast", "decrease"), _s("brightness", "increase")],
    },
    "artistic_medium": {
        "photo": [_s("edge_density", "auto"), _s("saturation", "auto"), _s("distinct_colors", "auto")],
        "pencil_sketch": [_s("saturation", "decrease"), _s("white_coverage", "increase"), _s("edge_density", "increase")],
        "oil_paint": [_s("edge_density", "increase"), _s("saturation", "increase")],
        "watercolor": [_s("brightness", "increase"), _s("haze", "increase"), _s("edge_density", "decrease")],
        "pixel_art": [_s("distinct_colors", "decrease")],
        "comic": [_s("edge_density", "increase"), _s("contrast", "increase")],
    },
    "atmospheric_effects": {
        "none": [_s("haze", "auto"), _s("white_coverage", "auto"), _s("edge_density", "auto"), _s("warmth", "auto"),
                 _s("brightness", "auto")],
        "fog": [_s("haze", "increase"), _s("contrast", "decrease")],
        "haze": [_s("haze", "increase"), _s("contrast", "decrease")],
        "snow": [_s("white_coverage", "increase"), _s("edge_density", "increase")],
        "rain": [_s("edge_density", "increase"), _s("saturation", "decrease")],
        "embers": [_s("warmth", "increase")],
        "light_rays": [_s("brightness", "increase")],
    },
}

NO_SIGNAL_WHY: dict[str, str] = {
    "architecture_style": "architectural style is a matter of building shapes; no weight-free measure tells one "
                          "style from another",
    "time_period": "an era shows in the shapes of buildings, props and clothes; no weight-free measure tells one "
                   "era from another",
    "location_setting": "this setting differs from the source in shapes (skyline, houses, peaks), not in a colour "
                        "or tone a weight-free measure reads",
}
NOT_SEPARABLE_WHY = ("no weight-free measure moves clearly for {what} in this scene once the other requested "
                     "changes are made")

KEEP_REGIONS: dict[str, str] = {
    "architecture_style": "buildings", "time_period": "buildings", "season": "trees",
    "location_setting": "land", "artistic_medium": "full", "atmospheric_effects": "full", "weather": "sky",
}
KEEP_TONE_WHY = ("a kept {what} is a matter of tone and colour, which the requested changes also move; only "
                 "the exact attributes judge decides it")
KEEP_NOT_SEPARABLE_WHY = ("in this scene, changing the {what} alters the structure of the {region} too little "
                          "beside the requested changes for SSIM to tell")
REGION_WORDS: dict[str, str] = {"full": "picture", "sky": "sky", "land": "land", "ground": "ground",
                                "buildings": "buildings", "trees": "trees"}


# ------------------------------------------------------------------------------------------ measures


class Pixels:
    """One image's float arrays, computed once and shared by every measure (mirrors judges.measures)."""

    def __init__(self, image: Image.Image) -> None:
        self.rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
        self.shape = self.rgb.shape[:2]
        self.luma = self.rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float64)
        self._sv: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._hue: np.ndarray | None = None
        self._edges: np.ndarray | None = None
        self._dark: np.ndarray | None = None

    def sv(self) -> tuple[np.ndarray, np.ndarray]:
        """HSV saturation and value exactly as ``skimage.color.rgb2hsv`` computes them."""
        if self._sv is None:
            v = self.rgb.max(axis=-1)
            delta = v - self.rgb.min(axis=-1)
            s = np.zeros_like(v)
            np.divide(delta, v, out=s, where=delta > 0.0)
            self._sv = (s, v, delta)
        return self._sv[0], self._sv[1]

    def hue(self) -> np.ndarray:
        """HSV hue in [0, 1) exactly as ``skimage.color.rgb2hsv`` computes it (blue wins ties, then green)."""
        if self._hue is None:
            self.sv()
            assert self._sv is not None
            _, v, delta = self._sv
            r, g, b = self.rgb[..., 0], self.rgb[..., 1], self.rgb[..., 2]
            safe = np.where(delta > 0.0, delta, 1.0)
            h = np.where(b == v, 4.0 + (r - g) / safe, np.where(g == v, 2.0 + (b - r) / safe, (g - b) / safe))
            h = (h / 6.0) % 1.0
            h[delta == 0.0] = 0.0
            self._hue = h
        return self._hue

    def edges(self) -> np.ndarray:
        if self._edges is None:
            self._edges = canny(self.luma, sigma=1.0, low_threshold=0.1, high_threshold=0.2).astype(np.float64)
        return self._edges

    def dark(self) -> np.ndarray:
        """The dark channel: a square minimum filter, run as two 1-D passes (the same minimum)."""
        if self._dark is None:
            size = max(3, (min(self.shape) // 32) | 1)
            rows = ndimage.minimum_filter1d(self.rgb.min(axis=2), size, axis=0, mode="nearest")
            self._dark = ndimage.minimum_filter1d(rows, size, axis=1, mode="nearest")
        return self._dark


def _mean(values: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(values.mean()) if values.size else math.nan
    total = float(w.sum())
    return float((values * w).sum() / total) if total > 0 else math.nan


def _std(values: np.ndarray, w: np.ndarray | None) -> float:
    mu = _mean(values, w)
    return math.sqrt(max(_mean((values - mu) ** 2, w), 0.0)) if math.isfinite(mu) else math.nan


def _hue_distance(p: Pixels, w: np.ndarray | None, hue: float) -> float:
    h, s = p.hue(), p.sv()[0]
    diff = np.abs(h * 360.0 - (hue % 360.0))
    dist = np.minimum(diff, 360.0 - diff) / 180.0
    weight = s if w is None else s * w
    total = float(weight.sum())
    return float((dist * weight).sum() / total) if total > 1e-9 else math.nan


def _colorfulness(p: Pixels, w: np.ndarray | None) -> float:
    rgb = p.rgb * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return math.hypot(_std(rg, w), _std(yb, w)) + 0.3 * math.hypot(_mean(rg, w), _mean(yb, w))


def _distinct_colors(p: Pixels, w: np.ndarray | None) -> float:
    q = np.rint(p.rgb * 255.0).astype(np.uint32) >> 3
    codes = (q[..., 0] << 16) | (q[..., 1] << 8) | q[..., 2]
    if w is not None:
        codes = codes[w >= 0.5]
    return float(np.unique(codes).size)


MEASURES: dict[str, Callable[[Pixels, np.ndarray | None, float | None], float]] = {
    "brightness": lambda p, w, h: _mean(p.luma, w),
    "contrast": lambda p, w, h: _std(p.luma, w),
    "saturation": lambda p, w, h: _mean(p.sv()[0], w),
    "warmth": lambda p, w, h: _mean(p.rgb[..., 0] - p.rgb[..., 2], w),
    "hue_distance": lambda p, w, h: _hue_distance(p, w, float(h if h is not None else 0.0)),
    "haze": lambda p, w, h: _mean(p.dark(), w),
    "white_coverage": lambda p, w, h: _mean(((p.sv()[1] >= 0.8) & (p.sv()[0] <= 0.15)).astype(np.float64), w),
    "edge_density": lambda p, w, h: _mean(p.edges(), w),
    "colorfulness": lambda p, w, h: _colorfulness(p, w),
    "distinct_colors": lambda p, w, h: _distinct_colors(p, w),
}


def structure_in(a: Pixels, b: Pixels, w: np.ndarray | None) -> float:
    """Mean luma SSIM over a region: ``judges.measures.structure_kept(a, b, 1 - w)``."""
    short = min(a.shape)
    win = min(7, short if short % 2 else short - 1)
    _, ssim_map = structural_similarity(a.luma, b.luma, data_range=1.0, win_size=win, full=True)
    pad = (win - 1) // 2
    inner = (slice(pad, a.shape[0] - pad), slice(pad, a.shape[1] - pad))
    return _mean(ssim_map[inner], None if w is None else w[inner])


# ------------------------------------------------------------------------------------------ regions


def _bbox(spec: SceneSpec, kind: str) -> list[float] | None:
    boxes = [(o.x - o.w / 2, o.y - o.h, o.x + o.w / 2, o.y) for o in spec.objects if o.kind == kind]
    if not boxes:
        return None
    x0, y0 = max(0.0, min(b[0] for b in boxes)), max(0.0, min(b[1] for b in boxes))
    x1, y1 = min(1.0, max(b[2] for b in boxes)), min(1.0, max(b[3] for b in boxes))
    return [round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4)] if x1 > x0 and y1 > y0 else None


def scene_regions(spec: SceneSpec) -> dict[str, Any]:
    """The REGIONs (``truth.checks`` form) a styling check may use, from the spec's layout."""
    h = round(spec.horizon, 4)
    regions: dict[str, Any] = {
        "full": "full",
        "sky": {"box": [0.0, 0.0, 1.0, h], "name": "sky"},
        "ground": {"box": [0.0, h, 1.0, 1.0], "name": "ground"},
        "land": {"box": [0.0, round(max(0.0, h - 0.12), 4), 1.0, 1.0], "name": "land"},
    }
    for kind, name in (("building", "buildings"), ("tree", "trees")):
        box = _bbox(spec, kind)
        if box is not None:
            regions[name] = {"box": box, "name": name}
    return regions


def region_mask(region: Any, width: int, height: int) -> np.ndarray | None:
    """The mask of a REGION (``None`` for ``"full"``), rasterised as :func:`bench.regions.region_mask` does."""
    if region == "full":
        return None
    return core_mask(Region(kind="box", box=tuple(region["box"])), (width, height)).astype(np.float64)


# ------------------------------------------------------------------------------------------ calibration


class Calibrator:
    """Derives the checks of one sample from its source and (full) target specs.

    The renderer draws particles, rain streaks and glows at fixed pixel sizes, so a measure's
    change depends on the image size: thresholds come from full-size renders of the source and the
    target (the pixels a judge will see), and the comparison with the target *without* one change
    (one render per changed dimension) runs on :data:`CALIBRATION_SIZE` renders, where it costs a
    fifth. Preserve thresholds (SSIM, which particles lower less at full size, so a true result
    only gains margin there) also come from small renders. Every render and every measure is
    cached, so a sample with ``k`` changes and ``m`` structural keeps costs one full-size render
    (the target) and ``2 + k + m`` small ones beyond its source image.
    """

    def __init__(self, source: SceneSpec, target: SceneSpec, source_image: Image.Image | None = None,
                 small: int = CALIBRATION_SIZE) -> None:
        self.source, self.target, self.small = source, target, small
        self.regions = scene_regions(source)
        self._pixels: dict[tuple[int, str], Pixels] = {}
        self._values: dict[tuple[int, str, str, str, float | None], float] = {}
        self._masks: dict[tuple[int, int, str], np.ndarray | None] = {}
        if source_image is not None:
            if source_image.size != (source.width, source.height):
                raise ValueError("Calibrator: source_image is not the size of the source spec")
            self._pixels[(0, source.to_json())] = Pixels(source_image)

    def _px(self, spec: SceneSpec, small: bool) -> tuple[str, Pixels]:
        key = (self.small if small else 0, spec.to_json())
        if key not in self._pixels:
            sized = dataclasses.replace(spec, width=self.small, height=self.small) if small else spec
            self._pixels[key] = Pixels(render(sized))
        return key[1], self._pixels[key]

    def _mask(self, region: str, px: Pixels) -> np.ndarray | None:
        h, w = px.shape
        if (w, h, region) not in self._masks:
            self._masks[(w, h, region)] = region_mask(self.regions[region], w, h)
        return self._masks[(w, h, region)]

    def _value(self, spec: SceneSpec, small: bool, measure: str, region: str, hue: float | None) -> float:
        key, px = self._px(spec, small)
        vkey = (self.small if small else 0, key, measure, region, hue)
        if vkey not in self._values:
            self._values[vkey] = MEASURES[measure](px, self._mask(region, px), hue)
        return self._values[vkey]

    def _floor(self, measure: str, base: float) -> float:
        floor = FLOORS[measure]
        return max(floor, RATIO_MEASURES[measure] * abs(base)) if measure in RATIO_MEASURES else floor

    def goal_check(self, dim: str) -> dict[str, Any]:
        """The change test for the target's value of ``dim``, or a null check saying why not."""
        value = getattr(self.target, dim)
        signals = [s for s in GOAL_SIGNALS[dim].get(value, []) if s[2] in self.regions]
        if not signals:
            return {"measure": None, "why": NO_SIGNAL_WHY.get(dim, f"no weight-free measure reads {dim}")}
        without = edit(self.target, {dim: getattr(self.source, dim)})
        best: tuple[float, dict[str, Any]] | None = None
        for measure, direction, region, hue in signals:
            # The cheap small-size test first: most signals fail it, and then no full-size measure is needed.
            sa, sb, sc = (self._value(x, True, measure, region, hue) for x in (self.source, self.target, without))
            if not all(math.isfinite(x) for x in (sa, sb, sc)):
                continue
            sign = (1.0 if sb >= sa else -1.0) if direction == "auto" else (1.0 if direction == "increase" else -1.0)
            small_delta, small_without = sign * (sb - sa), sign * (sc - sa)
            if small_delta < self._floor(measure, sa) or small_without > DISCRIMINATION * small_delta:
                continue
            a, b = (self._value(x, False, measure, region, hue) for x in (self.source, self.target))
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            delta, floor = sign * (b - a), self._floor(measure, a)
            if delta < floor:
                continue
            margin = delta / floor * (1.0 - max(small_without, 0.0) / small_delta)
            check: dict[str, Any] = {"measure": measure, "region": self.regions[region],
                                     "direction": "increase" if sign > 0 else "decrease"}
            if measure in RATIO_MEASURES:
                check["min_change_ratio"] = round(NEED_FRACTION * delta / abs(a), 4)
            else:
                check["min_change"] = round(NEED_FRACTION * delta, 4)
            if hue is not None:
                check["target_hue"] = hue
            if best is None or margin > best[0]:
                best = (margin, check)
        if best is None:
            return {"measure": None, "why": NOT_SEPARABLE_WHY.format(what=repr(value_words(dim, value)))}
        return best[1]

    def keep_check(self, dim: str, violation: str) -> dict[str, Any]:
        """The structure test for keeping ``dim`` (its ``violation`` value shows what breaking it does)."""
        what = dim.replace("_", " ")
        region = KEEP_REGIONS.get(dim)
        if region is None or region not in self.regions:
            return {"measure": None, "why": KEEP_TONE_WHY.format(what=what)}
        if violation == getattr(self.source, dim) or violation not in VALUE_WORDS[dim]:
            raise ValueError(f"keep_check({dim}): {violation!r} does not violate the kept value")
        _, src = self._px(self.source, True)
        _, tgt = self._px(self.target, True)
        _, bad = self._px(edit(self.target, {dim: violation}), True)
        mask = self._mask(region, src)
        true_ssim, bad_ssim = structure_in(src, tgt, mask), structure_in(src, bad, mask)
        if true_ssim < KEEP_MIN_TRUE or true_ssim - bad_ssim < KEEP_SEPARATION:
            return {"measure": None, "why": KEEP_NOT_SEPARABLE_WHY.format(what=what, region=REGION_WORDS[region])}
        return {"measure": "structure_kept", "region": self.regions[region],
                "at_least": round((true_ssim + bad_ssim) / 2.0, 3)}
