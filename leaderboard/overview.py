"""The overview: systems × suites on each suite's primary score, ranked only as far as the data allow.

Per suite (see :mod:`leaderboard.primary` for which score stands for it):

* **mean, 95% interval, n, unscored** — :func:`bench.report.summary_table`'s numbers, the same that
  ``editbench report`` prints;
* **rank** — :func:`bench.stats.significance_ranks`: paired permutation tests on the samples both
  systems scored, Holm-corrected over all pairs at α = 0.05; rank = 1 + the number of systems
  significantly better, so systems whose difference is not significant share a rank (a tie);
* **expected rank and its interval**, **swap probabilities** — :func:`bench.stats.rank_stability`:
  a bootstrap over samples (with the judge's draws when it sampled several times). A pair is
  *unsettled* when its observed order flips in more than :data:`UNSETTLED` of the resamples.

Rows are ordered by expected rank (the mean over the suites a system was ranked on), so the order
shown is the one the data support best; every column can be re-sorted on the page.

**Training-judge guard** (:mod:`leaderboard.heldout`): when a system of the suite was trained on
the primary judge's rewards, the suite is ranked by a held-out judge that scored every system,
or, failing one, the in-sample systems are shown but not ranked. :attr:`SuiteRanking.guard` says
which, in a sentence the page prints.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.results import Results
from bench.stats import rank_stability, significance_ranks
from leaderboard.calibration import CalibrationView, calibration_for
from leaderboard.formatting import MISSING, bare_format, format_score, format_value, is_number
from leaderboard.header import Names
from leaderboard.heldout import Guard, apply_guard
from leaderboard.primary import Primary, choose_primary, score_matrix
from leaderboard.trust import TrustIndex
from leaderboard.views import Bar, JudgeView, SuiteView, SystemView

log = logging.getLogger(__name__)

ALPHA = 0.05  # significance level of the rank tests (after Holm's correction)
UNSETTLED = 0.05  # a pair's order is unsettled when it flips in more than this share of resamples
SEED = 0  # fixed: the same runs always give the same ranks and intervals
SIG_RESAMPLES = 10_000
STABILITY_RESAMPLES = 1_000


@dataclass(frozen=True)
class RankCell:
    """One system on one suite's primary score: the number, its interval, and its place."""

    system: SystemView
    mean: float | None
    low: float | None
    high: float | None
    n: int
    unscored: int
    failed: int
    mean_text: str
    ci_text: str
    bar: Bar | None
    rank: int | None  # 1 + systems significantly better; None when the system has no score
    tied: bool  # shares its rank with another system
    tied_with: tuple[str, ...]  # display names not significantly different from this one
    better_than: tuple[str, ...]
    expected_rank: float | None
    rank_low: float | None
    rank_high: float | None
    unsettled_with: tuple[tuple[str, float], ...]  # (display name, swap probability)
    title: str
    in_sample_text: str = ""  # ranked by a held-out judge: its in-sample score on the replaced primary
    excluded: bool = False  # in-sample on the primary and no held-out judge: shown, not ranked

    @property
    def rank_text(self) -> str:
        return MISSING if self.rank is None else (f"={self.rank}" if self.tied else str(self.rank))

    @property
    def erank_text(self) -> str:
        return MISSING if self.expected_rank is None else f"{self.expected_rank:.1f}"

    @property
    def erank_range(self) -> str:
        if self.rank_low is None or self.rank_high is None:
            return ""
        lo, hi = f"{self.rank_low:g}", f"{self.rank_high:g}"
        return lo if lo == hi else f"{lo}–{hi}"


@dataclass(frozen=True)
class SwapCell:
    value: float | None  # P(the observed order of row and column flips)
    text: str
    unsettled: bool
    level: int  # 0..4: shade of the cell
    title: str


@dataclass(frozen=True)
class SuiteRanking:
    suite: SuiteView
    primary: Primary | None
    judge: JudgeView | None
    calibration: CalibrationView | None
    cells: tuple[RankCell, ...]  # best expected rank first
    swap_systems: tuple[SystemView, ...]
    swap: tuple[tuple[SwapCell, ...], ...]
    n_samples: int
    n_shared: int
    draws: bool
    notes: tuple[str, ...]
    guard: Guard | None = None  # the training-judge guard acted on this suite (held-out judge or exclusions)

    def cell(self, system_id: str) -> RankCell | None:
        return next((c for c in self.cells if c.system.id == system_id), None)

    @property
    def unsettled_pairs(self) -> int:
        k = len(self.swap_systems)
        return sum(1 for i in range(k) for j in range(i + 1, k) if self.swap[i][j].unsettled)


