"""The probe stage: controls, canaries, pinning, bias checks, guard and tracks, for a run's judges.

Two entry points:

* :func:`run_probes` — ``editbench probe RUN --judge ...``: everything, on as many samples as asked;
* :func:`after_judging` — the runner's hook at the end of every judging stage: the same on a small
  seeded sample (:data:`AUTO_SAMPLES`), canaries re-judged (cache bypassed), records appended.

Records go to ``probes.jsonl`` (kinds ``control``, ``control_summary``, ``pinning``,
``position_bias``, ``length_bias``, ``stability``, ``guard``, ``track``) and ``canaries.jsonl`` (``baseline``,
``check``); one ``stages.jsonl`` line says what ran when. Summary records identical to the latest
of their kind (timestamps aside) are not appended again, so resuming a run does not grow the file;
canary checks are always appended: they are the drift log. Readers take the latest record per
(kind, judge id or system id, suite, score): :func:`latest`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bench.components import Built
from bench.store import RunStore

from .bias import length_effects, position_bias
from .canaries import DEFAULT_TOLERANCE, read_baseline, run_canaries
from .control_stage import ControlPlan, run_controls
from .controls import CONTROLS
from .guard import guard_records, track_records
from .pinning import check_pinning
from .stability import stability_records

log = logging.getLogger(__name__)

#: Samples given controls on every judged run (7 controls each, per sample-scope judge). Eight, not
#: fewer: with three, the real-vs-control gap's interval is so wide that sound judges (the
#: heuristic, PSNR) were flagged on the offline default for lack of evidence, not for failing.
AUTO_SAMPLES = 8
_VOLATILE = ("at",)


@dataclass(frozen=True)
class ProbeOptions:
    """What :func:`run_probes` does. ``samples``: how many seeded samples get controls."""

    samples: int = 12
    seed: int = 0
    controls: tuple[str, ...] = CONTROLS
    run_controls: bool = True
    canaries: bool = True
    tolerance: float = DEFAULT_TOLERANCE
    canary_baseline: str | None = None  # another run directory whose canary baselines to compare with
    bias: bool = True
    stability: bool = True
    systems: bool = True  # guard and track records
    show_progress: bool | None = None
    isolate_errors: bool = False  # the hook: one judge's probe failing is logged, the others go on


@dataclass
class JudgeProbe:
    """Everything probed about one judge (the records as written)."""

    judge_id: str
    display: str
    controls: dict[str, Any] | None = None
    canary: dict[str, Any] | None = None
    pinning: dict[str, Any] | None = None
    position_bias: dict[str, Any] | None = None
    length_bias: dict[str, Any] | None = None
    stability: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.controls and self.controls.get("status") == "flagged")

    @property
    def drifted(self) -> bool:
        return bool(self.canary and self.canary.get("status") == "drift")


@dataclass
class ProbeReport:
    run_dir: str
    judges: list[JudgeProbe] = field(default_factory=list)
    guard: list[dict[str, Any]] = field(default_factory=list)
    tracks: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def flagged(self) -> list[str]:
        return [j.judge_id for j in self.judges if j.flagged]

    @property
    def drifted(self) -> list[str]:
        return [j.judge_id for j in self.judges if j.drifted]

    @property
    def warnings(self) -> list[str]:
        out = []
        for j in self.judges:
            out += [f"{j.display}: {w}" for w in (j.pinning or {}).get("warnings", [])]
        for t in self.tracks:
            out += [f"{t['system_id']}: {w}" for w in t.get("warnings", [])]
        return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _key(rec: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(rec.get("kind")),
        str(rec.get("judge_id") or rec.get("system_id") or ""),
        str(rec.get("suite") or ""),
        str(rec.get("score") or ""),
    )


def latest(store: RunStore, name: str = "probes") -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """The latest record per (kind, judge id or system id, suite, score) of ``probes`` or
    ``canaries``; suite and score are ``""`` for records that have none (all but ``stability``).

    ``control`` records (one per control) are keyed by their judge only and so are not useful here:
    read them with ``store.records("probes")``.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for _, rec in store.records(name):
        out[_key(rec)] = rec
    return out


def _strip(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if k not in _VOLATILE and k != "v"}


def _append_if_changed(
    store: RunStore, rec: dict[str, Any], seen: dict[tuple[str, str, str, str], dict[str, Any]]
) -> None:
    prev = seen.get(_key(rec))
    if prev is not None and _strip(prev) == _strip(rec):
        return
    store.append("probes", rec)
    seen[_key(rec)] = rec


