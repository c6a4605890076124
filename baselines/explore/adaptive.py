"""Spending fewer judge calls than trying everything: successive halving and UCB, shared by family.

A *problem* is one subtask with its candidate arms; an *oracle* evaluates an arm on a problem (one
edit and one judge call, unless cached) and returns its reward. Exhaustive exploration evaluates
every arm of every problem. The two adaptive allocators evaluate fewer by sharing what similar
subtasks (same :attr:`Problem.family`, arms matched by :attr:`~baselines.explore.candidates.Arm.signature`:
tool and region, parameters aside) already showed. Problems are visited in a seeded order, as a
stream: an allocator never looks at a problem's rewards before deciding what to evaluate on it.

``successive-halving`` (shared)
    Halving rounds run *across the subtasks of a family*: the family keeps a set of surviving
    arm signatures (all at first); each new subtask evaluates the survivors it has, and after
    every ``rounds`` subtasks the family keeps the better ``1/eta`` of them (at least one). After
    a few subtasks only the family's best arm is evaluated. A *recheck* guards against a subtask
    that differs from its family (a relighting tool on a painting): when the best reward on this
    subtask falls more than ``tolerance`` below what that arm reaches at best in its family, the
    eliminated arms are evaluated, best-ranked first, until one comes within ``tolerance`` of
    what it reaches at best.
``ucb`` (shared)
    One bandit per family over arm signatures: on each subtask arms are evaluated in order of
    their index ``rank + c * sqrt(ln(1 + n_family) / n_arm)`` (arms evaluated fewer than
    ``rounds`` times in the family first), and evaluation stops as soon as the best reward seen
    on this subtask reaches the highest index among its unevaluated arms (nothing left can
    plausibly beat it), or after ``max_per_subtask`` evaluations.

Ranking arms. The allocators look for each subtask's best arm, so an arm is ranked by the best
reward it has reached in the family (``rank="max"``, the default), its mean breaking ties. A
family mean understates an arm whose reward is bimodal (exact on photographs, useless on
paintings): ranked by the mean, a mediocre generalist that never fails outranks it, and the
specialist is never tried again on the subtasks it wins. ``rank="mean"`` is the classical
choice, for comparison. With noisy (sampling) judges the maximum is optimistic, which costs
evaluations, not accuracy.

The known failure: both allocators trust a family's first ``rounds`` evaluations of an arm. A
specialist unlucky on all of them (a relighting tool first met on paintings) is ranked by its
failures and can be dropped for the whole family; larger ``rounds`` make that rarer at a
price in evaluations (``tests/test_explore.py`` measures both on a stress family).

Both stop early when ``budget`` (judge calls over the whole allocation) is spent; the subtasks
left then take the family's best arm without evaluation. The choice for a subtask is its best
*evaluated* arm (ties: the family's better mean, then catalogue order), else the family's best.
A reward of ``None`` (the edit failed, or the judge could not score) counts as 0 for the family
statistics and can never be chosen when a scored arm exists.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ALLOCATORS", "Allocation", "Comparison", "Problem", "Pull", "compare", "exhaustive",
           "successive_halving", "ucb"]


@dataclass(frozen=True)
class Problem:
    """One subtask: a key, the family it shares statistics with, and its arms' signatures."""

    key: Hashable
    family: str
    arms: tuple[Hashable, ...]


@dataclass(frozen=True)
class Pull:
    """What one evaluation returned: the reward, and whether a tool / a judge was called."""

    reward: float | None
    tool_call: bool = True
    judge_call: bool = True
    subject: Hashable | None = None  # equal subjects are one judge call after content caching


Oracle = Callable[[int, int], Pull]


@dataclass
class Allocation:
    """Which arms were evaluated on each problem, what they gave, and the choice made."""

    method: str
    evaluated: list[dict[int, float | None]]
    choices: list[int | None]
    tool_calls: int = 0
    judge_calls: int = 0
    subjects: set[Hashable] = field(default_factory=set)
    budget_exhausted_at: int | None = None

    @property
    def evaluations(self) -> int:
        return sum(len(e) for e in self.evaluated)

    @property
    def distinct_judge_calls(self) -> int:
        """Judge calls after content caching (equal judged subjects counted once)."""
        return len(self.subjects)

    def summary(self) -> dict[str, Any]:
        return {"method": self.method, "evaluations": self.evaluations, "tool_calls": self.tool_calls,
                "judge_calls": self.judge_calls, "distinct_judge_calls": self.distinct_judge_calls,
                "budget_exhausted_at": self.budget_exhausted_at}


