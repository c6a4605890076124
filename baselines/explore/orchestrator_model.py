"""A fine-tuned orchestrator model from exploration records (paper A), trained by the offline-RL trainer.

Paper A's orchestrator is a multimodal model that picks a tool and a region per subtask, trained by
supervised learning on high-reward choices (READING §4). This module turns a run's exploration
records into training records of the ``orchestrate`` task (:mod:`baselines.training.records`),
trains them through :func:`baselines.training.pipeline.train_planner` (the same methods, loss
masking, splits and checkpoints as every planner), and serves the folder to
``planner-orchestrator:policy=DIR`` (:class:`OrchestratorModel`).

Data (:func:`orchestrator_records`). The records on the original image are read per subtask, the
subtask's primary judge kept (``attributes`` first, as :func:`~baselines.explore.learn.learn_policy`
does), and the samples split exactly as ``learn-policy`` splits them (``holdout``, ``seed``:
:func:`~baselines.explore.learn.split_samples`), so a policy file and a model learned with the same
options hold out the same samples; only training samples become records. A subtask no candidate
improved on leaving the image unchanged (no tool could execute it) is pruned and counted. Then:

- ``choices="best"`` (default): one record per subtask, its best candidate; among candidates tied
  at the best reward, the (tool, region) that was best on the most subtasks of its family (the
  family vote of ``learn-policy``), then exploration order. Its reward is the best reward, so
  method ``s`` learns every subtask's best choice and ``r`` (or ``s`` with ``--min-reward``) only
  those that scored well;
- ``choices="all"``: one record per scored candidate with its own reward (for ``rw``, ``sw`` and
  ``dpo``, which need the bad choices too: DPO's same-input pairs are a subtask's candidates).

Rewards in [0, 1] (the ``attributes`` judge's ``overall``, the checklist judges' pass rates) are
mapped onto paper B's 1-5 scale like run-store rewards (so τ_R keeps its meaning); the mapping is
recorded. Each record's prompt: the subtask's text and planner action, the sample's preserve list
and state, the textual analysis (``description``; text modality) or the source image (vision), one
line per candidate tool with the parameters exploration gave it, and the candidate regions. The
target is the orchestrator's reply JSON ``{"tool", "params", "region"}``.

Inference (:class:`OrchestratorModel`): for each subtask the candidates are proposed the way
exploration proposed them (:func:`~baselines.explore.candidates.propose`: the system's tools, the
regions the model was trained with), rendered in the same prompt, and the reply parsed by
``planner-orchestrator``'s own parser; a subtask with no candidate goes to the system's fallback.
The state and analysis in the prompt are the sample's (the source image's), as in training, also
with ``orchestrate_on=current``; a vision model sees the image it decides on. Candidate parameters
that exploration took from the zero-shot orchestrator's own choice (classical tools) are not known
at inference, so only the rule-derived ones are offered there.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError

from .candidates import region_label
from .evaluate import primary_judges
from .learn import _sig, _subtask_best, explored_subtasks

log = logging.getLogger(__name__)

__all__ = ["CHOICES", "OrchestratorData", "OrchestratorModel", "orchestrator_records", "train_orchestrator"]

CHOICES = ("best", "all")


@dataclass
class OrchestratorData:
    """Training records of the ``orchestrate`` task and what was read, pruned and mapped (``info``)."""

    records: list[Any]
    info: dict[str, Any]
    pruned: list[dict[str, Any]] = field(default_factory=list)


def _tools_of(recs: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The candidate tools of a subtask with the parameters exploration gave them, sorted by name."""
    seen: dict[str, Any] = {}
    for r in recs:
        seen.setdefault(r["tool"], r.get("params") or {})
    return [[t, seen[t]] for t in sorted(seen)]


