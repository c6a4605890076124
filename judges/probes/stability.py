"""Rank stability per suite, judge and score: how likely each pair of systems is to swap order.

For every sample-scope judge and each of its scores with a criterion kind (see
:func:`judges.probes.checks.score_kind`; coverage numbers such as ``decided`` are skipped), the
systems' per-sample scores — with the judge's per-sample draws when it sampled ``samples=n``
times — go to :func:`bench.stats.rank_stability`: a bootstrap over samples (and over draws within
a sample) giving each system's expected rank with a 95% interval and, for each pair, the
probability that their observed order flips. A pair is *unsettled* when that probability exceeds
:data:`UNSETTLED`. Unscored samples are NaN (missing, never 0); a system with no score on a suite
is left out of its ranking. ``in_sample`` lists the systems trained on this judge's rewards
(from the ``guard`` records), whose place here flatters them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from bench.components import Built
from bench.model import Judgement
from bench.stats import rank_stability

from .checks import score_kind

UNSETTLED = 0.05
RESAMPLES = 1000


def _value(j: Judgement, score: str) -> float:
    if j.status != "ok":
        return math.nan
    v = j.scores.get(score)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan


def stability_records(
    b: Built, judgements: Iterable[Judgement], guard: Sequence[Mapping[str, Any]] = (), seed: int = 0
) -> list[dict[str, Any]]:
    """One ``stability`` record per (suite, score) this judge ranked at least two systems on."""
    if getattr(b.obj, "scope", "sample") != "sample":
        return []
    declared = getattr(b.obj, "score_kinds", None)
    declared = dict(declared) if isinstance(declared, dict) else None
    specs = [sp for sp in b.score_specs() if score_kind(sp.name, declared) is not None]
    mine = [j for j in judgements if j.judge_id == b.id and j.scope == "sample" and not j.versus]
    in_sample = sorted(
        g["system_id"] for g in guard if any(x["judge_id"] == b.id for x in g.get("in_sample", []))
    )
    by_suite: dict[str, list[Judgement]] = defaultdict(list)
    for j in mine:
        by_suite[j.suite].append(j)
    out = []
    for suite, js in sorted(by_suite.items()):
        samples = sorted({j.sample_id for j in js})
        row = {s: i for i, s in enumerate(samples)}
        systems = sorted({j.system_id for j in js})
        for sp in specs:
            draws = max((len(j.draws.get(sp.name) or []) for j in js), default=0)
            width = max(1, draws)
            cube = {s: np.full((len(samples), width), np.nan) for s in systems}
            for j in js:
                d = (
                    [
                        float(x) if isinstance(x, (int, float)) and math.isfinite(x) else math.nan
                        for x in (j.draws.get(sp.name) or [])
                    ]
                    if j.status == "ok"
                    else []
                )
                vals = d if d else [_value(j, sp.name)]
                cube[j.system_id][row[j.sample_id], : len(vals)] = vals
            scored = {s: (a if width > 1 else a[:, 0]) for s, a in cube.items() if not np.isnan(a).all()}
            if len(scored) < 2:
                continue
            with np.errstate(invalid="ignore"):
                st = rank_stability(
                    scored, n_resamples=RESAMPLES, seed=seed, higher_is_better=sp.higher_is_better
                )
            names = list(scored)
            swap = {
                a: {b2: round(float(st.swap_probability.loc[a, b2]), 6) for b2 in names if b2 != a}
                for a in names
            }
            unsettled = sorted(
                (
                    [a, b2, swap[a][b2]]
                    for i, a in enumerate(names)
                    for b2 in names[i + 1 :]
                    if swap[a][b2] > UNSETTLED
                ),
                key=lambda x: -x[2],
            )
            out.append(
                {
                    "kind": "stability",
                    "suite": suite,
                    "judge_id": b.id,
                    "score": sp.name,
                    "higher_is_better": sp.higher_is_better,
                    "n_samples": st.n_samples,
                    "n_resamples": st.n_resamples,
                    "draws": width > 1,
                    "systems": [
                        {
                            "system_id": r.system,
                            "mean": _r(r.mean),
                            "rank": r.rank,
                            "expected_rank": _r(r.expected_rank),
                            "rank_low": r.rank_low,
                            "rank_high": r.rank_high,
                        }
                        for r in sorted(st.systems, key=lambda r: (r.expected_rank, r.system))
                    ],
                    "swap": swap,
                    "unsettled": unsettled,
                    "threshold": UNSETTLED,
                    "in_sample": [s for s in in_sample if s in scored],
                }
            )
    return out


def _r(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 6)