class _Family:
    """Running statistics of one family per arm signature: count, sum and best reward."""

    def __init__(self, rank: str) -> None:
        if rank not in ("max", "mean"):
            raise ValueError(f"rank must be 'max' or 'mean', got {rank!r}")
        self.rank_by = rank
        self.sums: dict[Hashable, float] = {}
        self.counts: dict[Hashable, int] = {}
        self.best: dict[Hashable, float] = {}
        self.alive: set[Hashable] | None = None  # successive halving's survivors
        self.seen = 0

    def add(self, sig: Hashable, reward: float | None) -> None:
        r = reward if reward is not None else 0.0
        self.sums[sig] = self.sums.get(sig, 0.0) + r
        self.counts[sig] = self.counts.get(sig, 0) + 1
        self.best[sig] = max(self.best.get(sig, r), r)

    def mean(self, sig: Hashable) -> float | None:
        n = self.counts.get(sig, 0)
        return self.sums[sig] / n if n else None

    def rank(self, sig: Hashable) -> tuple[float, float]:
        """Sort key (higher is better): the rank statistic, then the mean; unseen arms first."""
        if not self.counts.get(sig):
            return (math.inf, math.inf)
        mean = self.sums[sig] / self.counts[sig]
        return (self.best[sig], mean) if self.rank_by == "max" else (mean, self.best[sig])


class _Run:
    """Shared bookkeeping of an allocation: order, budget, pulls and the choice rule."""

    def __init__(self, method: str, problems: Sequence[Problem], oracle: Oracle, budget: int | None, seed: int,
                 rank: str = "max") -> None:
        self.problems = problems
        self.oracle = oracle
        self.budget = budget
        self.rank_by = rank
        self.alloc = Allocation(method, [{} for _ in problems], [None] * len(problems))
        self.families: dict[str, _Family] = {}
        self.order = list(range(len(problems)))
        random.Random(seed).shuffle(self.order)

    def family(self, p: Problem) -> _Family:
        return self.families.setdefault(p.family, _Family(self.rank_by))

    def can_pull(self) -> bool:
        return self.budget is None or self.alloc.judge_calls < self.budget

    def pull(self, i: int, a: int) -> float | None:
        p = self.problems[i]
        got = self.oracle(i, a)
        al = self.alloc
        al.evaluated[i][a] = got.reward
        al.tool_calls += int(got.tool_call)
        al.judge_calls += int(got.judge_call)
        if got.judge_call and got.subject is not None:
            al.subjects.add(got.subject)
        self.family(p).add(p.arms[a], got.reward)
        return got.reward

    def choose(self, i: int) -> None:
        p, fam = self.problems[i], self.family(self.problems[i])
        seen = {a: r for a, r in self.alloc.evaluated[i].items() if r is not None}
        if seen:
            self.alloc.choices[i] = max(seen, key=lambda a: (seen[a], fam.rank(p.arms[a]), -a))
        else:
            known = [a for a in range(len(p.arms)) if fam.counts.get(p.arms[a])]
            self.alloc.choices[i] = max(known, key=lambda a: (fam.rank(p.arms[a]), -a)) if known else None
        if not self.can_pull() and self.alloc.budget_exhausted_at is None:
            self.alloc.budget_exhausted_at = i


def exhaustive(problems: Sequence[Problem], oracle: Oracle, *, budget: int | None = None, seed: int = 0
               ) -> Allocation:
    """Every arm of every problem (the reference the adaptive allocators are compared with)."""
    run = _Run("exhaustive", problems, oracle, budget, seed)
    for i in run.order:
        for a in range(len(problems[i].arms)):
            if run.can_pull():
                run.pull(i, a)
        run.choose(i)
    return run.alloc


