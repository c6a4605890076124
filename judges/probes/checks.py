"""Reading a judge's verdict on a control: which checks it passed, failed, or could not decide.

Two bases, chosen per control judgement:

* **verdicts** — when the judgement carries per-criterion verdicts (checklist judges, the exact
  ``attributes`` judge), each criterion whose kind has an expectation is one check: right when the
  verdict *is* the expected one (``pass`` or ``fail``; ``partial`` is never right, since every
  control is unambiguous by construction), undecidable when the verdict is ``undecidable`` or
  missing. Absolute: no comparison with the real result is needed.
* **scores** — otherwise, each score with a kind (see :func:`score_kind`) is one check against the
  real result's score on the same sample, oriented by the score's direction: an expected ``fail``
  is right when the control scores strictly worse; an expected ``pass`` when it scores no worse
  than the real result minus :data:`PASS_SLACK` of the score's range. Undecidable when either
  score is missing, when the control's image *is* the real result's (an ``identity`` control of a
  system that returned its source), or, for ``fail``, when the real result already has the worst
  score possible (there is no room below it).

A control's outcome is ``pass`` when every decided check is right, ``fail`` when one is wrong,
``undecidable`` when none was decided.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.model import Judgement, ScoreSpec

#: An expected ``pass`` on a score tolerates this fraction of the score's range below the real result.
PASS_SLACK = 0.02

# Score names of the built-in judges (and common metrics) that measure one criterion kind.
_GOAL = {
    "sc",
    "semantic_consistency",
    "instruction_following",
    "editing_success",
    "reached",
    "clip_text",
    "clip_dir",
    "clip_t",
    "text_alignment",
    "clip_score",
    "goal",
}
_PRESERVE = {
    "ssim",
    "psnr",
    "lpips",
    "dino_cls",
    "dino_patch",
    "clip_image",
    "clip_i",
    "kept",
    "overediting",
    "preserve",
    "structure",
}
_QUALITY = {
    "pq",
    "visual_quality",
    "technical_execution",
    "perceptual_quality",
    "naturalness",
    "artifacts",
    "aesthetic_quality",
    "technical_quality",
    "quality",
}
_OVERALL = {
    "overall",
    "overall_shared",
    "overall_mean",
    "pass_rate",
    "weighted_pass_rate",
    "exact",
    "score",
    "reward",
}
_NOT_QUALITY = {"decided", "position_consistent", "win"}


def score_kind(name: str, declared: Mapping[str, str] | None = None) -> str | None:
    """The criterion kind a score measures: ``goal``, ``preserve``, ``quality``, ``overall`` or None.

    A judge may declare its own mapping (an attribute ``score_kinds = {score: kind}``); otherwise
    names are read: ``goal_*``/``preserve_*``/``quality_*`` prefixes, then the built-in tables.
    ``None`` for coverage and consistency numbers (``decided``, ``position_consistent``) and for
    names nothing is known about: such scores are not checked, only shown.
    """
    if declared and name in declared:
        kind = declared[name]
        return kind if kind in ("goal", "preserve", "quality", "overall") else None
    low = name.lower()
    if low in _NOT_QUALITY:
        return None
    for prefix in ("goal", "preserve", "quality"):
        if low.startswith(prefix + "_"):
            return prefix
    for kind, names in (
        ("goal", _GOAL),
        ("preserve", _PRESERVE),
        ("quality", _QUALITY),
        ("overall", _OVERALL),
    ):
        if low in names:
            return kind
    return None


def headline_score(
    specs: list[ScoreSpec], declared: Mapping[str, str] | None = None, present: Collection[str] | None = None
) -> ScoreSpec | None:
    """The score a judge is summarised by: its first ``overall`` score, else its first ``goal``
    score, else its first score with any kind, else its first score. With ``present`` (the scores
    the judge actually gave), only those count while any does: ``image-quality`` has no
    ``overall`` for a system without a plan, so its ``overall_shared`` speaks for it there."""
    if present is not None:
        have = [sp for sp in specs if sp.name in present]
        if have:
            specs = have
    for wanted in ("overall", "goal"):
        for sp in specs:
            if score_kind(sp.name, declared) == wanted:
                return sp
    for sp in specs:
        if score_kind(sp.name, declared) is not None:
            return sp
    return specs[0] if specs else None


@dataclass(frozen=True)
class Check:
    """One expectation tested: on a criterion (``on='criterion'``) or a score (``on='score'``)."""

    on: str
    id: str
    kind: str
    expect: str
    outcome: str  # right | wrong | undecidable
    got: Any = None
    real: Any = None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


@dataclass(frozen=True)
class Reading:
    """Every check on one control judgement, its basis and its outcome."""

    basis: str  # verdicts | scores | none
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def decided(self) -> list[Check]:
        return [c for c in self.checks if c.outcome != "undecidable"]

    @property
    def outcome(self) -> str:
        decided = self.decided
        if not decided:
            return "undecidable"
        return "pass" if all(c.outcome == "right" for c in decided) else "fail"


def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(float(x)):
        return None
    return float(x)


def read_control(
    control_j: Judgement,
    real_j: Judgement | None,
    expect: Mapping[str, str | None],
    criteria_kinds: Mapping[str, str],
    specs: list[ScoreSpec],
    *,
    same_image: bool,
    declared: Mapping[str, str] | None = None,
    headline: str | None = None,
) -> Reading:
    """Checks of one control judgement (see the module docstring).

    ``criteria_kinds`` maps the judged sample's criterion ids to their kinds; ``specs`` are the
    judge's score specs; ``same_image`` says the control's image is the real result's.
    """
    if control_j.status != "ok":
        why = f"the judge returned {control_j.status}: {control_j.error or 'no reason given'}"
        return Reading("none", (Check("judgement", "*", "*", "*", "undecidable", why=why[:300]),))
    if control_j.verdicts:
        checks = []
        for cid, kind in criteria_kinds.items():
            exp = expect.get(kind)
            if exp is None:
                continue
            v = control_j.verdicts.get(cid)
            if v is None or v == "undecidable":
                checks.append(
                    Check(
                        "criterion",
                        cid,
                        kind,
                        exp,
                        "undecidable",
                        got=v,
                        why="the judge gave no verdict" if v is None else "the judge says undecidable",
                    )
                )
            else:
                checks.append(Check("criterion", cid, kind, exp, "right" if v == exp else "wrong", got=v))
        return Reading("verdicts", tuple(checks))
    checks = []
    for sp in specs:
        kind = score_kind(sp.name, declared)
        if kind is None or (kind == "overall" and sp.name != headline):
            continue
        exp = expect.get(kind)
        if exp is None:
            continue
        checks.append(_score_check(sp, kind, exp, control_j, real_j, same_image))
    return Reading("scores", tuple(checks))


def _score_check(
    sp: ScoreSpec, kind: str, exp: str, control_j: Judgement, real_j: Judgement | None, same_image: bool
) -> Check:
    c = _finite(control_j.scores.get(sp.name))
    r = _finite(real_j.scores.get(sp.name)) if real_j is not None and real_j.status == "ok" else None
    base = {"on": "score", "id": sp.name, "kind": kind, "expect": exp, "got": c, "real": r}
    if c is None:
        why = control_j.na.get(sp.name) or "the judge gave no score"
        return Check(**base, outcome="undecidable", why=f"control: {why}"[:300])
    if r is None:
        return Check(**base, outcome="undecidable", why="no score of the real result to compare with")
    if same_image:
        return Check(**base, outcome="undecidable", why="the real result is this control's image")
    sign = 1.0 if sp.higher_is_better else -1.0
    cc, rr = sign * c, sign * r
    span = (sp.max - sp.min) if sp.min is not None and sp.max is not None and sp.max > sp.min else None
    if exp == "fail":
        worst = sp.min if sp.higher_is_better else sp.max
        if worst is not None and abs(r - worst) <= 1e-9 * max(1.0, abs(worst)):
            return Check(**base, outcome="undecidable", why="the real result already has the worst score")
        return Check(**base, outcome="right" if cc < rr else "wrong")
    slack = PASS_SLACK * span if span is not None else 1e-9 * max(1.0, abs(r))
    return Check(**base, outcome="right" if cc >= rr - slack else "wrong")
