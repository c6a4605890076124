"""The training-judge guard on the overview: a suite is ranked by a judge no listed system trained on.

A system trained on a judge's rewards (its ``info`` says ``trained`` with a ``reward_judge``; the
probe stage writes a ``guard`` record, read by :mod:`leaderboard.trust`) was optimised toward
that judge's preferences, so that judge's scores of it are *in-sample* and flatter it. When such
a judge is a suite's primary (:mod:`leaderboard.primary`), the overview does this:

1. **Substitute the judge for the whole suite.** If another sample-scope judge scored the suite,
   is in-sample for *no* system of the suite, and scored every system the primary scored, the
   suite is ranked by it — every system, trained or not, on that one judge's score. The candidates
   are tried in the guard record's ``held_out`` order (the reward judge's kind first: a VLM for a
   VLM), then in run order, a judge flagged by its control probes last; the score is the primary's score name when the judge has it, else
   the judge's first declared score.
2. **Otherwise, leave the in-sample systems unranked.** The primary judge stays; its in-sample
   scores are shown and marked, but they set no rank, no expected rank and no swap probability.

Why not rank each trained system by its own held-out judge inside the primary's column? Numbers
of two judges are on different scales and reward different things: a rank computed from a
mixture compares nothing. Why not simply keep the primary and mark it (what the site did before)?
A mark does not stop the flattered system from taking first place on a number known to favour
it. Switching the whole suite keeps one comparable column and still ranks the system the reader
most wants placed; the primary judge's scores of every system stay on the suite page (every
judge × score table), and the trained system's in-sample score is shown beside its held-out one.
The page says which judge ranks and why (:attr:`Guard.sentence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.model import ScoreSpec
from bench.results import Results
from leaderboard.header import Names
from leaderboard.primary import Primary, sample_pairs, score_matrix
from leaderboard.trust import TrustIndex


@dataclass(frozen=True)
class Guard:
    """What the guard did to one suite's ranking.

    ``replaced`` is the primary the suite would have had; ``primary`` what ranks it now (a held-out
    judge's score, or ``replaced`` when none qualified); ``in_sample`` the systems (ids) whose
    ``replaced`` scores are in-sample; ``excluded`` those left unranked (no held-out judge);
    ``tried`` the held-out judges considered that did not score every system.
    """

    replaced: Primary
    primary: Primary
    in_sample: tuple[str, ...]
    excluded: tuple[str, ...]
    tried: tuple[str, ...]
    sentence: str

    @property
    def substituted(self) -> bool:
        """The suite is ranked by a held-out judge instead of its primary."""
        return (self.primary.judge_id, self.primary.score) != (self.replaced.judge_id, self.replaced.score)


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _candidates(
    res: Results,
    names: Names,
    suite: str,
    systems: Sequence[str],
    trust: TrustIndex,
    flagged: Sequence[str],
    replaced: str,
) -> list[str]:
    judged = list(dict.fromkeys(j for j, _ in sample_pairs(res, suite)))
    ok = [j for j in judged if j != replaced and not any(trust.in_sample(s, j) for s in systems)]
    preferred: list[str] = []
    for s in flagged:  # the guard's own order: the reward judge's kind first
        preferred += [j for j in trust.held_out.get(s, ()) if j in ok and j not in preferred]
    rest = sorted(
        (j for j in ok if j not in preferred), key=lambda j: names.judge_order.get(j, len(names.judge_order))
    )
    ordered = preferred + rest
    return [j for j in ordered if not trust.flagged(j)] + [j for j in ordered if trust.flagged(j)]


def _score_of(res: Results, suite: str, judge_id: str, want: str) -> str | None:
    scores = [s for j, s in sample_pairs(res, suite) if j == judge_id]
    if not scores:
        return None
    return want if want in scores else scores[0]


def apply_guard(
    res: Results, names: Names, suite: str, primary: Primary, system_ids: Sequence[str], trust: TrustIndex
) -> Guard | None:
    """The guarded ranking of one suite (module doc); ``None`` when no system is in-sample for its primary.

    ``system_ids`` are the systems of the suite in display order. Only systems the primary scored
    at least once count: a system without a primary score is not flattered by it.
    """
    if not any(trust.in_sample(s, primary.judge_id) for s in system_ids):
        return None
    base = score_matrix(res, suite, primary.judge_id, primary.score, list(system_ids))
    scored = [s for s in system_ids if not np.isnan(base.values[s]).all()]
    flagged = [s for s in scored if trust.in_sample(s, primary.judge_id)]
    if not flagged:
        return None
    judge = names.judge(primary.judge_id).display
    who = _join([names.system(s).display for s in flagged])
    were = "was" if len(flagged) == 1 else "were"
    tried = []
    for jid in _candidates(res, names, suite, system_ids, trust, flagged, primary.judge_id):
        score = _score_of(res, suite, jid, primary.score)
        if score is None:
            continue
        m = score_matrix(res, suite, jid, score, scored)
        if any(np.isnan(m.values[s]).all() for s in scored):
            tried.append(jid)
            continue
        spec = res.score_specs.get(jid, {}).get(score) or ScoreSpec(name=score)
        held = names.judge(jid).display
        sentence = (
            f"Ranked by the held-out judge {held} ({score}), not {judge} ({primary.score}): {who} {were} "
            f"trained on {judge}’s rewards, so its scores of {'it' if len(flagged) == 1 else 'them'} are "
            f"in-sample. Every system is ranked on the same held-out score; {judge}’s scores stay on the "
            "suite page."
        )
        note = f"held out for {who}, trained on {judge}’s rewards"
        return Guard(
            primary,
            Primary(suite, jid, score, spec, "held-out", note),
            tuple(flagged),
            (),
            tuple(tried),
            sentence,
        )
    why = (
        "no held-out judge scored every system of this suite"
        if tried
        else "no held-out judge was run on this suite"
    )
    sentence = (
        f"Ranked by {judge} ({primary.score}), but {who} {'is' if len(flagged) == 1 else 'are'} not ranked: "
        f"trained on {judge}’s rewards, {'its' if len(flagged) == 1 else 'their'} scores are in-sample, and {why}."
    )
    return Guard(primary, primary, tuple(flagged), tuple(flagged), tuple(tried), sentence)
