"""The ``report`` table: per suite × system × judge score, a mean with its 95% bootstrap interval.

Counts sit beside every mean — ``n`` scored, how many were unscored (judge could not score, or the
system failed), and how many of the system's trajectories failed — so no mean hides its pool.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.results import Results
from bench.stats import group_means


def summary_table(res: Results, *, seed: int = 0, n_resamples: int = 2000) -> pd.DataFrame:
    """One row per (suite, judge, score, system): mean, low, high, n, unscored, failed, direction."""
    scores = res.scores_frame()
    cols = ["suite", "judge", "score", "system", "mean", "low", "high", "n", "unscored", "na", "failed",
            "higher_is_better", "display", "judge_id", "system_id"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    # Scores the judge declared not applicable (e.g. no decidable criterion) are neither in n nor
    # unscored; they are counted in their own column so no sample vanishes from the table.
    na_counts = scores[scores["status"] == "na"].groupby(["suite", "judge_id", "score", "system_id"]).size().to_dict()
    scores = scores[scores["status"] != "na"]
    agg = group_means(scores, ["suite", "judge_id", "score", "system_id"], "value", seed=seed, n_resamples=n_resamples)
    trajs = res.trajectories_frame()
    failed = trajs[trajs["status"] != "ok"].groupby(["suite", "system_id"]).size().to_dict() if not trajs.empty else {}
    rows = []
    for r in agg.itertuples(index=False):
        spec = res.score_specs.get(r.judge_id, {}).get(r.score)
        rows.append({
            "suite": r.suite, "judge": res.display(r.judge_id), "score": r.score, "system": res.display(r.system_id),
            "mean": r.mean, "low": r.low, "high": r.high, "n": r.n, "unscored": r.n_missing,
            "na": int(na_counts.get((r.suite, r.judge_id, r.score, r.system_id), 0)),
            "failed": int(failed.get((r.suite, r.system_id), 0)),
            "higher_is_better": spec.higher_is_better if spec else True,
            "display": spec.display if spec else "{:.3f}",
            "judge_id": r.judge_id, "system_id": r.system_id,
        })
    out = pd.DataFrame(rows, columns=cols)
    # Best first within each (suite, judge, score), in the score's own direction.
    out["_key"] = [(-m if h else m) if not math.isnan(m) else math.inf for m, h in zip(out["mean"], out["higher_is_better"], strict=True)]
    out = out.sort_values(["suite", "judge", "score", "_key", "system"]).drop(columns="_key").reset_index(drop=True)
    return out


def _fmt(fmt: str, v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    try:
        return fmt.format(v)
    except (ValueError, TypeError):
        return f"{v:.3f}"


def format_table(table: pd.DataFrame) -> str:
    """Plain-text rendering for the terminal, grouped by suite and score."""
    if table.empty:
        return "no judgements in these runs"
    lines: list[str] = []
    for (suite, judge, score), grp in table.groupby(["suite", "judge", "score"], sort=False):
        arrow = "↑" if bool(grp["higher_is_better"].iloc[0]) else "↓"
        lines.append(f"{suite} · {judge} · {score} {arrow}")
        width = max(8, *(len(s) for s in grp["system"]))
        lines.append(f"  {'system':<{width}}  {'mean':>9}  {'95% CI':>21}  {'n':>5}  {'unscored':>8}  {'n/a':>4}  {'failed':>6}")
        for r in grp.itertuples(index=False):
            ci = f"[{_fmt(r.display, r.low)}, {_fmt(r.display, r.high)}]"
            lines.append(f"  {r.system:<{width}}  {_fmt(r.display, r.mean):>9}  {ci:>21}  {r.n:>5}  {r.unscored:>8}  {r.na:>4}  {r.failed:>6}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
