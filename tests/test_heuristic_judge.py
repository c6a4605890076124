"""The ``checklist-heuristic`` judge: hint forms, verdict bands, lexicon, scores, failures, speed,
and its agreement with known truth on the built-in suites (a small version of
``benchmarks/heuristic_ground_truth.py``).

Images are made here: flat colours, stripes, a box, text drawn with Pillow's built-in font.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.ids import image_id
from bench.model import Criterion, ImageRef, Sample, Trajectory
from bench.protocols import Judge, JudgeItem
from judges import _heuristic_measure as hm
from judges._heuristic_checks import Outcome, evaluate
from judges.heuristic import SCORE_NAMES, HeuristicChecklistJudge

SIZE = 96
BOX = [0.25, 0.25, 0.75, 0.75]


# ----------------------------------------------------------------------------------- helpers


def flat(rgb: tuple[int, int, int], size: int = SIZE) -> Image.Image:
    return Image.new("RGB", (size, size), rgb)


def stripes(base: Image.Image, period: int = 8, colour: tuple[int, int, int] = (20, 20, 20)) -> Image.Image:
    arr = np.asarray(base).copy()
    arr[(np.arange(arr.shape[0]) % period) < 2] = colour
    return Image.fromarray(arr)


def with_box(base: Image.Image, box: list[float], colour: tuple[int, int, int]) -> Image.Image:
    img = base.copy()
    w, h = img.size
    ImageDraw.Draw(img).rectangle([box[0] * w, box[1] * h, box[2] * w - 1, box[3] * h - 1], fill=colour)
    return img


def with_text(base: Image.Image, box: list[float], text: str = "SALE 42") -> Image.Image:
    img = base.copy()
    w, h = img.size
    ImageDraw.Draw(img).text(
        (box[0] * w + 2, box[1] * h + 2),
        text,
        fill=(10, 10, 10),
        font=ImageFont.load_default(size=max(10, int(h * 0.12))),
    )
    return img


def sample(
    criteria: list[tuple[str, str]] | list[Criterion],
    checks: dict | None = None,
    source: Image.Image | None = None,
    **truth,
) -> Sample:
    checklist = tuple(
        c if isinstance(c, Criterion) else Criterion(id=f"c{i + 1}", text=c[0], kind=c[1])  # type: ignore[arg-type]
        for i, c in enumerate(criteria)
    )
    full_truth = dict(truth)
    if checks is not None:
        full_truth["checks"] = checks
    ref = ImageRef(id=image_id(source) if source is not None else "0" * 64)
    return Sample(
        id="s1",
        image=ref,
        goal="edit it",
        checklist=checklist,
        truth=full_truth or None,
        context={"product": "teapot", "brand": "Acme"},
    )


def item(smp: Sample, source: Image.Image, result: Image.Image | None, *, status: str = "ok") -> JudgeItem:
    smp = smp.replace(image=ImageRef(id=image_id(source)))
    final_id = image_id(result) if isinstance(result, Image.Image) and min(result.size) > 0 else None
    traj = Trajectory(suite="t@1", sample_id=smp.id, system_id="sys", final=final_id, status=status)  # type: ignore[arg-type]
    return JudgeItem(suite="t@1", sample=smp, source=source, final=result, trajectory=traj)  # type: ignore[arg-type]


def judge_one(smp: Sample, source: Image.Image, result: Image.Image, **options):
    return HeuristicChecklistJudge(**options).judge([item(smp, source, result)])[0]


def brighten(image: Image.Image, amount: float) -> Image.Image:
    arr = np.asarray(image, dtype=np.float64) + amount * 255.0
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))


class Stub:
    """Measure objects with fixed values, to test verdict bands exactly."""

    def __init__(
        self, values: dict[str, float], structure: float = math.nan, outside: float = math.nan
    ) -> None:
        self.values = values
        self._structure = structure
        self._outside = outside

    def value(self, measure: str, region="full", **options) -> float:
        return self.values[measure]

    def structure_kept(self, region) -> float:
        return self._structure

    def change(self, region):
        return hm.M.Change(inside=0.5, outside=self._outside)


def verdict(
    hint: dict,
    a: dict[str, float],
    b: dict[str, float],
    structure: float = math.nan,
    outside: float = math.nan,
) -> Outcome:
    pair = Stub({}, structure, outside)
    return evaluate(hint, Stub(a), Stub(b), pair)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ hint forms


BRIGHTER = {"measure": "brightness", "region": "full", "direction": "increase", "min_change": 0.05}


def test_change_hint_pass_partial_fail_with_numbers():
    src = flat((100, 100, 100))
    smp = sample([("Brighter", "goal")], {"c1": BRIGHTER}, src)
    got = {amount: judge_one(smp, src, brighten(src, amount)) for amount in (0.07, 0.035, 0.01, -0.05)}
    assert {a: j.verdicts["c1"] for a, j in got.items()} == {
        0.07: "pass",
        0.035: "partial",
        0.01: "fail",
        -0.05: "fail",
    }
    assert "0.3922 -> 0.4627" in got[0.07].rationale["c1"] and ">= 0.05" in got[0.07].rationale["c1"]
    assert got[0.07].rationale["c1"].startswith("[hint]")
    assert "no change in the asked direction" in got[-0.05].rationale["c1"]
    assert got[0.07].scores["pass_rate"] == 1.0 and got[0.035].scores["pass_rate"] == 0.5


def test_ratio_hint_on_an_outside_region():
    base = flat((200, 200, 200))
    src = stripes(base)
    hint = {
        "measure": "edge_density",
        "region": {"outside": [BOX], "name": "backdrop"},
        "direction": "decrease",
        "min_change_ratio": 0.4,
    }
    smp = sample([("Clutter is removed", "goal")], {"c1": hint}, src)
    clean = with_box(base, BOX, (20, 20, 20))  # stripes gone outside the box; the box itself does not count
    assert judge_one(smp, src, clean).verdicts["c1"] == "pass"
    assert judge_one(smp, src, src).verdicts["c1"] == "fail"
    # Nothing to reduce in a flat source: a ratio of 0 would let a no-op pass, so it is undecidable.
    flat_smp = sample([("Clutter is removed", "goal")], {"c1": hint}, base)
    j = judge_one(flat_smp, base, base)
    assert j.verdicts["c1"] == "undecidable" and "nothing to decrease" in j.rationale["c1"]


def test_hue_hint_moves_toward_the_target_hue():
    red, green, grey = flat((200, 40, 40)), flat((40, 200, 40)), flat((128, 128, 128))
    hint = {
        "measure": "hue_distance",
        "region": "full",
        "direction": "decrease",
        "min_change": 0.08,
        "target_hue": 120,
    }
    smp = sample([("The palette turns green", "goal")], {"c1": hint}, red)
    assert judge_one(smp, red, green).verdicts["c1"] == "pass"
    assert judge_one(smp, red, red).verdicts["c1"] == "fail"
    blue_hint = dict(hint, target_hue=240)  # red and green are both 120 degrees from blue
    assert judge_one(sample([("Blue", "goal")], {"c1": blue_hint}, red), red, green).verdicts["c1"] == "fail"
    j = judge_one(smp, red, grey)  # a grey result has no hue: not measurable, not a guess
    assert j.verdicts["c1"] == "undecidable" and "not measurable" in j.rationale["c1"]
    nearly_grey = flat((129, 128, 127))  # a hue, but of a few per cent of saturation: noise
    j = judge_one(smp, red, nearly_grey)
    assert j.verdicts["c1"] == "undecidable" and "mean saturation" in j.rationale["c1"]


def test_colour_count_hint_with_a_box_crop():
    rng = np.random.default_rng(0)
    src = Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))
    posterised = Image.fromarray((np.asarray(src) // 128 * 128 + 64).astype(np.uint8))  # 8 colours
    hint = {
        "measure": "distinct_colors",
        "region": {"box": BOX},
        "direction": "decrease",
        "min_change_ratio": 0.5,
    }
    smp = sample([("It looks like pixel art", "goal")], {"c1": hint}, src)
    j = judge_one(smp, src, posterised)
    assert j.verdicts["c1"] == "pass" and "distinct_colors over box" in j.rationale["c1"]
    assert judge_one(smp, src, src).verdicts["c1"] == "fail"


def test_structure_kept_over_a_box():
    base = flat((230, 230, 230), size=256)
    product = stripes(
        with_box(base, BOX, (240, 200, 40)), period=10, colour=(30, 90, 160)
    )  # a striped "product"
    src = stripes(base, period=6)
    src.paste(product.crop((64, 64, 192, 192)), (64, 64))
    hint = {"measure": "structure_kept", "region": {"box": BOX, "name": "product"}, "at_least": 0.8}
    smp = sample([("The product keeps its shape", "preserve")], {"c1": hint}, src)
    outside_changed = flat((20, 20, 20), size=256)
    outside_changed.paste(src.crop((64, 64, 192, 192)), (64, 64))  # the box's pixels exactly as before
    j = judge_one(smp, src, outside_changed)
    assert j.verdicts["c1"] == "pass", j.rationale
    erased = with_box(src, BOX, (30, 90, 160))
    j = judge_one(smp, src, erased)
    assert j.verdicts["c1"] == "fail" and "luma SSIM over product" in j.rationale["c1"]


def test_text_kept_over_a_box():
    base = flat((240, 240, 240))
    src = with_text(base, BOX)
    hint = {"measure": "text_likelihood", "region": {"box": BOX, "name": "price"}, "at_least_ratio": 0.5}
    smp = sample([("The price is still shown", "preserve")], {"c1": hint}, src)
    assert judge_one(smp, src, src).verdicts["c1"] == "pass"
    covered = with_box(src, BOX, (240, 240, 240))
    assert judge_one(smp, src, covered).verdicts["c1"] == "fail"
    plain = sample([("The price is still shown", "preserve")], {"c1": hint}, base)
    j = judge_one(plain, base, base)
    assert j.verdicts["c1"] == "undecidable" and "does not read as text" in j.rationale["c1"]


def test_null_measure_and_malformed_hints_are_undecidable_never_a_crash():
    src = flat((100, 100, 100))
    checks = {
        "c1": {"measure": None, "why": "an added motif may take any form"},
        "c2": {
            "measure": "brightness",
            "region": {"outside": [[0.0, 0.0, 1.0, 1.0]]},
            "direction": "increase",
            "min_change": 0.05,
        },  # an empty region: NaN, not 0
        "c3": {
            "measure": "brightness",
            "region": {"box": [0.6, 0.6, 0.2, 0.2]},
            "direction": "increase",
            "min_change": 0.05,
        },  # a box turned inside out
        "c4": {"measure": "brightness"},  # no direction: no known form
        "c5": {"measure": "no_such_measure", "direction": "increase", "min_change": 1},
        "c6": "not an object",
    }
    smp = sample([(f"criterion {i}", "goal") for i in range(1, 7)], checks, src)
    j = judge_one(smp, src, brighten(src, 0.2))
    assert j.status == "ok"
    assert set(j.verdicts.values()) == {"undecidable"}
    assert "any form" in j.rationale["c1"] and "not measurable" in j.rationale["c2"]
    assert j.scores == {"decided": 0.0}
    assert j.na["pass_rate"].startswith("no criterion decided")


@pytest.mark.parametrize(
    ("hint", "a", "b", "extra", "want"),
    [
        (BRIGHTER, {"brightness": 0.4}, {"brightness": 0.45}, {}, "pass"),  # exactly the asked change
        (BRIGHTER, {"brightness": 0.4}, {"brightness": 0.425}, {}, "partial"),  # exactly half
        (BRIGHTER, {"brightness": 0.4}, {"brightness": 0.42}, {}, "fail"),
        (dict(BRIGHTER, direction="decrease"), {"brightness": 0.4}, {"brightness": 0.3}, {}, "pass"),
        (
            {"measure": "edge_density", "region": "full", "direction": "decrease", "min_change_ratio": 0.4},
            {"edge_density": 0.1},
            {"edge_density": 0.06},
            {},
            "pass",
        ),
        (
            {"measure": "structure_kept", "region": "full", "at_least": 0.8},
            {},
            {},
            {"structure": 0.8},
            "pass",
        ),
        (
            {"measure": "structure_kept", "region": "full", "at_least": 0.8},
            {},
            {},
            {"structure": 0.76},
            "partial",
        ),
        (
            {"measure": "structure_kept", "region": "full", "at_least": 0.8},
            {},
            {},
            {"structure": 0.74},
            "fail",
        ),
        (
            {"measure": "structure_kept", "region": "full", "at_least": 0.8},
            {},
            {},
            {"structure": math.nan},
            "undecidable",
        ),
        (
            {"measure": "text_likelihood", "region": "full", "at_least_ratio": 0.5},
            {"text_likelihood": 0.8},
            {"text_likelihood": 0.4},
            {},
            "pass",
        ),
        (
            {"measure": "text_likelihood", "region": "full", "at_least_ratio": 0.5},
            {"text_likelihood": 0.8},
            {"text_likelihood": 0.34},
            {},
            "partial",
        ),
        (
            {"measure": "text_likelihood", "region": "full", "at_least_ratio": 0.5},
            {"text_likelihood": 0.8},
            {"text_likelihood": 0.2},
            {},
            "fail",
        ),
        (
            {"measure": "change_outside", "region": "full", "at_most": 0.02},
            {},
            {},
            {"outside": 0.03},
            "partial",
        ),
        (
            {"all": [BRIGHTER, dict(BRIGHTER, measure="warmth")]},
            {"brightness": 0.4, "warmth": 0.0},
            {"brightness": 0.5, "warmth": 0.1},
            {},
            "pass",
        ),
        (
            {"all": [BRIGHTER, dict(BRIGHTER, measure="warmth")]},
            {"brightness": 0.4, "warmth": 0.0},
            {"brightness": 0.5, "warmth": -0.1},
            {},
            "partial",
        ),
        (
            {"all": [BRIGHTER, dict(BRIGHTER, measure="warmth")]},
            {"brightness": 0.4, "warmth": 0.0},
            {"brightness": 0.3, "warmth": -0.1},
            {},
            "fail",
        ),
        (
            {"all": [BRIGHTER, {"measure": None, "why": "x"}]},
            {"brightness": 0.4},
            {"brightness": 0.5},
            {},
            "undecidable",
        ),
    ],
)
def test_verdict_bands(hint, a, b, extra, want):
    assert verdict(hint, a, b, **extra).verdict == want


# --------------------------------------------------------------------------------- lexicon


def test_lexicon_decides_warmer_darker_saturation_and_palettes_without_hints():
    src = flat((120, 120, 160))
    warm = Image.fromarray(np.clip(np.asarray(src, dtype=int) + [40, 0, -40], 0, 255).astype(np.uint8))
    smp = sample(
        [
            ("The colours turn warmer", "goal"),
            ("It gets darker", "goal"),
            ("The palette shifts to green tones", "goal"),
        ],
        None,
        src,
    )
    j = judge_one(smp, src, warm)
    assert j.verdicts == {"c1": "pass", "c2": "fail", "c3": "fail"}
    assert j.rationale["c1"].startswith("[lexicon: 'warmer' -> warmth increase]")
    assert "hue distance to 120 deg" in j.rationale["c3"]
    desat = sample([("Colours are less saturated", "goal")], None, src)
    assert judge_one(desat, src, flat((130, 130, 130))).verdicts["c1"] == "pass"
    assert judge_one(desat, src, src).verdicts["c1"] == "fail"


def test_lexicon_keep_uses_known_element_boxes():
    base = stripes(flat((230, 230, 230)), period=6)
    src = with_text(with_box(base, [0.1, 0.1, 0.5, 0.5], (200, 40, 40)), [0.55, 0.6, 0.95, 0.9])
    layout = {"logo": [0.1, 0.1, 0.5, 0.5], "price": [0.55, 0.6, 0.95, 0.9]}
    crit = [
        ("The Acme logo is unchanged", "preserve"),
        ("The price is still shown where it was", "preserve"),
        ("Only the teapot changes", "goal"),
        ("Keep the mascot", "preserve"),
    ]
    smp = sample(crit, None, src, layout={**layout, "product": [0.55, 0.1, 0.95, 0.5]}, text={"price": "$4"})
    untouched = judge_one(smp, src, src)
    assert untouched.verdicts == {"c1": "pass", "c2": "pass", "c3": "pass", "c4": "undecidable"}
    assert "luma SSIM over logo" in untouched.rationale["c1"]  # the brand names the logo
    assert "text score over price" in untouched.rationale["c2"]  # truth.text marks the price as text
    assert "mean change outside product" in untouched.rationale["c3"]
    assert "names no element" in untouched.rationale["c4"]
    broken = with_box(with_box(src, layout["logo"], (230, 230, 230)), layout["price"], (230, 230, 230))
    assert judge_one(smp, src, broken).verdicts == {
        "c1": "fail",
        "c2": "fail",
        "c3": "fail",
        "c4": "undecidable",
    }


@pytest.mark.parametrize(
    "text",
    [
        "A dragon appears in the sky",  # nothing measurable
        "The image is not darker",  # a negation: scope not parsed
        "A red and green palette",  # two palettes far apart
        "The headline 'Dark Roast' is bold",  # the only attribute word is quoted content
        "It is warmer and cooler",  # contradictory
        "Keep the composition",  # nothing known to keep
        "The colour grading fits a cyberpunk night market look",  # 'night' belongs to the theme, not the grade
    ],
)
def test_lexicon_says_undecidable_rather_than_guess(text):
    src = flat((120, 120, 160))
    j = judge_one(sample([(text, "goal")], None, src), src, brighten(src, -0.3))
    assert j.verdicts == {"c1": "undecidable"}, j.rationale
    assert j.rationale["c1"].startswith("[lexicon")


def test_lexicon_off_and_hints_off():
    src = flat((100, 100, 100))
    smp = sample([("Brighter", "goal"), ("The image is brighter", "goal")], {"c1": BRIGHTER}, src)
    assert judge_one(smp, src, brighten(src, 0.2), lexicon=False).verdicts == {
        "c1": "pass",
        "c2": "undecidable",
    }
    assert judge_one(smp, src, brighten(src, 0.2), hints=False).verdicts == {"c1": "pass", "c2": "pass"}


# ---------------------------------------------------------------------------------- scores


def test_scores_weights_kinds_and_na():
    src = flat((100, 100, 100))
    criteria = [
        Criterion("c1", "Brighter", "goal", 1.0),
        Criterion("c2", "A dragon appears", "goal", 1.0),
        Criterion("c3", "Brighter still", "preserve", 2.0),
        Criterion("c4", "Looks professional", "quality", 0.5),
    ]
    checks = {
        "c1": BRIGHTER,
        "c2": {"measure": None, "why": "motif"},
        "c3": dict(BRIGHTER, min_change=0.2),
        "c4": {"measure": None, "why": "aesthetic"},
    }
    j = judge_one(sample(criteria, checks, src), src, brighten(src, 0.07))
    assert j.verdicts == {"c1": "pass", "c2": "undecidable", "c3": "fail", "c4": "undecidable"}
    assert j.scores == pytest.approx(
        {
            "pass_rate": 0.5,
            "weighted_pass_rate": 1 / 3,
            "goal_pass_rate": 1.0,
            "preserve_pass_rate": 0.0,
            "decided": 0.5,
        }
    )
    assert j.na == {"quality_pass_rate": "no quality criterion decided (1 undecidable)"}
    assert set(j.rationale) == {"c1", "c2", "c3", "c4"}
    only_goals = judge_one(sample([("Brighter", "goal")], {"c1": BRIGHTER}, src), src, src)
    assert only_goals.na["preserve_pass_rate"] == "no preserve criterion in the checklist"
    assert only_goals.scores["goal_pass_rate"] == 0.0  # a decided fail is a real 0


def test_broken_results_are_unscored_never_zero():
    src = flat((100, 100, 100))
    smp = sample([("Brighter", "goal")], {"c1": BRIGHTER}, src)
    judge = HeuristicChecklistJudge()
    cases = {
        "tiny": item(smp, src, flat((255, 255, 255), size=4)),
        "failed": item(smp, src, src, status="failed"),
        "missing": item(smp, src, None),
        "not an image": item(smp, src, "garbage"),  # type: ignore[arg-type]
        "no checklist": item(sample([], None, src), src, src),
    }
    for name, j in zip(cases, judge.judge(list(cases.values())), strict=True):
        assert j.status == "unscored", name
        assert j.scores == {} and set(j.na) == set(SCORE_NAMES), name
        assert j.error, name
    assert "4x4" in judge.judge([cases["tiny"]])[0].error


def test_a_result_of_another_size_is_aligned_not_refused():
    src = flat((100, 100, 100))
    smp = sample([("Brighter", "goal")], {"c1": BRIGHTER}, src)
    j = judge_one(smp, src, brighten(src, 0.1).resize((48, 60)))
    assert j.status == "ok" and j.verdicts == {"c1": "pass"}


# ------------------------------------------------------------------------------ protocol, speed


def test_protocol_specs_and_options():
    judge = HeuristicChecklistJudge()
    assert isinstance(judge, Judge) and judge.scope == "sample" and judge.name == "checklist-heuristic"
    assert [s.name for s in judge.score_specs()] == list(SCORE_NAMES)
    assert all(s.min == 0.0 and s.max == 1.0 for s in judge.score_specs())
    assert "cache_images" not in judge.config() and judge.config()["measure_size"] == 256
    assert judge.info().kind == "heuristic"
    for bad in ({"measure_size": 8}, {"detail_size": -1}, {"batch_size": 0}, {"cache_images": -1}):
        with pytest.raises(ValueError):
            HeuristicChecklistJudge(**bad)


def test_each_image_is_measured_once(monkeypatch):
    calls = []
    real = hm.SINGLE_IMAGE["brightness"]

    def counted(image, mask=None):
        calls.append(1)
        return real(image, mask=mask)

    monkeypatch.setitem(hm.SINGLE_IMAGE, "brightness", counted)
    src = flat((100, 100, 100))
    smp = sample([("Brighter", "goal"), ("Brighter again", "goal")], {"c1": BRIGHTER, "c2": BRIGHTER}, src)
    results = [brighten(src, a) for a in (0.1, 0.2, 0.3)]
    judgements = HeuristicChecklistJudge().judge([item(smp, src, r) for r in results])
    assert [j.verdicts["c1"] for j in judgements] == ["pass"] * 3
    assert len(calls) == 1 + 3  # the source once for all three results, each result once for both criteria


@pytest.fixture(scope="module")
def ads(tmp_path_factory):
    from suites.builtin.ads import build_ads_abstract

    return build_ads_abstract(size=6, seed=0, cache_dir=tmp_path_factory.mktemp("ads"))


@pytest.fixture(scope="module")
def styling_small(tmp_path_factory):
    """Known edits of the first two samples of styling-simple and styling-regular."""
    from benchmarks.heuristic_ground_truth import styling_sample_cases
    from suites.builtin.styling import build_styling_regular, build_styling_simple

    cache = tmp_path_factory.mktemp("styling")
    cases = []
    for build in (build_styling_simple, build_styling_regular):
        suite = build(size=2, seed=0, cache_dir=cache)
        for smp in suite.samples:
            cases += list(styling_sample_cases(suite.ref, smp, suite.image(smp)))
    return cases


def test_default_sizes_give_full_resolution_verdicts_and_are_fast(ads, styling_small):
    """Measuring colour at 256 px and detail at 512 px changes no verdict on the built-in suites."""
    from benchmarks.heuristic_ground_truth import ads_cases, ads_edits

    names = ("no-op", "darken -0.45", "recolour background green", "declutter (re-render)", "erase price")
    cases = list(ads_cases(ads, [e for e in ads_edits() if e.name in names], limit=3)) + styling_small[::2]
    items = [item(c.sample, c.source, c.result) for c in cases]
    t0 = time.perf_counter()
    fast = HeuristicChecklistJudge().judge(items)
    per_item = (time.perf_counter() - t0) / len(items)
    full = HeuristicChecklistJudge(measure_size=0, detail_size=0).judge(items)
    assert [j.verdicts for j in fast] == [j.verdicts for j in full]
    assert per_item < 0.5, f"{per_item:.3f} s per judgement"


# ------------------------------------------------------------------------------ ground truth


def test_agreement_with_known_truth_is_well_above_chance(ads, styling_small):
    from benchmarks.heuristic_ground_truth import ads_cases, ads_edits, agreement, judge_cases

    judge = HeuristicChecklistJudge()
    names = (
        "no-op",
        "desaturate x0.35",
        "darken -0.45",
        "recolour background green",
        "declutter (re-render)",
        "erase product",
        "erase price",
        "saturate x1.8",
    )
    rows = judge_cases(ads_cases(ads, [e for e in ads_edits() if e.name in names]), judge)
    rows += judge_cases(styling_small, judge)
    for suite in {r.suite for r in rows}:
        mine = [r for r in rows if r.suite == suite]
        a = agreement(mine, suite)
        assert a.balanced >= 0.75, (suite, a)  # chance is 0.5
        assert a.agreement >= 0.8, (suite, a)
        # Where the suite says no weight-free measure applies, the judge says undecidable, every time.
        assert a.no_measure > 0 and a.no_measure_undecidable == a.no_measure, (suite, a)
    goal = agreement([r for r in rows if r.kind == "goal" and r.suite.startswith("ads")], "ads goal")
    assert goal.true_pass >= 0.8 and goal.false_fail >= 0.8, goal
