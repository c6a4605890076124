"""Per judge: control accuracy and the real-vs-control score gap, with intervals, and the flag.

**Control accuracy** is right checks / decided checks over every control of the judge (see
:mod:`judges.probes.checks`); its 95% interval is a bootstrap over *samples* (all checks of a
sample resampled together, since they share a source and a real result).

**Score gap**, per score with a criterion kind: over the controls expected to *fail* on that kind,
the mean of ``real - control`` on the same sample, oriented so that positive means the real result
scored better, with a paired bootstrap 95% interval (:func:`bench.stats.paired_bootstrap`);
``normalised`` divides it by the score's declared range (for display: a declared range can be a
cap, as PSNR's 100 dB), ``effect`` by the standard deviation of the real results' scores: how big
the gap is next to the differences among real edits, whatever the scale.

**The flag** — "this judge cannot tell controls from real edits" — is raised on the judge's
headline score (:func:`judges.probes.checks.headline_score`) when

* the gap's 95% interval reaches 0 or below (real results are not shown to score better), or
* the effect is under :data:`MIN_EFFECT` (better, but by less than half the spread of real results:
  a black image scored "almost like a real edit"), or
* the control accuracy's whole interval is under 0.5 (the judge gets most controls wrong).

With fewer than :data:`MIN_PAIRS` decided gap pairs the status is ``insufficient``: neither
flagged nor cleared. Statuses: ``ok`` | ``flagged`` | ``insufficient``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bench.model import ScoreSpec
from bench.stats import bootstrap_statistic, child_generator, paired_bootstrap

from .checks import score_kind

MIN_EFFECT = 0.5
MIN_PAIRS = 4
ACCURACY_FLOOR = 0.5
RESAMPLES = 2000


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ci(value: float, low: float, high: float, n: int) -> dict[str, Any]:
    def clean(v: float) -> float | None:
        return None if v is None or not math.isfinite(v) else round(float(v), 6)

    return {"value": clean(value), "low": clean(low), "high": clean(high), "n": int(n)}


def accuracy(records: Sequence[Mapping[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Right / decided checks with a bootstrap interval over samples; ``value`` None when none decided."""
    per_sample: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        row = per_sample[(r["suite"], r["sample_id"])]
        for c in r.get("checks", []):
            if c["outcome"] != "undecidable":
                row[1] += 1
                row[0] += c["outcome"] == "right"
    rows = np.array([v for v in per_sample.values() if v[1] > 0], dtype=float).reshape(-1, 2)
    decided = int(rows[:, 1].sum()) if rows.size else 0
    if decided == 0:
        return {
            **_ci(math.nan, math.nan, math.nan, 0),
            "right": 0,
            "decided": 0,
            "undecidable": sum(len(r.get("checks", [])) for r in records),
        }

    def stat(a: np.ndarray) -> float:
        return float(a[:, 0].sum() / a[:, 1].sum()) if a[:, 1].sum() else math.nan

    res = bootstrap_statistic(rows, stat, n_resamples=RESAMPLES, seed=child_generator(seed, "accuracy"))
    undecidable = sum(1 for r in records for c in r.get("checks", []) if c["outcome"] == "undecidable")
    return {
        **_ci(res.value, res.low, res.high, decided),
        "right": int(rows[:, 0].sum()),
        "decided": decided,
        "undecidable": undecidable,
    }


