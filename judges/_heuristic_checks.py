"""Evaluating one ``truth.checks`` hint into a verdict with a rationale that carries the numbers.

The hint forms are those of the schema in :mod:`suites.builtin.ads` (the styling suites use the
same), plus two the judge's own lexicon produces (:mod:`judges._heuristic_lexicon`):

``{"measure": null, "why": ...}``
    undecidable, with the suite's reason.
``{"measure": M, "region": R, "direction": "increase"|"decrease", "min_change": x | "min_change_ratio": r, ["target_hue": h]}``
    a change test: ``a = M(source, R)``, ``b = M(result, R)``, ``delta = b - a`` (negated for
    "decrease"); ``need = x``, or ``r * |a|``. **pass** when ``delta >= need``; **partial** when the
    change is in the asked direction and at least half of ``need`` (``need / 2 <= delta < need``);
    **fail** otherwise. Undecidable when ``a`` or ``b`` is NaN (a region with no pixels, or no
    colour for ``hue_distance``; for ``hue_distance`` also when either region's mean saturation is
    under :data:`MIN_COLOUR`, where the hue is noise), or when ``need`` is 0 (a ratio of a source value of 0: nothing to
    reduce, so a no-op would pass).
``{"measure": "structure_kept", "region": R, "at_least": t}``
    luma SSIM averaged over R. **pass** when ``>= t``; **partial** within :data:`STRUCTURE_MARGIN`
    below ``t`` (slightly disturbed, not destroyed); **fail** below that.
``{"measure": "text_likelihood", "region": R, "at_least_ratio": k}``
    ``ratio = text(result, R) / text(source, R)``. **pass** when ``ratio >= k``; **partial** within
    :data:`TEXT_MARGIN` below ``k``; **fail** below that. Undecidable when the source region does not
    read as text (score under :data:`MIN_TEXT`): there is nothing measurable to keep.
``{"measure": "change_outside", "region": R, "at_most": d}`` (lexicon only)
    mean absolute change outside R (0-1). **pass** when ``<= d``; **partial** up to ``2 d``;
    **fail** above.
``{"all": [hint, ...], "why": ...}`` (lexicon only)
    a criterion naming several measurable attributes ("warmer and darker"): **pass** when every
    part passes, **fail** when every part fails, otherwise **partial** (partly met); undecidable
    if any part is.

A hint in no known form is undecidable with the reason, never a guess and never a crash.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from judges._heuristic_measure import SINGLE_IMAGE, ImageMeasures, PairMeasures

log = logging.getLogger(__name__)

__all__ = ["MIN_COLOUR", "MIN_TEXT", "STRUCTURE_MARGIN", "TEXT_MARGIN", "Outcome", "evaluate"]

#: SSIM below a preservation threshold by at most this much is "partial" (a light disturbance).
STRUCTURE_MARGIN = 0.05
#: A kept-text ratio below its threshold by at most this much is "partial".
TEXT_MARGIN = 0.1
#: A region whose mean saturation is below this has no hue to speak of: ``hue_distance`` weighs
#: pixels by saturation, so over a nearly grey region it reads the hue of a few stray pixels.
MIN_COLOUR = 0.03
#: A source region whose text score is below this does not read as text: nothing to keep.
MIN_TEXT = 0.05


@dataclass(frozen=True)
class Outcome:
    """A criterion's verdict (``pass`` | ``partial`` | ``fail`` | ``undecidable``) and why, in numbers."""

    verdict: str
    rationale: str


def _at_least(value: float, threshold: float) -> bool:
    """``value >= threshold`` up to float rounding (0.45 - 0.40 is 0.04999... in binary)."""
    return value >= threshold - 1e-9 * max(1.0, abs(threshold))


def _where(region: Any) -> str:
    if region is None or region == "full":
        return "whole image"
    if isinstance(region, dict):
        if region.get("name"):
            return str(region["name"])
        if "box" in region:
            return "box " + ",".join(f"{float(v):.2f}" for v in region["box"])
        if "outside" in region:
            return f"outside {len(region['outside'])} boxes"
    return str(region)


