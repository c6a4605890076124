"""The score tables: per suite, one row per system and one column per (judge, score).

The numbers are :func:`bench.report.summary_table`'s — the same means, 95% bootstrap intervals
(``bench.stats``), ``n`` and unscored counts that ``editbench report`` prints — so the site and the
terminal never disagree. This module only arranges them and adds what a page needs: a shared axis
per column for the interval bars, display formats from each score's ``ScoreSpec``, and the failed
and refused trajectory counts per system.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pandas as pd

from bench.model import ScoreSpec
from bench.report import summary_table
from bench.results import Results
from leaderboard.calibration import calibration_for
from leaderboard.formatting import MISSING, bare_format, format_range, format_score, format_value, is_number
from leaderboard.header import Names
from leaderboard.views import Bar, Cell, Column, Row, SuiteTable, SuiteView

BOOTSTRAP_SEED = 0  # fixed: a site rebuilt from the same runs shows the same intervals


def _spec(res: Results, judge_id: str, score: str) -> ScoreSpec:
    return res.score_specs.get(judge_id, {}).get(score) or ScoreSpec(name=score)


def _score_order(res: Results, judge_id: str, score: str) -> tuple[int, str]:
    names = list(res.score_specs.get(judge_id, {}))
    return (names.index(score), score) if score in names else (len(names), score)


def _axis(values: list[float], spec: ScoreSpec) -> tuple[float, float] | None:
    """The column's shared axis: the span of every interval, padded, clamped to the score's scale."""
    finite = [v for v in values if is_number(v)]
    if not finite:
        return None
    lo, hi = min(finite), max(finite)
    pad = (hi - lo) * 0.08 if hi > lo else max(abs(hi) * 0.05, 1e-6)
    lo, hi = lo - pad, hi + pad
    if spec.min is not None and is_number(spec.min):
        lo = max(lo, float(spec.min))
    if spec.max is not None and is_number(spec.max):
        hi = min(hi, float(spec.max))
    return (lo, hi) if hi > lo else (lo - 1e-6, hi + 1e-6)


def _pct(v: float, axis: tuple[float, float]) -> float:
    lo, hi = axis
    return round(min(100.0, max(0.0, (v - lo) / (hi - lo) * 100.0)), 2)


def _cell(r: Any, column: Column, axis: tuple[float, float] | None) -> Cell:
    spec = column.spec
    bare = bare_format(spec.display)
    mean_text = format_score(r.mean, spec)
    has_ci = is_number(r.low) and is_number(r.high)
    ci_text = f"{format_value(r.low, bare)} – {format_value(r.high, bare)}" if has_ci else ""
    bar = None
    if axis is not None and is_number(r.mean) and has_ci:
        bar = Bar(low=_pct(r.low, axis), high=_pct(r.high, axis), mean=_pct(r.mean, axis))
    title = (
        f"{column.sublabel or column.judge.display} · {spec.name}: mean {mean_text}"
        + (f", 95% bootstrap CI {ci_text}" if ci_text else "")
        + f"; {r.n} scored, {r.unscored} unscored"
    )
    return Cell(
        mean_text=mean_text,
        ci_text=ci_text,
        sort_value=repr(float(r.mean)) if is_number(r.mean) else "",
        n=int(r.n),
        unscored=int(r.unscored),
        bar=bar,
        title=title,
    )


def _empty_cell(column: Column, why: str) -> Cell:
    return Cell(mean_text=MISSING, ci_text="", sort_value="", n=0, unscored=0, title=why)


def build_tables(
    res: Results,
    names: Names,
    suites: dict[str, SuiteView],
    *,
    n_resamples: int = 2000,
    summary: pd.DataFrame | None = None,
    calibrations: dict[str, dict] | None = None,
) -> list[SuiteTable]:
    """One :class:`SuiteTable` per suite that has trajectories (``summary``: a precomputed
    :func:`bench.report.summary_table`, so the site computes it once)."""
    if summary is None:
        summary = summary_table(res, seed=BOOTSTRAP_SEED, n_resamples=n_resamples)
    status = Counter((t.suite, t.system_id, t.status) for t in res.trajectories.values())
    per_suite_systems: dict[str, set[str]] = {}
    for t in res.trajectories.values():
        per_suite_systems.setdefault(t.suite, set()).add(t.system_id)
    tables = []
    for ref, suite in suites.items():
        rows_here = (
            summary[summary["suite"] == ref] if not summary.empty else pd.DataFrame(columns=summary.columns)
        )
        system_ids = per_suite_systems.get(ref, set()) | set(rows_here["system_id"])
        if not system_ids:
            continue
        system_ids_sorted = sorted(system_ids, key=lambda s: (names.order.get(s, len(names.order)), s))
        pairs = sorted(
            {(j, s) for j, s in zip(rows_here["judge_id"], rows_here["score"], strict=True)},
            key=lambda p: (names.judge_order.get(p[0], len(names.judge_order)), p[0], _score_order(res, *p)),
        )
        columns = []
        for k, (jid, score) in enumerate(pairs):
            spec = _spec(res, jid, score)
            judge = names.judge(jid)
            calib = calibration_for(calibrations or {}, jid, score)
            columns.append(
                Column(
                    key=f"c{k}",
                    judge=judge,
                    spec=spec,
                    label=score,
                    sublabel="" if judge.display == score else judge.display,
                    better="high" if spec.higher_is_better else "low",
                    scale=format_range(spec),
                    calibration=calib.text if calib else "",
                    calibration_title=calib.title if calib else "",
                )
            )
        lookup = {(r.judge_id, r.score, r.system_id): r for r in rows_here.itertuples(index=False)}
        axes = {}
        for col, (jid, score) in zip(columns, pairs, strict=True):
            vals = []
            for sid in system_ids_sorted:
                r = lookup.get((jid, score, sid))
                if r is not None:
                    vals += [r.low, r.high, r.mean]
            axes[col.key] = _axis(
                [float(v) for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v))],
                col.spec,
            )
        rows = []
        for sid in system_ids_sorted:
            cells = []
            for col, (jid, score) in zip(columns, pairs, strict=True):
                r = lookup.get((jid, score, sid))
                cells.append(
                    _cell(r, col, axes[col.key]) if r is not None else _empty_cell(col, "not judged")
                )
            rows.append(
                Row(
                    system=names.system(sid),
                    trajectories=sum(status[(ref, sid, s)] for s in ("ok", "failed", "refused")),
                    failed=status[(ref, sid, "failed")],
                    refused=status[(ref, sid, "refused")],
                    cells=tuple(cells),
                )
            )
        tables.append(SuiteTable(suite=suite, n_samples=suite.size, columns=tuple(columns), rows=tuple(rows)))
    return tables
