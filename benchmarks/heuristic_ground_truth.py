"""Ground-truth check of the ``checklist-heuristic`` judge: edits whose effect is known, judged.

Each built-in sample is edited by *known edits*: a tool applied with parameters whose effect on
each criterion is known from what the tool does, not from what the judge measures. A known edit
declares which goal effects it makes (a green recolour of the background makes "the palette moves
toward natural greens" true), which it might make as a side effect (it may also warm the palette:
that pair is left out, not guessed), and which preserved elements it destroys. Every other goal
criterion is false for it (a no-op makes no goal true; a saturation boost does not darken), and
every preserve criterion is true unless the edit destroys that element. Quality criteria have no
known truth. The judge then judges each (sample, edit) and each verdict is compared with the truth:

* **agreement**: over decided verdicts with a known truth, pass on a true criterion or fail on a
  false one counts 1, partial counts 0.5; **true -> pass** and **false -> fail** split it by the
  truth, and **balanced** is their mean, whose chance level is 50 % (a judge that ignores the
  image, always passing or failing or tossing a coin, scores 50 % whatever the mix);
* **undecidable**: how many criteria with a known truth the judge left undecided, and, for
  criteria the suite marks as having no weight-free measure, whether every one was undecidable.

Suites: ``ads-abstract`` (abstract advert goals, :func:`ads_edits`) and the three styling suites
(:func:`styling_sample_cases`): there, besides classical ops, the generator's own renderer makes
*exact* known edits (the target scene, the target with one change missing, with a kept dimension
broken, a wrong dimension changed), whose truth is the scene spec itself.

Run from the repository root (prints Markdown tables)::

    python -m benchmarks.heuristic_ground_truth                 # 40 samples per suite
    python -m benchmarks.heuristic_ground_truth --size 14 --by-edit
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from bench.ids import image_id
from bench.model import Sample, Suite, Trajectory
from bench.protocols import JudgeItem
from judges.heuristic import HeuristicChecklistJudge

# --------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Case:
    """One edited result of one sample and the known truth of each criterion (None: unknown)."""

    suite: str
    sample: Sample
    edit: str
    source: Image.Image
    result: Image.Image
    truth: dict[str, bool | None]


@dataclass(frozen=True)
class Row:
    """One criterion of one case: its kind, the known truth, the judge's verdict, and whether the
    suite marks it as having no weight-free measure (``no_measure``)."""

    suite: str
    sample_id: str
    edit: str
    criterion_id: str
    kind: str
    truth: bool | None
    verdict: str
    no_measure: bool


@dataclass(frozen=True)
class Agreement:
    """Agreement of verdicts with the known truth over a group of rows (rates NaN when undefined).

    Over decided rows with a known truth, a pass on a true criterion or a fail on a false one
    counts 1 and a partial 0.5: ``agreement`` over all of them, ``true_pass`` over the true ones
    (sensitivity), ``false_fail`` over the false ones (specificity), ``balanced`` their mean. Any
    judge that ignores the image (always pass, always fail, a coin) has a balanced agreement of
    50 %: that is the chance level, whatever the mix of true and false criteria.
    """

    group: str
    criteria: int  # rows in the group
    known: int  # rows with a known truth
    undecidable: int  # known-truth rows the judge left undecidable
    agreement: float
    true_pass: float
    false_fail: float
    balanced: float
    no_measure: int  # rows whose suite check has no measure
    no_measure_undecidable: int  # ... of which the judge called undecidable
    confusion: dict[str, int]  # "pass|true", "fail|false", ...


_CREDIT = {("pass", True): 1.0, ("fail", False): 1.0, ("partial", True): 0.5, ("partial", False): 0.5}


def _rate(rows: Sequence[Row]) -> float:
    return sum(_CREDIT.get((r.verdict, r.truth), 0.0) for r in rows) / len(rows) if rows else math.nan


def agreement(rows: Sequence[Row], group: str) -> Agreement:
    """The :class:`Agreement` of ``rows``."""
    known = [r for r in rows if r.truth is not None]
    decided = [r for r in known if r.verdict != "undecidable"]
    true_pass = _rate([r for r in decided if r.truth])
    false_fail = _rate([r for r in decided if not r.truth])
    both = [x for x in (true_pass, false_fail) if not math.isnan(x)]
    return Agreement(
        group=group,
        criteria=len(rows),
        known=len(known),
        undecidable=len(known) - len(decided),
        agreement=_rate(decided),
        true_pass=true_pass,
        false_fail=false_fail,
        balanced=sum(both) / 2 if len(both) == 2 else math.nan,
        no_measure=sum(r.no_measure for r in rows),
        no_measure_undecidable=sum(r.no_measure and r.verdict == "undecidable" for r in rows),
        confusion=dict(Counter(f"{r.verdict}|{str(r.truth).lower()}" for r in decided)),
    )


def judge_cases(cases: Iterable[Case], judge: HeuristicChecklistJudge, batch: int = 32) -> list[Row]:
    """Judge every case and pair each verdict with its known truth."""
    rows: list[Row] = []
    pending: list[Case] = []

    def flush() -> None:
        items = [
            JudgeItem(
                suite=c.suite,
                sample=c.sample,
                source=c.source,
                final=c.result,
                trajectory=Trajectory(
                    suite=c.suite, sample_id=c.sample.id, system_id=c.edit, final=image_id(c.result)
                ),
            )
            for c in pending
        ]
        for case, j in zip(pending, judge.judge(items), strict=True):
            if j.status != "ok":
                raise RuntimeError(f"{case.sample.id} / {case.edit}: judgement {j.status}: {j.error}")
            checks = _checks(case.sample)
            for c in case.sample.checklist:
                rows.append(
                    Row(
                        case.suite,
                        case.sample.id,
                        case.edit,
                        c.id,
                        c.kind,
                        case.truth.get(c.id),
                        j.verdicts[c.id],
                        no_measure=isinstance(checks.get(c.id), dict) and checks[c.id].get("measure") is None,
                    )
                )
        pending.clear()

    for case in cases:
        pending.append(case)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return rows


def _checks(sample: Sample) -> dict[str, Any]:
    truth = sample.truth if isinstance(sample.truth, dict) else {}
    checks = truth.get("checks")
    return checks if isinstance(checks, dict) else {}


# ------------------------------------------------------------------------------- ads-abstract

#: What each ads goal criterion asks for, as an effect tag (from the criterion's words).
ADS_GOAL_EFFECTS: dict[str, str] = {
    "The colour palette moves toward natural greens": "palette:green",
    "The palette turns sober and corporate: navy, slate or steel blue": "palette:blue",
    "Neon magenta and purple dominate the palette": "palette:magenta",
    "Fresh, soft tones such as mint, sage or light aqua": "palette:mint",
    "Pumpkin orange and black dominate the palette": "palette:orange",
    "Pinks and reds take over the palette": "palette:pink",
    "The look becomes softer and more natural: less saturated, less glossy": "desaturate",
    "The overall look is calmer and less playful: less saturated colours": "desaturate",
    "The palette is restrained: fewer and less saturated colours": "desaturate",
    "The palette is calmer: fewer, softer colours": "desaturate",
    "Colours are soft rather than loud": "desaturate",
    "The ad is more vivid and saturated": "saturate",
    "Colours are bold and saturated": "saturate",
    "A darker, richer background gives the ad a luxurious tone": "darken",
    "Black dominates the background": "darken",
    "The ad turns dark, like night": "darken",
    "The ad gets darker and moodier": "darken",
    "The ad is lighter overall": "brighten",
    "The ad feels light and airy": "brighten",
    "Playful decorations are removed or toned down": "declutter",
    "Clutter is reduced: fewer decorations, more empty space": "declutter",
    "Decorations and clutter are removed": "declutter",
    "The background becomes plain and even": "declutter",
    "The colours turn warmer and sunnier (yellow, orange, coral)": "warm",
    "The mood is soft and warm": "warm",
    "Snow, frost or other white winter elements are added": "white",
    "Brighter, more cheerful colours": "colorful",
    "The palette becomes bolder and more energetic": "colorful",
    "High contrast: bold light type and accents on black": "contrast",
    "The background gets a notebook or chalkboard look (ruled lines, grid or chalk texture)": "texture",
}

# fmt: off
_PALETTE_HUES = {"green": 120.0, "blue": 220.0, "magenta": 300.0, "mint": 160.0, "orange": 30.0, "pink": 340.0}
_PALETTE_COLOURS = {"green": "#3A8F4A", "blue": "#24477A", "magenta": "#B0279A", "mint": "#7FD1B9",
                    "orange": "#E07A1F", "pink": "#E0457B"}
# fmt: on


@dataclass(frozen=True)
class KnownEdit:
    """An edit and what it is known to do: goal ``effects`` (true), ``maybe`` (side effects: truth
    unknown, left out), ``breaks`` (preserved elements it destroys). ``apply`` returns ``None``
    where the edit does not apply to a sample."""

    name: str
    apply: Callable[[Sample, Image.Image], Image.Image | None]
    effects: frozenset[str] = frozenset()
    maybe: frozenset[str] = frozenset()
    breaks: frozenset[str] = frozenset()

    def goal_truth(self, effect: str) -> bool | None:
        if effect in self.effects:
            return True
        return None if effect in self.maybe else False


def _region(sample: Sample, name: str) -> Any:
    layout = sample.truth["layout"]
    elements = [layout[k] for k in ("product", "headline", "subline", "price", "logo")]
    if name == "background":
        return {"outside": elements}
    return {"box": layout[name]}


def _op(
    name: str, params: dict[str, Any], where: str | None = None
) -> Callable[[Sample, Image.Image], Image.Image]:
    def apply(sample: Sample, image: Image.Image) -> Image.Image:
        from baselines.tools.ops import apply_op
        from suites.builtin.ads import region_mask

        mask = None if where is None else region_mask(_region(sample, where), *image.size)
        return apply_op(name, image, mask, params)

    return apply


def _erase(element: str) -> Callable[[Sample, Image.Image], Image.Image]:
    """Paint the element's box over with the colour just outside its top-left corner."""

    def apply(sample: Sample, image: Image.Image) -> Image.Image:
        w, h = image.size
        x0, y0, x1, y1 = sample.truth["layout"][element]
        c0, r0, c1, r1 = int(round(x0 * w)), int(round(y0 * h)), int(round(x1 * w)), int(round(y1 * h))
        arr = np.asarray(image).copy()
        arr[r0:r1, c0:c1] = arr[max(0, r0 - 2), max(0, c0 - 2)]
        return Image.fromarray(arr)

    return apply