def _fmt(x: float) -> str:
    return "NaN" if not math.isfinite(x) else f"{x:.4g}" if abs(x) < 1 else f"{x:.3f}".rstrip("0").rstrip(".")


def evaluate(hint: Any, src: ImageMeasures, res: ImageMeasures, pair: PairMeasures) -> Outcome:
    """The verdict of ``hint`` on one (source, result) pair. Never raises for a bad hint or region."""
    try:
        return _evaluate(hint, src, res, pair)
    except (ValueError, TypeError, KeyError) as err:
        log.debug("hint %r could not be evaluated: %s", hint, err)
        return Outcome("undecidable", f"the hint could not be evaluated ({type(err).__name__}: {err})")


def _evaluate(hint: Any, src: ImageMeasures, res: ImageMeasures, pair: PairMeasures) -> Outcome:
    if not isinstance(hint, dict):
        return Outcome("undecidable", f"malformed hint (not an object): {hint!r}")
    if "all" in hint:
        return _all(hint, src, res, pair)
    if "measure" not in hint:
        return Outcome("undecidable", f"malformed hint (no 'measure'): {sorted(hint)}")
    measure = hint["measure"]
    region = hint.get("region", "full")
    if measure is None:
        return Outcome(
            "undecidable", f"no weight-free measure decides it: {hint.get('why') or 'no reason given'}"
        )
    if measure == "structure_kept" and "at_least" in hint:
        return _structure(pair, region, float(hint["at_least"]))
    if measure == "text_likelihood" and "at_least_ratio" in hint:
        return _text(src, res, region, float(hint["at_least_ratio"]))
    if measure == "change_outside" and "at_most" in hint:
        return _confined(pair, region, float(hint["at_most"]))
    if measure in SINGLE_IMAGE and hint.get("direction") in ("increase", "decrease"):
        return _change(hint, src, res, measure, region)
    return Outcome("undecidable", f"hint in no known form (measure {measure!r}, keys {sorted(hint)})")


def _change(hint: dict, src: ImageMeasures, res: ImageMeasures, measure: str, region: Any) -> Outcome:
    options: dict[str, Any] = {}
    label = measure
    if measure == "hue_distance":
        if "target_hue" not in hint:
            return Outcome("undecidable", "hue_distance hint without target_hue")
        options["target_hue_degrees"] = float(hint["target_hue"])
        label = f"hue distance to {float(hint['target_hue']):g} deg"
    a = src.value(measure, region, **options)
    b = res.value(measure, region, **options)
    where = _where(region)
    if not (math.isfinite(a) and math.isfinite(b)):
        return Outcome(
            "undecidable", f"{label} over {where} is not measurable: source {_fmt(a)}, result {_fmt(b)}"
        )
    if measure == "hue_distance":
        sa, sb = src.value("saturation", region), res.value("saturation", region)
        if not (sa >= MIN_COLOUR and sb >= MIN_COLOUR):
            return Outcome(
                "undecidable",
                f"{label} over {where} is not measurable: mean saturation source {_fmt(sa)}, result "
                f"{_fmt(sb)} (a hue needs >= {MIN_COLOUR:g}; the hue of a nearly grey region is noise)",
            )
    up = hint["direction"] == "increase"
    delta = (b - a) if up else (a - b)
    if "min_change" in hint:
        need = float(hint["min_change"])
        asked = f"asked: {hint['direction']} by >= {_fmt(need)}"
    elif "min_change_ratio" in hint:
        ratio = float(hint["min_change_ratio"])
        need = ratio * abs(a)
        asked = f"asked: {hint['direction']} by >= {ratio:g} x {_fmt(abs(a))} = {_fmt(need)}"
    else:
        return Outcome("undecidable", f"change hint for {measure} without min_change or min_change_ratio")
    head = (
        f"{label} over {where}: {_fmt(a)} -> {_fmt(b)} ({'+' if b >= a else '-'}{_fmt(abs(b - a))}; {asked})"
    )
    if not (math.isfinite(need) and need > 0):
        return Outcome("undecidable", f"{head}; the source value leaves nothing to {hint['direction']}")
    if _at_least(delta, need):
        return Outcome("pass", head)
    if _at_least(delta, need / 2):
        return Outcome("partial", f"{head}; right direction, at least half the change asked")
    if delta > 0:
        return Outcome("fail", f"{head}; right direction but under half the change asked")
    return Outcome("fail", f"{head}; no change in the asked direction")


