"""Running controls for one judge on a run and recording them in ``probes.jsonl``.

Resumable like every stage: a control record is found by (judge id, controls version, suite,
sample, control, real system, control image); what exists is not judged again (except ``error``
records: transport failures are retried), and the judge's summary is recomputed from *every*
control record of the judge in the run (so evidence only grows: the runner's small automatic probe
after a large ``editbench probe`` keeps the large one's numbers); the latest summary wins.

The real result's judgement is the one in ``judgements.jsonl`` when the judge has already judged
it (so the gap compares with the very numbers the leaderboard shows); otherwise the probe judges it
and keeps it as a ``control: real`` record, never in ``judgements.jsonl``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bench.components import Built
from bench.model import Judgement
from bench.store import RunStore

from . import summary as S
from .checks import headline_score, read_control
from .controls import CONTROLS, CONTROLS_VERSION, ControlCase, RealResult, choose_real_results, make_cases
from .running import judge_items, make_item

log = logging.getLogger(__name__)

CONTROL_KIND = "control"
SUMMARY_KIND = "control_summary"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def declared_kinds(b: Built) -> dict[str, str] | None:
    """A judge's own ``score_kinds`` mapping, if it declares one."""
    got = getattr(b.obj, "score_kinds", None)
    return dict(got) if isinstance(got, dict) else None


def _judgement_fields(j: Judgement) -> dict[str, Any]:
    d = j.to_dict()
    return {
        k: d.get(k)
        for k in (
            "status",
            "scores",
            "na",
            "verdicts",
            "draws",
            "error",
            "rationale",
            "raw",
            "model_resolved",
            "endpoint_host",
        )
    }


def _stored(store: RunStore, judge_id: str) -> dict[tuple, dict[str, Any]]:
    """The judge's control records by key, ``error`` ones (a transport failure,
    a crashing judge) are left out so that the next probe judges them again."""
    out: dict[tuple, dict[str, Any]] = {}
    for _, r in store.records("probes"):
        if (
            r.get("kind") == CONTROL_KIND
            and r.get("judge_id") == judge_id
            and r.get("version") == CONTROLS_VERSION
        ):
            key = (r["suite"], r["sample_id"], r["control"], r["real_system_id"], r["image"])
            if r.get("status") == "error":
                out.pop(key, None)
            else:
                out[key] = r
    return out


def _real_judgements(
    store: RunStore, b: Built, reals: Sequence[RealResult], stored: dict[tuple, dict[str, Any]]
) -> dict[tuple[str, str], Judgement]:
    """The judge's verdict on each real result: from judgements.jsonl, a stored probe record, or now."""
    judged = store.judgements()
    out: dict[tuple[str, str], Judgement] = {}
    todo: list[RealResult] = []
    for real in reals:
        t = real.trajectory
        j = judged.get((t.suite, t.sample_id, t.system_id, "", b.id))
        rec = stored.get((t.suite, t.sample_id, "real", t.system_id, t.final))
        if j is not None:
            out[(t.suite, t.sample_id)] = j
        elif rec is not None:
            out[(t.suite, t.sample_id)] = _from_record(rec, b.id, t.system_id)
        else:
            todo.append(real)
    if todo:
        items = [
            make_item(
                r.suite,
                r.sample,
                store.images.get(r.sample.image.id),
                store.images.get(str(r.trajectory.final)),
                r.trajectory,
                store=store,
            )
            for r in todo
        ]
        for real, j in zip(todo, judge_items(b, items), strict=True):
            t = real.trajectory
            out[(t.suite, t.sample_id)] = j
            store.append(
                "probes",
                {
                    "kind": CONTROL_KIND,
                    "version": CONTROLS_VERSION,
                    "judge_id": b.id,
                    "suite": t.suite,
                    "sample_id": t.sample_id,
                    "control": "real",
                    "real_system_id": t.system_id,
                    "image": t.final,
                    "real_image": t.final,
                    "expect": None,
                    **_judgement_fields(j),
                    "at": _now(),
                },
            )
    return out


def _from_record(rec: dict[str, Any], judge_id: str, system_id: str) -> Judgement:
    return Judgement(
        suite=rec["suite"],
        sample_id=rec["sample_id"],
        system_id=system_id,
        judge_id=judge_id,
        scores=rec.get("scores") or {},
        verdicts=rec.get("verdicts") or {},
        na=rec.get("na") or {},
        status=rec.get("status") or "ok",
        error=rec.get("error"),
    )


@dataclass(frozen=True)
class ControlPlan:
    """The real results and control cases of one probe, made once and judged by every judge."""

    seed: int
    reals: tuple[RealResult, ...]
    cases: tuple[ControlCase, ...]

    @classmethod
    def build(
        cls, store: RunStore, samples: int, seed: int = 0, controls: Sequence[str] = CONTROLS
    ) -> ControlPlan:
        reals = choose_real_results(store, samples, seed)
        cases = make_cases(store, reals, seed, controls)
        usable = {(c.real.suite, c.real.sample.id) for c in cases}  # images that could not load: none
        return cls(seed, tuple(r for r in reals if (r.suite, r.sample.id) in usable), tuple(cases))


