"""Bias checks: position bias of comparative judges, length (verbosity) effects of plan judges.

**Position bias.** A pairwise judge asks each comparison in both orders and records
``position_consistent`` (1 when both orders prefer the same result or both say tie), per draw in
``draws`` when it sampled several times. The *position-bias rate* is the share of (pair, draw)
comparisons whose verdict flipped when the order flipped: ``1 - position_consistent``. Its 95%
interval is a bootstrap over pairs (a pair's draws are resampled together). Identical results
(a tie without a request) are left out: no order was asked. A judge without
``position_consistent`` is checked by its ``draws`` of ``win`` instead where it has them; else
the check is ``n/a``.

**Position preference** (the record's ``direction``). A rate of flips does not say *which* position
wins them. A pairwise judge that also records ``first_position`` per draw — the share of its two
orders' verdicts that went to whichever result was shown first (A, left; a tie counts one half:
:func:`first_position`) — lets each flipped comparison be read: above one half, the first-shown
result won it; below, the second. ``first`` is the share of flipped comparisons the first position
won, with a 95% bootstrap interval over pairs that flipped at least once; ``prefers`` is ``first``
or ``second`` when that interval excludes one half, else ``neither``. A position-neutral judge
gives ``first_position`` = 0.5 on every comparison it answers consistently (the two orders mirror
each other), so only flips can lean. Without ``first_position`` the direction is ``n/a``: the
stored ``win`` and ``win_rate`` are from one result's point of view and cannot tell "A twice" from
"B twice".

**Length effects.** Where plans are judged, a judge should not reward words for their own sake.
For each score of such a judge, Spearman's rank correlation between the plan's length in words
(instruction, reasoning, and every subtask's text and reasoning) and the score, with a bootstrap
95% interval over judgements; and the same *within samples* (length and score centred on each
sample's mean first), which removes "harder samples get longer plans". ``effect`` is
``positive`` / ``negative`` when the within-sample interval (else the overall one) excludes 0,
``none`` otherwise. A correlation is not proof of bias — longer plans can be better plans — so
this is shown, never used to flag a judge. Plan judges are those named in :data:`PLAN_JUDGES` or
declaring ``judges_plans = True``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from bench.components import Built
from bench.model import Judgement, Plan, Trajectory
from bench.stats import bootstrap_statistic, child_generator

PLAN_JUDGES = frozenset({"plan-quality"})
MIN_PLANS = 5
RESAMPLES = 2000


def _ci(res: Any) -> dict[str, Any]:
    def clean(v: float) -> float | None:
        return None if v is None or not math.isfinite(v) else round(float(v), 6)

    return {"value": clean(res.value), "low": clean(res.low), "high": clean(res.high), "n": int(res.n)}


def position_bias(b: Built, judgements: Iterable[Judgement], seed: int = 0) -> dict[str, Any]:
    """The ``position_bias`` record of a pairwise judge (``n/a`` for other scopes)."""
    base = {"kind": "position_bias", "judge_id": b.id}
    if getattr(b.obj, "scope", "sample") != "pairwise":
        return {**base, "status": "n/a", "reason": "not a comparative (pairwise) judge"}
    rows: list[list[float]] = []
    leans: list[tuple[list[float], list[float] | None]] = []
    skipped = 0
    for j in judgements:
        if j.judge_id != b.id or j.status != "ok":
            continue
        if isinstance(j.rationale, str) and j.rationale.startswith("identical results"):
            skipped += 1
            continue
        flips = _flips(j)
        if flips is None:
            continue
        rows.append([sum(flips), len(flips)])
        leans.append((flips, _series(j, "first_position")))
    if not rows:
        return {
            **base,
            "status": "n/a",
            "reason": "no pairwise judgement with both orders",
            "identical_skipped": skipped,
        }
    arr = np.array(rows, dtype=float)

    def rate(a: np.ndarray) -> float:
        return float(a[:, 0].sum() / a[:, 1].sum())

    res = bootstrap_statistic(arr, rate, n_resamples=RESAMPLES, seed=child_generator(seed, "position", b.id))
    return {
        **base,
        "status": "ok",
        "rate": _ci(res),
        "pairs": len(rows),
        "comparisons": int(arr[:, 1].sum()),
        "flipped": int(arr[:, 0].sum()),
        "identical_skipped": skipped,
        "definition": "share of comparisons whose verdict flipped when the order of the two results flipped",
        "direction": _direction(leans, b.id, seed),
    }


def first_position(first_order: float, second_order: float) -> float:
    """The share of two orders' verdicts that went to the result shown first.

    Each argument is one order's raw verdict as the judge gave it — 1 for the result shown first
    (A), 0 for the one shown second (B), 0.5 for a tie, or a probability of A — so
    ``first_position(1, 1)`` (A both times, whichever result A was) is 1.0, a judge that always
    says B gives 0.0, and two mirrored verdicts (``1, 0``) give 0.5.
    """
    return (float(first_order) + float(second_order)) / 2.0


def _series(j: Judgement, name: str) -> list[float] | None:
    """Per-draw values of ``name`` (draws first, else the single score); ``None`` when absent."""
    draws = j.draws.get(name) if j.draws else None
    if draws:
        vals = [float(v) for v in draws if isinstance(v, (int, float)) and math.isfinite(v)]
        return vals if len(vals) == len(draws) else None
    v = j.scores.get(name)
    return [float(v)] if isinstance(v, (int, float)) and math.isfinite(v) else None


def _direction(
    pairs: list[tuple[list[float], list[float] | None]], judge_id: str, seed: int
) -> dict[str, Any]:
    """The ``direction`` part of a ``position_bias`` record from (flips, first_position) per pair."""
    if not any(fp is not None for _, fp in pairs):
        return {
            "status": "n/a",
            "reason": "the judge does not record first_position (which position each order chose), "
            "so the preferred position of a flipped verdict cannot be told",
        }
    rows = []
    for flips, fp in pairs:
        if fp is None or len(fp) != len(flips):
            continue
        lean = [v for f, v in zip(flips, fp, strict=True) if f > 0 and v != 0.5]
        if lean:
            rows.append([sum(1.0 for v in lean if v > 0.5), float(len(lean))])
    if not rows:
        return {"status": "n/a", "reason": "no flipped verdict: no position was preferred"}
    arr = np.array(rows, dtype=float)

    def share(a: np.ndarray) -> float:
        return float(a[:, 0].sum() / a[:, 1].sum())

    res = bootstrap_statistic(
        arr, share, n_resamples=RESAMPLES, seed=child_generator(seed, "direction", judge_id)
    )
    first = _ci(res)
    first["n"] = int(arr[:, 1].sum())  # flipped comparisons (the interval resamples the pairs they are in)
    lo, hi = first["low"], first["high"]
    prefers = (
        "first" if lo is not None and lo > 0.5 else "second" if hi is not None and hi < 0.5 else "neither"
    )
    return {
        "status": "ok",
        "first": first,
        "prefers": prefers,
        "pairs": len(rows),
        "first_won": int(arr[:, 0].sum()),
        "definition": "share of flipped verdicts that went to the result shown first (A, left); 0.5 is none",
    }


def _flips(j: Judgement) -> list[float] | None:
    """Per draw, 1 if the two orders disagreed; from ``position_consistent`` (draws first)."""
    draws = j.draws.get("position_consistent") if j.draws else None
    if draws:
        vals = [float(v) for v in draws if isinstance(v, (int, float)) and math.isfinite(v)]
        return [1.0 - v for v in vals] or None
    v = j.scores.get("position_consistent")
    if isinstance(v, (int, float)) and math.isfinite(v):
        return [1.0 - float(v)]
    return None


def plan_words(plan: Plan | None) -> int:
    """Words in a plan: instruction, reasoning, and each subtask's text and reasoning."""
    if plan is None:
        return 0
    parts = [plan.instruction or "", plan.reasoning or ""]
    for st in plan.subtasks:
        parts += [st.text or "", st.reasoning or ""]
    return sum(len(p.split()) for p in parts)


