"""Training data from editbench run stores and from paper B's released on-disk layout.

Both yield :class:`~.records.TrainRecord` (input, plan, reward, group), as does the exact-reward
testbed (:mod:`.testbed`); :func:`read_records` / :func:`write_records` keep any of them as JSONL.

**Run stores** (:func:`read_run_stores`): every ``ok`` trajectory whose plan has actions (the
``styling-planner``'s subtasks carry ``action``, ``action_params`` and ``reasoning``), its sample
as the run stored it, and as reward one score of one judge (``--reward JUDGE --reward-score
NAME``; a judge is named by its id or, when unambiguous, its name). A trajectory the judge did
not score has no reward: S may still train on it, the reward methods drop and count it. Scores
are mapped from the judge's declared ``[min, max]`` onto paper B's 1-5 scale unless
``rescale=False``, so τ_R = 3.5 and RW's ``r − 3`` keep their meaning; the mapping is recorded.
:func:`reward_spec` is that resolution on its own, for other readers of run stores (the
self-distillation data of :mod:`baselines.agents.distill`).

**Paper B's layout** (:func:`read_paper_b`, READING §6.5): one folder per sample,
``image_<uuid8>_<promptid>_<style>/`` with ``original.png``, ``prompt.json`` (the goal in
``edit.text`` or ``edit_info.text``), ``analysis.json`` (``scene_description``: the text-only
planner's "textual image analysis"), ``action_plan.json`` (``reasoning``, ``overall_instruction``,
``actions[{action_id, reasoning, parameters, priority}]``) and ``reward_scores.json``
(``scores.overall_quality.score``, the holistic 1-5 score every trainer of the code reads). A
reward of 0 is the code's marker of a judge failure (READING §6.2) and is read as *no reward*.
Groups are the original image's pixel id. The Hugging Face ``image-agent-styling`` columns could
not be checked here (nothing can be downloaded, and the code never reads the dataset), so only the
on-disk layout is read.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import UsageError

from .records import PlannerInput, TrainRecord, normalise_plan

log = logging.getLogger(__name__)


# -- run stores ------------------------------------------------------------------------------------
def _resolve_judge(judges: dict[str, Any], name: str, where: str) -> str:
    if name in judges:
        return name
    hits = [jid for jid, rec in judges.items() if rec.get("name") == name or jid.split(".")[0] == name]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UsageError(f"{where}: no judge {name!r} in this run (judges: {', '.join(sorted(judges)) or 'none'})",
                         field="--reward")
    raise UsageError(f"{where}: judge name {name!r} is ambiguous ({', '.join(hits)}): give the judge id",
                     field="--reward")


@dataclass(frozen=True)
class RewardSpec:
    """Which judge score of a run is the reward, and how it maps onto paper B's 1-5 scale."""

    judge_id: str | None
    score: str | None
    low: float | None = None
    high: float | None = None
    rescale: bool = False

    def info(self) -> dict[str, Any] | None:
        """The mapping as ``train.json`` records it (``None``: the judge's own scale)."""
        return {"from": [self.low, self.high], "to": [1.0, 5.0]} if self.rescale else None

    def scaled(self, value: float) -> float:
        """A judge score on the reward's scale."""
        if not self.rescale:
            return float(value)
        return 1.0 + 4.0 * (float(value) - self.low) / (self.high - self.low)  # type: ignore[operator]

    def of(self, judgements: Mapping[Any, Any], suite: str, sample_id: str, system_id: str) -> float | None:
        """The reward of one trajectory (``None`` when the judge did not score it)."""
        if self.judge_id is None:
            return None
        j = judgements.get((suite, sample_id, system_id, "", self.judge_id))
        value = j.scores.get(self.score) if j is not None and j.status == "ok" else None
        return None if value is None else self.scaled(value)