def run_probes(
    store: RunStore, judges: Sequence[Built], options: ProbeOptions = ProbeOptions()
) -> ProbeReport:
    """Probe ``judges`` on the run in ``store`` (see the module docstring); never edits judgements."""
    from bench.progress import progress

    t0 = time.perf_counter()
    started = _now()
    report = ProbeReport(run_dir=str(store.root))
    seen = latest(store)
    judgements = list(store.judgements().values())
    trajectories = store.trajectories()
    plan = (
        ControlPlan.build(store, options.samples, options.seed, options.controls)
        if options.run_controls
        else None
    )
    other = RunStore.open(options.canary_baseline) if options.canary_baseline else None
    meta = store.read_meta()
    guard = guard_records(meta)
    bar = progress(len(judges), "probe", options.show_progress)
    try:
        for b in judges:
            jp = JudgeProbe(b.id, b.display)
            try:
                _probe_judge(store, b, jp, plan, options, other, seen, judgements, trajectories, guard)
            except Exception as err:
                if not options.isolate_errors:
                    raise
                log.error("probe of judge %s failed: %s", b.display, err, exc_info=True)
                store.append(
                    "probes",
                    {
                        "kind": "probe_error",
                        "judge_id": b.id,
                        "error": f"{type(err).__name__}: {err}",
                        "at": _now(),
                    },
                )
            report.judges.append(jp)
            bar.update(1)
    finally:
        bar.close()
        if other is not None:
            other.close()
    if options.systems:
        report.guard = guard
        report.tracks = track_records(meta, trajectories)
        for rec in [*report.guard, *report.tracks]:
            _append_if_changed(store, rec, seen)
    report.seconds = time.perf_counter() - t0
    store.append(
        "stages",
        {
            "stage": "probe",
            "started": started,
            "ended": _now(),
            "judges": [b.id for b in judges],
            "samples": options.samples if options.run_controls else 0,
            "seed": options.seed,
            "controls": list(options.controls) if options.run_controls else [],
            "canaries": options.canaries,
            "tolerance": options.tolerance,
            "flagged": report.flagged,
            "drifted": report.drifted,
        },
    )
    store.sync()
    return report


def _probe_judge(
    store: RunStore,
    b: Built,
    jp: JudgeProbe,
    plan: ControlPlan | None,
    options: ProbeOptions,
    other: RunStore | None,
    seen: dict[tuple[str, str, str, str], dict[str, Any]],
    judgements: list[Any],
    trajectories: dict[Any, Any],
    guard: list[dict[str, Any]],
) -> None:
    """Every per-judge probe, filling ``jp`` with the records as written."""
    if plan is not None:
        jp.controls = run_controls(store, b, plan)
        _append_if_changed(store, jp.controls, seen)
    if options.canaries:
        base = read_baseline(other, b.id) if other is not None else None
        if other is not None and base is None:
            log.warning("judge %s has no canary baseline in %s; using this run's", b.display, other.root)
        jp.canary = run_canaries(store, b, tolerance=options.tolerance, baseline=base)
    jp.pinning = check_pinning(b, judgements)
    _append_if_changed(store, jp.pinning, seen)
    if options.bias:
        jp.position_bias = position_bias(b, judgements, options.seed)
        jp.length_bias = length_effects(b, judgements, trajectories, options.seed)
        _append_if_changed(store, jp.position_bias, seen)
        _append_if_changed(store, jp.length_bias, seen)
    if options.stability:
        jp.stability = stability_records(b, judgements, guard, options.seed)
        for rec in jp.stability:
            _append_if_changed(store, rec, seen)


def after_judging(store: RunStore, judges: Sequence[Built], opts: Any = None) -> ProbeReport:
    """The runner's hook: probe the judges of a judging stage on :data:`AUTO_SAMPLES` samples.

    ``opts`` is the runner's ``RunOptions`` (its ``seed`` and ``show_progress`` are used when
    present). A judge's failure to judge is recorded as ``error`` judgements, never raised; an
    exception while probing one judge (a bug) is logged and recorded as a ``probe_error`` record,
    so hours of judging are never lost to it.
    """
    options = ProbeOptions(
        samples=AUTO_SAMPLES,
        seed=int(getattr(opts, "seed", 0) or 0),
        show_progress=getattr(opts, "show_progress", None),
        isolate_errors=True,
    )
    report = run_probes(store, judges, options)
    for jid in report.flagged:
        log.warning("probe: judge %s cannot tell controls from real edits (see probes.jsonl)", jid)
    for jid in report.drifted:
        log.warning("probe: judge %s drifted on the canaries (see canaries.jsonl)", jid)
    return report