def by_control(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per control kind: outcomes (pass / fail / undecidable) and right / decided checks."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        d = out.setdefault(r["control"], {"pass": 0, "fail": 0, "undecidable": 0, "right": 0, "decided": 0})
        d[r["outcome"]] += 1
        for c in r.get("checks", []):
            if c["outcome"] != "undecidable":
                d["decided"] += 1
                d["right"] += c["outcome"] == "right"
    for d in out.values():
        d["accuracy"] = round(d["right"] / d["decided"], 6) if d["decided"] else None
    return out


def gaps(
    records: Sequence[Mapping[str, Any]],
    specs: Sequence[ScoreSpec],
    declared: Mapping[str, str] | None,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per score with a kind: the oriented real-minus-control gap over controls expected to fail on it."""
    out: dict[str, dict[str, Any]] = {}
    for sp in specs:
        kind = score_kind(sp.name, declared)
        if kind is None:
            continue
        real, ctrl, per_control = [], [], defaultdict(list)
        for r in records:
            if (r.get("expect") or {}).get(kind) != "fail" or r.get("same_image"):
                continue
            a, c = _num((r.get("real_scores") or {}).get(sp.name)), _num((r.get("scores") or {}).get(sp.name))
            if a is None or c is None:
                continue
            sign = 1.0 if sp.higher_is_better else -1.0
            real.append(sign * a)
            ctrl.append(sign * c)
            per_control[r["control"]].append(sign * (a - c))
        if not real:
            out[sp.name] = {
                "kind": kind,
                **_ci(math.nan, math.nan, math.nan, 0),
                "normalised": None,
                "effect": None,
                "by_control": {},
            }
            continue
        res = paired_bootstrap(real, ctrl, n_resamples=RESAMPLES, seed=child_generator(seed, "gap", sp.name))
        span = (sp.max - sp.min) if sp.min is not None and sp.max is not None and sp.max > sp.min else None
        sd = float(np.std(real, ddof=1)) if len(real) > 1 else 0.0
        effect = res.diff / sd if sd > 0 else (None if res.diff > 0 else 0.0)
        out[sp.name] = {
            "kind": kind,
            **_ci(res.diff, res.low, res.high, res.n),
            "p_value": None if not math.isfinite(res.p_value) else round(res.p_value, 6),
            "real_mean": round(res.mean_a, 6),
            "control_mean": round(res.mean_b, 6),
            "normalised": round(res.diff / span, 6) if span else None,
            "range": span,
            "real_sd": round(sd, 6),
            "effect": None if effect is None else round(effect, 6),
            "by_control": {
                k: {"mean": round(float(np.mean(v)), 6), "n": len(v)} for k, v in sorted(per_control.items())
            },
        }
    return out


def flag(
    headline: str | None, gap_table: Mapping[str, Mapping[str, Any]], acc: Mapping[str, Any]
) -> tuple[str, str]:
    """``(status, reason)`` by the rule in the module docstring."""
    reasons = []
    g = gap_table.get(headline or "")
    if acc.get("high") is not None and acc["high"] < ACCURACY_FLOOR:
        reasons.append(
            f"control accuracy {acc['value']:.2f} [{acc['low']:.2f}, {acc['high']:.2f}] is below "
            f"{ACCURACY_FLOOR:.1f} even at its upper bound: the judge gets most controls wrong"
        )
    if g is None or g.get("n", 0) < MIN_PAIRS or g.get("value") is None:
        if reasons:
            return "flagged", "; ".join(reasons)
        n = 0 if g is None else g.get("n", 0)
        return (
            "insufficient",
            f"{n} real-vs-control pairs on {headline or 'no score'} (at least {MIN_PAIRS} needed)",
        )
    if g["low"] is None or g["low"] <= 0:
        reasons.append(
            f"real results do not score better than controls on {headline}: gap {g['value']:.3g} "
            f"[{_fmt(g['low'])}, {_fmt(g['high'])}] includes 0"
        )
    elif g.get("effect") is not None and g["effect"] < MIN_EFFECT:
        reasons.append(
            f"controls score almost like real results on {headline}: gap {g['value']:.3g} is "
            f"{g['effect']:.2f} standard deviations of the real results (under {MIN_EFFECT})"
        )
    if reasons:
        return "flagged", "; ".join(reasons)
    size = "" if g.get("effect") is None else f", {g['effect']:.1f} standard deviations of the real results"
    return (
        "ok",
        f"real results beat controls on {headline} by {g['value']:.3g} [{_fmt(g['low'])}, {_fmt(g['high'])}]{size}",
    )


def _fmt(x: float | None) -> str:
    return "?" if x is None else f"{x:.3g}"
