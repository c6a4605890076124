"""Planner refinement by self-distillation (paper A): the checklist-free planner learns the checklist-conditioned one's plans.

Paper A: the checklist "conditions our planner"; "we then train this planner to reproduce its own
checklist-conditioned plans"; refinement "prunes infeasible subtasks and aligns plans with
executable actions", and "successful trajectories are used to refine the planner" (READING §4).
Read here as: the teacher is ``planner-orchestrator`` with a checklist (a finished run of it), the
student is the same planner asked without any checklist, trained by supervised learning through
the offline-RL trainer (:func:`baselines.training.pipeline.train_planner`, task ``subtasks``) on
the teacher's plans with what could not be executed removed.

Data (:func:`teacher_plans`), per trajectory of the run's ``planner-orchestrator`` systems:

- kept: ``ok`` trajectories whose plan was conditioned on a non-empty checklist (a plan made
  without one is not a teacher's); the others are counted by why (``not_ok``, ``no_plan``,
  ``no_checklist``, ``no_sample``);
- the target is the planner's own reply (``Plan.raw``, its last attempt: reasoning, and per
  subtask reasoning, text and the region it named), or, when that cannot be read back, the
  plan's subtasks (texts and reasoning, without regions; counted as ``raw_unreadable``);
- **pruning**: a subtask is executable when a step ran it without error. Every other subtask is
  removed from the target and counted, by why: dropped at refinement (no runnable choice), dropped
  at execution (the tool failed), or no step at all. A plan with nothing executable is no record
  (``emptied``). ``pruned / subtasks`` is the fraction of the teacher's subtasks no tool could
  execute;
- the reward (``--reward JUDGE [--reward-score S]``) is that judge's score of the executed
  trajectory, on paper B's 1-5 scale like every run-store reward; ``--min-reward`` (the judge's
  own scale) keeps only plans that scored at least that — method ``s``'s ``s_min_reward`` or
  method ``r``'s ``τ_R``, so the trainer filters and counts them.

The student's prompt (task ``subtasks``): the goal, what to keep, the textual analysis
(``description``; text modality) or the image (vision); never the checklist. Its reply is the
planner's JSON, read by ``planner-orchestrator``'s own parser when the folder is its
``planner=DIR`` (:func:`student_call`).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError

log = logging.getLogger(__name__)

__all__ = ["DistillData", "distill", "pruning_stats", "student_call", "teacher_plans"]

DEFAULT_SYSTEMS: tuple[str, ...] = ("planner-orchestrator",)


@dataclass
class DistillData:
    """The student's training records, what was read and skipped (``info``), and every pruned subtask."""

    records: list[Any]
    info: dict[str, Any]
    pruned: list[dict[str, Any]] = field(default_factory=list)


def _matches(system_id: str, systems: Sequence[str]) -> bool:
    return not systems or system_id in systems or system_id.rsplit(".", 1)[0] in systems


def _raw_reply(raw: str | None, n: int) -> dict[str, Any] | None:
    """The planner's accepted reply (the last attempt in ``Plan.raw``) if it has ``n`` subtasks."""
    from bench.backends.base import parse_json_reply

    from .common import RAW_SEPARATOR

    if not raw:
        return None
    try:
        value = parse_json_reply(raw.split(RAW_SEPARATOR)[-1])
    except ValueError:
        return None
    if isinstance(value, list):
        value = {"subtasks": value}
    if not isinstance(value, dict):
        return None
    items = value.get("subtasks", value.get("steps", value.get("plan")))
    if not isinstance(items, list) or len(items) != n:
        return None
    out = []
    for it in items:
        it = {"text": it} if isinstance(it, str) else it
        if not isinstance(it, dict):
            return None
        region = it.get("region")
        out.append({"reasoning": str(it.get("reasoning") or "").strip(),
                    "text": str(it.get("text") or it.get("subtask") or "").strip(),
                    "region": region if isinstance(region, str) else None})
    reasoning = value.get("reasoning")
    return {"reasoning": reasoning.strip() if isinstance(reasoning, str) else "", "subtasks": out}


def _own_reasoning(text: str | None) -> str:
    """A subtask's reasoning without the orchestrator's and the refinement's notes."""
    lines = [ln for ln in (text or "").splitlines() if not ln.startswith(("orchestrator: ", "dropped: "))]
    return "\n".join(lines).strip()


