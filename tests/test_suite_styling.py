"""The styling suites: determinism, complexity, truth consistency, themes and weight-free checks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench import registry
from bench.errors import SuiteError
from bench.ids import image_id
from bench.images import load_image
from bench.model import CONTEXT_DIMENSIONS
from bench.scene import CONTEXT_KEYS, DIMENSIONS, VOCAB, SceneSpec, edit, read_sidecar, render
from judges import measures
from suites.builtin import _styling_checks as checks_mod
from suites.builtin._styling_draw import clashes
from suites.builtin._styling_text import (
    CHANGE_PHRASES,
    GOAL_CRITERIA,
    KEEP_CRITERIA,
    KEEP_PHRASES,
    VALUE_WORDS,
)
from suites.builtin._styling_themes import THEMES
from suites.builtin.ads import region_mask
from suites.builtin.styling import (
    CHANGE_COUNTS,
    SUITE_NAMES,
    build_styling_complex,
    build_styling_regular,
    build_styling_simple,
    make_styling_sample,
    theme_order,
)
from suites.folder import load_suite

SIZES = {"simple": 8, "regular": 8, "complex": 12}
BUILDERS = {"simple": build_styling_simple, "regular": build_styling_regular, "complex": build_styling_complex}
DIMENSION_OF = {key: dim for dim, key in CONTEXT_KEYS.items()}
CHANGE_MEASURES = ("brightness", "contrast", "saturation", "warmth", "hue_distance", "haze", "white_coverage",
                   "edge_density", "colorfulness", "distinct_colors")


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    cache = tmp_path_factory.mktemp("styling-cache")
    return {level: build(size=SIZES[level], seed=0, cache_dir=cache) for level, build in BUILDERS.items()}


def all_samples(suites):
    return [(level, s) for level, suite in suites.items() for s in suite.samples]


# ------------------------------------------------------------------------------------- registration


def test_builders_register_and_build_through_the_registry(tmp_path):
    for level, build in BUILDERS.items():
        name = SUITE_NAMES[level]
        if name not in registry.names("suites"):
            registry.register("suites", name, f"suites.builtin.styling:{build.__name__}")
    suite = registry.get("suites", "styling-simple")(size=2, seed=3, cache_dir=tmp_path)
    assert suite.info.name == "styling-simple" and suite.info.version == "1" and len(suite.samples) == 2


# ------------------------------------------------------------------------------------- determinism


def _folder_bytes(root: str) -> dict[str, bytes]:
    base = Path(root)
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_two_builds_with_one_seed_are_byte_identical_whatever_the_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_SUITE_WORKERS", "1")
    one = build_styling_simple(size=8, seed=5, cache_dir=tmp_path / "a")
    monkeypatch.setenv("EDITBENCH_SUITE_WORKERS", "2")
    two = build_styling_simple(size=8, seed=5, cache_dir=tmp_path / "b")
    assert one.info.hash == two.info.hash
    assert [s.image.id for s in one.samples] == [s.image.id for s in two.samples]
    assert [s.to_dict() for s in one.samples] == [s.to_dict() for s in two.samples]
    files_one, files_two = _folder_bytes(one.root), _folder_bytes(two.root)
    assert files_one == files_two
    assert sum(name.endswith(".scene.json") for name in files_one) == 8
    other = build_styling_simple(size=1, seed=6, cache_dir=tmp_path / "c")
    assert other.samples[0].image.id != one.samples[0].image.id


def test_a_smaller_size_is_a_prefix(suites, tmp_path):
    small = build_styling_complex(size=3, seed=0, cache_dir=tmp_path)
    assert [s.to_dict() for s in small.samples] == [s.to_dict() for s in suites["complex"].samples[:3]]


def test_loads_with_a_stable_hash(suites):
    for suite in suites.values():
        again = load_suite(suite.root, verify_images=True)
        assert again.info.hash == suite.info.hash
        marker = json.loads((Path(suite.root) / ".complete").read_text())
        assert marker["hash"] == suite.info.hash


def test_bad_options_are_suite_errors(tmp_path):
    with pytest.raises(SuiteError, match="size"):
        build_styling_simple(size=0, cache_dir=tmp_path)
    with pytest.raises(SuiteError, match="seed"):
        build_styling_simple(seed="x", cache_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(SuiteError, match="level"):
        make_styling_sample("hard", 0)


# ------------------------------------------------------------------------------------- images and truth


def test_images_are_512_renders_of_their_sidecar_spec(suites):
    for level, sample in all_samples(suites)[:: 5]:
        path = Path(suites[level].root) / sample.image.path
        image = load_image(path)
        assert image.size == (512, 512) == (sample.image.width, sample.image.height)
        spec = read_sidecar(path)
        assert spec is not None and spec == SceneSpec.from_dict(sample.truth["source"])
        assert image_id(render(spec)) == image_id(image) == sample.image.id


def test_complexity_counts_are_as_stated(suites):
    for level, sample in all_samples(suites):
        n = len(sample.truth["target"])
        low, high = min(CHANGE_COUNTS[level]), max(CHANGE_COUNTS[level])
        assert low <= n <= high, (sample.id, n)
        assert sample.tags["complexity"] == level and sample.tags["n_changes"] == str(n)
        assert sample.tags["source"] == "generated" and sample.tags["theme"]
    for level, suite in suites.items():  # every count occurs
        assert {len(s.truth["target"]) for s in suite.samples} == set(CHANGE_COUNTS[level])


def test_checklists_have_3_to_6_criteria_in_order(suites):
    for _, sample in all_samples(suites):
        kinds = [c.kind for c in sample.checklist]
        assert 3 <= len(kinds) <= 6, sample.id
        assert [c.id for c in sample.checklist] == [f"c{i + 1}" for i in range(len(kinds))]
        assert kinds == sorted(kinds, key=["goal", "preserve", "quality"].index)
        assert kinds.count("goal") == len(sample.truth["target"])
        assert kinds.count("preserve") == len(sample.truth["keep"]) >= 1
        assert kinds.count("quality") <= 1
        assert set(sample.truth["checks"]) == set(sample.truth["dimensions"]) == {c.id for c in sample.checklist}


def test_truth_is_consistent(suites):
    for _, sample in all_samples(suites):
        truth = sample.truth
        source = SceneSpec.from_dict(truth["source"])
        assert sample.context == source.context() and set(sample.context) == set(CONTEXT_DIMENSIONS)
        assert tuple(truth["keep"]) == sample.preserve
        assert not set(truth["keep"]) & set(truth["target"])
        for key, value in truth["target"].items():
            dim = DIMENSION_OF[key]
            assert value in VOCAB[dim] and value != getattr(source, dim), (sample.id, key)
        request = {DIMENSION_OF[k]: v for k, v in truth["target"].items()}
        request.update({DIMENSION_OF[k]: getattr(source, DIMENSION_OF[k]) for k in truth["keep"]})
        assert not clashes(request), sample.id
        for c in sample.checklist:
            dims = truth["dimensions"][c.id]
            if c.kind == "goal":
                assert len(dims) == 1 and dims[0] in truth["target"]
            elif c.kind == "preserve":
                assert len(dims) == 1 and dims[0] in truth["keep"]
            else:
                assert dims == [] and truth["checks"][c.id]["measure"] is None
        assert sample.description and sample.goal.strip() and sample.goal[0].isupper()


def test_goals_vary_and_simple_goals_name_their_changes(suites):
    goals = [s.goal for _, s in all_samples(suites)]
    assert len(set(goals)) == len(goals)
    for sample in suites["simple"].samples:
        assert sample.tags["theme"] in DIMENSIONS
    for sample in suites["regular"].samples:  # regular goals state their constraints
        assert "keep" in sample.goal.lower() or "don't" in sample.goal.lower() or "leave" in sample.goal.lower()


# ------------------------------------------------------------------------------------- themes


def test_themes_are_many_valid_and_rotate():
    assert len(THEMES) >= 20 and len({t.name for t in THEMES}) == len(THEMES)
    for theme in THEMES:
        assert len(theme.dims) >= 3 and len(theme.phrasings) >= 2
        assert len({d for d, _ in theme.dims}) == len(theme.dims)
        for dim, value in theme.dims:
            assert value in VOCAB[dim], (theme.name, dim, value)
        assert not clashes(theme.implied), theme.name
    order = theme_order(0)
    assert sorted(t.name for t in order) == sorted(t.name for t in THEMES) and order != list(THEMES)


def test_complex_samples_follow_their_theme(suites):
    samples = suites["complex"].samples
    assert [s.tags["theme"] for s in samples] == [t.name for t in theme_order(0)[:SIZES["complex"]]]
    assert len({s.tags["theme"] for s in samples}) == SIZES["complex"]
    for sample in samples:
        theme = next(t for t in THEMES if t.name == sample.truth["theme"])
        implied = {CONTEXT_KEYS[d]: v for d, v in theme.dims}
        assert all(implied[k] == v for k, v in sample.truth["target"].items())
        assert not set(sample.truth["keep"]) & set(implied)
        title = theme.name.replace("-", " ")
        for c in sample.checklist:  # the criteria name aspects (and the theme), never the target values
            if c.kind == "goal":
                key = sample.truth["dimensions"][c.id][0]
                assert title in c.text
                assert VALUE_WORDS[DIMENSION_OF[key]][sample.truth["target"][key]] not in c.text.replace(title, "")


def test_every_value_can_be_said():
    for dim in DIMENSIONS:
        assert dim in GOAL_CRITERIA and dim in KEEP_CRITERIA and dim in KEEP_PHRASES
        assert dim in checks_mod.GOAL_SIGNALS
        for value in VOCAB[dim]:
            assert len(CHANGE_PHRASES[dim][value]) >= 2, (dim, value)
            assert VALUE_WORDS[dim][value]


# ------------------------------------------------------------------------------------- checks


def test_private_measures_agree_with_judges_measures():
    images = [render(SceneSpec(seed=1, width=96, height=96)),
              render(SceneSpec(time_of_day="dusk", season="autumn", color_grading="vibrant", width=96, height=96)),
              render(SceneSpec(artistic_medium="pencil_sketch", weather="snowy", width=96, height=96))]
    mask = np.zeros((96, 96))
    mask[10:60, 20:90] = 1.0
    for image in images:
        px = checks_mod.Pixels(image)
        for name in CHANGE_MEASURES:
            for m in (None, mask):
                mine = checks_mod.MEASURES[name](px, m, 40.0)
                if name == "hue_distance":
                    ref = measures.hue_distance(image, 40.0, m)
                else:
                    ref = float(getattr(measures, name)(image, m))
                assert mine == pytest.approx(ref, abs=1e-9) or (math.isnan(mine) and math.isnan(ref)), name
        other = checks_mod.Pixels(images[0])
        assert checks_mod.structure_in(other, px, mask) == pytest.approx(
            measures.structure_kept(images[0], image, 1.0 - mask), abs=1e-9)


def _measure(name: str, image, region, hue):
    mask = None if region == "full" else region_mask(region, *image.size)
    return measures.hue_distance(image, hue, mask) if name == "hue_distance" else float(getattr(measures, name)(image, mask))


def test_checks_follow_the_schema_and_hold_for_the_true_target(suites):
    decided = total_goal = 0
    for _, sample in all_samples(suites)[::2]:
        source = SceneSpec.from_dict(sample.truth["source"])
        src = render(source)
        tgt = None
        kinds = {c.id: c.kind for c in sample.checklist}
        for cid, check in sample.truth["checks"].items():
            total_goal += kinds[cid] == "goal"
            if check["measure"] is None:
                assert set(check) == {"measure", "why"} and check["why"]
                continue
            if tgt is None:
                tgt = render(edit(source, {DIMENSION_OF[k]: v for k, v in sample.truth["target"].items()}))
            region = check["region"]
            assert region == "full" or (set(region) == {"box", "name"} and len(region["box"]) == 4)
            if check["measure"] == "structure_kept":
                assert kinds[cid] == "preserve" and set(check) == {"measure", "region", "at_least"}
                mask = region_mask(region, 512, 512)
                assert measures.structure_kept(src, tgt, 1.0 - mask) >= check["at_least"], (sample.id, cid)
                assert measures.structure_kept(src, src, 1.0 - mask) >= check["at_least"]
                continue
            decided += 1
            assert kinds[cid] == "goal" and check["measure"] in CHANGE_MEASURES
            assert check["direction"] in ("increase", "decrease")
            assert ("min_change" in check) != ("min_change_ratio" in check)
            assert ("target_hue" in check) == (check["measure"] == "hue_distance")
            hue = check.get("target_hue")
            a, b = _measure(check["measure"], src, region, hue), _measure(check["measure"], tgt, region, hue)
            need = check.get("min_change", None)
            if need is None:
                need = check["min_change_ratio"] * abs(a)
            sign = 1.0 if check["direction"] == "increase" else -1.0
            assert need > 0 and sign * (b - a) >= need, (sample.id, cid, check, a, b)  # the true edit passes
    assert decided >= 0.4 * total_goal  # most goals are decidable weight-free; the rest say why not


def test_a_check_fails_when_its_own_change_is_skipped(suites):
    """The discrimination test, replayed at full size on a few samples: doing every other change but
    this one stays under half the need (a "fail")."""
    seen = 0
    for _, sample in all_samples(suites)[::4]:
        source = SceneSpec.from_dict(sample.truth["source"])
        target = {DIMENSION_OF[k]: v for k, v in sample.truth["target"].items()}
        if len(target) < 2:
            continue
        src = render(source)
        for cid, check in sample.truth["checks"].items():
            if check["measure"] is None or check["measure"] == "structure_kept":
                continue
            dim = DIMENSION_OF[sample.truth["dimensions"][cid][0]]
            partial = render(edit(source, {d: v for d, v in target.items() if d != dim}))
            hue = check.get("target_hue")
            a, c = _measure(check["measure"], src, check["region"], hue), _measure(check["measure"], partial, check["region"], hue)
            need = check.get("min_change") or check["min_change_ratio"] * abs(a)
            sign = 1.0 if check["direction"] == "increase" else -1.0
            assert sign * (c - a) < need / 2, (sample.id, cid)
            seen += 1
    assert seen >= 3
