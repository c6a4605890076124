"""Per-suite breakdowns: by tag, by checklist criterion, and pairwise strengths.

Every mean here comes from one grouping function, :func:`bench.stats.group_means` (mean, 95%
bootstrap interval, n and missing count per group), called once per breakdown on a long table:

* **by tag** — the primary score of every (sample, system), one row per tag the sample carries,
  grouped by ``(tag, value, system)``. Tags with more than :data:`MAX_TAG_VALUES` distinct values
  (ids, free text) are left out: a breakdown with one sample per group says nothing.
* **by criterion** — each checklist verdict as credit (pass 1, partial ½, fail 0; undecidable is
  missing, counted, never 0), grouped by ``(judge, criterion kind, system)`` and, when the suite
  reuses criterion ids across samples, by ``(judge, criterion id, system)``. Verdict counts are
  shown beside each credit.
* **Bradley-Terry** — from pairwise judgements (``versus`` set, score ``win`` in {1, ½, 0}) with
  :func:`bench.stats.bradley_terry`; when some system won or lost every game, the maximum
  likelihood estimate does not exist and the fit adds :data:`BT_PRIOR` virtual tied games per pair
  (said on the page).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from bench.model import VERDICTS
from bench.results import Results
from bench.stats import bradley_terry, group_means
from leaderboard.header import Names
from leaderboard.primary import ScoreMatrix
from leaderboard.views import JudgeView, SystemView

log = logging.getLogger(__name__)

SEED = 0
MAX_TAG_VALUES = 12
MAX_CRITERION_IDS = 12
BT_PRIOR = 1.0
BT_RESAMPLES = 1000
CREDIT = {"pass": 1.0, "partial": 0.5, "fail": 0.0, "undecidable": math.nan}
# Complexity words in their natural order; other tag values sort alphabetically.
_LEVELS = (
    "trivial",
    "simple",
    "easy",
    "regular",
    "medium",
    "moderate",
    "hard",
    "complex",
    "very complex",
    "expert",
)


@dataclass(frozen=True)
class GroupStat:
    """A group mean with its interval, as :func:`bench.stats.group_means` returns it."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    n_missing: int


@dataclass(frozen=True)
class TagBreakdown:
    """The primary score by one tag: ``cells[value][system id]``."""

    tag: str
    values: tuple[str, ...]
    counts: dict[str, int]  # samples per value
    cells: dict[str, dict[str, GroupStat]]


@dataclass(frozen=True)
class VerdictRow:
    group: str  # criterion kind or id
    label: str
    stats: dict[str, GroupStat]  # by system id: credit
    counts: dict[str, dict[str, int]]  # by system id: verdict -> count


@dataclass(frozen=True)
class VerdictBreakdown:
    judge: JudgeView
    by_kind: tuple[VerdictRow, ...]
    by_criterion: tuple[VerdictRow, ...]


@dataclass(frozen=True)
class StrengthRow:
    system: SystemView
    strength: float
    low: float | None
    high: float | None
    wins: float
    games: int


@dataclass(frozen=True)
class BradleyTerryView:
    judge: JudgeView
    score: str
    rows: tuple[StrengthRow, ...]
    n_comparisons: int
    prior: float
    n_degenerate: int
    n_resamples: int


def level_order(values: list[str]) -> list[str]:
    """Tag values in a sensible order: known complexity words first in their order, then A-Z."""
    known = {v: i for i, v in enumerate(_LEVELS)}
    return sorted(values, key=lambda v: (known.get(str(v).lower(), len(known)), str(v)))


def _stat(row: object) -> GroupStat:
    def num(v: object) -> float | None:
        return float(v) if isinstance(v, (int, float)) and math.isfinite(float(v)) else None  # type: ignore[arg-type]

    return GroupStat(num(row.mean), num(row.low), num(row.high), int(row.n), int(row.n_missing))  # type: ignore[attr-defined]


def tag_breakdowns(
    res: Results, suite: str, matrix: ScoreMatrix, *, n_resamples: int = 2000
) -> list[TagBreakdown]:
    """The primary score by every usable tag of the suite's samples (one ``group_means`` call)."""
    samples = {sid: s for (ref, sid), s in res.samples.items() if ref == suite}
    tag_values: dict[str, Counter] = {}
    for s in samples.values():
        for k, v in s.tags.items():
            tag_values.setdefault(str(k), Counter())[str(v)] += 1
    # A tag is a breakdown when it splits the samples into a few groups that hold more than one sample.
    usable = [k for k, c in tag_values.items() if 1 < len(c) <= MAX_TAG_VALUES and len(c) < len(samples)]
    if not usable:
        return []
    rows = []
    for i, sid in enumerate(matrix.sample_ids):
        s = samples.get(sid)
        if s is None:
            continue
        for k in usable:
            if k in s.tags:
                for system, vals in matrix.values.items():
                    rows.append({"tag": k, "value": str(s.tags[k]), "system_id": system, "score": vals[i]})
    if not rows:
        return []
    g = group_means(
        pd.DataFrame(rows), ["tag", "value", "system_id"], "score", n_resamples=n_resamples, seed=SEED
    )
    out = []
    for k in usable:
        sub = g[g["tag"] == k]
        values = level_order(list(tag_values[k]))
        cells: dict[str, dict[str, GroupStat]] = {v: {} for v in values}
        for r in sub.itertuples(index=False):
            cells.setdefault(str(r.value), {})[str(r.system_id)] = _stat(r)
        out.append(TagBreakdown(k, tuple(values), dict(tag_values[k]), cells))
    return out


