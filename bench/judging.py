"""The judging stage: which judgements are missing, and how each judge scope gets its items.

Three scopes, one mechanism:
- ``sample``: one item per trajectory; key (suite, sample, system, judge).
- ``pairwise``: one item per pair of systems on a sample, the competitor in ``item.other``; the pair
  is ordered by system id so each comparison is asked once; key (suite, sample, a, versus=b, judge).
  A pairwise judge asks both orders itself (position bias is its business, not the runner's).
- ``set``: one call per (suite, system) with all its results (FID-like scores); key (suite, "*",
  system, judge). It is redone when the set of results it covered changes.
A trajectory without a result is never shown to a judge: the runner records ``unscored`` itself,
so failures are counted, never scored.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.components import Built
from bench.ids import content_hash
from bench.model import Judgement, Sample, Trajectory
from bench.protocols import JudgeItem
from bench.store import RunStore

log = logging.getLogger(__name__)

SET_SAMPLE = "*"
NO_RESULT = "no result to judge"


@dataclass(frozen=True)
class JudgeTask:
    """One judgement to produce: its trajectories (1 for sample scope, 2 for pairwise, n for set)."""

    scope: str
    trajectories: tuple[Trajectory, ...]

    @property
    def key(self) -> tuple[str, str, str, str]:
        t = self.trajectories[0]
        if self.scope == "set":
            return (t.suite, SET_SAMPLE, t.system_id, "")
        if self.scope == "pairwise":
            return (t.suite, t.sample_id, t.system_id, self.trajectories[1].system_id)
        return (t.suite, t.sample_id, t.system_id, "")


def _covered(trajs: Sequence[Trajectory]) -> str:
    return content_hash(sorted([t.sample_id, t.final or ""] for t in trajs if t.status == "ok"), 16)


def pending_tasks(b: Built, trajs: dict[tuple[str, str, str], Trajectory], samples: dict[tuple[str, str], Sample],
                  done: dict[tuple[str, str, str, str, str], Judgement], *, retry_failed: bool,
                  suites: Sequence[str] | None) -> list[JudgeTask]:
    scope = getattr(b.obj, "scope", "sample")
    chosen = [t for k, t in sorted(trajs.items())
              if (suites is None or t.suite in suites) and (t.suite, t.sample_id) in samples]

    def stale(prev: Judgement | None, ok_now: bool) -> bool:
        if prev is None:
            return True
        if retry_failed and prev.status == "error":
            return True
        # "unscored" because a trajectory had failed, and a retried trajectory now has a result.
        return ok_now and prev.status == "unscored" and (prev.error or "").startswith(NO_RESULT)

    tasks: list[JudgeTask] = []
    if scope == "sample":
        for t in chosen:
            if stale(done.get((t.suite, t.sample_id, t.system_id, "", b.id)), t.status == "ok"):
                tasks.append(JudgeTask("sample", (t,)))
    elif scope == "pairwise":
        by_sample: dict[tuple[str, str], list[Trajectory]] = defaultdict(list)
        for t in chosen:
            by_sample[(t.suite, t.sample_id)].append(t)
        for group in by_sample.values():
            group.sort(key=lambda t: t.system_id)
            for i, a in enumerate(group):
                for c in group[i + 1:]:
                    prev = done.get((a.suite, a.sample_id, a.system_id, c.system_id, b.id))
                    if stale(prev, a.status == "ok" and c.status == "ok"):
                        tasks.append(JudgeTask("pairwise", (a, c)))
    elif scope == "set":
        by_system: dict[tuple[str, str], list[Trajectory]] = defaultdict(list)
        for t in chosen:
            by_system[(t.suite, t.system_id)].append(t)
        for (suite, system), group in sorted(by_system.items()):
            prev = done.get((suite, SET_SAMPLE, system, "", b.id))
            covered = (prev.rationale or {}).get("covered") if prev is not None and isinstance(prev.rationale, dict) else None
            if prev is None or covered != _covered(group) or (retry_failed and prev.status == "error"):
                tasks.append(JudgeTask("set", tuple(group)))
    else:
        from bench.errors import UsageError

        raise UsageError(f"judge {b.display!r} declares unknown scope {scope!r} (sample | pairwise | set)")
    return tasks


def _unscored(task: JudgeTask, judge_id: str, status: str, error: str) -> Judgement:
    suite, sample_id, system_id, versus = task.key
    return Judgement(suite=suite, sample_id=sample_id, system_id=system_id, versus=versus or None,
                     scope="set" if task.scope == "set" else "sample", judge_id=judge_id,
                     status=status, error=error)  # type: ignore[arg-type]


class ItemMaker:
    """Builds :class:`JudgeItem` s from the store (images loaded on demand)."""

    def __init__(self, store: RunStore, samples: dict[tuple[str, str], Sample]) -> None:
        self.store = store
        self.samples = samples

    def item(self, t: Trajectory, other: JudgeItem | None = None) -> JudgeItem:
        sample = self.samples[(t.suite, t.sample_id)]
        return JudgeItem(suite=t.suite, sample=sample, source=self.store.images.get(sample.image.id),
                         final=self.store.images.get(t.final), trajectory=t, load_image=self.store.images.get,
                         other=other, put_raw=self.store.put_raw, get_sidecar=self.store.images.get_sidecar,
                         load_png=self.store.images.get_png)


def judge_tasks(b: Built, tasks: list[JudgeTask], maker: ItemMaker) -> list[Judgement]:
    """Run one batch of tasks of one judge; never raises (a crashing judge gives ``error`` records)."""
    out: list[Judgement | None] = [None] * len(tasks)
    calls: list[tuple[list[int], list[JudgeItem]]] = []  # (task indices, items) per judge call
    sample_call: tuple[list[int], list[JudgeItem]] = ([], [])
    for i, task in enumerate(tasks):
        failed = [t for t in task.trajectories if t.status != "ok" or not t.final]
        if task.scope != "set" and failed:
            t = failed[0]
            out[i] = _unscored(task, b.id, "unscored", f"{NO_RESULT}: trajectory of {t.system_id} {t.status}"
                               + (f" ({t.error})" if t.error else ""))
            continue
        if task.scope == "set":
            ok = [t for t in task.trajectories if t.status == "ok" and t.final]
            if not ok:
                out[i] = _unscored(task, b.id, "unscored", f"{NO_RESULT}: no trajectory of the set has a result")
                continue
            calls.append(([i], [maker.item(t) for t in ok]))
        elif task.scope == "pairwise":
            a, c = task.trajectories
            sample_call[0].append(i)
            sample_call[1].append(maker.item(a, other=maker.item(c)))
        else:
            sample_call[0].append(i)
            sample_call[1].append(maker.item(task.trajectories[0]))
    if sample_call[0]:
        calls.append(sample_call)
    for idx, items in calls:
        t0 = time.perf_counter()
        is_set = tasks[idx[0]].scope == "set"
        try:
            results = list(b.obj.judge(items))
            expected = 1 if is_set else len(items)
            if len(results) != expected:
                raise RuntimeError(f"returned {len(results)} judgements for {expected} expected")
        except Exception as err:
            log.debug("judge failed: %s", traceback.format_exc())
            results = [_unscored(tasks[i], b.id, "error", f"{type(err).__name__}: {err}") for i in idx]
        per_item = (time.perf_counter() - t0) / len(results)
        for i, j in zip(idx, results, strict=True):
            suite, sample_id, system_id, versus = tasks[i].key
            tele = j.telemetry if j.telemetry.seconds else j.telemetry.replace(seconds=per_item)
            rationale = j.rationale
            if is_set:
                rationale = {**(rationale if isinstance(rationale, dict) else {"text": rationale}),
                             "covered": _covered(tasks[i].trajectories), "n": len(items)}
            out[i] = j.replace(suite=suite, sample_id=sample_id, system_id=system_id, versus=versus or None,
                               scope="set" if is_set else "sample", judge_id=b.id, telemetry=tele, rationale=rationale)
    return [j for j in out if j is not None]


def batches_of(tasks: list[JudgeTask], size: int) -> list[list[JudgeTask]]:
    """Sample and pairwise tasks in batches of ``size``; each set task alone."""
    sets = [[t] for t in tasks if t.scope == "set"]
    rest = [t for t in tasks if t.scope != "set"]
    return [rest[i:i + size] for i in range(0, len(rest), size)] + sets


def judge_batch_size(b: Built) -> int:
    value: Any = getattr(b.obj, "batch_size", 16)
    return max(1, int(value or 16))
