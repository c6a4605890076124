"""The runner: suites × systems, then × judges, into a run store, resumable at every task.

Tasks are keyed by content — (suite, sample, system) for edits, (suite, sample, system, judge) for
judgements — and a task is done when its record is in the store. Edits run in a worker pool that
rebuilds each system from its spec (threads or processes); the driver alone appends records, one
flushed line each, so a kill at any moment loses at most the task in flight.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bench import registry
from bench.components import Built, build_component
from bench.context import Budget, EditContext, ToolBox
from bench.errors import UsageError
from bench.ids import content_hash, derive_seed
from bench.images import ImageStore
from bench.judging import ItemMaker, JudgeTask, batches_of, judge_batch_size, judge_tasks, pending_tasks
from bench.model import Judgement, Sample, Suite, Trajectory
from bench.progress import progress
from bench.spec import ComponentSpec
from bench.store import RunStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """Which samples of each suite to run. Not part of the run's identity (name, ids)."""

    limit: int | None = None
    samples: tuple[str, ...] = ()
    shard: tuple[int, int] | None = None

    def apply(self, suite: Suite) -> list[Sample]:
        chosen = list(suite.samples)
        if self.samples:
            known = {s.id for s in chosen}
            missing = [sid for sid in self.samples if sid not in known]
            if missing and len(missing) == len(self.samples):
                raise UsageError(f"suite {suite.ref} has no sample {missing[0]!r}", field="--sample")
            chosen = [s for s in chosen if s.id in set(self.samples)]
        if self.shard:
            i, n = self.shard
            chosen = [s for s in chosen if int(content_hash([suite.ref, s.id], 8), 16) % n == i]
        if self.limit is not None:
            chosen = chosen[: self.limit]
        return chosen

    def to_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "samples": list(self.samples), "shard": list(self.shard) if self.shard else None}


@dataclass
class RunSummary:
    run_dir: str
    trajectories: int = 0
    failed: int = 0
    refused: int = 0
    judgements: int = 0
    unscored: int = 0
    judge_errors: int = 0
    new_trajectories: int = 0
    new_judgements: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def run_name(suites: Sequence[Suite], systems: Sequence[Built], seed: int) -> str:
    """Derived from what the run computes (suites, systems, seed), never from selection flags,
    so re-running the same command finds and resumes the same directory."""
    key = content_hash(
        {"suites": [[s.ref, s.info.hash] for s in suites], "systems": sorted(b.id for b in systems), "seed": seed}, 10
    )
    stem = "+".join(s.info.name for s in suites)[:40]
    return f"{stem}-{key}"


# -- the edit worker ------------------------------------------------------------------------------
# One cache of built systems per worker process (or per driver, for threads): models load once.
_WORKER_SYSTEMS: dict[str, Any] = {}


@dataclass(frozen=True)
class EditTask:
    suite: str
    sample: dict[str, Any]  # Sample.to_dict(), already without truth/reference unless oracle
    source_id: str
    system_name: str
    system_args: dict[str, Any]
    system_id: str
    images_root: str
    seed: int
    max_tool_calls: int | None = 32
    max_seconds: float | None = None
    device: str = "cpu"


