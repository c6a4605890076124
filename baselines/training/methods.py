"""Paper B's five methods as data: a filter, a per-trajectory weight and a normaliser, plus DPO's pairs.

The trainer minimises, for each optimizer batch ``b``,

    L_b = Σ_{i∈b} w_i ℓ_i / N_b

with ``ℓ_i`` the trajectory's token NLL over its target (:mod:`.trainer`). The methods differ only in
which trajectories enter (the filter), ``w_i`` and ``N_b`` (READING §1.3-1.6):

| method | filter | ``w_i`` | ``N_b`` |
| --- | --- | --- | --- |
| S | none (or ``r ≥ s_min_reward``) | 1 | the batch's size |
| R | ``r ≥ τ_R`` | 1 | the batch's size |
| RW | none | ``max(r − 3, 0)`` (``step``: the code's tiers, floor 0.5) | ``Σ w`` (0: the batch is skipped, counted) |
| SW | none | ``z = (r − μ)/σ`` over ``sw_scope`` | ``B`` (paper) or ``Σ z`` (code) |

so RW with equal rewards is S, and SW's gradient is ``Σ z_i ∇ℓ_i / B``. DPO instead pairs a chosen
and a rejected trajectory (:func:`dpo_pairs`). Trajectories without a reward are kept only by S
(which ignores rewards) and counted as dropped by the others.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.ids import derive_seed

from .options import TrainOptions
from .records import TrainRecord

#: The code's RW tiers (READING §6.1): reward floor -> weight; anything below the last floor gets 0.5.
CODE_RW_TIERS: tuple[tuple[float, float], ...] = ((4.5, 2.0), (4.0, 1.5), (3.5, 1.0))
CODE_RW_FLOOR = 0.5
#: ε of the code's weighted trainer (``Σ w ℓ / (Σ w + 1e-8)``).
CODE_EPS = 1e-8


@dataclass
class Selection:
    """What a method trains on: the kept records, their weights, and how they were chosen."""

    records: list[TrainRecord]
    weights: list[float]
    normaliser: str  # count | weight_sum | batch_size
    eps: float = 0.0
    counts: dict[str, Any] = field(default_factory=dict)


def rw_weight(reward: float, kind: str = "linear") -> float:
    """RW's weight: ``max(r − 3, 0)`` (paper B L1098) or the code's step function (floor 0.5)."""
    if kind == "linear":
        return max(float(reward) - 3.0, 0.0)
    for floor, w in CODE_RW_TIERS:
        if reward >= floor:
            return w
    return CODE_RW_FLOOR


def _stats(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mu = sum(values) / n
    return mu, math.sqrt(sum((v - mu) ** 2 for v in values) / n)  # ddof 0, as np.std in the code


def z_scores(rewards: Sequence[float], mu: float, sigma: float, *, clip: float | None = None,
             eps: float = 0.0) -> list[float]:
    """``(r − μ) / (σ + eps)``; every z is 0 when ``σ + eps`` is 0 (a group of one, equal rewards)."""
    den = sigma + eps
    out = [0.0 if den == 0 else (r - mu) / den for r in rewards]
    if clip is not None:
        out = [max(-clip, min(clip, z)) for z in out]
    return out


def sw_weights(records: Sequence[TrainRecord], opts: TrainOptions,
               stats_records: Sequence[TrainRecord] | None = None) -> list[float]:
    """SW's z weights for ``records`` under ``opts.sw_scope`` (``batch`` scope: over ``records`` itself).

    ``dataset``: μ, σ over ``stats_records`` (the training split, or with ``sw_stats=all`` every
    split, as the code does); ``group``: over the trajectories of the same group; ``batch``: over
    the batch given.
    """
    eps = 1e-18 if opts.preset == "code" else 0.0
    rewards = [float(r.reward) for r in records]  # type: ignore[arg-type]
    if opts.sw_scope == "dataset":
        pool = [float(r.reward) for r in (stats_records if stats_records is not None else records)
                if r.reward is not None]
        mu, sigma = _stats(pool)
        return z_scores(rewards, mu, sigma, clip=opts.z_clip, eps=eps)
    if opts.sw_scope == "batch":
        mu, sigma = _stats(rewards)
        return z_scores(rewards, mu, sigma, clip=opts.z_clip, eps=eps)
    by_group: dict[str, list[float]] = {}
    for r in (stats_records if stats_records is not None else records):
        if r.reward is not None:
            by_group.setdefault(r.group, []).append(float(r.reward))
    out = []
    for r in records:
        mu, sigma = _stats(by_group.get(r.group, [float(r.reward)]))  # type: ignore[arg-type]
        out.extend(z_scores([float(r.reward)], mu, sigma, clip=opts.z_clip, eps=eps))  # type: ignore[arg-type]
    return out


def select(records: Sequence[TrainRecord], opts: TrainOptions,
           stats_records: Sequence[TrainRecord] | None = None) -> Selection:
    """The records, weights and normaliser of ``opts.method`` (not DPO: see :func:`dpo_pairs`).

    ``counts`` reports what was dropped and why, and R's retention (paper B: "retains approximately
    65%"): kept / trajectories with a reward.
    """
    m = opts.method
    if m == "dpo":
        raise ValueError("DPO trains on pairs: use dpo_pairs()")
    rewarded = [r for r in records if r.reward is not None]
    counts: dict[str, Any] = {"given": len(records), "no_reward": len(records) - len(rewarded)}
    if m == "s":
        kept = list(records) if opts.s_min_reward is None else [r for r in rewarded
                                                               if r.reward >= opts.s_min_reward]  # type: ignore[operator]
        counts.update(kept=len(kept), no_reward=0 if opts.s_min_reward is None else counts["no_reward"])
        return Selection(kept, [1.0] * len(kept), "count", counts=counts)
    if m == "r":
        kept = [r for r in rewarded if r.reward >= opts.tau_r]  # type: ignore[operator]
        counts.update(kept=len(kept), tau_r=opts.tau_r,
                      retention=(len(kept) / len(rewarded)) if rewarded else float("nan"))
        return Selection(kept, [1.0] * len(kept), "count", counts=counts)
    if m == "rw":
        weights = [rw_weight(float(r.reward), opts.rw_weight) for r in rewarded]  # type: ignore[arg-type]
        counts.update(kept=len(rewarded), zero_weight=sum(w == 0 for w in weights))
        eps = CODE_EPS if opts.preset == "code" else 0.0
        return Selection(list(rewarded), weights, "weight_sum", eps=eps, counts=counts)
    # sw
    pool = stats_records if stats_records is not None else rewarded
    weights = sw_weights(rewarded, opts, pool) if opts.sw_scope != "batch" else [0.0] * len(rewarded)
    counts.update(kept=len(rewarded), sw_scope=opts.sw_scope, sw_stats=opts.sw_stats)
    if opts.sw_scope == "dataset":
        counts["mu_sigma"] = list(_stats([float(r.reward) for r in pool if r.reward is not None]))  # type: ignore[arg-type]
    norm = "batch_size" if opts.sw_normaliser == "batch_size" else "weight_sum"
    return Selection(list(rewarded), weights, norm, eps=CODE_EPS if norm == "weight_sum" else 0.0, counts=counts)


def normaliser(weights: Sequence[float], kind: str, eps: float = 0.0) -> float | None:
    """``N_b`` for a batch's weights; ``None`` when the batch must be skipped (``Σ w + eps = 0``)."""
    if kind in ("count", "batch_size"):
        return float(len(weights)) if weights else None
    total = float(sum(weights)) + eps
    return None if total == 0.0 else total