def executable(traj: Any) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """(ids of the subtasks a step ran without error, ``{pruned id: (stage, why)}``) of a trajectory."""
    from .common import dropped_of

    ran = {st.subtask for st in traj.steps if st.subtask and st.error is None and st.output}
    dropped = {d["id"]: (str(d.get("stage") or "dropped"), str(d.get("why") or "")) for d in dropped_of(traj.plan)}
    failed = {st.subtask: st.error for st in traj.steps if st.subtask and st.error}
    keep, pruned = [], {}
    for sub in traj.plan.subtasks:
        if sub.id in ran:
            keep.append(sub.id)
        elif sub.id in dropped:
            pruned[sub.id] = dropped[sub.id]
        elif sub.id in failed:
            pruned[sub.id] = ("execute", f"step failed: {failed[sub.id]}")
        else:
            pruned[sub.id] = ("no step", "no step executed it")
    return keep, pruned


def teacher_plans(run_dirs: Iterable[str | os.PathLike], *, systems: Sequence[str] = DEFAULT_SYSTEMS,
                  reward: str | None = None, reward_score: str | None = None, rescale: bool = True) -> DistillData:
    """The student's records from the runs' checklist-conditioned plans, pruned (module doc)."""
    from baselines.training.records import PlannerInput, TrainRecord
    from baselines.training.sources import reward_spec
    from bench.store import RunStore

    records: list[Any] = []
    pruned_all: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    runs, judges, scores, rescales = [], set(), set(), []
    for d in run_dirs:
        store = RunStore.open(d)
        meta = store.read_meta()
        rs = reward_spec(meta, reward, reward_score, rescale=rescale, where=str(d))
        judges.add(rs.judge_id)
        scores.add(rs.score)
        rescales.append(rs.info())
        runs.append({"dir": str(d), "name": meta.get("name")})
        samples = store.samples()
        judgements = store.judgements() if rs.judge_id else {}
        for t in sorted(store.trajectories().values(), key=lambda t: (t.suite, t.sample_id, t.system_id)):
            if not _matches(t.system_id, systems):
                continue
            counts["trajectories"] += 1
            if t.status != "ok":
                counts["not_ok"] += 1
                continue
            if t.plan is None or not t.plan.subtasks:
                counts["no_plan"] += 1
                continue
            if not t.plan.checklist:
                counts["no_checklist"] += 1
                continue
            sample = samples.get((t.suite, t.sample_id))
            if sample is None:
                counts["no_sample"] += 1
                continue
            keep, pruned = executable(t)
            counts["plans"] += 1
            counts["subtasks"] += len(t.plan.subtasks)
            counts["pruned"] += len(pruned)
            for sid, (stage, why) in pruned.items():
                stages[stage] += 1
                text = next(st.text for st in t.plan.subtasks if st.id == sid)
                pruned_all.append({"suite": t.suite, "sample": t.sample_id, "system": t.system_id, "subtask": sid,
                                   "text": text, "stage": stage, "why": why})
            reply = _raw_reply(t.plan.raw, len(t.plan.subtasks))
            if reply is None:
                counts["raw_unreadable"] += 1
                reply = {"reasoning": "", "subtasks": [{"reasoning": _own_reasoning(st.reasoning), "text": st.text,
                                                        "region": None} for st in t.plan.subtasks]}
            subs = [item for st, item in zip(t.plan.subtasks, reply["subtasks"], strict=True) if st.id in keep]
            if not subs:
                counts["emptied"] += 1
                continue
            r = rs.of(judgements, t.suite, t.sample_id, t.system_id)
            if rs.judge_id is not None and r is None:
                counts["no_reward"] += 1
            inp = PlannerInput(goal=sample.goal, preserve=tuple(sample.preserve), description=sample.description,
                               image_id=sample.image.id, image_path=str(store.images.path(sample.image.id)),
                               task="subtasks")
            plan = {"task": "subtasks", "reasoning": reply["reasoning"], "subtasks": subs}
            records.append(TrainRecord(key=f"{meta.get('name', Path(d).name)}/{t.suite}/{t.sample_id}/{t.system_id}",
                                       input=inp, plan=plan, reward=r, group=sample.image.id, source="distill",
                                       meta={"suite": t.suite, "sample_id": t.sample_id, "system_id": t.system_id,
                                             "subtasks": len(t.plan.subtasks), "pruned": sorted(pruned)}))
    if len(judges) > 1 or len({str(x) for x in rescales}) > 1:
        raise UsageError("the runs resolve the reward to different judges or scales: distill them one by one",
                         field="--reward")
    info = {"runs": runs, "systems": list(systems), "reward_judge": next(iter(judges), None),
            "reward_score": next(iter(scores), None), "rescale": rescales[0] if rescales else None,
            **{k: counts.get(k, 0) for k in ("trajectories", "plans", "not_ok", "no_plan", "no_checklist", "no_sample",
                                              "raw_unreadable", "emptied", "no_reward", "subtasks", "pruned")},
            "pruned_fraction": counts["pruned"] / counts["subtasks"] if counts["subtasks"] else None,
            "pruned_by_stage": dict(sorted(stages.items())), "records": len(records)}
    return DistillData(records, info, pruned_all)