def run_controls(store: RunStore, b: Built, plan: ControlPlan) -> dict[str, Any]:
    """Judge the controls of ``plan`` with judge ``b``; returns the judge's summary record.

    Control records are appended as they are judged; the summary is returned for the caller to
    append (:func:`judges.probes.stage.run_probes` skips one identical to the latest).

    A judge whose scope is not ``sample`` gets a summary with status ``n/a`` (pairwise judges are
    checked for position bias instead; set-scope scores have no per-sample control).
    """
    scope = getattr(b.obj, "scope", "sample")
    if scope != "sample":
        rec = {
            "kind": SUMMARY_KIND,
            "version": CONTROLS_VERSION,
            "judge_id": b.id,
            "status": "n/a",
            "reason": f"controls are per result; this judge's scope is {scope!r}",
            "at": _now(),
        }
        return rec
    specs = b.score_specs()
    declared = declared_kinds(b)
    stored = _stored(store, b.id)
    real_js = _real_judgements(store, b, plan.reals, stored)
    present = {n for j in real_js.values() if j.status == "ok" for n in j.scores}
    head = headline_score(specs, declared, present)
    todo = [c for c in plan.cases if c.key not in stored]
    if todo:
        items = [
            make_item(
                c.real.suite,
                c.sample,
                store.images.get(c.sample.image.id),
                store.images.get(c.image_id),
                c.trajectory,
                store=store,
            )
            for c in todo
        ]
        for case, j in zip(todo, judge_items(b, items), strict=True):
            rec = _control_record(
                b,
                case,
                j,
                real_js.get((case.real.suite, case.real.sample.id)),
                specs,
                declared,
                head.name if head else None,
            )
            store.append("probes", rec)
            stored[case.key] = rec
    # every control this judge was ever shown here (this version): more probing is more evidence,
    # so a later small automatic probe never shrinks what a large `editbench probe` established
    records = [r for r in stored.values() if r["control"] != "real"]
    return _summarise(
        store,
        b,
        records,
        specs,
        declared,
        head.name if head else None,
        plan.seed,
        len({(r["suite"], r["sample_id"]) for r in records}),
    )


def _control_record(
    b: Built,
    case: ControlCase,
    j: Judgement,
    real_j: Judgement | None,
    specs: list,
    declared: dict[str, str] | None,
    headline: str | None,
) -> dict[str, Any]:
    same = case.image_id == case.real.trajectory.final and case.sample == case.real.sample
    reading = read_control(
        j,
        real_j,
        case.expect,
        {c.id: c.kind for c in case.sample.checklist},
        specs,
        same_image=same,
        declared=declared,
        headline=headline,
    )
    return {
        "kind": CONTROL_KIND,
        "version": CONTROLS_VERSION,
        "judge_id": b.id,
        "suite": case.real.suite,
        "sample_id": case.real.sample.id,
        "control": case.control,
        "real_system_id": case.real.trajectory.system_id,
        "partner": case.partner,
        "image": case.image_id,
        "real_image": case.real.trajectory.final,
        "same_image": same,
        "expect": dict(case.expect),
        **_judgement_fields(j),
        "real_status": None if real_j is None else real_j.status,
        "real_scores": {} if real_j is None else dict(real_j.scores),
        "basis": reading.basis,
        "checks": [c.to_dict() for c in reading.checks],
        "outcome": reading.outcome,
        "at": _now(),
    }


def _summarise(
    store: RunStore,
    b: Built,
    records: list[dict[str, Any]],
    specs: list,
    declared: dict[str, str] | None,
    headline: str | None,
    seed: int,
    n_real: int,
) -> dict[str, Any]:
    acc = S.accuracy(records, seed)
    gap_table = S.gaps(records, specs, declared, seed)
    status, reason = S.flag(headline, gap_table, acc)
    outcomes = {k: sum(1 for r in records if r["outcome"] == k) for k in ("pass", "fail", "undecidable")}
    bases = {k: sum(1 for r in records if r["basis"] == k) for k in ("verdicts", "scores", "none")}
    rec = {
        "kind": SUMMARY_KIND,
        "version": CONTROLS_VERSION,
        "judge_id": b.id,
        "seed": seed,
        "samples": n_real,
        "controls_judged": len(records),
        "outcomes": outcomes,
        "basis": bases,
        "accuracy": acc,
        "by_control": S.by_control(records),
        "headline": headline,
        "gaps": gap_table,
        "status": status,
        "reason": reason,
        "rule": {"min_effect": S.MIN_EFFECT, "min_pairs": S.MIN_PAIRS, "accuracy_floor": S.ACCURACY_FLOOR},
        "at": _now(),
    }
    if status == "flagged":
        log.warning("judge %s is flagged: %s", b.display, reason)
    return rec