def reward_spec(meta: Mapping[str, Any], reward: str | None, reward_score: str | None = None, *,
                rescale: bool = True, where: str = "run") -> RewardSpec:
    """The reward of a run (its ``run.json`` is ``meta``): ``reward``'s ``reward_score`` (default
    ``overall``, else the judge's first declared score), mapped from its ``[min, max]`` onto 1-5
    unless ``rescale=False``. ``reward=None`` is no reward. ``UsageError`` for an unknown judge or score."""
    if not reward:
        return RewardSpec(None, reward_score)
    judges = {rec["id"]: rec for rec in meta.get("components", {}).get("judges", [])}
    jid = _resolve_judge(judges, reward, where)
    specs = {sp["name"]: sp for sp in meta.get("score_specs", {}).get(jid, [])}
    score = reward_score or ("overall" if "overall" in specs else next(iter(specs), None))
    if score is None or (specs and score not in specs):
        raise UsageError(f"{where}: judge {jid} has no score {score!r} ({', '.join(specs)})", field="--reward-score")
    spec = specs.get(score, {})
    lo, hi = spec.get("min"), spec.get("max")
    return RewardSpec(jid, score, lo, hi, bool(rescale and lo is not None and hi is not None and hi > lo))


def plan_of_trajectory(traj: Any) -> dict[str, Any] | None:
    """The plan a trajectory's planner wrote, as training data (``None`` when it has no actions).

    Each subtask's reasoning is the planner's own: the executor's remarks (``executor: ...``) and
    the drop notes the styling planner appends are removed.
    """
    plan = traj.plan
    if plan is None or not any(st.action for st in plan.subtasks):
        return None
    actions = []
    for st in plan.subtasks:
        if not st.action:
            continue
        lines = [ln for ln in (st.reasoning or "").splitlines()
                 if not ln.startswith("executor: ") and not ln.startswith("dropped: ")]
        actions.append({"reasoning": "\n".join(lines).strip(), "action": st.action,
                        "parameters": dict(st.action_params)})
    head = (plan.reasoning or "").splitlines()
    return {"reasoning": head[0] if head else "", "actions": actions, "instruction": plan.instruction}


def read_run_stores(run_dirs: Iterable[str | os.PathLike], reward: str | None, reward_score: str | None = None,
                    *, systems: Sequence[str] = (), rescale: bool = True) -> tuple[list[TrainRecord], dict[str, Any]]:
    """Trajectories of ``run_dirs`` with ``reward``'s ``reward_score`` as reward; returns (records, info).

    ``systems`` keeps only trajectories of these system ids or names. ``info`` says which judge
    and score were read, the scale mapping, and how many trajectories had no plan or no reward.
    """
    from bench.store import RunStore

    out: list[TrainRecord] = []
    info: dict[str, Any] = {"runs": [], "reward_judge": None, "reward_score": reward_score, "rescale": None,
                            "no_plan": 0, "not_ok": 0, "no_reward": 0}
    for d in run_dirs:
        store = RunStore.open(d)
        meta = store.read_meta()
        where = str(d)
        sysrec = {rec["id"]: rec for rec in meta.get("components", {}).get("systems", [])}
        rs = reward_spec(meta, reward, reward_score, rescale=rescale, where=where)
        jid = rs.judge_id
        if jid is not None:
            info["reward_score"] = rs.score
            info["rescale"] = rs.info()
        info["reward_judge"] = jid
        info["runs"].append({"dir": str(d), "name": meta.get("name")})
        samples = store.samples()
        judgements = store.judgements() if jid else {}
        for t in store.trajectories().values():
            if systems and t.system_id not in systems and sysrec.get(t.system_id, {}).get("name") not in systems:
                continue
            if t.status != "ok":
                info["not_ok"] += 1
                continue
            plan = plan_of_trajectory(t)
            sample = samples.get((t.suite, t.sample_id))
            if plan is None or sample is None:
                info["no_plan"] += 1
                continue
            r = rs.of(judgements, t.suite, t.sample_id, t.system_id)
            if jid is not None and r is None:
                info["no_reward"] += 1
            inp = PlannerInput(goal=sample.goal, preserve=tuple(sample.preserve), context=dict(sample.context),
                               description=sample.description, image_id=sample.image.id,
                               image_path=str(store.images.path(sample.image.id)))
            out.append(TrainRecord(key=f"{meta.get('name', Path(d).name)}/{t.suite}/{t.sample_id}/{t.system_id}",
                                   input=inp, plan=plan, reward=r, group=sample.image.id, source="run",
                                   meta={"suite": t.suite, "sample_id": t.sample_id, "system_id": t.system_id}))
    return out, info


