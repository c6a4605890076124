"""``checklist-heuristic``: a weight-free checklist judge that decides what it can measure.

For every criterion of a sample's checklist the judge gives ``pass``, ``partial``, ``fail`` or
``undecidable``, with a one-line rationale carrying the measured numbers:

1. **A hint from the suite.** When ``sample.truth["checks"][criterion.id]`` exists (the schema in
   :mod:`suites.builtin.ads`; the styling suites use the same), it is evaluated with
   :mod:`judges.measures` on the source and the result, in the hint's region. The verdict bands
   are in :mod:`judges._heuristic_checks`: a change test passes at the asked amount and is
   *partial* from half of it (right direction, not far enough); a preservation test is *partial*
   just under its threshold. A hint whose ``measure`` is ``null`` is undecidable with the suite's
   reason: the judge never overrules a suite that says nothing weight-free decides a criterion.
2. **No hint: a small lexicon** on the criterion's words (:mod:`judges._heuristic_lexicon`):
   warmer/cooler, brighter/darker, more/less saturated, snow, fog and haze, sketch, a named colour
   palette, keep/preserve an element whose box the sample knows. Anything else is undecidable,
   with a reason. Never a guess.

Scores (see :meth:`HeuristicChecklistJudge.score_specs`): ``pass_rate`` (pass 1, partial 0.5,
fail 0, over decided criteria), ``weighted_pass_rate`` (criterion weights), ``goal_pass_rate``,
``preserve_pass_rate``, ``quality_pass_rate`` and ``decided`` (the fraction of criteria decided).
A rate with no decided criterion is absent and explained in ``na``, never 0.

Failures are statuses, never zeros: a trajectory without a result, an empty checklist, or a
source or result image that cannot be measured (unreadable, or under :data:`MIN_SIDE` pixels on a
side) gives ``status="unscored"`` with every score in ``na`` and the reason in ``error``.

Speed: each image is measured once per (measure, region) and kept in a small cache keyed by the
image's content id, so a source judged against several systems is measured once. Per-pixel colour
measures run at ``measure_size`` (256 px long side by default), neighbourhood measures at
``detail_size`` (512); see :mod:`judges._heuristic_measure`. On the built-in suites a judgement
costs about 0.02-0.03 s of CPU with the source cached (0.04 s at full resolution), and the
default sizes give the same verdicts as full resolution (``tests/test_heuristic_judge.py``).

Example::

    from judges.heuristic import HeuristicChecklistJudge
    judge = HeuristicChecklistJudge()
    [j] = judge.judge([item])          # item: bench.protocols.JudgeItem
    j.verdicts                         # {"c1": "pass", "c2": "undecidable", ...}
    j.rationale["c1"]                  # "warmth over whole image: 0.05 -> 0.12 (+0.07; asked: ...)"
    j.scores["pass_rate"], j.na        # decided criteria only; absent rates explained
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from bench.model import Criterion, Judgement, Sample, ScoreSpec, Telemetry
from bench.protocols import Component, JudgeInfo, JudgeItem
from judges._heuristic_checks import Outcome, evaluate
from judges._heuristic_lexicon import read_criterion
from judges._heuristic_measure import ImageMeasures, PairMeasures, Scales, align

log = logging.getLogger(__name__)

__all__ = [
    "KINDS",
    "MIN_SIDE",
    "SCORE_NAMES",
    "VERDICT_VALUE",
    "CriterionResult",
    "HeuristicChecklistJudge",
    "summarise",
]

#: Numeric value of each decided verdict in the pass rates.
VERDICT_VALUE: dict[str, float] = {"pass": 1.0, "partial": 0.5, "fail": 0.0}
#: Criterion kinds with a rate of their own.
KINDS: tuple[str, ...] = ("goal", "preserve", "quality")
#: Images smaller than this on a side are not measured (SSIM needs a 7 px window, edges a few more).
MIN_SIDE = 16
SCORE_NAMES: tuple[str, ...] = (
    "pass_rate",
    "weighted_pass_rate",
    "goal_pass_rate",
    "preserve_pass_rate",
    "quality_pass_rate",
    "decided",
)


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's verdict, why, and where the test came from (``hint`` | ``lexicon``)."""

    criterion: Criterion
    verdict: str
    rationale: str
    source: str