def _regions_of(grouped: Mapping[Any, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for recs in grouped.values():
        for r in recs:
            reg = dict(r.get("region") or {"kind": "full"})
            if reg not in out:
                out.append(reg)
    return out


def orchestrator_records(run_dir: str | os.PathLike, *, judge: str | None = None, choices: str = "best",
                         holdout: float = 0.3, seed: int = 0, systems: Sequence[str] = (),
                         rescale: bool = True) -> OrchestratorData:
    """Records of the ``orchestrate`` task from the run's exploration records (module doc)."""
    from baselines.training.records import PlannerInput, TrainRecord

    from .plans import read_plans

    if choices not in CHOICES:
        raise ValueError(f"choices must be one of {', '.join(CHOICES)}, got {choices!r}")
    try:
        store, grouped, split = explored_subtasks(run_dir, judge=judge, systems=systems, holdout=holdout, seed=seed)
    except ValueError as err:
        raise UsageError(str(err)) from None
    train_keys = set(split.train)
    actions = {p.key + (p.system_id, st.id): st.action for p in read_plans(store, systems) for st in p.subtasks}
    samples = store.samples()
    regions = _regions_of(grouped)
    per_sub: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    judges: Counter[str] = Counter()
    for key, recs in sorted(grouped.items()):
        if (key[0], key[1]) in train_keys:
            jid = primary_judges(recs)[0]
            per_sub[key] = [r for r in recs if r["judge_id"] == jid]
            judges[jid] += 1
    rewards = [r["reward"] for recs in per_sub.values() for r in recs if r.get("reward") is not None]
    scale = rescale and bool(rewards) and all(0.0 <= x <= 1.0 for x in rewards)
    # family votes: which (tool, region) was (one of) the best on most subtasks of the family
    votes: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for recs in per_sub.values():
        best, improves = _subtask_best(recs)
        if best is not None and improves:
            votes[recs[0]["family"]].update({_sig(r) for r in recs if r.get("reward") is not None
                                             and r["reward"] >= best["reward"] - 1e-9})
    out: list[Any] = []
    pruned: list[dict[str, Any]] = []
    missing = 0
    for key, recs in per_sub.items():
        best, improves = _subtask_best(recs)
        first = recs[0]
        if best is None or not improves:
            pruned.append({"suite": key[0], "sample": key[1], "subtask": key[3], "text": first["subtask_text"],
                           "why": "no candidate could be scored" if best is None else
                           "no candidate improved on leaving the image unchanged"})
            continue
        sample = samples.get((key[0], key[1]))
        if sample is None:
            missing += 1
            continue
        source = first["input"]
        inp = PlannerInput(goal="", preserve=tuple(sample.preserve),
                           context={k: v for k, v in sample.context.items() if v},
                           description=sample.description, image_id=source,
                           image_path=str(store.images.path(source)), task="orchestrate",
                           task_input={"subtask": first["subtask_text"], "action": actions.get(key),
                                       "tools": _tools_of(recs), "regions": regions})
        scored = [r for r in recs if r.get("reward") is not None]
        if choices == "best":
            fam = votes[first["family"]]
            ties = [r for r in scored if r["reward"] >= best["reward"] - 1e-9]
            picks = [max(ties, key=lambda r: (fam[_sig(r)], -scored.index(r)))]
        else:
            picks = scored
        for r in picks:
            reward = float(r["reward"])
            plan = {"task": "orchestrate", "tool": r["tool"], "params": dict(r.get("params") or {}),
                    "region": dict(r.get("region") or {"kind": "full"})}
            rk = "/".join(key) + ("" if choices == "best" else f"/{r['tool']}@{region_label(r.get('region'))}")
            out.append(TrainRecord(key=f"{store.root.name}/{rk}", input=inp, plan=plan,
                                   reward=1.0 + 4.0 * reward if scale else reward, group=sample.image.id,
                                   source="explore", meta={"suite": key[0], "sample_id": key[1], "system_id": key[2],
                                                           "subtask": key[3], "family": first["family"],
                                                           "reward_raw": reward, "judge_id": r["judge_id"]}))
    info = {"run": store.root.name, "run_dir": str(store.root.resolve()), "records_read": sum(map(len, grouped.values())),
            "subtasks": len(per_sub), "pruned": len(pruned), "no_sample": missing, "records": len(out),
            "choices": choices, "reward_judges": dict(judges),
            "rescale": {"from": [0.0, 1.0], "to": [1.0, 5.0]} if scale else None,
            "regions": regions, "tools": sorted({t for recs in per_sub.values() for t, _ in _tools_of(recs)}),
            "split": split.to_dict(), "options": {"judge": judge, "holdout": holdout, "seed": seed,
                                                  "systems": list(systems), "rescale": rescale}}
    return OrchestratorData(out, info, pruned)


def _threshold(min_reward: float, info: Mapping[str, Any]) -> float:
    """``min_reward`` (on the judge's scale) on the records' scale (1-5 when rescaled)."""
    return 1.0 + 4.0 * float(min_reward) if info.get("rescale") else float(min_reward)


def train_orchestrator(run_dir: str | os.PathLike, out: str | os.PathLike, *, base: str, method: str = "s",
                       preset: str = "paper", options: Mapping[str, Any] | None = None,
                       min_reward: float | None = None, judge: str | None = None, choices: str = "best",
                       holdout: float = 0.3, seed: int = 0, systems: Sequence[str] = (),
                       fractions: Any = None, description: bool = True, restart: bool = False,
                       device: str | None = None, show_progress: bool | None = None) -> tuple[Any, OrchestratorData]:
    """Train an orchestrator model on ``run_dir``'s exploration records into ``out``; returns (outcome, data).

    ``min_reward`` (the judge's own scale, e.g. 0.75 for ``attributes``) keeps only choices that
    scored at least that: it is method ``s``'s ``s_min_reward`` or method ``r``'s ``τ_R`` on the
    records' scale. ``fractions`` splits the training samples' groups (default: all train).
    """
    from baselines.training.options import TrainOptions
    from baselines.training.pipeline import train_planner

    data = orchestrator_records(run_dir, judge=judge, choices=choices, holdout=holdout, seed=seed, systems=systems)
    if not data.records:
        raise UsageError(f"{run_dir}: no training subtask left ({data.info['subtasks']} read, "
                         f"{data.info['pruned']} pruned)")
    kw = dict(options or {})
    if min_reward is not None:
        if method not in ("s", "r"):
            raise UsageError(f"--min-reward applies to methods s and r, not {method}", field="--min-reward")
        kw["s_min_reward" if method == "s" else "tau_r"] = _threshold(min_reward, data.info)
    opts = TrainOptions.resolve(method, preset, **kw)
    reward_judge = Counter(data.info["reward_judges"]).most_common(1)[0][0] if data.info["reward_judges"] else judge
    info = {"sources": [{"kind": "explore", **{k: v for k, v in data.info.items() if k not in ("regions", "split")}}],
            "reward_judge": reward_judge, "reward_score": "exploration reward", "min_reward": min_reward,
            "orchestrator": {"regions": data.info["regions"], "tools": data.info["tools"], "choices": choices,
                             "split": data.info["split"], "pruned": data.pruned}}
    outcome = train_planner(data.records, base=base, out_dir=out, opts=opts, fractions=fractions or {"train": 1.0},
                            split_seed=seed, data_info=info, description=description, restart=restart,
                            device=device, show_progress=show_progress)
    return outcome, data


class OrchestratorModel:
    """A trained orchestrator folder (task ``orchestrate``) as ``planner-orchestrator`` asks it.

    :meth:`call` renders one subtask's request in the training format; the agent sends the calls
    through :attr:`model`'s session and parses the replies like any orchestrator reply.
    """

    def __init__(self, path: str | os.PathLike, *, cache: bool = True) -> None:
        from baselines.agents.trained import TrainedModel

        self.model = TrainedModel(path, "orchestrate", cache=cache, option="policy")
        orch = (self.model.info.get("data") or {}).get("orchestrator") or {}
        self.regions: list[dict[str, Any]] = [dict(r) for r in orch.get("regions") or [{"kind": "full"}]]
        self._toolbox: Any = None

    def identity(self) -> dict[str, Any]:
        return {**self.model.identity(), "regions": self.regions}

    def candidates(self, sub: Mapping[str, Any], tools: Sequence[str],
                   tool_args: Mapping[str, Mapping[str, Any]] | None = None) -> list[list[Any]]:
        """``[[tool, params], ...]`` for the subtask, as exploration would propose them (sorted by tool)."""
        from bench.context import ToolBox

        from .candidates import propose
        from .plans import PlannedSubtask, family_of, scene_target

        if self._toolbox is None:
            self._toolbox = ToolBox()
        text = str(sub["text"])
        target = scene_target(text)
        planned = PlannedSubtask(suite="", sample_id="", system_id="", index=0, id=str(sub.get("id", "")), text=text,
                                 action=sub.get("action"), target=target,
                                 family=family_of(text, sub.get("action"), target))
        arms = propose(planned, list(tools), self.regions, self._toolbox, tool_args)
        return _tools_of([a.to_dict() for a in arms])

    def call(self, sub: Mapping[str, Any], sample: Any, image: Any, tools: Sequence[str],
             tool_args: Mapping[str, Mapping[str, Any]] | None, schema: Mapping[str, Any],
             inputs: Mapping[str, Any]) -> Any:
        """The request for one subtask (a :class:`~baselines.agents.backends.Call`), or ``None`` when
        no tool has parameters for it (nothing to choose from)."""
        from baselines.agents.backends import Call
        from baselines.training.records import PlannerInput, planner_messages

        cands = self.candidates(sub, tools, tool_args)
        if not cands:
            return None
        inp = PlannerInput(goal="", preserve=tuple(sample.preserve),
                           context={k: v for k, v in sample.context.items() if v},
                           description=sample.description, task="orchestrate",
                           task_input={"subtask": str(sub["text"]), "action": sub.get("action"), "tools": cands,
                                       "regions": self.regions})
        msgs = planner_messages(inp, modality=self.model.modality, description=self.model.description,
                                image=self.model.image_for(image))
        return Call("orchestrator", msgs, schema, inputs)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_toolbox": None}


def finite(value: Any) -> Any:
    """``None`` for a non-finite float (for printing summaries), else ``value``."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def describe(outcome: Any, data: OrchestratorData) -> list[str]:
    """Lines summarising a training (for the CLI)."""
    t = outcome.train_json
    counts = t["data"]["counts"]
    res = t["result"]
    split = data.info["split"]
    return [f"orchestrator model ({t['method'].upper()}, {t['kind']}, {t['prompt']['modality']}) -> {outcome.out_dir}",
            f"  data: {data.info['subtasks']} training subtasks ({len(split['train'])} training / "
            f"{len(split['heldout'])} held-out samples), {data.info['pruned']} pruned, {data.info['records']} records "
            f"({data.info['choices']}); kept by the method {counts.get('kept', counts.get('pairs'))}, "
            f"trained {counts.get('trained', counts.get('pairs'))}",
            f"  steps {res['steps']}, final loss {finite(res['final_loss'])}, {res['seconds']:.0f}s; reward judge "
            f"{t.get('reward_judge')}",
            f"  use it: --system planner-orchestrator:tools=[{','.join(data.info['tools'])}],"
            f"policy={Path(outcome.out_dir)}"]
