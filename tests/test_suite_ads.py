"""The ``ads-abstract`` suite: determinism, shape of every sample, and what its checks mean.

The last group reads ``truth.checks`` the way the schema in :mod:`suites.builtin.ads` says and
runs it with :mod:`judges.measures` against edits whose effect is known (a no-op, an erased
product, a covered headline, a re-render without clutter, an edit of the asked kind), so a
threshold that no honest edit can reach, or that a no-op passes, fails here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.ids import image_id
from bench.model import CONTEXT_DIMENSIONS
from suites.builtin._ads_goals import preserve_check
from suites.builtin.ads import (
    FAMILY_NAMES,
    SUITE_NAME,
    SUITE_VERSION,
    AdSpec,
    build_ads_abstract,
    region_mask,
    render,
)
from suites.folder import load_suite

ELEMENTS = ("product", "headline", "subline", "price", "logo")
CHANGE_MEASURES = {
    "brightness",
    "contrast",
    "saturation",
    "warmth",
    "hue_distance",
    "white_coverage",
    "edge_density",
    "colorfulness",
}


@pytest.fixture(scope="module")
def suite40(tmp_path_factory):
    return build_ads_abstract(size=40, seed=0, cache_dir=tmp_path_factory.mktemp("ads40"))


# ------------------------------------------------------------------------------- determinism


def test_two_builds_with_one_seed_are_byte_identical(tmp_path):
    a = build_ads_abstract(size=12, seed=7, cache_dir=tmp_path / "a")
    b = build_ads_abstract(size=12, seed=7, cache_dir=tmp_path / "b")
    assert a.root != b.root
    assert a.samples == b.samples
    assert a.info.hash == b.info.hash
    for sa, sb in zip(a.samples, b.samples, strict=True):
        assert Path(a.image_path(sa)).read_bytes() == Path(b.image_path(sb)).read_bytes()
        assert image_id(a.image(sa)) == sa.image.id == sb.image.id


def test_different_seeds_differ(tmp_path):
    a = build_ads_abstract(size=12, seed=0, cache_dir=tmp_path / "a")
    b = build_ads_abstract(size=12, seed=1, cache_dir=tmp_path / "b")
    assert a.info.hash != b.info.hash
    assert not {s.image.id for s in a.samples} & {s.image.id for s in b.samples}
    assert [s.goal for s in a.samples] != [s.goal for s in b.samples]


def test_a_smaller_size_is_a_prefix_of_a_larger_one(suite40, tmp_path):
    small = build_ads_abstract(size=12, seed=0, cache_dir=tmp_path)
    assert small.samples == suite40.samples[:12]


def test_stored_spec_re_renders_the_source_image(suite40):
    for sample in suite40.samples[:5]:
        again = render(AdSpec.from_json(sample.truth["spec"])).image
        assert image_id(again) == sample.image.id


def test_suite_folder_loads_with_a_stable_hash(suite40, tmp_path):
    assert suite40.ref == f"{SUITE_NAME}@{SUITE_VERSION}"
    reloaded = load_suite(suite40.root)  # decodes every image again
    assert reloaded.info.hash == suite40.info.hash
    assert reloaded.samples == suite40.samples
    copy = tmp_path / "elsewhere"
    shutil.copytree(suite40.root, copy)
    assert load_suite(copy).info.hash == suite40.info.hash


def test_bad_options_are_refused(tmp_path):
    from bench.errors import SuiteError

    with pytest.raises(SuiteError, match="size"):
        build_ads_abstract(size=0, cache_dir=tmp_path)
    with pytest.raises(SuiteError, match="seed"):
        build_ads_abstract(size=3, seed="x", cache_dir=tmp_path)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ sample shape


def test_ids_images_and_tags(suite40):
    assert [s.id for s in suite40.samples] == [f"ads-{i:04d}" for i in range(1, 41)]
    for s in suite40.samples:
        assert (s.image.width, s.image.height) == (512, 512)
        assert s.image.path == f"images/{s.id}.png"
        assert s.tags["source"] == "generated"
        assert s.tags["theme"] in FAMILY_NAMES
        assert s.goal.strip() and s.description
        assert s.context["product"] and s.context["brand"] and s.context["palette"]
        assert {"color_grading", "mood_lighting", "artistic_medium"} <= set(s.context) & set(
            CONTEXT_DIMENSIONS
        )
        assert "product" in s.preserve and set(s.preserve) <= {"product", "logo", "price", "headline"}
    assert {s.tags["complexity"] for s in suite40.samples} == {"simple", "regular", "complex"}


def test_at_least_ten_goal_families_with_several_phrasings(suite40):
    themes = {s.tags["theme"] for s in suite40.samples}
    assert len(themes) >= 10
    assert themes == set(FAMILY_NAMES)  # 40 samples rotate through all 14 families
    goals_by_theme: dict[str, set[str]] = {}
    for s in suite40.samples:
        goals_by_theme.setdefault(s.tags["theme"], set()).add(s.goal)
    assert sum(len(g) > 1 for g in goals_by_theme.values()) >= 10


def test_every_checklist_has_three_to_six_valid_criteria(suite40):
    for s in suite40.samples:
        kinds = [c.kind for c in s.checklist]
        assert 3 <= len(s.checklist) <= 6, s.id
        assert [c.id for c in s.checklist] == [f"c{i}" for i in range(1, len(s.checklist) + 1)]
        assert set(kinds) <= {"goal", "preserve", "quality"}
        assert kinds == sorted(kinds, key=("goal", "preserve", "quality").index)
        goals = kinds.count("goal")
        assert goals == {"simple": 1, "regular": 2, "complex": 3}[s.tags["complexity"]]
        assert kinds.count("preserve") == len(s.preserve)
        assert all(c.weight > 0 and c.text.strip() for c in s.checklist)
        assert len({c.text for c in s.checklist}) == len(s.checklist)
        assert "{" not in " ".join(c.text for c in s.checklist) + s.goal  # every template field filled


def _check_region(region, sid: str) -> None:
    if region == "full":
        return
    assert isinstance(region, dict), sid
    boxes = [region["box"]] if "box" in region else region["outside"]
    assert boxes and ("box" in region) != ("outside" in region), sid
    for box in boxes:
        _check_box(box, sid)


def _check_box(box, sid: str) -> None:
    assert len(box) == 4, sid
    x0, y0, x1, y1 = box
    assert 0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0, (sid, box)


def test_every_check_names_a_known_measure_in_a_known_form(suite40):
    import judges.measures as measures

    known = set(measures.__all__)
    assert CHANGE_MEASURES | {"structure_kept", "text_likelihood"} <= known
    seen = set()
    for s in suite40.samples:
        checks = s.truth["checks"]
        assert set(checks) == {c.id for c in s.checklist}, s.id
        for c in s.checklist:
            check = checks[c.id]
            m = check["measure"]
            seen.add(m)
            if m is None:
                assert set(check) == {"measure", "why"} and check["why"], s.id
                continue
            assert m in known and callable(getattr(measures, m)), (s.id, m)
            _check_region(check["region"], s.id)
            if m == "structure_kept":
                assert set(check) == {"measure", "region", "at_least"} and c.kind == "preserve"
            elif m == "text_likelihood":
                assert set(check) == {"measure", "region", "at_least_ratio"} and c.kind == "preserve"
            else:
                assert m in CHANGE_MEASURES and c.kind == "goal", (s.id, m)
                assert check["direction"] in ("increase", "decrease")
                amounts = {"min_change", "min_change_ratio"} & set(check)
                assert len(amounts) == 1 and check[amounts.pop()] > 0
                assert ("target_hue" in check) == (m == "hue_distance")
        assert all(checks[c.id]["measure"] is None for c in s.checklist if c.kind == "quality")
    assert None in seen and len(seen - {None}) >= 6


def test_layout_boxes_are_inside_the_image_and_do_not_overlap(suite40):
    def overlap(a, b) -> bool:
        return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])

    for s in suite40.samples:
        layout = s.truth["layout"]
        for name in ELEMENTS:
            _check_box(layout[name], s.id)
        for box in layout["decorations"]:
            _check_box(box, s.id)
            assert not any(overlap(box, layout[n]) for n in ELEMENTS), s.id
        if layout["panel"] is not None:
            _check_box(layout["panel"], s.id)
        for a, b in combinations(ELEMENTS, 2):
            assert not overlap(layout[a], layout[b]), (s.id, a, b)


def test_region_masks_follow_the_schema():
    box = [0.25, 0.5, 0.75, 1.0]
    inside = region_mask({"box": box}, 8, 4)
    assert inside.shape == (4, 8) and inside.sum() == 8 and inside[2:, 2:6].all()
    outside = region_mask({"outside": [box, [0.0, 0.0, 0.25, 0.5]]}, 8, 4)
    assert outside.sum() == 32 - 8 - 4
    assert region_mask("full", 8, 4).all()


# ---------------------------------------------------------------------- what the checks mean


def _measure(check: dict, image: Image.Image) -> float:
    import judges.measures as measures

    mask = region_mask(check["region"], *image.size)
    extra = {"target_hue_degrees": check["target_hue"]} if check["measure"] == "hue_distance" else {}
    return getattr(measures, check["measure"])(image, mask=mask, **extra)


_SOURCE_VALUES: dict[tuple[str, str], float] = {}


def verdict(check: dict, source: Image.Image, result: Image.Image, key: str | None = None) -> str:
    """A reference reading of one check, exactly as the schema in ``suites.builtin.ads`` states it.

    ``key`` (the sample id) caches the source's value across tests: measuring is the slow part.
    """
    import judges.measures as measures

    m = check["measure"]
    if m is None:
        return "undecidable"
    if m == "structure_kept":
        keep = region_mask(check["region"], *source.size)
        return "pass" if measures.structure_kept(source, result, 1.0 - keep) >= check["at_least"] else "fail"
    cache_key = (key, json.dumps(check, sort_keys=True)) if key else None
    if cache_key in _SOURCE_VALUES:
        a = _SOURCE_VALUES[cache_key]
    else:
        a = _measure(check, source)
        if cache_key:
            _SOURCE_VALUES[cache_key] = a
    b = a if result is source else _measure(check, result)
    if not (math.isfinite(a) and math.isfinite(b)):
        return "undecidable"
    if "at_least_ratio" in check:
        return "pass" if b >= check["at_least_ratio"] * a else "fail"
    delta = b - a if check["direction"] == "increase" else a - b
    need = check["min_change"] if "min_change" in check else check["min_change_ratio"] * abs(a)
    return "pass" if delta >= need else "partial" if delta >= need / 2 else "fail"


def _hue_rgb(degrees: float) -> np.ndarray:
    """A saturated colour of hue ``degrees`` (HSV s=0.8, v=0.8), as floats in 0..1."""
    h = (degrees % 360) / 60.0
    x = 1 - abs(h % 2 - 1)
    r, g, b = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(h) % 6]
    return 0.16 + 0.64 * np.array([r, g, b])


def _known_edit(check: dict, image: Image.Image) -> Image.Image:
    """An edit that does what the check asks, clearly, inside the check's region only."""
    img = np.asarray(image, dtype=np.float64) / 255.0
    m = region_mask(check["region"], *image.size)[..., None]
    luma = (img @ np.array([0.299, 0.587, 0.114]))[..., None]
    measure, up = check["measure"], check.get("direction") == "increase"
    if measure == "brightness":
        out = img + (1 - img) * 0.35 if up else img * 0.55
    elif measure in ("saturation", "colorfulness"):
        out = luma + (img - luma) * (1.7 if up else 0.4)
    elif measure == "warmth":
        out = img + np.array([0.15, 0.0, -0.15])
    elif measure == "hue_distance":
        out = img * 0.3 + _hue_rgb(check["target_hue"]) * 0.7
    elif measure == "contrast":
        mean = float((luma * m).sum() / max(m.sum(), 1))
        out = (img - mean) * 1.6 + mean if up else img * 0.3 + mean * 0.7
    elif measure == "white_coverage":
        out = img.copy()
        yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
        out[((yy % 16) < 6) & ((xx % 16) < 6)] = 1.0  # snow dots over ~14 % of the region
    elif measure == "edge_density" and up:
        out = img.copy()
        out[(np.arange(img.shape[0]) % 12) < 3] = 0.1  # ruled lines
    else:
        raise AssertionError(f"no known edit for {measure} {check.get('direction')}")
    out = img * (1 - m) + np.clip(out, 0, 1) * m
    return Image.fromarray(np.rint(out * 255).astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def first_round(suite40):
    """The first 14 samples: one of each goal family."""
    samples = suite40.samples[:14]
    assert len({s.tags["theme"] for s in samples}) == 14
    return [(s, suite40.image(s)) for s in samples]


def test_a_no_op_fails_every_change_test_and_keeps_everything(first_round):
    for s, img in first_round:
        for c in s.checklist:
            got = verdict(s.truth["checks"][c.id], img, img, s.id)
            want = (
                "undecidable"
                if s.truth["checks"][c.id]["measure"] is None
                else ("pass" if c.kind == "preserve" else "fail")
            )
            assert got == want, (s.id, c.id, c.text, got)


def test_an_edit_of_the_asked_kind_passes_each_goal_check(first_round):
    tried = 0
    for s, img in first_round:
        for c in s.checklist:
            check = s.truth["checks"][c.id]
            if c.kind != "goal" or check["measure"] is None:
                continue
            if check["measure"] in ("edge_density", "contrast") and check["direction"] == "decrease":
                spec = AdSpec.from_json(s.truth["spec"])
                edited = render(dataclasses.replace(spec, decorations=(), background="flat")).image
                assert verdict(check, img, edited, s.id) in ("pass", "partial"), (s.id, c.text)
            else:
                assert verdict(check, img, _known_edit(check, img), s.id) == "pass", (s.id, c.text)
            tried += 1
    assert tried >= 14


def test_erasing_the_product_or_covering_text_fails_its_preserve_check(first_round):
    failed = 0
    for i, (s, img) in enumerate(first_round):
        layout = s.truth["layout"]
        # the product every time; one of the two texts in turn (measuring text is the slow part)
        for element in ("product", ("headline", "price")[i % 2]):
            x0, y0, x1, y1 = (int(round(v * 512)) for v in layout[element])
            arr = np.asarray(img).copy()
            arr[y0:y1, x0:x1] = arr[max(0, y0 - 2), max(0, x0 - 2)]  # paint over with the colour beside it
            # the check the suite writes when the element is to be preserved
            check = preserve_check(element, {element: {"box": layout[element], "name": element}})
            result = verdict(check, img, Image.fromarray(arr), s.id)
            if element == "product":
                failed += result == "fail"
            else:
                assert result == "fail", (s.id, element)
    # Luma SSIM cannot see a repaint of the same lightness; most erasures must still fail.
    assert failed >= 0.8 * len(first_round)