def summarise(results: Sequence[CriterionResult]) -> tuple[dict[str, float], dict[str, str]]:
    """Scores and ``na`` reasons from per-criterion results (the rules in the module docstring)."""
    scores: dict[str, float] = {}
    na: dict[str, str] = {}
    if not results:
        return {}, {name: "the sample has no checklist" for name in SCORE_NAMES}
    decided = [r for r in results if r.verdict in VERDICT_VALUE]
    scores["decided"] = len(decided) / len(results)
    undecided = len(results) - len(decided)
    if decided:
        scores["pass_rate"] = sum(VERDICT_VALUE[r.verdict] for r in decided) / len(decided)
        weight = sum(max(r.criterion.weight, 0.0) for r in decided)
        if weight > 0:
            scores["weighted_pass_rate"] = (
                sum(max(r.criterion.weight, 0.0) * VERDICT_VALUE[r.verdict] for r in decided) / weight
            )
        else:
            na["weighted_pass_rate"] = "the decided criteria all have weight 0"
    else:
        reason = f"no criterion decided ({undecided} undecidable)"
        na["pass_rate"] = reason
        na["weighted_pass_rate"] = reason
    for kind in KINDS:
        of_kind = [r for r in results if r.criterion.kind == kind]
        kind_decided = [r for r in of_kind if r.verdict in VERDICT_VALUE]
        name = f"{kind}_pass_rate"
        if kind_decided:
            scores[name] = sum(VERDICT_VALUE[r.verdict] for r in kind_decided) / len(kind_decided)
        elif of_kind:
            na[name] = f"no {kind} criterion decided ({len(of_kind)} undecidable)"
        else:
            na[name] = f"no {kind} criterion in the checklist"
    return scores, na