def successive_halving(problems: Sequence[Problem], oracle: Oracle, *, budget: int | None = None, seed: int = 0,
                       eta: float = 4.0, rounds: int = 2, tolerance: float = 0.25, rank: str = "max"
                       ) -> Allocation:
    """Successive halving across each family's subtasks, with a recheck (module doc)."""
    if eta <= 1:
        raise ValueError(f"eta must be > 1, got {eta}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    run = _Run("successive-halving", problems, oracle, budget, seed, rank)
    for i in run.order:
        p = problems[i]
        fam = run.family(p)
        if fam.alive is None:
            fam.alive = set()
        # survivors, and arms this family has never evaluated (they join the survivors)
        alive = [a for a in range(len(p.arms)) if p.arms[a] in fam.alive or p.arms[a] not in fam.counts]
        fam.alive |= {p.arms[a] for a in alive}
        for a in alive:
            if run.can_pull():
                run.pull(i, a)
        _recheck(run, i, tolerance)
        fam.seen += 1
        if fam.seen % rounds == 0:  # halve the family's survivors
            ranked = sorted(fam.alive, key=lambda sig: (fam.rank(sig), repr(sig)), reverse=True)
            fam.alive = set(ranked[:max(1, math.ceil(len(ranked) / eta))])
        run.choose(i)
    return run.alloc


def _recheck(run: _Run, i: int, tolerance: float) -> None:
    p = run.problems[i]
    fam = run.family(p)
    seen = run.alloc.evaluated[i]

    def fine() -> bool:
        best = [(r, a) for a, r in seen.items() if r is not None]
        if not best:
            return False
        r, a = max(best)
        return r >= fam.best.get(p.arms[a], r) - tolerance

    if fine() or len(seen) == len(p.arms):
        return
    rest = sorted((a for a in range(len(p.arms)) if a not in seen), key=lambda a: (fam.rank(p.arms[a]), -a),
                  reverse=True)
    for a in rest:
        if not run.can_pull():
            return
        run.pull(i, a)
        if fine():
            return


def ucb(problems: Sequence[Problem], oracle: Oracle, *, budget: int | None = None, seed: int = 0, c: float = 0.05,
        rounds: int = 2, max_per_subtask: int | None = None, rank: str = "max") -> Allocation:
    """A bandit per family with an optimistic index and a per-subtask stopping rule (module doc)."""
    if c < 0:
        raise ValueError(f"c must be >= 0, got {c}")
    run = _Run("ucb", problems, oracle, budget, seed, rank)
    for i in run.order:
        p = problems[i]
        fam = run.family(p)
        total = sum(fam.counts.values())

        def index(a: int, p: Problem = p, fam: _Family = fam, total: int = total) -> float:
            n = fam.counts.get(p.arms[a], 0)
            if n < rounds:
                return math.inf
            return fam.rank(p.arms[a])[0] + c * math.sqrt(math.log(1 + total) / n)

        cap = len(p.arms) if max_per_subtask is None else max(1, int(max_per_subtask))
        done: set[int] = set()
        while len(done) < min(cap, len(p.arms)) and run.can_pull():
            rest = [a for a in range(len(p.arms)) if a not in done]
            best_seen = max((r for a, r in run.alloc.evaluated[i].items() if r is not None), default=None)
            top = max(rest, key=lambda a, p=p, fam=fam: (index(a), fam.rank(p.arms[a]), -a))
            if best_seen is not None and best_seen >= index(top):
                break
            run.pull(i, top)
            done.add(top)
        run.choose(i)
    return run.alloc


ALLOCATORS: dict[str, Callable[..., Allocation]] = {
    "exhaustive": exhaustive,
    "successive-halving": successive_halving,
    "ucb": ucb,
}


@dataclass(frozen=True)
class Comparison:
    """An allocation's choices against the exhaustive ones, and what each cost."""

    method: str
    subtasks: int
    compared: int
    accuracy: float
    same_arm: float
    evaluations: int
    exhaustive_evaluations: int
    judge_calls: int
    exhaustive_judge_calls: int
    distinct_judge_calls: int
    exhaustive_distinct_judge_calls: int
    tool_calls: int
    exhaustive_tool_calls: int

    @property
    def judge_call_ratio(self) -> float:
        return self.judge_calls / self.exhaustive_judge_calls if self.exhaustive_judge_calls else math.nan

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["judge_call_ratio"] = self.judge_call_ratio
        d["distinct_judge_call_ratio"] = (self.distinct_judge_calls / self.exhaustive_distinct_judge_calls
                                          if self.exhaustive_distinct_judge_calls else math.nan)
        return d


def compare(alloc: Allocation, full: Allocation, *, tie: float = 1e-9) -> Comparison:
    """How often ``alloc`` chose an arm as good as the exhaustive best (``accuracy``; ties count as
    right), how often the very same arm (``same_arm``), and the calls each spent. Problems where
    no arm could be scored are not compared."""
    right = same = n = 0
    for i, rewards in enumerate(full.evaluated):
        scored = {a: r for a, r in rewards.items() if r is not None}
        if not scored:
            continue
        n += 1
        best = max(scored.values())
        c = alloc.choices[i]
        if c is not None and scored.get(c) is not None and scored[c] >= best - tie:
            right += 1
        if c is not None and c == full.choices[i]:
            same += 1
    return Comparison(method=alloc.method, subtasks=len(full.evaluated), compared=n,
                      accuracy=right / n if n else math.nan, same_arm=same / n if n else math.nan,
                      evaluations=alloc.evaluations, exhaustive_evaluations=full.evaluations,
                      judge_calls=alloc.judge_calls, exhaustive_judge_calls=full.judge_calls,
                      distinct_judge_calls=alloc.distinct_judge_calls,
                      exhaustive_distinct_judge_calls=full.distinct_judge_calls,
                      tool_calls=alloc.tool_calls, exhaustive_tool_calls=full.tool_calls)