def judges_plans(b: Built) -> bool:
    declared = getattr(b.obj, "judges_plans", None)
    return bool(declared) if isinstance(declared, bool) else b.spec.name in PLAN_JUDGES


def _spearman(a: np.ndarray) -> float:
    """Spearman's rho of the two columns (average ranks for ties); NaN when a column is constant."""
    from scipy.stats import rankdata

    if np.ptp(a[:, 0]) == 0 or np.ptp(a[:, 1]) == 0:
        return math.nan
    r = rankdata(a, axis=0)
    r -= r.mean(axis=0)
    return float((r[:, 0] * r[:, 1]).sum() / math.sqrt((r[:, 0] ** 2).sum() * (r[:, 1] ** 2).sum()))


def length_effects(
    b: Built,
    judgements: Iterable[Judgement],
    trajectories: Mapping[tuple[str, str, str], Trajectory],
    seed: int = 0,
) -> dict[str, Any]:
    """The ``length_bias`` record of a plan judge (``n/a`` for judges that do not judge plans)."""
    base = {"kind": "length_bias", "judge_id": b.id}
    if not judges_plans(b):
        return {**base, "status": "n/a", "reason": "not a judge of plans"}
    pts: dict[str, list[tuple[str, float, float]]] = defaultdict(list)  # score -> (sample key, words, value)
    for j in judgements:
        if j.judge_id != b.id or j.status != "ok" or j.versus:
            continue
        t = trajectories.get((j.suite, j.sample_id, j.system_id))
        if t is None or t.plan is None:
            continue
        words = plan_words(t.plan)
        if words == 0:
            continue
        for name, v in j.scores.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                pts[name].append((f"{j.suite}\x1f{j.sample_id}", float(words), float(v)))
    scores: dict[str, Any] = {}
    for name, rows in sorted(pts.items()):
        if len(rows) < MIN_PLANS:
            continue
        arr = np.array([[w, v] for _, w, v in rows])
        overall = bootstrap_statistic(
            arr, _spearman, n_resamples=RESAMPLES, seed=child_generator(seed, "len", b.id, name)
        )
        entry = {"overall": _ci(overall), "words_mean": round(float(arr[:, 0].mean()), 3)}
        centred = _within_sample(rows)
        if centred is not None:
            within = bootstrap_statistic(
                centred,
                _spearman,
                n_resamples=RESAMPLES,
                seed=child_generator(seed, "len-within", b.id, name),
            )
            entry["within_sample"] = _ci(within)
        ref = entry.get("within_sample") or entry["overall"]
        lo, hi = ref["low"], ref["high"]
        entry["effect"] = (
            "positive" if lo is not None and lo > 0 else "negative" if hi is not None and hi < 0 else "none"
        )
        scores[name] = entry
    if not scores:
        return {**base, "status": "n/a", "reason": f"fewer than {MIN_PLANS} judged plans with a score"}
    return {**base, "status": "ok", "scores": scores, "min_plans": MIN_PLANS}


def _within_sample(rows: list[tuple[str, float, float]]) -> np.ndarray | None:
    """Length and score centred on each sample's mean, for samples judged with at least two plans."""
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for key, w, v in rows:
        groups[key].append((w, v))
    out = []
    for vals in groups.values():
        if len(vals) < 2:
            continue
        a = np.array(vals)
        out.extend((a - a.mean(axis=0)).tolist())
    return np.array(out) if len(out) >= MIN_PLANS else None
