"""The exact ``attributes`` judge: a styling result's true attributes against the sample's target.

A result edited by the ``scene`` tool carries its scene spec as a sidecar in the run's image
store. This judge reads that spec, renders it again and trusts it only when the render's image id
equals the trajectory's final image (and the pixels it was handed): then the spec *is* the truth
about the result, and the judge compares its ten dimensions with the sample's ``truth``. Nothing the
trajectory claims (its plan, its steps, their parameters) is read.

Scores (all 0-1, higher is better)
----------------------------------
- ``reached``: fraction of the target dimensions whose final value equals the target value.
- ``kept``: fraction of the kept dimensions whose final value equals the source's. A final scene
  whose layout differs from the source's (objects, horizon, size or noise seed: not an edit of this
  picture, but another picture) keeps nothing: ``kept = 0``. Absent (``na``) when the sample asks
  to keep nothing.
- ``exact``: 1 when every target is reached and everything kept, else 0.
- ``overall``: the mean of ``reached`` and ``kept`` (reached and kept weigh the same however many
  dimensions each has, so a sample with one change and two constraints is not mostly about the
  constraints); ``reached`` alone when nothing is to be kept. Returning the source untouched
  scores ``reached = 0``, ``kept = 1``, ``overall = 0.5``: read ``exact`` or ``reached`` for
  success, ``kept`` for restraint.
- Dimensions neither targeted nor kept may change freely (a planner may add a warm grade to a
  sunset); they are listed in the rationale's ``also_changed``, never penalised.

Verdicts: a goal criterion (``truth.dimensions[cid]`` lists its dimensions) passes when all its
dimensions reach their targets, is ``partial`` when some do, and fails otherwise; a preserve
criterion passes when all its dimensions are kept (and the layout is), fails otherwise. Criteria
about no dimension (quality) are ``undecidable`` here.

Unscored (``status="unscored"``, with the reason in ``error``; never a zero):
- the sample has no scene truth (not a styling sample);
- the final image has no scene sidecar: it was not produced by the scene tool, so its attributes
  are unknown;
- the render of the final image's spec is not the final image: the pixels were changed after
  rendering (a pixel tool ran after the scene tool), so the spec no longer describes them.
A sidecar that exists but cannot be read is an ``error``: a corrupt ground truth is never ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bench.ids import image_id
from bench.model import Judgement, ScoreSpec
from bench.protocols import Component, JudgeInfo, JudgeItem
from bench.scene import CONTEXT_KEYS, RENDER_VERSION, SIDE_CAR_SUFFIX, SPEC_VERSION, SceneSpec, diff, render

log = logging.getLogger(__name__)

__all__ = ["AttributesJudge", "SCORES", "score_attributes"]

#: The context key -> scene dimension map (``location`` -> ``location_setting``...).
DIMENSION_OF: dict[str, str] = {key: dim for dim, key in CONTEXT_KEYS.items()}
LAYOUT_FIELDS: tuple[str, ...] = ("objects", "horizon", "width", "height", "seed")

SCORES: tuple[ScoreSpec, ...] = (
    ScoreSpec("reached", 0.0, 1.0, True, "{:.3f}", "fraction of the requested dimensions at their target value"),
    ScoreSpec("kept", 0.0, 1.0, True, "{:.3f}", "fraction of the dimensions to keep still at the source's value"),
    ScoreSpec("exact", 0.0, 1.0, True, "{:.2f}", "1 when every target is reached and everything kept"),
    ScoreSpec("overall", 0.0, 1.0, True, "{:.3f}", "mean of reached and kept (reached alone when nothing is kept)"),
)


class TruthError(ValueError):
    """A sample's truth is not a styling truth (or is malformed)."""


def _truth(sample_truth: Any) -> tuple[SceneSpec, dict[str, str], list[str], dict[str, list[str]]]:
    if not isinstance(sample_truth, Mapping) or not {"source", "target", "keep"} <= set(sample_truth):
        raise TruthError("the sample has no scene truth (truth.source, truth.target, truth.keep): "
                         "the attributes judge scores styling-suite samples only")
    try:
        source = SceneSpec.from_dict(sample_truth["source"])
    except ValueError as err:
        raise TruthError(f"truth.source is not a scene spec: {err}") from err
    target, keep = sample_truth["target"], sample_truth["keep"]
    if not isinstance(target, Mapping) or not isinstance(keep, (list, tuple)):
        raise TruthError("truth.target must be an object and truth.keep a list")
    for key in list(target) + list(keep):
        if key not in DIMENSION_OF:
            raise TruthError(f"truth names {key!r}, which is not a scene dimension's context key")
    dims = sample_truth.get("dimensions") or {}
    return source, {str(k): str(v) for k, v in target.items()}, [str(k) for k in keep], dict(dims)


