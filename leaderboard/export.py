"""Machine-readable output: the site's numbers as ``data/leaderboard.json`` and CSV files.

Others can compare against a leaderboard without scraping it. Every file carries the schema
version (:data:`SCHEMA_VERSION`): the JSON as ``schema_version``, every CSV as its first column.
The numbers are exactly those on the pages (the same objects render both). Missing numbers are
``null`` in JSON and empty in CSV, never 0.

=====================  ===================================================================
file                   one row per
=====================  ===================================================================
``overview.csv``       suite × system on the suite's primary score: mean, interval, n,
                       unscored, failed, significance rank, expected rank and interval
``scores.csv``         suite × judge × score × system (``editbench report``'s table)
``swap.csv``           suite × ordered pair of systems: probability their order flips
``by_tag.csv``         suite × tag value × system: the primary score's group mean
``by_criterion.csv``   suite × judge × criterion kind (or id) × system: checklist credit
``bradley_terry.csv``  suite × pairwise judge × system: strength with interval
``set_scores.csv``     suite × set-scope judge × score × system (FID-like scores)
``results.csv``        suite × sample × system × judge × score: every per-sample value
``trust.csv``          judge: control accuracy, flag, gap, drift, pinning, position bias and
                       preferred position, systems it is in-sample for
=====================  ===================================================================

The JSON also holds what no CSV does: ``trust`` (every trust figure the pages show, see
:mod:`leaderboard.export_trust`), ``approximations`` (paper A's figures per run that measured
them), and per suite the number of unsettled pairs and what the training-judge guard did.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.images import atomic_write
from bench.results import Results
from leaderboard.approximations import ApproxReport
from leaderboard.breakdown import BradleyTerryView, TagBreakdown, VerdictBreakdown
from leaderboard.calibration import calibration_for
from leaderboard.export_trust import approximations_document, guard_json, trust_document, trust_frame
from leaderboard.header import Names
from leaderboard.overview import UNSETTLED, Overview, SuiteRanking
from leaderboard.trust import JudgeRow, TrustIndex
from leaderboard.views import Header

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SuiteNumbers:
    """What one suite page shows, for export: the ranking and the breakdowns."""

    ranking: SuiteRanking
    tags: tuple[TagBreakdown, ...]
    verdicts: tuple[VerdictBreakdown, ...]
    bradley_terry: tuple[BradleyTerryView, ...]
    set_scores: tuple = ()  # suitepage.SetScore rows


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _frames(
    res: Results,
    names: Names,
    overview: Overview,
    suites: list[SuiteNumbers],
    summary: pd.DataFrame,
    trust: TrustIndex,
    judge_rows: tuple[JudgeRow, ...],
) -> dict[str, pd.DataFrame]:
    by_name = {v.display: k for k, v in names.systems.items()}
    ov, swap, tags, crit, bt, sets = [], [], [], [], [], []
    for sn in suites:
        r = sn.ranking
        ref = r.suite.ref
        for c in r.cells:
            jid = r.primary.judge_id if r.primary else None
            ov.append(
                {
                    "suite": ref,
                    "judge_id": jid,
                    "score": r.primary.score if r.primary else None,
                    "chosen_by": r.primary.chosen_by if r.primary else None,
                    "judge_flagged": bool(jid and trust.flagged(jid)),
                    "in_sample": bool(jid and trust.in_sample(c.system.id, jid)),
                    "excluded": c.excluded,
                    "in_sample_text": c.in_sample_text or None,
                    "system_id": c.system.id,
                    "system": c.system.display,
                    "track": c.system.track,
                    "mean": c.mean,
                    "low": c.low,
                    "high": c.high,
                    "n": c.n,
                    "unscored": c.unscored,
                    "failed": c.failed,
                    "rank": c.rank,
                    "tied": c.tied,
                    "tied_with": ";".join(by_name.get(t, t) for t in c.tied_with),
                    "expected_rank": c.expected_rank,
                    "rank_low": c.rank_low,
                    "rank_high": c.rank_high,
                    "unsettled_with": ";".join(by_name.get(t, t) for t, _ in c.unsettled_with),
                }
            )
        for i, a in enumerate(r.swap_systems):
            for j, b in enumerate(r.swap_systems):
                if i != j:
                    cell = r.swap[i][j]
                    swap.append(
                        {
                            "suite": ref,
                            "system_a_id": a.id,
                            "system_a": a.display,
                            "system_b_id": b.id,
                            "system_b": b.display,
                            "swap_probability": cell.value,
                            "unsettled": cell.unsettled,
                        }
                    )
        for t in sn.tags:
            for value in t.values:
                for sid, st in t.cells.get(value, {}).items():
                    tags.append(
                        {
                            "suite": ref,
                            "judge_id": r.primary.judge_id if r.primary else None,
                            "score": r.primary.score if r.primary else None,
                            "tag": t.tag,
                            "value": value,
                            "system_id": sid,
                            "system": names.system(sid).display,
                            "mean": st.mean,
                            "low": st.low,
                            "high": st.high,
                            "n": st.n,
                            "n_missing": st.n_missing,
                        }
                    )
        for vb in sn.verdicts:
            for by, rows in (("kind", vb.by_kind), ("criterion", vb.by_criterion)):
                for row in rows:
                    for sid, st in row.stats.items():
                        counts = row.counts.get(sid, {})
                        crit.append(
                            {
                                "suite": ref,
                                "judge_id": vb.judge.id,
                                "by": by,
                                "group": row.group,
                                "system_id": sid,
                                "system": names.system(sid).display,
                                "credit": st.mean,
                                "low": st.low,
                                "high": st.high,
                                "n": st.n,
                                "n_missing": st.n_missing,
                                **{v: counts.get(v, 0) for v in ("pass", "partial", "fail", "undecidable")},
                            }
                        )
        for row in sn.set_scores:
            sets.append(
                {
                    "suite": ref,
                    "judge_id": row.judge_id,
                    "score": row.score,
                    "system_id": row.system.id,
                    "system": row.system.display,
                    "value": row.value,
                    "status": row.status,
                }
            )
        for view in sn.bradley_terry:
            for row in view.rows:
                bt.append(
                    {
                        "suite": ref,
                        "judge_id": view.judge.id,
                        "system_id": row.system.id,
                        "system": row.system.display,
                        "strength": row.strength,
                        "low": row.low,
                        "high": row.high,
                        "wins": row.wins,
                        "games": row.games,
                        "prior": view.prior,
                    }
                )
    results = res.scores_frame()
    frames = {
        "overview.csv": pd.DataFrame(
            ov,
            columns=[
                "suite",
                "judge_id",
                "score",
                "chosen_by",
                "judge_flagged",
                "in_sample",
                "excluded",
                "in_sample_text",
                "system_id",
                "system",
                "track",
                "mean",
                "low",
                "high",
                "n",
                "unscored",
                "failed",
                "rank",
                "tied",
                "tied_with",
                "expected_rank",
                "rank_low",
                "rank_high",
                "unsettled_with",
            ],
        ),
        "scores.csv": summary.drop(columns=["display"], errors="ignore"),
        "swap.csv": pd.DataFrame(
            swap,
            columns=[
                "suite",
                "system_a_id",
                "system_a",
                "system_b_id",
                "system_b",
                "swap_probability",
                "unsettled",
            ],
        ),
        "by_tag.csv": pd.DataFrame(
            tags,
            columns=[
                "suite",
                "judge_id",
                "score",
                "tag",
                "value",
                "system_id",
                "system",
                "mean",
                "low",
                "high",
                "n",
                "n_missing",
            ],
        ),
        "by_criterion.csv": pd.DataFrame(
            crit,
            columns=[
                "suite",
                "judge_id",
                "by",
                "group",
                "system_id",
                "system",
                "credit",
                "low",
                "high",
                "n",
                "n_missing",
                "pass",
                "partial",
                "fail",
                "undecidable",
            ],
        ),
        "bradley_terry.csv": pd.DataFrame(
            bt,
            columns=[
                "suite",
                "judge_id",
                "system_id",
                "system",
                "strength",
                "low",
                "high",
                "wins",
                "games",
                "prior",
            ],
        ),
        "set_scores.csv": pd.DataFrame(
            sets, columns=["suite", "judge_id", "score", "system_id", "system", "value", "status"]
        ),
        "results.csv": results.drop(columns=["judge"], errors="ignore"),
        "trust.csv": trust_frame(trust, judge_rows),
    }
    for df in frames.values():
        df.insert(0, "schema_version", SCHEMA_VERSION)
    return frames


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    rows = df.drop(columns=["schema_version"]).to_dict(orient="records")
    return [{k: (_num(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]


def write_data(
    out: Path,
    res: Results,
    names: Names,
    header: Header,
    overview: Overview,
    suites: list[SuiteNumbers],
    summary: pd.DataFrame,
    calibrations: dict[str, dict],
    *,
    trust: TrustIndex | None = None,
    judge_rows: tuple[JudgeRow, ...] = (),
    approximations: tuple[ApproxReport, ...] = (),
) -> Path:
    """Write ``out/data/leaderboard.json`` and the CSVs; returns the JSON's path."""
    folder = Path(out) / "data"
    folder.mkdir(parents=True, exist_ok=True)
    trust = trust if trust is not None else TrustIndex()
    frames = _frames(res, names, overview, suites, summary, trust, judge_rows)
    for name, df in frames.items():
        atomic_write(folder / name, df.to_csv(index=False, float_format="%.10g").encode("utf-8"))
    judges = []
    for jid, view in names.judges.items():
        calib = {}
        for score in res.score_specs.get(jid, {}) or {}:
            c = calibration_for(calibrations, jid, score)
            if c is not None:
                calib[score] = {
                    "statistic": c.statistic,
                    "value": c.value,
                    "low": c.low,
                    "high": c.high,
                    "n": c.n,
                    "source": c.source,
                }
        judges.append(
            {
                "id": jid,
                "display": view.display,
                "kind": view.kind,
                "version": view.version,
                "scores": [s.to_dict() for s in res.score_specs.get(jid, {}).values()],
                "calibration": calib,
            }
        )
    costs = {row.system.id: row.cost for row in overview.rows}
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generator": "editbench leaderboard",
        "title": header.title,
        "runs": [r.__dict__ for r in header.runs],
        "method": {
            "interval": "95% percentile bootstrap over samples, 2000 resamples, seed 0",
            "rank": "1 + systems significantly better: paired permutation tests on shared samples, "
            "Holm-corrected, alpha 0.05; equal ranks are ties",
            "expected_rank": "mean rank over 1000 bootstrap resamples of samples (judge draws resampled too)",
            "unsettled": f"a pair whose observed order flips in more than {UNSETTLED:.0%} of resamples",
            "guard": "a suite whose primary judge is in-sample for a listed (trained) system is ranked by a "
            "held-out judge that scored every system; without one, in-sample systems are not ranked",
        },
        "suites": [
            {
                "ref": sn.ranking.suite.ref,
                "name": sn.ranking.suite.name,
                "version": sn.ranking.suite.version,
                "hash": sn.ranking.suite.hash,
                "samples": sn.ranking.n_samples,
                "shared_samples": sn.ranking.n_shared,
                "primary": None
                if sn.ranking.primary is None
                else {
                    "judge_id": sn.ranking.primary.judge_id,
                    "score": sn.ranking.primary.score,
                    "higher_is_better": sn.ranking.primary.spec.higher_is_better,
                    "chosen_by": sn.ranking.primary.chosen_by,
                    "note": sn.ranking.primary.note,
                },
                "notes": list(sn.ranking.notes),
                "unsettled_pairs": sn.ranking.unsettled_pairs,
                "guard": guard_json(sn.ranking.guard) if sn.ranking.guard is not None else None,
            }
            for sn in suites
        ],
        "systems": [
            {
                "id": s,
                "display": v.display,
                "track": v.track,
                "trained": v.trained,
                "reward_judge": v.reward_judge or None,
                "oracle": v.oracle,
                "models": list(v.models),
                "tools": list(v.tools),
                "version": v.version,
                "cost": costs[s].__dict__ if s in costs else None,
            }
            for s, v in names.systems.items()
        ],
        "judges": judges,
        "trust": trust_document(trust, judge_rows, overview, [sn.ranking for sn in suites]),
        "approximations": approximations_document(approximations),
        **{
            name[:-4]: _records(df) for name, df in frames.items() if name not in ("results.csv", "trust.csv")
        },
        "files": {name: list(df.columns) for name, df in frames.items()},
    }
    path = folder / "leaderboard.json"
    atomic_write(
        path,
        (json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False, default=str) + "\n").encode("utf-8"),
    )
    return path