@dataclass(frozen=True)
class CostView:
    trajectories: int
    failed: int
    seconds: float | None  # mean per trajectory
    tool_calls: float | None  # mean per trajectory
    dollars: float  # total
    dollars_per: float | None

    @property
    def text(self) -> str:
        """Per edit: mean seconds, mean tool calls, mean dollars."""
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:.2f} s")
        if self.tool_calls is not None:
            parts.append(f"{self.tool_calls:.1f} calls")
        per = self.dollars_per or 0.0
        parts.append("$0" if not per else f"${per:.2f}" if per >= 0.01 else f"${per:.4f}")
        return " · ".join(parts)


@dataclass(frozen=True)
class OverviewRow:
    system: SystemView
    cells: tuple[RankCell | None, ...]  # one per suite ranking, None when not run there
    order: float  # mean expected rank over ranked suites (inf: never ranked)
    cost: CostView


@dataclass(frozen=True)
class Overview:
    suites: tuple[SuiteRanking, ...]
    rows: tuple[OverviewRow, ...]
    tracks: tuple[tuple[str, int], ...]  # (track, number of systems), in first-seen order


def _bar(mean: float, low: float, high: float, axis: tuple[float, float] | None) -> Bar | None:
    if axis is None or not all(is_number(v) for v in (mean, low, high)):
        return None
    lo, hi = axis

    def pct(v: float) -> float:
        return round(min(100.0, max(0.0, (v - lo) / (hi - lo) * 100.0)), 2)

    return Bar(low=pct(low), high=pct(high), mean=pct(mean))


def _axis(rows: pd.DataFrame, primary: Primary) -> tuple[float, float] | None:
    vals = [float(v) for c in ("low", "high", "mean") for v in rows[c] if is_number(v)]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 if hi > lo else max(abs(hi) * 0.05, 1e-6)
    lo, hi = lo - pad, hi + pad
    if is_number(primary.spec.min):
        lo = max(lo, float(primary.spec.min))  # type: ignore[arg-type]
    if is_number(primary.spec.max):
        hi = min(hi, float(primary.spec.max))  # type: ignore[arg-type]
    return (lo, hi) if hi > lo else (lo - 1e-6, hi + 1e-6)


def _swap_cell(p: float | None, a: str, b: str) -> SwapCell:
    if p is None:
        return SwapCell(None, "", False, 0, "")
    level = 0 if p < 0.01 else 1 if p < UNSETTLED else 2 if p < 0.2 else 3 if p < 0.35 else 4
    text = "<1%" if 0 < p < 0.01 else f"{100 * p:.0f}%"
    verdict = "unsettled" if p > UNSETTLED else "settled"
    title = f"{a} vs {b}: the observed order flips in {100 * p:.1f}% of bootstrap resamples ({verdict})"
    return SwapCell(p, text, p > UNSETTLED, level, title)