def _declutter(sample: Sample, image: Image.Image) -> Image.Image | None:
    """The advert re-rendered by its generator with no decorations and a flat background."""
    from suites.builtin.ads import AdSpec, render

    spec = AdSpec.from_json(sample.truth["spec"])
    if not spec.decorations and spec.background == "flat":
        return None
    return render(dataclasses.replace(spec, decorations=(), background="flat")).image


def _palette_edit(name: str) -> KnownEdit:
    """Recolour the background toward a named palette; nearby palettes and warmth may follow."""
    near = [
        f"palette:{p}"
        for p, h in _PALETTE_HUES.items()
        if p != name and _hue_gap(h, _PALETTE_HUES[name]) < 60
    ]
    warm = ["warm"] if name in ("orange", "pink", "magenta") else []
    apply = _op("recolor_region", {"mode": "target", "color": _PALETTE_COLOURS[name]}, "background")
    return _known(
        f"recolour background {name}",
        apply,
        f"palette:{name}",
        " ".join(near + warm + ["desaturate", "saturate", "colorful"]),
    )


def _hue_gap(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _known(
    name: str,
    apply: Callable[[Sample, Image.Image], Image.Image | None],
    effects: str = "",
    maybe: str = "",
    breaks: str = "",
) -> KnownEdit:
    """A :class:`KnownEdit` with its tag sets written as space-separated words."""
    return KnownEdit(
        name, apply, frozenset(effects.split()), frozenset(maybe.split()), frozenset(breaks.split())
    )


def ads_edits() -> list[KnownEdit]:
    """The known edits applied to every advert."""
    palettes = " ".join(f"palette:{p}" for p in _PALETTE_HUES)
    stripes = {"pattern": "stripes", "angle": 0.0, "color": "#404040", "opacity": 0.6, "scale": 0.04}
    # Erasing an element changes the advert's overall tone and colour a little: those goals are unknown.
    tone = "brighten darken desaturate saturate colorful warm contrast declutter"
    # fmt: off
    return [
        _known("no-op", lambda s, im: im),
        *[_palette_edit(p) for p in _PALETTE_HUES],
        _known("desaturate x0.35", _op("saturation", {"factor": 0.35}), "desaturate", "white"),
        _known("saturate x1.8", _op("saturation", {"factor": 1.8}), "saturate colorful", "warm"),
        _known("darken -0.45", _op("brightness_contrast", {"brightness": -0.45}), "darken"),
        _known("brighten +0.35", _op("brightness_contrast", {"brightness": 0.35}), "brighten",
               "desaturate white colorful"),
        _known("contrast +0.5", _op("brightness_contrast", {"contrast": 0.5}), "contrast",
               "colorful saturate darken brighten white"),
        _known("warm grade", _op("color_grading", {"grade": "warm"}), "warm",
               "palette:orange palette:pink saturate desaturate colorful"),
        _known("winter season (background)", _op("season", {"target": "winter"}, "background"), "white",
               "desaturate brighten contrast colorful"),
        _known("declutter (re-render)", _declutter, "declutter",
               f"colorful desaturate saturate darken brighten white contrast {palettes}"),
        _known("ruled lines (background)", _op("add_pattern_or_border", stripes, "background"), "texture",
               "darken contrast colorful desaturate"),
        *[_known(f"erase {e}", _erase(e), maybe=tone, breaks=e) for e in ("product", "headline", "price", "logo")],
    ]
    # fmt: on


def ads_truth(sample: Sample, edit: KnownEdit) -> dict[str, bool | None]:
    """The known truth of each criterion of an advert under ``edit``."""
    checks = _checks(sample)
    out: dict[str, bool | None] = {}
    for c in sample.checklist:
        if c.kind == "goal":
            effect = ADS_GOAL_EFFECTS.get(c.text)
            if effect is None and checks.get(c.id, {}).get("measure") is not None:
                raise KeyError(f"{sample.id} {c.id}: no known effect for the measurable goal {c.text!r}")
            out[c.id] = None if effect is None else edit.goal_truth(effect)
        elif c.kind == "preserve":
            element = (checks.get(c.id, {}).get("region") or {}).get("name")
            out[c.id] = None if element is None else element not in edit.breaks
        else:
            out[c.id] = None
    return out


def ads_cases(
    suite: Suite, edits: Sequence[KnownEdit] | None = None, limit: int | None = None
) -> Iterator[Case]:
    """Every (sample, known edit) of an ``ads-abstract`` suite."""
    for sample in suite.samples[:limit]:
        source = suite.image(sample)
        for edit in edits or ads_edits():
            result = edit.apply(sample, source)
            if result is not None:
                yield Case(suite.ref, sample, edit.name, source, result, ads_truth(sample, edit))


# ---------------------------------------------------------------------------------- styling-*

#: The classical op and parameters for a (scene dimension, value); values with no op are absent.
# fmt: off
STYLING_OPS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    **{("time_of_day", v): ("time_of_day", {"target": v})
       for v in ("noon", "dawn", "morning", "golden_hour", "dusk", "night")},
    **{("season", v): ("season", {"target": v}) for v in ("summer", "spring", "autumn", "winter")},
    **{("weather", v): ("weather", {"target": v}) for v in ("clear", "cloudy", "rainy", "snowy", "foggy", "stormy")},
    **{("mood_lighting", v): ("mood_lighting", {"mood": m}) for v, m in (
        ("warm_cozy", "warm"), ("cool_calm", "cool"), ("dramatic", "dramatic"), ("mysterious", "moody"),
        ("ethereal", "soft"), ("melancholic", "moody"))},
    **{("color_grading", v): ("color_grading", {"grade": g}) for v, g in (
        ("warm_cinematic", "warm"), ("cool_blue", "cool"), ("sepia", "sepia"), ("black_white", "black_and_white"),
        ("teal_orange", "teal_orange"), ("vibrant", "vibrant"), ("pastel", "desaturated"))},
    **{("artistic_medium", v): ("artistic_medium", {"medium": v})
       for v in ("pencil_sketch", "oil_paint", "watercolor", "pixel_art", "comic")},
    **{("atmospheric_effects", v): ("atmospheric_effects", {"effect": v})
       for v in ("fog", "haze", "snow", "rain", "embers", "light_rays")},
    **{("location_setting", v): ("location_setting", {"target": t}) for v, t in (
        ("city", "city"), ("beach", "beach"), ("desert", "desert"), ("mountains", "snowy_mountains"),
        ("forest", "forest"))},
}