class _ImageCache:
    """A small LRU of measured images keyed by (content id, aligned size, measuring sizes).

    Thread-safe: a runner may call one judge from several threads. Two threads measuring the same
    value at once compute the same number, so only the LRU itself needs the lock.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[Any, ...], ImageMeasures] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...] | None, make: Callable[[], ImageMeasures]) -> ImageMeasures:
        if key is None or self.capacity <= 0:
            return make()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            value = make()  # cheap: measuring happens later, on demand
            self._items[key] = value
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return value


class HeuristicChecklistJudge(Component):
    """Checklist verdicts from weight-free image measures: suite hints first, a small lexicon second.

    Options: ``measure_size`` (long side, px, for per-pixel colour measures; 0 = full size),
    ``detail_size`` (long side for edges, text strokes, SSIM and haze; 0 = full size), ``hints``
    (read ``truth.checks``), ``lexicon`` (fall back to the criterion's words). ``batch_size`` and
    ``cache_images`` are transport settings: they change speed, not verdicts.
    """

    name = "checklist-heuristic"
    version = "1"
    scope = "sample"
    description = (
        "Weight-free checklist judge: each criterion is decided by image measures (warmth, brightness, "
        "contrast, saturation, hue distance, haze, white coverage, edge density, text strokes, SSIM) "
        "from the suite's hint or a small lexicon, or called undecidable; never a guess."
    )

    def __init__(
        self,
        measure_size: int = 256,
        detail_size: int = 512,
        hints: bool = True,
        lexicon: bool = True,
        batch_size: int = 32,
        cache_images: int = 64,
    ) -> None:
        for label, value in (("measure_size", measure_size), ("detail_size", detail_size)):
            if isinstance(value, bool) or not isinstance(value, int) or (value != 0 and value < MIN_SIDE):
                raise ValueError(f"{label} must be 0 (full size) or an integer >= {MIN_SIDE}, got {value!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(cache_images, int) or cache_images < 0:
            raise ValueError(f"cache_images must be a non-negative integer, got {cache_images!r}")
        self.measure_size = measure_size
        self.detail_size = detail_size
        self.hints = bool(hints)
        self.lexicon = bool(lexicon)
        self.batch_size = batch_size
        self.cache_images = cache_images
        self._cache = _ImageCache(cache_images)

    def config(self) -> dict[str, Any]:
        """What the judge's id is computed from; ``cache_images`` (like ``batch_size``) is left out."""
        return {
            "measure_size": self.measure_size,
            "detail_size": self.detail_size,
            "hints": self.hints,
            "lexicon": self.lexicon,
        }

    def info(self) -> JudgeInfo:
        return JudgeInfo(description=self.description, kind="heuristic")

    def score_specs(self) -> list[ScoreSpec]:
        def rate(name: str, what: str) -> ScoreSpec:
            return ScoreSpec(
                name=name,
                min=0.0,
                max=1.0,
                higher_is_better=True,
                display="{:.2f}",
                description=f"{what} (pass 1, partial 0.5, fail 0; undecidable criteria left out, "
                "absent when none is decided).",
            )

        return [
            rate("pass_rate", "Mean verdict over the decided checklist criteria"),
            rate("weighted_pass_rate", "Weight-weighted mean verdict over the decided criteria"),
            rate("goal_pass_rate", "Mean verdict over the decided goal criteria"),
            rate("preserve_pass_rate", "Mean verdict over the decided preserve criteria"),
            rate("quality_pass_rate", "Mean verdict over the decided quality criteria"),
            ScoreSpec(
                name="decided",
                min=0.0,
                max=1.0,
                higher_is_better=True,
                display="{:.0%}",
                description="Fraction of the checklist the heuristic judge could decide: its coverage "
                "on this result, not a quality of the result.",
            ),
        ]

    # ----------------------------------------------------------------------------- judging

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order (see the module docstring)."""
        t0 = time.perf_counter()
        out = [self.judge_one(item) for item in items]
        log.debug("%s: judged %d items in %.2f s", self.name, len(items), time.perf_counter() - t0)
        return out

    def judge_one(self, item: JudgeItem) -> Judgement:
        t0 = time.perf_counter()
        base = Judgement(
            suite=item.suite, sample_id=item.sample.id, system_id=item.trajectory.system_id, judge_id=""
        )
        traj = item.trajectory
        if traj.status != "ok":
            return _unscored(base, f"trajectory {traj.status}: {traj.error or 'no error given'}")
        if item.final is None:
            return _unscored(base, "no final image")
        if not item.sample.checklist:
            return _unscored(base, "the sample has no checklist")
        try:
            src_img, res_img = self._images(item)
        except _Unmeasurable as err:
            return _unscored(base, str(err))
        src_key = _key(item.sample.image.id, src_img.size, self)
        res_key = _key(traj.final, src_img.size, self)
        src_scales = Scales(src_img, self.measure_size, self.detail_size)
        res_scales = Scales(res_img, self.measure_size, self.detail_size)
        src = self._cache.get(src_key, lambda: ImageMeasures(src_scales))
        res = self._cache.get(res_key, lambda: ImageMeasures(res_scales))
        pair = PairMeasures(src.scales, res.scales)
        results = [self._criterion(c, item.sample, src, res, pair) for c in item.sample.checklist]
        scores, na = summarise(results)
        return base.replace(
            scores=scores,
            na=na,
            verdicts={r.criterion.id: r.verdict for r in results},
            rationale={r.criterion.id: f"[{r.source}] {r.rationale}" for r in results},
            telemetry=Telemetry(seconds=time.perf_counter() - t0),
        )

    def _images(self, item: JudgeItem) -> tuple[Image.Image, Image.Image]:
        images = []
        for role, image in (("source", item.source), ("result", item.final)):
            try:
                if not isinstance(image, Image.Image):
                    raise TypeError(f"expected a PIL image, got {type(image).__name__}")
                w, h = image.size
                if min(w, h) < MIN_SIDE:
                    raise ValueError(f"{w}x{h} px is under the {MIN_SIDE} px a side needed to measure")
                image.load()
            except (OSError, ValueError, TypeError, SyntaxError) as err:
                raise _Unmeasurable(f"the {role} image cannot be measured: {err}") from None
            images.append(image)
        return align(images[0], images[1])

    def _criterion(
        self, criterion: Criterion, sample: Sample, src: ImageMeasures, res: ImageMeasures, pair: PairMeasures
    ) -> CriterionResult:
        hint = _hint(sample, criterion.id) if self.hints else None
        if hint is not None:
            outcome = evaluate(hint, src, res, pair)
            return CriterionResult(criterion, outcome.verdict, outcome.rationale, "hint")
        if not self.lexicon:
            return CriterionResult(
                criterion, "undecidable", "the suite gave no hint and the lexicon is off", "none"
            )
        reading = read_criterion(criterion, sample)
        outcome: Outcome = evaluate(reading.hint, src, res, pair)
        source = f"lexicon: {reading.words}" if reading.words else "lexicon"
        return CriterionResult(criterion, outcome.verdict, outcome.rationale, source)


class _Unmeasurable(Exception):
    """A source or result image the judge cannot measure (the judgement is unscored)."""


def _unscored(base: Judgement, reason: str) -> Judgement:
    return base.replace(
        na={name: reason for name in SCORE_NAMES}, rationale=reason, status="unscored", error=reason
    )


def _hint(sample: Sample, criterion_id: str) -> Any:
    truth = sample.truth
    if not isinstance(truth, Mapping):
        return None
    checks = truth.get("checks")
    if not isinstance(checks, Mapping):
        return None
    return checks.get(criterion_id)


def _key(
    image_id: str | None, size: tuple[int, int], judge: HeuristicChecklistJudge
) -> tuple[Any, ...] | None:
    """Cache key of an image measured at the source's ``size`` (None: do not cache an image without id)."""
    if not image_id:
        return None
    return (image_id, size, judge.measure_size, judge.detail_size)