def rank_suite(
    res: Results,
    names: Names,
    suite: SuiteView,
    summary: pd.DataFrame,
    calibrations: dict[str, dict],
    *,
    trust: TrustIndex | None = None,
    sig_resamples: int = SIG_RESAMPLES,
    stability_resamples: int = STABILITY_RESAMPLES,
) -> SuiteRanking | None:
    """The ranking of one suite on its primary score; ``None`` when the suite has no trajectory.

    With ``trust``, the training-judge guard applies (module doc): systems in-sample for the
    primary judge make the suite rank by a held-out judge, or leave them unranked.
    """
    system_ids = sorted(
        {t.system_id for t in res.trajectories.values() if t.suite == suite.ref}
        | {j.system_id for j in res.judgements.values() if j.suite == suite.ref and j.scope == "sample"},
        key=lambda s: (names.order.get(s, len(names.order)), s),
    )
    if not system_ids:
        return None
    primary = choose_primary(res, names, suite.ref, suite.primary)
    notes: list[str] = []
    if primary is None:
        cells = tuple(_empty_cell(names.system(s), res, suite.ref) for s in system_ids)
        return SuiteRanking(
            suite, None, None, None, cells, (), (), 0, 0, False, ("no sample-scope judge scored this suite",)
        )
    if primary.note:
        notes.append(primary.note)
    guard = apply_guard(res, names, suite.ref, primary, system_ids, trust) if trust is not None else None
    excluded: set[str] = set()
    in_sample_text: dict[str, str] = {}
    if guard is not None:
        primary, excluded = guard.primary, set(guard.excluded)
        if guard.substituted:
            in_sample_text = _in_sample_texts(summary, names, suite.ref, guard)
    rows = summary[
        (summary["suite"] == suite.ref)
        & (summary["judge_id"] == primary.judge_id)
        & (summary["score"] == primary.score)
    ]
    by_system = {r.system_id: r for r in rows.itertuples(index=False)}
    matrix = score_matrix(res, suite.ref, primary.judge_id, primary.score, system_ids)
    scored = [s for s in system_ids if not np.isnan(matrix.values[s]).all() and s not in excluded]
    for s in system_ids:
        if s not in scored and s not in excluded:
            notes.append(
                f"{names.system(s).display} has no {primary.score} score on this suite and is not ranked"
            )
    higher = primary.spec.higher_is_better
    sig = stab = None
    if scored:
        sig = significance_ranks(
            {s: matrix.values[s] for s in scored},
            higher_is_better=higher,
            alpha=ALPHA,
            n_resamples=sig_resamples,
            seed=SEED,
        )
        with np.errstate(invalid="ignore"):  # -inf - -inf: two systems unscored in one resample
            stab = rank_stability(
                {s: (matrix.draws[s] if matrix.has_draws else matrix.values[s]) for s in scored},
                n_resamples=stability_resamples,
                seed=SEED,
                higher_is_better=higher,
            )
    axis = _axis(rows, primary)
    sig_by = {r.system: r for r in sig.ranks} if sig else {}
    stab_by = {r.system: r for r in stab.systems} if stab else {}
    rank_counts: dict[int, int] = {}
    for r in sig_by.values():
        rank_counts[r.rank] = rank_counts.get(r.rank, 0) + 1
    judge = names.judge(primary.judge_id)
    calib = calibration_for(calibrations, primary.judge_id, primary.score)
    failed = {
        s: sum(
            1
            for t in res.trajectories.values()
            if t.suite == suite.ref and t.system_id == s and t.status != "ok"
        )
        for s in system_ids
    }
    cells = []
    for s in system_ids:
        view = names.system(s)
        r = by_system.get(s)
        mean = float(r.mean) if r is not None and is_number(r.mean) else None
        low = float(r.low) if r is not None and is_number(r.low) else None
        high = float(r.high) if r is not None and is_number(r.high) else None
        sr, st = sig_by.get(s), stab_by.get(s)
        unsettled: tuple[tuple[str, float], ...] = ()
        if stab is not None and s in scored:
            unsettled = tuple(
                (names.system(o).display, float(stab.swap_probability.loc[s, o]))
                for o in scored
                if o != s and float(stab.swap_probability.loc[s, o]) > UNSETTLED
            )
        ci_text = (
            f"{format_value(low, bare_format(primary.spec.display))} – {format_value(high, bare_format(primary.spec.display))}"
            if low is not None and high is not None
            else ""
        )
        mean_text = format_score(mean, primary.spec)
        title = (
            f"{suite.name} · judge {judge.display} · {primary.score}: mean {mean_text}"
            + (f", 95% bootstrap CI {ci_text}" if ci_text else "")
            + f"; {int(r.n) if r is not None else 0} scored, {int(r.unscored) if r is not None else 0} unscored"
            + (f"; {calib.title}" if calib else "")
            + (
                f"; not ranked: {view.display}’s score is in-sample (trained on this judge’s rewards)"
                if s in excluded
                else ""
            )
            + (f"; {in_sample_text[s]}" if s in in_sample_text else "")
        )
        cells.append(
            RankCell(
                system=view,
                mean=mean,
                low=low,
                high=high,
                n=int(r.n) if r is not None else 0,
                unscored=int(r.unscored) if r is not None else 0,
                failed=failed[s],
                mean_text=mean_text,
                ci_text=ci_text,
                bar=_bar(mean, low, high, axis)
                if mean is not None and low is not None and high is not None
                else None,
                rank=sr.rank if sr else None,
                tied=bool(sr and rank_counts.get(sr.rank, 0) > 1),
                tied_with=tuple(names.system(o).display for o in sr.tied_with) if sr else (),
                better_than=tuple(names.system(o).display for o in sr.better_than) if sr else (),
                expected_rank=st.expected_rank if st else None,
                rank_low=st.rank_low if st else None,
                rank_high=st.rank_high if st else None,
                unsettled_with=unsettled,
                title=title,
                in_sample_text=in_sample_text.get(s, ""),
                excluded=s in excluded,
            )
        )
    cells.sort(key=lambda c: (c.expected_rank if c.expected_rank is not None else math.inf, c.system.display))
    order = [c.system.id for c in cells if c.system.id in scored]
    swap: list[tuple[SwapCell, ...]] = []
    for a in order:
        swap.append(
            tuple(
                _swap_cell(
                    None if a == b or stab is None else float(stab.swap_probability.loc[a, b]),
                    names.system(a).display,
                    names.system(b).display,
                )
                for b in order
            )
        )
    return SuiteRanking(
        suite=suite,
        primary=primary,
        judge=judge,
        calibration=calib,
        cells=tuple(cells),
        swap_systems=tuple(names.system(s) for s in order),
        swap=tuple(swap),
        n_samples=len(matrix.sample_ids),
        n_shared=matrix.shared(),
        draws=matrix.has_draws,
        notes=tuple(notes),
        guard=guard,
    )