def verdict_breakdowns(
    res: Results, names: Names, suite: str, system_ids: list[str], *, n_resamples: int = 2000
) -> list[VerdictBreakdown]:
    """Checklist credit per judge by criterion kind (and id, when ids recur), per system."""
    samples = {sid: s for (ref, sid), s in res.samples.items() if ref == suite}
    rows = []
    for j in res.judgements.values():
        if j.suite != suite or not j.verdicts or j.versus or j.scope != "sample":
            continue
        sample = samples.get(j.sample_id)
        kinds = {c.id: c.kind for c in sample.checklist} if sample else {}
        for cid, verdict in j.verdicts.items():
            v = str(verdict)
            rows.append(
                {
                    "judge_id": j.judge_id,
                    "system_id": j.system_id,
                    "kind": kinds.get(cid, "other"),
                    "criterion": str(cid),
                    "verdict": v if v in VERDICTS else "undecidable",
                    "credit": CREDIT.get(v, math.nan),
                }
            )
    if not rows:
        return []
    df = pd.DataFrame(rows)
    kinds = group_means(df, ["judge_id", "kind", "system_id"], "credit", n_resamples=n_resamples, seed=SEED)
    by_id = (
        group_means(df, ["judge_id", "criterion", "system_id"], "credit", n_resamples=n_resamples, seed=SEED)
        if df["criterion"].nunique() <= MAX_CRITERION_IDS and len(samples) > 1
        else None
    )
    texts: dict[str, str] = {}
    for s in samples.values():
        for c in s.checklist:
            texts.setdefault(c.id, c.text)
    counts = df.groupby(["judge_id", "kind", "system_id", "verdict"]).size()
    id_counts = df.groupby(["judge_id", "criterion", "system_id", "verdict"]).size()
    judge_ids = sorted(
        set(df["judge_id"]), key=lambda i: (names.judge_order.get(i, len(names.judge_order)), i)
    )
    return [
        VerdictBreakdown(
            judge=names.judge(jid),
            by_kind=_verdict_rows(kinds, jid, "kind", counts, system_ids, lambda g: f"{g} criteria"),
            by_criterion=_verdict_rows(
                by_id,
                jid,
                "criterion",
                id_counts,
                system_ids,
                lambda g: f"{g}: {texts.get(g, '')}".rstrip(": "),
            )
            if by_id is not None
            else (),
        )
        for jid in judge_ids
    ]


_KIND_ORDER = {"goal": 0, "preserve": 1, "quality": 2}


def _verdict_rows(
    table: pd.DataFrame, jid: str, col: str, counts: pd.Series, system_ids: list[str], label
) -> tuple[VerdictRow, ...]:
    """One row per group of ``col`` for judge ``jid``: credit per system and verdict counts."""
    sub = table[table["judge_id"] == jid]
    rows = []
    for grp in sorted(set(sub[col]), key=lambda g: (_KIND_ORDER.get(g, 9), g)):
        part = sub[sub[col] == grp]
        stats = {str(r.system_id): _stat(r) for r in part.itertuples(index=False)}
        c = {s: {v: int(counts.get((jid, grp, s, v), 0)) for v in VERDICTS} for s in system_ids}
        rows.append(VerdictRow(str(grp), label(grp), stats, c))
    return tuple(rows)


def bradley_terry_views(
    res: Results, names: Names, suite: str, *, n_resamples: int | None = None
) -> tuple[list[BradleyTerryView], list[str]]:
    """Strengths from every pairwise judge of the suite, and notes on fits that needed a prior
    (``n_resamples`` defaults to :data:`BT_RESAMPLES`)."""
    n_resamples = n_resamples or BT_RESAMPLES
    by_judge: dict[str, list[tuple[str, str, float]]] = {}
    for j in res.judgements.values():
        if j.suite != suite or not j.versus or j.status != "ok":
            continue
        win = j.scores.get("win")
        if win is None or not math.isfinite(float(win)) or not 0.0 <= float(win) <= 1.0:
            continue
        by_judge.setdefault(j.judge_id, []).append((j.system_id, j.versus, float(win)))
    views, notes = [], []
    for jid in sorted(by_judge, key=lambda i: (names.judge_order.get(i, len(names.judge_order)), i)):
        comps = by_judge[jid]
        prior = 0.0
        try:
            fit = bradley_terry(comps, n_resamples=n_resamples, seed=SEED, prior=prior)
        except ValueError:
            prior = BT_PRIOR
            fit = bradley_terry(comps, n_resamples=n_resamples, seed=SEED, prior=prior)
            notes.append(
                f"{names.judge(jid).display}: a system won or lost every comparison, so the strengths "
                f"include {prior:g} virtual tie per pair (shrinking them towards 0)"
            )

        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        rows = tuple(
            StrengthRow(names.system(p.player), p.strength, num(p.low), num(p.high), p.wins, p.games)
            for p in fit.players
        )
        views.append(
            BradleyTerryView(
                names.judge(jid), "win", rows, fit.n_comparisons, prior, fit.n_degenerate, fit.n_resamples
            )
        )
    return views, notes


def complexity_tag(breakdowns: list[TagBreakdown]) -> TagBreakdown | None:
    """The breakdown to chart as 'score by complexity': the ``complexity`` tag, else none."""
    return next((b for b in breakdowns if b.tag.lower() == "complexity" and len(b.values) > 1), None)