#: Families of (dimension, value) that look alike in pixels: an op for one may honestly satisfy a
#: criterion about another, so such pairs have no known truth under a classical op.
_FAMILIES = (
    "season:winter weather:snowy atmospheric_effects:snow location_setting:mountains",
    "weather:foggy atmospheric_effects:fog atmospheric_effects:haze mood_lighting:ethereal",
    "weather:rainy weather:stormy atmospheric_effects:rain",
    "time_of_day:night time_of_day:dusk mood_lighting:mysterious weather:stormy mood_lighting:melancholic "
    "mood_lighting:dramatic",
    "time_of_day:golden_hour time_of_day:dawn color_grading:warm_cinematic mood_lighting:warm_cozy "
    "atmospheric_effects:embers color_grading:sepia season:autumn location_setting:desert location_setting:beach",
    "color_grading:cool_blue mood_lighting:cool_calm season:winter time_of_day:dusk",
    "color_grading:black_white color_grading:sepia mood_lighting:melancholic weather:cloudy "
    "artistic_medium:pencil_sketch color_grading:pastel",
    "color_grading:vibrant color_grading:teal_orange mood_lighting:dramatic artistic_medium:comic season:summer "
    "season:spring",
    "time_of_day:noon time_of_day:morning mood_lighting:ethereal weather:clear atmospheric_effects:light_rays "
    "color_grading:pastel artistic_medium:watercolor",
    "season:summer season:spring location_setting:forest",
)
# fmt: on
RELATED: tuple[frozenset[tuple[str, str]], ...] = tuple(
    frozenset(tuple(pair.split(":")) for pair in family.split())
    for family in _FAMILIES  # type: ignore[misc]
)