def pruning_stats(records: Sequence[Any]) -> dict[str, Any]:
    """Subtasks and pruned subtasks of the plans behind ``records`` (e.g. those a method kept)."""
    subs = sum(int(r.meta.get("subtasks", 0)) for r in records)
    pruned = sum(len(r.meta.get("pruned", ())) for r in records)
    return {"plans": len(records), "subtasks": subs, "pruned": pruned,
            "pruned_fraction": pruned / subs if subs else None}


def distill(run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike, *, base: str, method: str = "s",
            preset: str = "paper", options: Mapping[str, Any] | None = None, min_reward: float | None = None,
            reward: str | None = None, reward_score: str | None = None, systems: Sequence[str] = DEFAULT_SYSTEMS,
            rescale: bool = True, fractions: Any = None, split_seed: int = 0, exclude_images: Sequence[str] = (),
            description: bool = True, restart: bool = False, device: str | None = None,
            show_progress: bool | None = None) -> tuple[Any, DistillData, dict[str, Any]]:
    """Train the checklist-free planner on the runs' pruned teacher plans; returns (outcome, data, kept).

    ``kept`` is :func:`pruning_stats` over the training split's records the method kept (after
    ``min_reward``), as trained; ``data.info`` covers every plan read.
    """
    from baselines.training.methods import select
    from baselines.training.options import TrainOptions
    from baselines.training.pipeline import train_planner
    from baselines.training.splits import split_groups

    if method not in ("s", "r"):
        raise UsageError(f"self-distillation is supervised: method s (or r, reward-filtered), not {method}",
                         field="--method")
    if (min_reward is not None or method == "r") and not reward:
        raise UsageError("--min-reward and method r need --reward JUDGE (the score of the executed trajectories)",
                         field="--reward")
    data = teacher_plans(run_dirs, systems=systems, reward=reward, reward_score=reward_score, rescale=rescale)
    if not data.records:
        raise UsageError(f"no teacher plan to distil: {data.info}")
    kw = dict(options or {})
    if min_reward is not None:
        thr = float(min_reward)
        if data.info["rescale"]:
            lo, hi = data.info["rescale"]["from"]
            thr = 1.0 + 4.0 * (thr - lo) / (hi - lo)
        kw["s_min_reward" if method == "s" else "tau_r"] = thr
    opts = TrainOptions.resolve(method, preset, **kw)
    splits = split_groups(data.records, fractions, split_seed, exclude_images)
    kept = pruning_stats(select(splits["train"], opts).records)
    info = {"sources": [{"kind": "distill", **data.info}], "reward_judge": data.info["reward_judge"],
            "reward_score": data.info["reward_score"], "min_reward": min_reward,
            "distill": {"teacher": "planner-orchestrator with its checklist", "student": "the same planner, no checklist",
                        "pruned": data.pruned, "kept": kept}}
    outcome = train_planner(data.records, base=base, out_dir=out, opts=opts, data_info=info, description=description,
                            splits=splits, restart=restart, device=device, show_progress=show_progress)
    return outcome, data, kept


def student_call(model: Any, sample: Any, image: Any, schema: Mapping[str, Any], inputs: Mapping[str, Any]) -> Any:
    """The distilled planner's request for ``sample`` (a :class:`~baselines.agents.backends.Call` of stage
    ``planner``), in its training format: goal, what to keep, the analysis or the image; no checklist."""
    from baselines.training.records import PlannerInput, planner_messages

    from .backends import Call

    inp = PlannerInput(goal=sample.goal, preserve=tuple(sample.preserve), description=sample.description,
                       task="subtasks")
    msgs = planner_messages(inp, modality=model.modality, description=model.description, image=model.image_for(image))
    return Call("planner", msgs, schema, inputs)