# -- DPO ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """A preference pair. ``input_of`` is the record whose input both sides are conditioned on."""

    chosen: TrainRecord
    rejected: TrainRecord
    input_of: TrainRecord

    @property
    def gap(self) -> float:
        return float(self.chosen.reward) - float(self.rejected.reward)  # type: ignore[arg-type]


def dpo_pairs(records: Sequence[TrainRecord], opts: TrainOptions, seed: int = 0) -> tuple[list[Pair], dict[str, Any]]:
    """Chosen/rejected pairs and how many trajectories they use.

    ``same_input`` (paper B L1145, L2291): for each chosen trajectory (``r ≥ dpo_chosen_min``) one
    rejected trajectory of the *same input* (``r ≤ dpo_rejected_max``, ``≥ dpo_rejected_min`` when
    set, gap ``≥ dpo_min_gap``) drawn at random; a chosen with no such partner forms no pair.
    ``any`` (the code): the rejected pool, shuffled once, is cycled across all chosen
    trajectories whatever their input, and both sides take the chosen's input.
    """
    rng = random.Random(derive_seed(seed, "dpo-pairs"))
    rewarded = [r for r in records if r.reward is not None]

    def is_rejected(r: TrainRecord) -> bool:
        ok = r.reward <= opts.dpo_rejected_max  # type: ignore[operator]
        return ok and (opts.dpo_rejected_min is None or r.reward >= opts.dpo_rejected_min)  # type: ignore[operator]

    chosen = [r for r in rewarded if r.reward >= opts.dpo_chosen_min]  # type: ignore[operator]
    rejected = [r for r in rewarded if is_rejected(r)]
    pairs: list[Pair] = []
    if opts.dpo_pairing == "same_input":
        by_input: dict[str, list[TrainRecord]] = {}
        for r in rejected:
            by_input.setdefault(r.input.key, []).append(r)
        for c in chosen:
            cands = [r for r in by_input.get(c.input.key, []) if c.reward - r.reward >= opts.dpo_min_gap]  # type: ignore[operator]
            if cands:
                pairs.append(Pair(c, rng.choice(cands), c))
    else:
        pool = list(rejected)
        rng.shuffle(pool)
        k = 0
        for c in chosen:
            for _ in range(len(pool)):
                r = pool[k % len(pool)]
                k += 1
                if c.reward - r.reward >= opts.dpo_min_gap:  # type: ignore[operator]
                    pairs.append(Pair(c, r, c))
                    break
    used = {p.chosen.key for p in pairs} | {p.rejected.key for p in pairs}
    counts = {"given": len(records), "no_reward": len(records) - len(rewarded), "chosen": len(chosen),
              "rejected": len(rejected), "pairs": len(pairs), "trajectories_used": len(used),
              "usage": len(used) / len(rewarded) if rewarded else float("nan"),
              "cross_input": sum(p.chosen.input.key != p.rejected.input.key for p in pairs)}
    return pairs, counts
