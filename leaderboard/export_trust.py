"""How far to trust the numbers, machine-readable: the ``trust`` block of ``data/leaderboard.json``.

Everything the pages show about trust, from the same objects the pages render (so the two cannot
disagree): per judge the control accuracy with its interval and whether it is flagged, the gap
between real results and controls, the drift status of its canaries, pinning warnings, the
position-bias rate and the position it favours when a verdict flips; which (system, judge) pairs
are in-sample and what the training-judge guard did to each suite's ranking; the tracks. Rank
stability (expected ranks with intervals, swap probabilities) is in the ``overview`` and ``swap``
blocks of the same file; each suite carries its number of unsettled pairs.

Every figure is ``{value, low, high, n}`` with ``null`` for a missing number (never 0), plus the
text the page prints (``*_text``), so a reader can check one against the other. ``trust.csv``
(one row per judge) holds the same figures flat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from leaderboard.approximations import ApproxReport, stat_json
from leaderboard.heldout import Guard
from leaderboard.overview import Overview, SuiteRanking
from leaderboard.trust import Interval, JudgeRow, JudgeTrust, TrustIndex

DEFINITIONS = {
    "controls": "share of control results (source unchanged, blank, noise, another sample's result or goal, "
    "degraded, over-edit) the judge scores the right way, 95% interval; flagged: it cannot tell controls "
    "from real edits",
    "gap": "real results minus controls on the judge's headline score, 95% interval",
    "drift": "the latest re-judging of a fixed canary set against the judge's first run",
    "pinning": "whether the model that answered is a dated snapshot",
    "position_bias": "share of pairwise comparisons whose verdict flipped when the order of the two results flipped",
    "position_preference": "of the flipped verdicts, the share that went to the result shown first (left, A); "
    "0.5 is no preferred position",
    "in_sample": "a system trained on a judge's rewards: that judge's scores of it flatter it",
    "guard": "a suite whose primary judge is in-sample for a listed system is ranked by a held-out judge that "
    "scored every system, or else the in-sample systems are not ranked",
}


TRUST_COLUMNS = [
    "judge_id",
    "judge",
    "control_status",
    "flagged",
    "control_accuracy",
    "control_accuracy_low",
    "control_accuracy_high",
    "control_n",
    "gap_score",
    "gap",
    "gap_low",
    "gap_high",
    "drift_status",
    "drift_shift",
    "pinning_status",
    "pinning_warnings",
    "position_bias",
    "position_bias_low",
    "position_bias_high",
    "position_bias_n",
    "first_position_share",
    "first_position_low",
    "first_position_high",
    "first_position_n",
    "prefers",
    "in_sample_for",
]


def interval_json(iv: Interval) -> dict[str, Any]:
    return {"value": iv.value, "low": iv.low, "high": iv.high, "n": iv.n}


def judge_json(row: JudgeRow, index: TrustIndex) -> dict[str, Any]:
    """One judge's trust figures, as the Judges section shows them."""
    t: JudgeTrust = row.trust
    return {
        "judge_id": row.judge.id,
        "display": row.judge.display,
        "controls": {
            "status": t.control_status,
            "flagged": t.flagged,
            "reason": t.control_reason,
            "accuracy": interval_json(t.accuracy),
            "accuracy_text": t.accuracy_text,
            "gap": {"score": t.gap_score or None, **interval_json(t.gap)},
            "gap_text": t.gap_text,
        },
        "drift": {
            "status": t.drift_status,
            "drifted": t.drifted,
            "label": t.drift_label,
            "shift": t.drift_shift or None,
            "reasons": list(t.drift_reasons),
        },
        "pinning": {
            "status": t.pinning_status,
            "label": t.pinning_label,
            "warnings": list(t.pinning_warnings),
        },
        "position_bias": {
            "status": t.bias_status,
            "rate": interval_json(t.position_bias),
            "rate_text": t.bias_text,
            "reason": t.bias_reason,
            "direction": {
                "status": t.direction_status,
                "first": interval_json(t.first_share),
                "prefers": t.prefers or None,
                "text": t.direction_text,
                "reason": t.direction_reason,
            },
        },
        "in_sample_for": list(index.in_sample_systems(row.judge.id)),
    }