# -- paper B's layout ----------------------------------------------------------------------------------
def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read {path.name}: {err}", file=str(path)) from None


def _goal(prompt: Any) -> str | None:
    if not isinstance(prompt, dict):
        return None
    for key in ("edit", "edit_info"):
        edit = prompt.get(key)
        if isinstance(edit, dict) and isinstance(edit.get("text"), str) and edit["text"].strip():
            return edit["text"].strip()
    text = prompt.get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None


def read_paper_b(root: str | os.PathLike) -> tuple[list[TrainRecord], dict[str, Any]]:
    """Every sample folder under ``root`` (paper B's released layout) as a record; returns (records, info)."""
    from bench.ids import image_id
    from bench.images import load_image

    root = Path(root)
    if not root.is_dir():
        raise UsageError("paper B data: not a folder", file=str(root))
    out: list[TrainRecord] = []
    info: dict[str, Any] = {"root": str(root), "folders": 0, "skipped": {}, "reward_failures": 0, "no_reward": 0}

    def skip(why: str) -> None:
        info["skipped"][why] = info["skipped"].get(why, 0) + 1

    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "action_plan.json").exists()):
        info["folders"] += 1
        goal = _goal(_load_json(folder / "prompt.json")) if (folder / "prompt.json").exists() else None
        if goal is None:
            skip("no goal in prompt.json")
            continue
        try:
            plan = normalise_plan(_load_json(folder / "action_plan.json"))
        except ValueError as err:
            skip(f"unusable action_plan.json ({err})")
            continue
        if not (folder / "original.png").exists():
            skip("no original.png")
            continue
        description = None
        if (folder / "analysis.json").exists():
            analysis = _load_json(folder / "analysis.json")
            if isinstance(analysis, dict) and isinstance(analysis.get("scene_description"), str):
                description = analysis["scene_description"]
        if plan["instruction"] is None and (folder / "instruction.txt").exists():
            plan["instruction"] = (folder / "instruction.txt").read_text(encoding="utf-8").strip() or None
        reward: float | None = None
        if (folder / "reward_scores.json").exists():
            scores = _load_json(folder / "reward_scores.json").get("scores", {})
            value = (scores.get("overall_quality") or {}).get("score") if isinstance(scores, dict) else None
            if isinstance(value, (int, float)) and value > 0:
                reward = float(value)
            else:
                info["reward_failures"] += 1
        else:
            info["no_reward"] += 1
        path = str(folder / "original.png")
        gid = image_id(load_image(path))
        inp = PlannerInput(goal=goal, description=description, image_id=gid, image_path=path)
        out.append(TrainRecord(key=folder.name, input=inp, plan=plan, reward=reward, group=gid, source="paper-b",
                               meta={"folder": folder.name}))
    return out, info


# -- JSONL ------------------------------------------------------------------------------------------------
def write_records(path: str | os.PathLike, records: Iterable[TrainRecord]) -> None:
    from bench.images import atomic_write

    lines = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    atomic_write(Path(path), lines.encode("utf-8"))


def read_records(path: str | os.PathLike) -> list[TrainRecord]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(TrainRecord.from_dict(json.loads(line)))
                except (ValueError, KeyError) as err:
                    raise UsageError(f"bad training record: {err}", file=str(path), line=i) from None
    return out
