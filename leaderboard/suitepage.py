"""Everything a suite's page shows, assembled: ranking, score tables, breakdowns and charts.

The numbers come from :mod:`leaderboard.overview` (ranking), :mod:`leaderboard.table` (every
judge × score), :mod:`leaderboard.breakdown` (tags, criteria, Bradley-Terry); this module adds
the charts (:mod:`leaderboard.charts`) and keeps the suite's pieces together for rendering and
for :mod:`leaderboard.export`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from markupsafe import Markup

from bench.results import Results
from leaderboard import charts
from leaderboard.breakdown import (
    BradleyTerryView,
    TagBreakdown,
    VerdictBreakdown,
    bradley_terry_views,
    complexity_tag,
    tag_breakdowns,
    verdict_breakdowns,
)
from leaderboard.export import SuiteNumbers
from leaderboard.formatting import format_score, is_number
from leaderboard.header import Names
from leaderboard.overview import SuiteRanking
from leaderboard.primary import ScoreMatrix, score_matrix
from leaderboard.views import SuiteTable, SystemView

COSTS = (
    ("seconds", "seconds per edit", "{:.2f}"),
    ("tool_calls", "tool calls per edit", "{:.1f}"),
    ("dollars", "dollars per edit", "{:.3f}"),
)


@dataclass(frozen=True)
class ChartView:
    title: str
    caption: str
    svg: Markup


@dataclass(frozen=True)
class SetScore:
    """A set-scope score (FID-like: one number per system over the whole suite)."""

    judge: str
    judge_id: str
    score: str
    system: SystemView
    value: float | None
    text: str
    status: str
    title: str


@dataclass(frozen=True)
class SuitePage:
    ranking: SuiteRanking
    table: SuiteTable | None
    tags: tuple[TagBreakdown, ...]
    verdicts: tuple[VerdictBreakdown, ...]
    bradley_terry: tuple[BradleyTerryView, ...]
    charts: tuple[ChartView, ...]
    cost_charts: tuple[ChartView, ...]
    unrecorded_costs: tuple[str, ...]  # costs no trajectory of the suite recorded (no chart for them)
    set_scores: tuple[SetScore, ...]
    notes: tuple[str, ...]
    filename: str

    @property
    def numbers(self) -> SuiteNumbers:
        return SuiteNumbers(self.ranking, self.tags, self.verdicts, self.bradley_terry, self.set_scores)

    @property
    def systems(self):  # every system ranked or shown on this suite, best expected rank first
        return tuple(c.system for c in self.ranking.cells)


def _distribution(r: SuiteRanking, m: ScoreMatrix) -> ChartView | None:
    if r.primary is None:
        return None
    series = [
        charts.Series(
            c.system.display,
            c.system.color,
            m.values[c.system.id][np.isfinite(m.values[c.system.id])],
            c.mean,
            c.low,
            c.high,
        )
        for c in r.cells
        if c.system.id in m.values
    ]
    if not any(s.values.size for s in series):
        return None
    return ChartView(
        f"Distribution of {r.primary.score} · judge {r.judge.display}"
        if r.judge
        else f"Distribution of {r.primary.score}",
        "Per system: a histogram of per-sample scores on one axis; the dot is the mean and the bar its 95% interval.",
        charts.distribution_chart(series, r.primary.spec),
    )


def _by_level(r: SuiteRanking, tag: TagBreakdown | None) -> ChartView | None:
    if r.primary is None or tag is None:
        return None
    series = []
    for c in r.cells:
        pts = []
        for v in tag.values:
            st = tag.cells.get(v, {}).get(c.system.id)
            ok = st is not None and st.mean is not None and st.low is not None and st.high is not None
            pts.append((st.mean, st.low, st.high, st.n) if ok else None)  # type: ignore[union-attr]
        series.append(charts.LevelSeries(c.system.display, c.system.color, tuple(pts)))
    return ChartView(
        f"{r.primary.score} by {tag.tag}" + (f" · judge {r.judge.display}" if r.judge else ""),
        f"Mean per {tag.tag} level with its 95% interval; a line per system.",
        charts.level_chart(tag.values, series, r.primary.spec, tag.tag),
    )


def _costs(res: Results, r: SuiteRanking) -> tuple[list[ChartView], list[str]]:
    if r.primary is None:
        return [], []
    frame = res.trajectories_frame()
    frame = frame[frame["suite"] == r.suite.ref]
    out, notes = [], []
    for col, label, fmt in COSTS:
        pts = []
        for c in r.cells:
            sub = frame[frame["system_id"] == c.system.id]
            if c.mean is None or sub.empty:
                continue
            pts.append(
                charts.Point(
                    c.system.display, c.system.color, float(sub[col].fillna(0).mean()), c.mean, c.low, c.high
                )
            )
        if not pts:
            continue
        if all(p.x == 0 for p in pts):
            notes.append(label.split(" per ")[0])
            continue
        out.append(
            ChartView(
                f"{r.primary.score} against {label}",
                "",
                charts.scatter_chart(pts, label, fmt, r.primary.spec),
            )
        )
    return out, notes


def _forest(bt: BradleyTerryView) -> ChartView:
    rows = [
        charts.ForestRow(
            r.system.display, r.system.color, r.strength, r.low, r.high, f"{r.wins:g} wins in {r.games} games"
        )
        for r in bt.rows
    ]
    return ChartView(
        f"Bradley-Terry strengths · {bt.judge.display}",
        "Log-strength (0 = average; a difference of 1 means odds of e ≈ 2.7 to 1) with 95% bootstrap intervals over comparisons.",
        charts.forest_chart(rows, "Bradley-Terry log-strength"),
    )


def set_scores(res: Results, names: Names, suite: str) -> list[SetScore]:
    """Every set-scope judgement of the suite, one row per (judge, score, system)."""
    out = []
    for j in res.judgements.values():
        if j.suite != suite or j.scope != "set":
            continue
        specs = res.score_specs.get(j.judge_id, {})
        for score in list(specs) or list(j.scores):
            spec = specs.get(score)
            value = j.scores.get(score) if j.status == "ok" and score not in j.na else None
            ok = is_number(value)
            text = format_score(value, spec) if ok else ("n/a" if score in j.na else j.status)
            title = (
                (spec.description if spec is not None else "") if ok else (j.na.get(score) or j.error or "")
            )
            out.append(
                SetScore(
                    names.judge(j.judge_id).display,
                    j.judge_id,
                    score,
                    names.system(j.system_id),
                    float(value) if ok else None,
                    text,
                    j.status,
                    title,
                )
            )
    out.sort(
        key=lambda r: (names.judge_order.get(r.judge_id, 10**6), r.score, names.order.get(r.system.id, 10**6))
    )
    return out


def build_suite_page(
    res: Results, names: Names, ranking: SuiteRanking, table: SuiteTable | None, *, n_resamples: int = 2000
) -> SuitePage:
    ref = ranking.suite.ref
    system_ids = [c.system.id for c in ranking.cells]
    notes = list(ranking.notes)
    tags: list[TagBreakdown] = []
    matrix = None
    if ranking.primary is not None:
        matrix = score_matrix(res, ref, ranking.primary.judge_id, ranking.primary.score, system_ids)
        tags = tag_breakdowns(res, ref, matrix, n_resamples=n_resamples)
    verdicts = verdict_breakdowns(res, names, ref, system_ids, n_resamples=n_resamples)
    bts, _ = bradley_terry_views(res, names, ref)  # a fit's prior is said in its own section
    chart_list = [
        c
        for c in (
            _distribution(ranking, matrix) if matrix is not None else None,
            _by_level(ranking, complexity_tag(tags)),
        )
        if c is not None
    ]
    chart_list += [_forest(bt) for bt in bts]
    cost_charts, unrecorded = _costs(res, ranking)
    return SuitePage(
        ranking=ranking,
        table=table,
        tags=tuple(tags),
        verdicts=tuple(verdicts),
        bradley_terry=tuple(bts),
        charts=tuple(chart_list),
        cost_charts=tuple(cost_charts),
        unrecorded_costs=tuple(unrecorded),
        set_scores=tuple(set_scores(res, names, ref)),
        notes=tuple(notes),
        filename=f"suite-{ranking.suite.anchor}.html",
    )