def guard_json(g: Guard) -> dict[str, Any]:
    return {
        "substituted": g.substituted,
        "replaced": {"judge_id": g.replaced.judge_id, "score": g.replaced.score},
        "ranked_by": {"judge_id": g.primary.judge_id, "score": g.primary.score},
        "in_sample": list(g.in_sample),
        "excluded": list(g.excluded),
        "held_out_tried": list(g.tried),
        "sentence": g.sentence,
    }


def trust_document(
    index: TrustIndex, rows: Sequence[JudgeRow], overview: Overview, rankings: Sequence[SuiteRanking]
) -> dict[str, Any]:
    """The ``trust`` block of ``data/leaderboard.json`` (module doc)."""
    tracks: dict[str, list[str]] = {}
    for r in overview.rows:
        tracks.setdefault(r.system.track or "undeclared", []).append(r.system.id)
    return {
        "definitions": DEFINITIONS,
        "probed": index.probed,
        "judges": [judge_json(r, index) for r in rows],
        "in_sample": [{"system_id": s, "judge_id": j} for s, j in sorted(index.in_sample_pairs)],
        "held_out": {s: list(js) for s, js in sorted(index.held_out.items())},
        "undeclared_reward_judge": sorted(index.undeclared),
        "guard": [{"suite": r.suite.ref, **guard_json(r.guard)} for r in rankings if r.guard is not None],
        "tracks": [{"track": t, "systems": ids, "n": len(ids)} for t, ids in tracks.items()],
    }


def trust_frame(index: TrustIndex, rows: Sequence[JudgeRow]) -> pd.DataFrame:
    """``trust.csv``: one row per judge, the figures of :func:`judge_json` flat."""
    out = []
    for row in rows:
        t = row.trust
        out.append(
            {
                "judge_id": row.judge.id,
                "judge": row.judge.display,
                "control_status": t.control_status,
                "flagged": t.flagged,
                "control_accuracy": t.accuracy.value,
                "control_accuracy_low": t.accuracy.low,
                "control_accuracy_high": t.accuracy.high,
                "control_n": t.accuracy.n,
                "gap_score": t.gap_score or None,
                "gap": t.gap.value,
                "gap_low": t.gap.low,
                "gap_high": t.gap.high,
                "drift_status": t.drift_status,
                "drift_shift": t.drift_shift or None,
                "pinning_status": t.pinning_status,
                "pinning_warnings": "; ".join(t.pinning_warnings),
                "position_bias": t.position_bias.value,
                "position_bias_low": t.position_bias.low,
                "position_bias_high": t.position_bias.high,
                "position_bias_n": t.position_bias.n,
                "first_position_share": t.first_share.value,
                "first_position_low": t.first_share.low,
                "first_position_high": t.first_share.high,
                "first_position_n": t.first_share.n,
                "prefers": t.prefers or None,
                "in_sample_for": ";".join(index.in_sample_systems(row.judge.id)),
            }
        )
    return pd.DataFrame(out, columns=TRUST_COLUMNS)


def approximations_document(reports: Sequence[ApproxReport]) -> list[dict[str, Any]]:
    """The ``approximations`` block: per run, the statistics the approximations page shows."""
    out = []
    for a in reports:
        out.append(
            {
                "run": a.run,
                "samples": a.samples,
                "sequences": a.sequences,
                "steps": a.steps,
                "policy": a.policy or None,
                "subtask_judges": list(a.subtask_judges),
                "final_judges": list(a.final_judges),
                "statistics": [stat_json(r) for r in a.overall.rows],
                "undone": {
                    "undone_steps": a.overall.undone_steps,
                    "effective_steps": a.overall.effective_steps,
                    "steps": a.overall.steps,
                },
                "by_suite": {t.title: [stat_json(r) for r in t.rows] for t in a.by_suite},
                "allocation": a.allocation_data,
            }
        )
    return out
