"""The ``explore`` stage: candidates per subtask of a finished run's plans, judged, into the store.

:func:`explore` reads the plans (:func:`~baselines.explore.plans.read_plans`), builds every
subtask's candidates and evaluates them on the original image (paper A's approximation 2) —
all of them (exhaustive), or as chosen by an adaptive allocator (:mod:`baselines.explore.adaptive`).
Every evaluation is an exploration record in ``explorations.jsonl``; a stage record in
``stages.jsonl`` says what ran, the call counts and, where the records of an exhaustive
exploration of the same plans exist, how the adaptive choices compare with it.

Call counts reported on the same plans (:class:`Counts`): exhaustive full rollouts
``sum over samples of (T*G)^K`` (each rollout being K edits), the per-subtask exhaustive
``sum of K*T*G`` (paper A's approximations), the candidates actually proposed (tools without
parameters for a subtask are left out), and what the allocation spent.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bench.progress import progress
from bench.store import RunStore

from .adaptive import ALLOCATORS, Comparison, Problem, Pull, compare
from .candidates import Arm
from .evaluate import ExploreConfig, Explorer
from .plans import PlannedSubtask, SamplePlan, read_plans

log = logging.getLogger(__name__)

__all__ = ["Counts", "ExploreSummary", "Workload", "explore", "workload"]


@dataclass
class Workload:
    """The problems an exploration works on: subtasks with their candidates, in plan order."""

    plans: list[SamplePlan]
    items: list[tuple[SamplePlan, PlannedSubtask, list[Arm]]]
    tools: dict[tuple[str, str, str], int]  # (suite, sample, system) -> T (candidate tools)
    regions: int
    no_candidate: int = 0

    def problems(self) -> list[Problem]:
        return [Problem(sub.key, sub.family, tuple(a.signature for a in arms)) for _, sub, arms in self.items]


@dataclass(frozen=True)
class Counts:
    """Exhaustive and adaptive counts on the same plans (see the module doc)."""

    samples: int
    subtasks: int
    full_rollouts: int
    full_rollout_edits: int
    per_subtask: int
    candidates: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ExploreSummary:
    """What an ``explore`` invocation did."""

    run_dir: str
    method: str
    plans: int = 0
    subtasks: int = 0
    no_candidate: int = 0
    candidates: int = 0
    new_records: int = 0
    tool_calls: int = 0
    judge_calls: int = 0
    seconds: float = 0.0
    counts: Counts | None = None
    allocation: dict[str, Any] = field(default_factory=dict)
    comparison: Comparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (a ratio that is not a number is ``None``)."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("counts", "comparison")}
        out["counts"] = self.counts.to_dict() if self.counts else None
        out["comparison"] = self.comparison.to_dict() if self.comparison else None
        return _finite(out)


def workload(explorer: Explorer, plans: Sequence[SamplePlan]) -> Workload:
    """Every subtask of ``plans`` with its candidates (subtasks without any are counted, not kept)."""
    items: list[tuple[SamplePlan, PlannedSubtask, list[Arm]]] = []
    tools: dict[tuple[str, str, str], int] = {}
    none = 0
    for plan in plans:
        tools[(plan.suite, plan.sample.id, plan.system_id)] = len(explorer.tools_for(plan))
        for sub in plan.subtasks:
            arms = explorer.arms(plan, sub)
            if arms:
                items.append((plan, sub, arms))
            else:
                none += 1
    return Workload(list(plans), items, tools, len(explorer.config.regions), none)


def counts_of(work: Workload) -> Counts:
    full = edits = per = 0
    for plan in work.plans:
        k = sum(1 for p, _, _ in work.items if p is plan)
        tg = work.tools[(plan.suite, plan.sample.id, plan.system_id)] * work.regions
        full += tg ** k
        edits += k * tg ** k
        per += k * tg
    return Counts(samples=len({p.key for p in work.plans}), subtasks=len(work.items), full_rollouts=full,
                  full_rollout_edits=edits, per_subtask=per, candidates=sum(len(a) for _, _, a in work.items))


def _live_oracle(explorer: Explorer, work: Workload):
    def oracle(i: int, a: int) -> Pull:
        plan, sub, arms = work.items[i]
        got = explorer.evaluate(plan, sub, arms[a])
        # calls the procedure asks for (a content-cache hit from an earlier stage still counts here)
        return Pull(got.reward, tool_call=True, judge_call=got.judged, subject=got.subject)

    return oracle


def replay_oracle(work: Workload, records: dict[tuple[Any, str], dict[str, Any]]):
    """An oracle answering from existing records (``(subtask key, arm key) -> record``): no tool, no judge."""

    def oracle(i: int, a: int) -> Pull:
        _, sub, arms = work.items[i]
        rec = records.get((sub.key, arms[a].key))
        if rec is None:
            raise KeyError(f"no exploration record for subtask {sub.key} and candidate {arms[a].decision()}")
        return Pull(rec.get("reward"), tool_call=True, judge_call=rec.get("output") is not None,
                    subject=rec.get("judge_key"))

    return oracle


def exhaustive_records(explorer: Explorer, work: Workload, judge_id: str | None = None
                       ) -> dict[tuple[Any, str], dict[str, Any]] | None:
    """The original-basis records of every candidate of ``work`` for one judge, or ``None`` if any is missing."""
    by: dict[tuple[Any, str], dict[str, Any]] = {}
    from .evaluate import record_key

    for plan, sub, arms in work.items:
        jid = judge_id or explorer.judge(explorer.judge_specs_for(plan)[0]).id
        for arm in arms:
            rec = explorer.index.get(record_key(plan.suite, plan.sample.id, plan.system_id, sub.id, arm, "original",
                                                plan.source_id, jid))
            if rec is None:
                return None
            by[(sub.key, arm.key)] = rec
    return by


# -- parallel exhaustive exploration ----------------------------------------------------------------
_WORKER: dict[str, Explorer] = {}


def _explore_plan(task: tuple[str, ExploreConfig, SamplePlan, frozenset[str]]) -> tuple[list[dict[str, Any]], int, int]:
    """Worker: every candidate of one plan's subtasks whose record is not in ``skip``; records are
    handed back (the driver alone writes the store)."""
    root, config, plan, skip = task
    key = f"{root}|{id(config)}"
    explorer = _WORKER.get(key)
    if explorer is None:
        explorer = _WORKER[key] = Explorer(RunStore(root), config, preload=False)
    t0, j0 = explorer.tool_calls, explorer.judge_calls
    from .evaluate import record_key

    judge_ids = [explorer.judge(spec).id for spec in explorer.judge_specs_for(plan)]
    out: list[dict[str, Any]] = []
    for sub in plan.subtasks:
        for arm in explorer.arms(plan, sub):
            keys = {record_key(plan.suite, plan.sample.id, plan.system_id, sub.id, arm, "original", plan.source_id, j)
                    for j in judge_ids}
            if keys <= skip:
                continue
            got = explorer.evaluate(plan, sub, arm)
            out.extend(r for r in got.records if r["key"] not in skip)
    return out, explorer.tool_calls - t0, explorer.judge_calls - j0


def _prefill(store: RunStore, explorer: Explorer, plans: Sequence[SamplePlan], workers: int,
             show_progress: bool | None) -> None:
    """Evaluate every candidate of ``plans`` in ``workers`` forked processes, one plan per task."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    skip = frozenset(explorer.index)
    bar = progress(len(plans), "explore (workers)", show_progress)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method)) as pool:
            futures = [pool.submit(_explore_plan, (str(store.root), explorer.config, plan, skip)) for plan in plans]
            for fut in as_completed(futures):
                records, tools, judges = fut.result()
                for rec in records:
                    if rec["key"] not in explorer.index:
                        store.append("explorations", rec)
                        explorer.remember(rec)
                        explorer.new_records += 1
                explorer.tool_calls += tools
                explorer.judge_calls += judges
                bar.update(1)
    finally:
        bar.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def explore(run_dir: str, config: ExploreConfig | None = None, *, systems: Sequence[str] = (),
            samples: Iterable[tuple[str, str]] | None = None, adaptive: str | None = None,
            budget: int | None = None, seed: int = 0, options: dict[str, Any] | None = None,
            workers: int = 1, show_progress: bool | None = None) -> ExploreSummary:
    """Explore the plans of the run at ``run_dir`` (resumable; module doc). ``adaptive`` names an
    allocator (``successive-halving`` | ``ucb``); ``options`` go to it (``eta``, ``rounds``,
    ``tolerance``, ``c``, ``rank``, ``max_per_subtask``). ``workers > 1`` runs an exhaustive
    exploration in that many processes (adaptive allocation is sequential by nature)."""
    config = config or ExploreConfig()
    method = adaptive or "exhaustive"
    if method not in ALLOCATORS:
        raise ValueError(f"unknown allocator {method!r}; use one of {', '.join(ALLOCATORS)}")
    t0 = time.perf_counter()
    started = _now()
    store = RunStore.open(run_dir)
    summary = ExploreSummary(run_dir=str(store.root), method=method)
    with store:
        explorer = Explorer(store, config, sink=lambda rec: store.append("explorations", rec))
        plans = read_plans(store, systems, samples)
        work = workload(explorer, plans)
        summary.plans, summary.subtasks, summary.no_candidate = len(plans), len(work.items), work.no_candidate
        summary.counts = counts_of(work)
        summary.candidates = summary.counts.candidates
        problems = work.problems()
        if method == "exhaustive" and workers > 1 and budget is None:
            _prefill(store, explorer, plans, workers, show_progress)
        bar = progress(len(problems), f"explore ({method})", show_progress)
        oracle = _live_oracle(explorer, work)
        seen_problems: set[int] = set()

        def ticking(i: int, a: int) -> Pull:
            if i not in seen_problems:
                seen_problems.add(i)
                bar.update(1)
            return oracle(i, a)

        try:
            alloc = ALLOCATORS[method](problems, ticking, budget=budget, seed=seed, **(options or {}))
        finally:
            bar.close()
        summary.allocation = alloc.summary()
        if method != "exhaustive":
            full_records = exhaustive_records(explorer, work)
            if full_records is not None:
                full = ALLOCATORS["exhaustive"](problems, replay_oracle(work, full_records), seed=seed)
                summary.comparison = compare(alloc, full)
        summary.new_records = explorer.new_records
        summary.tool_calls, summary.judge_calls = explorer.tool_calls, explorer.judge_calls
        summary.seconds = time.perf_counter() - t0
        store.append("stages", {"stage": "explore", "started": started, "ended": _now(), "method": method,
                                "budget": budget, "seed": seed, "options": options or {},
                                "systems": list(systems), "tools": list(config.tools), "judges":
                                [str(j) for j in config.judges], "regions": [dict(r) for r in config.regions],
                                "summary": summary.to_dict()})
        store.sync()
    return summary


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