def _in_sample_texts(summary: pd.DataFrame, names: Names, suite: str, guard: Guard) -> dict[str, str]:
    """Per in-sample system, its score on the replaced primary: shown beside the held-out one."""
    p = guard.replaced
    rows = summary[
        (summary["suite"] == suite) & (summary["judge_id"] == p.judge_id) & (summary["score"] == p.score)
    ]
    by = {r.system_id: r for r in rows.itertuples(index=False)}
    judge = names.judge(p.judge_id).display
    out = {}
    for s in guard.in_sample:
        r = by.get(s)
        mean = float(r.mean) if r is not None and is_number(r.mean) else None
        out[s] = f"in-sample {format_score(mean, p.spec)} on {p.score} (judge {judge})"
    return out


def _empty_cell(view: SystemView, res: Results, suite: str) -> RankCell:
    failed = sum(
        1
        for t in res.trajectories.values()
        if t.suite == suite and t.system_id == view.id and t.status != "ok"
    )
    return RankCell(
        view,
        None,
        None,
        None,
        0,
        0,
        failed,
        MISSING,
        "",
        None,
        None,
        False,
        (),
        (),
        None,
        None,
        None,
        (),
        "not scored",
    )


def cost_views(res: Results, system_ids: Iterable[str]) -> dict[str, CostView]:
    """Per system over all suites: trajectories, failures, mean seconds and tool calls, dollars."""
    frame = res.trajectories_frame()
    out = {}
    for s in system_ids:
        sub = frame[frame["system_id"] == s]
        n = len(sub)
        dollars = float(sub["dollars"].fillna(0).sum()) if n else 0.0
        out[s] = CostView(
            trajectories=n,
            failed=int((sub["status"] != "ok").sum()) if n else 0,
            seconds=float(sub["seconds"].mean()) if n else None,
            tool_calls=float(sub["tool_calls"].mean()) if n else None,
            dollars=dollars,
            dollars_per=dollars / n if n else None,
        )
    return out


def build_overview(rankings: list[SuiteRanking], names: Names, res: Results) -> Overview:
    """Rows for every system seen in any suite, ordered by mean expected rank."""
    ids = [s for s in names.systems if any(r.cell(s) for r in rankings)]
    ids += sorted({t.system_id for t in res.trajectories.values()} - set(ids))
    costs = cost_views(res, ids)
    rows = []
    for s in ids:
        cells = tuple(r.cell(s) for r in rankings)
        ranks = [c.expected_rank for c in cells if c is not None and c.expected_rank is not None]
        rows.append(
            OverviewRow(
                system=names.system(s),
                cells=cells,
                order=float(np.mean(ranks)) if ranks else math.inf,
                cost=costs[s],
            )
        )
    rows.sort(key=lambda r: (r.order, names.order.get(r.system.id, len(names.order)), r.system.display))
    tracks: dict[str, int] = {}
    for r in rows:
        key = r.system.track or "undeclared"
        tracks[key] = tracks.get(key, 0) + 1
    return Overview(suites=tuple(rankings), rows=tuple(rows), tracks=tuple(tracks.items()))