def run_edit_task(task: EditTask) -> dict[str, Any]:
    """Run one (sample, system) edit; never raises — a failure is a ``failed`` trajectory."""
    t0 = time.perf_counter()
    images = ImageStore(task.images_root)
    ctx = EditContext(
        images=images, seed=task.seed, tools=ToolBox(),
        budget=Budget(max_tool_calls=task.max_tool_calls, max_seconds=task.max_seconds),
        device=task.device, suite=task.suite, sample_id=task.sample["id"], system_id=task.system_id,
    )
    try:
        system = _WORKER_SYSTEMS.get(task.system_id)
        if system is None:
            system = registry.build("systems", ComponentSpec(task.system_name, task.system_args))
            _WORKER_SYSTEMS[task.system_id] = system
        sample = Sample.from_dict(task.sample)
        image = images.get(task.source_id)
        traj = system.edit(sample, image, ctx)
        if not isinstance(traj, Trajectory):
            raise TypeError(f"system {task.system_name!r} returned {type(traj).__name__}, not a Trajectory")
        traj = traj.replace(suite=task.suite, sample_id=sample.id, system_id=task.system_id)
        if traj.status == "ok" and not traj.final:
            traj = traj.replace(status="failed", error=traj.error or "system returned no final image")
    except Exception as err:  # a failing sample is recorded and the run goes on
        log.debug("edit failed: %s", traceback.format_exc())
        traj = ctx.trajectory(None, status="failed", error=f"{type(err).__name__}: {err}")
    tele = traj.telemetry.replace(seconds=time.perf_counter() - t0)
    return traj.replace(telemetry=tele).to_dict()


def _make_pool(kind: str, workers: int):
    if workers <= 1 or kind == "inline":
        return None
    if kind == "process":
        import multiprocessing as mp

        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method))
    return ThreadPoolExecutor(max_workers=workers)


def _run_pool(fn, tasks: list[Any], pool, on_done, desc: str, show: bool | None) -> None:
    """Run tasks with at most ~2×workers in flight, handing each result to ``on_done`` as it lands."""
    bar = progress(len(tasks), desc, show)
    try:
        if pool is None:
            for t in tasks:
                on_done(t, fn(t))
                bar.update(1)
            return
        pending: dict[Future, Any] = {}
        it = iter(tasks)
        window = max(2, 2 * getattr(pool, "_max_workers", 2))
        for t in it:
            pending[pool.submit(fn, t)] = t
            if len(pending) >= window:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                t = pending.pop(fut)
                on_done(t, fut.result())
                bar.update(1)
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(fn, nxt)] = nxt
    finally:
        bar.close()