def _structure(pair: PairMeasures, region: Any, at_least: float) -> Outcome:
    v = pair.structure_kept(region)
    where = _where(region)
    if not math.isfinite(v):
        return Outcome("undecidable", f"structure over {where} is not measurable (empty or tiny region)")
    head = f"luma SSIM over {where}: {_fmt(v)} (kept when >= {at_least:g})"
    if _at_least(v, at_least):
        return Outcome("pass", head)
    if _at_least(v, at_least - STRUCTURE_MARGIN):
        return Outcome("partial", f"{head}; within {STRUCTURE_MARGIN:g} of the threshold")
    return Outcome("fail", head)


def _text(src: ImageMeasures, res: ImageMeasures, region: Any, ratio: float) -> Outcome:
    a = src.value("text_likelihood", region)
    b = res.value("text_likelihood", region)
    where = _where(region)
    if not (math.isfinite(a) and math.isfinite(b)):
        return Outcome(
            "undecidable", f"text score over {where} is not measurable: source {_fmt(a)}, result {_fmt(b)}"
        )
    if a < MIN_TEXT:
        return Outcome(
            "undecidable", f"the source's {where} does not read as text (score {_fmt(a)} < {MIN_TEXT:g})"
        )
    kept = b / a
    head = f"text score over {where}: {_fmt(a)} -> {_fmt(b)} (kept {kept:.0%}; kept when >= {ratio:.0%})"
    if _at_least(kept, ratio):
        return Outcome("pass", head)
    if _at_least(kept, ratio - TEXT_MARGIN):
        return Outcome("partial", f"{head}; within {TEXT_MARGIN:.0%} of the threshold")
    return Outcome("fail", head)


def _confined(pair: PairMeasures, region: Any, at_most: float) -> Outcome:
    change = pair.change(region)
    where = _where(region)
    if not math.isfinite(change.outside):
        return Outcome("undecidable", f"nothing lies outside {where}: confinement is not measurable")
    head = (
        f"mean change outside {where}: {_fmt(change.outside)} (inside {_fmt(change.inside)}; "
        f"confined when <= {at_most:g})"
    )
    if _at_least(at_most, change.outside):
        return Outcome("pass", head)
    if _at_least(2 * at_most, change.outside):
        return Outcome("partial", f"{head}; within twice the limit")
    return Outcome("fail", head)


def _all(hint: dict, src: ImageMeasures, res: ImageMeasures, pair: PairMeasures) -> Outcome:
    parts = hint["all"]
    if not isinstance(parts, list) or not parts:
        return Outcome("undecidable", "malformed hint: 'all' needs a non-empty list")
    outcomes = [_evaluate(p, src, res, pair) for p in parts]
    text = "; ".join(f"[{o.verdict}] {o.rationale}" for o in outcomes)
    verdicts = {o.verdict for o in outcomes}
    if "undecidable" in verdicts:
        return Outcome("undecidable", f"a part is undecidable: {text}")
    if verdicts == {"pass"}:
        return Outcome("pass", f"every part passes: {text}")
    if verdicts == {"fail"}:
        return Outcome("fail", f"every part fails: {text}")
    return Outcome("partial", f"parts partly met: {text}")