def related(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Whether two (dimension, value) pairs share a look-alike family (or a dimension)."""
    return a[0] == b[0] or any(a in f and b in f for f in RELATED)


@dataclass(frozen=True)
class _Styling:
    """A styling sample's truth in scene dimension names."""

    source: Any  # SceneSpec
    target: dict[str, str]
    keep: list[str]
    dims: dict[str, list[str]]  # criterion id -> scene dimensions


def _styling(sample: Sample) -> _Styling:
    from bench.scene import CONTEXT_KEYS, SceneSpec

    scene_dim = {v: k for k, v in CONTEXT_KEYS.items()}
    t = sample.truth
    return _Styling(
        source=SceneSpec.from_dict(t["source"]),
        target={scene_dim[k]: v for k, v in t["target"].items()},
        keep=[scene_dim[k] for k in t["keep"]],
        dims={cid: [scene_dim[k] for k in ks] for cid, ks in t["dimensions"].items()},
    )


def _state_truth(sample: Sample, st: _Styling, state: dict[str, str]) -> dict[str, bool | None]:
    """Exact truth of each criterion when the result's true dimensions are ``state``."""
    out: dict[str, bool | None] = {}
    for c in sample.checklist:
        dims = st.dims.get(c.id, [])
        if c.kind == "goal" and dims:
            out[c.id] = all(state[d] == st.target[d] for d in dims)
        elif c.kind == "preserve" and dims:
            out[c.id] = all(state[d] == getattr(st.source, d) for d in dims)
        else:
            out[c.id] = None
    return out


def _op_truth(sample: Sample, st: _Styling, applied: dict[str, str]) -> dict[str, bool | None]:
    """Truth of each criterion after classical ops for ``applied`` (dimension -> value).

    A goal is true when its dimension got its target value, unknown when an applied op looks like
    it, false otherwise; a kept dimension is false when an op changed it, unknown when an applied
    op looks like another of its values, true otherwise.
    """
    out: dict[str, bool | None] = {}
    done = list(applied.items())
    for c in sample.checklist:
        dims = st.dims.get(c.id, [])
        if not dims or c.kind not in ("goal", "preserve"):
            out[c.id] = None
            continue
        verdicts: list[bool | None] = []
        for d in dims:
            if c.kind == "goal":
                want = (d, st.target[d])
                if applied.get(d) == st.target[d]:
                    verdicts.append(True)
                elif any(related(want, p) for p in done):
                    verdicts.append(None)
                else:
                    verdicts.append(False)
            else:
                from bench.scene import VOCAB

                kept = getattr(st.source, d)
                if d in applied and applied[d] != kept:
                    verdicts.append(False)
                elif any(related((d, x), p) for p in done for x in VOCAB[d] if x != kept):
                    verdicts.append(None)
                else:
                    verdicts.append(True)
        out[c.id] = False if False in verdicts else None if None in verdicts else True
    return out


def _apply_ops(image: Image.Image, pairs: Iterable[tuple[str, str]]) -> Image.Image:
    from baselines.tools.ops import apply_op

    for pair in pairs:
        op, params = STYLING_OPS[pair]
        image = apply_op(op, image, None, params)
    return image


def _unrelated_change(st: _Styling, with_op: bool) -> tuple[str, str] | None:
    """A (dimension, value) neither asked nor kept, unlike every target: the 'wrong dimension'."""
    from bench.scene import DIMENSIONS, VOCAB

    for d in DIMENSIONS:
        if d in st.target or d in st.keep:
            continue
        for v in VOCAB[d]:
            pair = (d, v)
            if v == getattr(st.source, d) or (with_op and pair not in STYLING_OPS):
                continue
            if not any(related(pair, t) for t in st.target.items()):
                return pair
    return None


def styling_sample_cases(suite_ref: str, sample: Sample, source: Image.Image) -> Iterator[Case]:
    """The known edits of one styling sample: exact scene re-renders and approximate classical ops."""
    from bench.scene import VOCAB, edit, render

    st = _styling(sample)
    base = dict(st.source.dims())

    def scene(name: str, changes: dict[str, str]) -> Case:
        state = {**base, **changes}
        image = render(edit(st.source, changes))
        return Case(suite_ref, sample, name, source, image, _state_truth(sample, st, state))

    def ops(name: str, applied: dict[str, str]) -> Case:
        return Case(
            suite_ref,
            sample,
            name,
            source,
            _apply_ops(source, applied.items()),
            _op_truth(sample, st, applied),
        )

    yield Case(suite_ref, sample, "no-op", source, source, _state_truth(sample, st, base))
    yield scene("scene: target", dict(st.target))
    first = next(iter(st.target))
    if len(st.target) > 1:
        yield scene("scene: target but one change", {d: v for d, v in st.target.items() if d != first})
    for k in st.keep[:1]:
        violation = next(v for v in VOCAB[k] if v != getattr(st.source, k))
        yield scene("scene: target, a kept dimension broken", {**st.target, k: violation})
    wrong = _unrelated_change(st, with_op=False)
    if wrong is not None:
        yield scene("scene: a wrong dimension", {wrong[0]: wrong[1]})
    with_ops = {d: v for d, v in st.target.items() if (d, v) in STYLING_OPS}
    if with_ops:
        yield ops("ops: every target with an op", with_ops)
        one = next(iter(with_ops.items()))
        yield ops("ops: the first target only", dict([one]))
    wrong = _unrelated_change(st, with_op=True)
    if wrong is not None:
        yield ops("ops: a wrong dimension", dict([wrong]))
    for k in st.keep[:1]:
        bad = next(((k, v) for v in VOCAB[k] if v != getattr(st.source, k) and (k, v) in STYLING_OPS), None)
        if bad is not None:
            yield ops("ops: a kept dimension broken", dict([bad]))


def styling_cases(
    size: int, seed: int, levels: Sequence[str] = ("simple", "regular", "complex"), limit: int | None = None
) -> Iterator[Case]:
    """Every known edit of every sample of the styling suites at ``size`` samples each."""
    from suites.builtin import styling

    builders = {
        "simple": styling.build_styling_simple,
        "regular": styling.build_styling_regular,
        "complex": styling.build_styling_complex,
    }
    for level in levels:
        suite = builders[level](size=size, seed=seed)
        for sample in suite.samples[:limit]:
            yield from styling_sample_cases(suite.ref, sample, suite.image(sample))


# ----------------------------------------------------------------------------------- reporting


def table(rows: Sequence[Row], by: Callable[[Row], str] = lambda r: r.kind) -> list[Agreement]:
    """Agreement per suite and group (criterion kind by default), then per suite over all kinds."""
    out: list[Agreement] = []
    suites = sorted({r.suite for r in rows})
    for suite in suites:
        mine = [r for r in rows if r.suite == suite]
        groups: dict[str, list[Row]] = defaultdict(list)
        for r in mine:
            groups[by(r)].append(r)
        order = [k for k in ("goal", "preserve", "quality") if k in groups] + sorted(
            set(groups) - {"goal", "preserve", "quality"}
        )
        out += [agreement(groups[g], f"{suite} | {g}") for g in order]
        out.append(agreement(mine, f"{suite} | all"))
    return out


def markdown(agreements: Sequence[Agreement], title: str = "kind") -> str:
    """A Markdown table of agreements."""

    def pct(x: float) -> str:
        return "n/a" if math.isnan(x) else f"{x:.0%}"

    lines = [
        f"| suite | {title} | criteria | known truth | undecidable | agreement | true -> pass | false -> fail "
        "| balanced | no-measure -> undecidable |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for a in agreements:
        suite, group = a.group.split(" | ", 1)
        nm = f"{a.no_measure_undecidable}/{a.no_measure}" if a.no_measure else "-"
        lines.append(
            f"| {suite} | {group} | {a.criteria} | {a.known} | {a.undecidable} | {pct(a.agreement)} | "
            f"{pct(a.true_pass)} | {pct(a.false_fail)} | {pct(a.balanced)} | {nm} |"
        )
    return "\n".join(lines)


def run(
    size: int, seed: int, judge: HeuristicChecklistJudge | None = None, styling: bool = True
) -> list[Row]:
    """Build the suites at ``size`` samples, make every known edit, judge, and return the rows."""
    from suites.builtin.ads import build_ads_abstract

    judge = judge or HeuristicChecklistJudge()
    rows = judge_cases(ads_cases(build_ads_abstract(size=size, seed=seed)), judge)
    if styling:
        rows += judge_cases(styling_cases(size, seed), judge)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=40, help="samples per suite (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--by-edit", action="store_true", help="also print agreement per known edit")
    parser.add_argument("--no-styling", action="store_true", help="check ads-abstract only")
    parser.add_argument(
        "--lexicon-only", action="store_true", help="ignore the suites' hints: how far the lexicon alone gets"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    judge = HeuristicChecklistJudge(hints=not args.lexicon_only)
    t0 = time.perf_counter()
    rows = run(args.size, args.seed, judge, styling=not args.no_styling)
    seconds = time.perf_counter() - t0
    judged = len({(r.suite, r.sample_id, r.edit) for r in rows})
    print(markdown(table(rows)))
    if args.by_edit:
        print()
        print(markdown(table(rows, by=lambda r: r.edit), title="edit"))
    print()
    print(
        f"{judged} edited results, {len(rows)} criteria, judged in {seconds:.1f} s (edits included) "
        f"with {'the lexicon only' if args.lexicon_only else 'hints and lexicon'}."
    )


if __name__ == "__main__":
    main()