def score_attributes(source: SceneSpec, final: SceneSpec, target: Mapping[str, str], keep: list[str],
                     dimensions: Mapping[str, list[str]] | None = None, kinds: Mapping[str, str] | None = None
                     ) -> tuple[dict[str, float], dict[str, str], dict[str, str], dict[str, Any]]:
    """Compare a final spec with a target: ``(scores, na, verdicts, rationale)``.

    ``target`` and ``keep`` use context keys; ``dimensions`` maps criterion ids to the context keys
    they are about and ``kinds`` criterion ids to ``goal`` / ``preserve`` / ``quality``.
    """
    final_ctx, source_ctx = final.context(), source.context()
    layout_changed = sorted(k for k in diff(source, final) if k in LAYOUT_FIELDS)
    reached_ok = {k: final_ctx[k] == v for k, v in target.items()}
    kept_ok = {k: (final_ctx[k] == source_ctx[k]) and not layout_changed for k in keep}
    scores: dict[str, float] = {}
    na: dict[str, str] = {}
    if reached_ok:
        scores["reached"] = sum(reached_ok.values()) / len(reached_ok)
    else:
        na["reached"] = "the sample asks for no change"
    if kept_ok:
        scores["kept"] = sum(kept_ok.values()) / len(kept_ok)
    else:
        na["kept"] = "the sample asks to keep nothing"
    parts = [scores[s] for s in ("reached", "kept") if s in scores]
    if parts:
        scores["exact"] = 1.0 if all(p == 1.0 for p in parts) else 0.0
        scores["overall"] = sum(parts) / len(parts)
    verdicts: dict[str, str] = {}
    for cid, keys in (dimensions or {}).items():
        kind = (kinds or {}).get(cid)
        keys = [k for k in keys if k in DIMENSION_OF]
        if not keys:
            verdicts[cid] = "undecidable"
        elif kind == "preserve" or (kind is None and all(k in kept_ok for k in keys)):
            verdicts[cid] = "pass" if all(final_ctx[k] == source_ctx[k] for k in keys) and not layout_changed else "fail"
        else:
            hits = sum(final_ctx[k] == target.get(k, source_ctx[k]) for k in keys)
            verdicts[cid] = "pass" if hits == len(keys) else "partial" if hits else "fail"
    rationale = {
        "final": final_ctx,
        "missed": {k: {"target": v, "final": final_ctx[k]} for k, v in target.items() if not reached_ok[k]},
        "broken": {k: {"source": source_ctx[k], "final": final_ctx[k]} for k in keep if final_ctx[k] != source_ctx[k]},
        "also_changed": {k: {"source": source_ctx[k], "final": final_ctx[k]} for k in final_ctx
                         if k not in target and k not in keep and final_ctx[k] != source_ctx[k]},
        "layout_changed": layout_changed,
    }
    return scores, na, verdicts, rationale


def _sidecar_reader(item: JudgeItem) -> Callable[[str, str], bytes | None] | None:
    """How to read a sidecar from the run's image store for this item.

    Prefers an explicit ``item.get_sidecar(image_id, suffix)``; otherwise the store behind
    ``item.load_image`` (the runner hands the store's bound ``get``).
    """
    reader = getattr(item, "get_sidecar", None)
    if callable(reader):
        return reader
    store = getattr(item.load_image, "__self__", None)
    reader = getattr(store, "get_sidecar", None)
    return reader if callable(reader) else None


class AttributesJudge(Component):
    """Exact scene-attribute judge for styling samples edited by the ``scene`` tool (weight-free)."""

    name = "attributes"
    version = f"1.r{RENDER_VERSION}.s{SPEC_VERSION}"  # a new renderer can change which specs verify
    scope = "sample"
    description = ("Exact judge for the styling suites: reads the result's scene spec (written by the scene tool), "
                   "verifies it by re-rendering, and scores reached targets and kept dimensions.")

    def __init__(self) -> None:
        pass

    def info(self) -> JudgeInfo:
        return JudgeInfo(description=self.description, kind="exact")

    def score_specs(self) -> list[ScoreSpec]:
        return list(SCORES)

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        return [self._one(item) for item in items]

    def _base(self, item: JudgeItem, **fields: Any) -> Judgement:
        return Judgement(suite=item.suite, sample_id=item.sample.id, system_id=item.trajectory.system_id,
                         judge_id="", **fields)

    def _unscored(self, item: JudgeItem, why: str, status: str = "unscored") -> Judgement:
        return self._base(item, status=status, error=why, na={s.name: why for s in SCORES})

    def _one(self, item: JudgeItem) -> Judgement:
        try:
            source, target, keep, dims = _truth(item.sample.truth)
        except TruthError as err:
            return self._unscored(item, str(err))
        claimed = item.trajectory.final
        final_id = image_id(item.final)
        if claimed is not None and claimed != final_id:
            return self._unscored(item, f"the final image's pixels ({final_id[:12]}) are not the trajectory's "
                                        f"final image ({claimed[:12]})")
        reader = _sidecar_reader(item)
        if reader is None:
            return self._unscored(item, "no access to the run's image store (the judge item offers neither "
                                        "get_sidecar nor a store-bound load_image)", status="error")
        data = reader(final_id, SIDE_CAR_SUFFIX)
        if data is None:
            return self._unscored(item, "the final image has no scene sidecar: it was not produced by the scene "
                                        "tool, so its true attributes are unknown")
        try:
            final = SceneSpec.from_json(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            return self._unscored(item, f"the final image's scene sidecar is unreadable: {err}", status="error")
        if image_id(render(final)) != final_id:
            return self._unscored(item, "the final image is not the render of its scene spec: its pixels were "
                                        "changed after the scene tool rendered it (e.g. by a pixel tool), so its "
                                        "attributes are unknown")
        kinds = {c.id: c.kind for c in item.sample.checklist}
        scores, na, verdicts, rationale = score_attributes(source, final, target, keep, dims, kinds)
        return self._base(item, scores=scores, na=na, verdicts=verdicts, rationale=rationale)
