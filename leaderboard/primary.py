"""Which score stands for a suite on the overview, and the per-sample matrix behind it.

**The primary score of a suite** is, in order:

1. the suite's declared ``primary`` (``suite.yaml``; recorded in ``run.json``), written as a score
   name (``ssim``), ``judge:score`` (``ssim:ssim``, the judge's registered name) or a judge id and
   score (``ssim.2de89b670675:ssim``) — the first judge in run order that scored it in this suite;
2. otherwise the first score (in its judge's declared order) of the first judge (in ``run.json``
   order) that has sample-scope judgements in the suite.

Only sample-scope, non-pairwise judgements count. When a declared primary was not scored by any
judge of the runs, the fallback is used and a note says so on the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.model import ScoreSpec
from bench.results import Results
from leaderboard.header import Names


@dataclass(frozen=True)
class Primary:
    """The (judge, score) that stands for a suite, and why it was chosen."""

    suite: str
    judge_id: str
    score: str
    spec: ScoreSpec
    chosen_by: str  # "suite" (declared primary) | "default" (first score of the first judge)
    note: str = ""


@dataclass(frozen=True)
class ScoreMatrix:
    """Per-sample scores of every system on one (judge, score), aligned on ``sample_ids``.

    ``values[s]`` has shape ``(n_samples,)`` (the judgement's score; NaN when unscored, not
    applicable or not judged); ``draws[s]`` has shape ``(n_samples, n_draws)`` when the judge
    sampled several times, else it equals ``values[s][:, None]``.
    """

    sample_ids: tuple[str, ...]
    values: dict[str, np.ndarray]
    draws: dict[str, np.ndarray]

    @property
    def has_draws(self) -> bool:
        return any(d.shape[1] > 1 for d in self.draws.values())

    def shared(self) -> int:
        """How many samples every system scored (the pool a fully paired comparison uses)."""
        if not self.values:
            return 0
        ok = np.ones(len(self.sample_ids), bool)
        for v in self.values.values():
            ok &= ~np.isnan(v)
        return int(ok.sum())


def sample_pairs(res: Results, suite: str) -> list[tuple[str, str]]:
    """(judge id, score) pairs of the suite's sample-scope judgements, in judge then spec order."""
    seen: dict[str, set[str]] = {}
    for j in res.judgements.values():
        if j.suite == suite and j.scope == "sample" and not j.versus:
            seen.setdefault(j.judge_id, set()).update(res.score_specs.get(j.judge_id, {}) or j.scores)
    return [(jid, s) for jid in seen for s in _declared(res, jid, seen[jid])]


def _declared(res: Results, judge_id: str, scores: set[str]) -> list[str]:
    declared = list(res.score_specs.get(judge_id, {}))
    return [s for s in declared if s in scores] + sorted(scores - set(declared))


def _matches(res: Results, judge_id: str, want_judge: str) -> bool:
    rec = res.judges.get(judge_id) or {}
    return want_judge in (judge_id, rec.get("name"), (rec.get("info") or {}).get("display"))


def choose_primary(res: Results, names: Names, suite: str, declared: str | None) -> Primary | None:
    """The suite's primary (judge, score) as documented above; ``None`` when nothing was scored."""
    pairs = sorted(
        sample_pairs(res, suite),
        key=lambda p: names.judge_order.get(p[0], len(names.judge_order)),
    )  # stable: keeps each judge's declared score order
    if not pairs:
        return None

    def make(judge_id: str, score: str, chosen_by: str, note: str = "") -> Primary:
        spec = res.score_specs.get(judge_id, {}).get(score) or ScoreSpec(name=score)
        return Primary(suite, judge_id, score, spec, chosen_by, note)

    note = ""
    if declared:
        want_judge, _, want_score = declared.rpartition(":")
        for jid, score in pairs:
            if score == want_score and (not want_judge or _matches(res, jid, want_judge)):
                return make(jid, score, "suite")
        note = f"the suite's primary score {declared!r} was not scored in these runs"
    jid, score = pairs[0]
    return make(jid, score, "default", note)


def score_matrix(res: Results, suite: str, judge_id: str, score: str, system_ids: list[str]) -> ScoreMatrix:
    """The per-sample matrix of ``(judge_id, score)`` for ``system_ids`` (samples in run order)."""
    sample_ids = [sid for (ref, sid) in res.samples if ref == suite]
    known = set(sample_ids)
    extra = sorted(
        {
            j.sample_id
            for j in res.judgements.values()
            if j.suite == suite
            and j.judge_id == judge_id
            and j.scope == "sample"
            and not j.versus
            and j.sample_id not in known
        }
    )
    sample_ids += extra  # judged samples with no sample record still count
    index = {sid: i for i, sid in enumerate(sample_ids)}
    n = len(sample_ids)
    values = {s: np.full(n, math.nan) for s in system_ids}
    draw_lists: dict[str, dict[int, list[float]]] = {s: {} for s in system_ids}
    for j in res.judgements.values():
        if j.suite != suite or j.judge_id != judge_id or j.scope != "sample" or j.versus:
            continue
        if j.system_id not in values or j.status != "ok" or score in j.na:
            continue
        v = j.scores.get(score)
        if v is None or not math.isfinite(float(v)):
            continue
        i = index[j.sample_id]
        values[j.system_id][i] = float(v)
        d = [float(x) for x in (j.draws.get(score) or ()) if x is not None and math.isfinite(float(x))]
        if len(d) > 1:
            draw_lists[j.system_id][i] = d
    width = max([1] + [len(d) for dl in draw_lists.values() for d in dl.values()])
    draws = {}
    for s in system_ids:
        m = np.full((n, width), math.nan)
        m[:, 0] = values[s]
        for i, d in draw_lists[s].items():
            m[i, :] = math.nan
            m[i, : len(d)] = d
        draws[s] = m
    return ScoreMatrix(tuple(sample_ids), values, draws)