# -- the driver ------------------------------------------------------------------------------------
@dataclass
class RunOptions:
    seed: int = 0
    selection: Selection = field(default_factory=Selection)
    workers: int = max(1, min(4, os.cpu_count() or 1))
    executor: str = "process"  # process | thread | inline
    retry_failed: bool = False
    max_tool_calls: int | None = 32
    max_seconds: float | None = None
    device: str = "cpu"
    show_progress: bool | None = None
    # Called as after_judging(store, judges, opts) when a stage wrote new judgements: the CLI passes
    # judges.probes.after_judging (controls on a sample, drift canaries), keeping bench free of judges.
    after_judging: Any = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("editbench", "numpy", "pillow", "scikit-image", "scipy", "pandas", "torch", "transformers",
                "diffusers", "open_clip_torch", "lpips", "torchmetrics", "openai"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def _git_revision() -> str | None:
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        res = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def record_components(store: RunStore, *, suites: Iterable[Suite] = (), systems: Iterable[Built] = (),
                      judges: Iterable[Built] = (), seed: int | None = None, selection: Selection | None = None,
                      name: str | None = None) -> dict[str, Any]:
    """Merge what this stage uses into ``run.json`` (components by id, suites by ref, score specs)."""
    meta = store.read_meta()
    meta.setdefault("name", name or store.root.name)
    meta.setdefault("started", _now())
    if seed is not None:
        meta.setdefault("seed", seed)
    comps = meta.setdefault("components", {})
    for kind, built in (("systems", systems), ("judges", judges)):
        have = {c["id"] for c in comps.setdefault(kind, [])}
        for b in built:
            if b.id not in have:
                comps[kind].append(b.record().to_dict())
                have.add(b.id)
    suite_list = meta.setdefault("suites", [])
    have_suites = {s["name"] + "@" + s["version"] for s in suite_list}
    for s in suites:
        if s.ref not in have_suites:
            suite_list.append(s.info.to_dict())
            have_suites.add(s.ref)
    specs = meta.setdefault("score_specs", {})
    for b in judges:
        specs[b.id] = [sp.to_dict() for sp in b.score_specs()]
    if selection is not None:
        meta["selection"] = selection.to_dict()
    meta["packages"] = _package_versions()
    meta["git"] = _git_revision()
    store.write_meta(meta)
    return meta


# Files that travel beside an image and carry what its generator knows (bench.scene writes
# ``<stem>.scene.json``). They are copied with the image into the run's content-addressed store.
SIDECAR_SUFFIXES: tuple[str, ...] = (".scene.json",)


def copy_sidecars(image_path: str, images: ImageStore, image_id_: str) -> None:
    from pathlib import Path

    p = Path(image_path)
    for suffix in SIDECAR_SUFFIXES:
        side = p.with_name(p.stem + suffix)
        if side.exists():
            images.put_sidecar(image_id_, suffix, side.read_bytes())


def run_edits(store: RunStore, suites: Sequence[Suite], systems: Sequence[Built], opts: RunOptions,
              summary: RunSummary) -> None:
    have_samples = set(store.samples())
    done = store.trajectories()
    tasks: list[EditTask] = []
    for suite in suites:
        for sample in opts.selection.apply(suite):
            src = store.images.put(suite.image(sample))
            copy_sidecars(suite.image_path(sample), store.images, src)
            if (suite.ref, sample.id) not in have_samples:
                stored = sample.replace(image=sample.image.replace(id=src, path=None))
                store.append("samples", {"suite": suite.ref, "sample": stored.to_dict()})
                have_samples.add((suite.ref, sample.id))
            for b in systems:
                prev = done.get((suite.ref, sample.id, b.id))
                if prev is not None and not (opts.retry_failed and prev.status == "failed"):
                    continue
                oracle = bool(getattr(b.obj.info(), "oracle", False)) if hasattr(b.obj, "info") else False
                tasks.append(EditTask(
                    suite=suite.ref, sample=sample.for_system(oracle).to_dict(), source_id=src,
                    system_name=b.spec.name, system_args=dict(b.spec.args), system_id=b.id,
                    images_root=str(store.images.root), seed=derive_seed(opts.seed, suite.ref, sample.id, b.id),
                    max_tool_calls=opts.max_tool_calls, max_seconds=opts.max_seconds, device=opts.device,
                ))

    def on_done(task: EditTask, rec: dict[str, Any]) -> None:
        store.append("trajectories", rec)
        summary.new_trajectories += 1

    # Systems built in this process are reused by inline/thread workers.
    for b in systems:
        _WORKER_SYSTEMS.setdefault(b.id, b.obj)
    pool = _make_pool(opts.executor, min(opts.workers, max(1, len(tasks))))
    try:
        _run_pool(run_edit_task, tasks, pool, on_done, "edit", opts.show_progress)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def run_judges(store: RunStore, judges: Sequence[Built], opts: RunOptions, summary: RunSummary,
               suites: Sequence[str] | None = None) -> None:
    """Judge every trajectory (pair, set) of the selection that lacks a judgement from each judge."""
    samples = store.samples()
    trajs = store.trajectories()
    done = store.judgements()
    maker = ItemMaker(store, samples)
    for b in judges:
        tasks = pending_tasks(b, trajs, samples, done, retry_failed=opts.retry_failed, suites=suites)
        batches = batches_of(tasks, judge_batch_size(b))

        def on_done(batch: list[JudgeTask], results: list[Judgement]) -> None:
            for j in results:
                store.append("judgements", j)
                summary.new_judgements += 1

        pool = _make_pool("thread", min(opts.workers, max(1, len(batches))))
        try:
            _run_pool(lambda batch, b=b: judge_tasks(b, batch, maker), batches, pool, on_done,
                      f"judge {b.spec.name}", opts.show_progress)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def summarize(store: RunStore, summary: RunSummary, suites: Sequence[str] | None = None,
              keys: set[tuple[str, str]] | None = None) -> RunSummary:
    """Count what the store holds for the selection (not only what this invocation added)."""
    for t in store.trajectories().values():
        if (suites is not None and t.suite not in suites) or (keys is not None and (t.suite, t.sample_id) not in keys):
            continue
        summary.trajectories += 1
        if t.status == "failed":
            summary.failed += 1
            summary.failures.append(f"{t.suite} {t.sample_id} {t.system_id}: {t.error}")
        elif t.status == "refused":
            summary.refused += 1
    for j in store.judgements().values():
        if (suites is not None and j.suite not in suites) or (keys is not None and (j.suite, j.sample_id) not in keys):
            continue
        summary.judgements += 1
        if j.status in ("unscored", "refused"):
            summary.unscored += 1
        elif j.status == "error":
            summary.judge_errors += 1
    return summary


def execute(runs_dir: str, suites: Sequence[Suite], system_specs: Sequence[ComponentSpec],
            judge_specs: Sequence[ComponentSpec], opts: RunOptions, name: str | None = None) -> RunSummary:
    """Run (or resume) suites × systems × judges into ``runs_dir/<name>``."""
    t0 = time.perf_counter()
    if not suites:
        raise UsageError("no suite to run")
    if not system_specs:
        raise UsageError("no system to run")
    systems = [build_component("systems", s) for s in system_specs]
    judges = [build_component("judges", s) for s in judge_specs]
    _check_unique(systems, "system")
    _check_unique(judges, "judge")
    name = name or run_name(suites, systems, opts.seed)
    store = RunStore.open(os.path.join(runs_dir, name), create=True)
    summary = RunSummary(run_dir=str(store.root))
    started = _now()
    with store:
        record_components(store, suites=suites, systems=systems, judges=judges, seed=opts.seed,
                          selection=opts.selection, name=name)
        meta = store.read_meta()
        if meta.get("seed", opts.seed) != opts.seed:
            raise UsageError(f"run {name} was started with seed {meta['seed']}, not {opts.seed}")
        run_edits(store, suites, systems, opts, summary)
        run_judges(store, judges, opts, summary, suites=[s.ref for s in suites])
        if opts.after_judging is not None and judges and summary.new_judgements:
            opts.after_judging(store, judges, opts)
        keys = {(s.ref, x.id) for s in suites for x in opts.selection.apply(s)}
        summarize(store, summary, [s.ref for s in suites], keys)
        store.append("stages", {"stage": "run", "started": started, "ended": _now(),
                                "systems": [b.id for b in systems], "judges": [b.id for b in judges],
                                "suites": [s.ref for s in suites], "selection": opts.selection.to_dict(),
                                "new_trajectories": summary.new_trajectories, "new_judgements": summary.new_judgements})
        meta = store.read_meta()
        meta["ended"] = _now()
        store.write_meta(meta)
        store.sync()
    summary.seconds = time.perf_counter() - t0
    return summary


def judge_existing(run_dir: str, judge_specs: Sequence[ComponentSpec], opts: RunOptions) -> RunSummary:
    """Add judges to a finished run (the ``editbench judge`` stage)."""
    t0 = time.perf_counter()
    store = RunStore.open(run_dir)
    judges = [build_component("judges", s) for s in judge_specs]
    _check_unique(judges, "judge")
    summary = RunSummary(run_dir=str(store.root))
    started = _now()
    with store:
        record_components(store, judges=judges)
        run_judges(store, judges, opts, summary)
        if opts.after_judging is not None and judges and summary.new_judgements:
            opts.after_judging(store, judges, opts)
        summarize(store, summary)
        store.append("stages", {"stage": "judge", "started": started, "ended": _now(),
                                "judges": [b.id for b in judges], "new_judgements": summary.new_judgements})
        store.sync()
    summary.seconds = time.perf_counter() - t0
    return summary


def _check_unique(built: Sequence[Built], what: str) -> None:
    seen: dict[str, str] = {}
    for b in built:
        if b.id in seen:
            raise UsageError(f"{what} {b.display!r} is the same as {seen[b.id]!r} (same resolved configuration)")
        seen[b.id] = b.display
