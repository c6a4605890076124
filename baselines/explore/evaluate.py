"""Trying one candidate on one image and judging it against its subtask: the exploration record.

:class:`Explorer` owns the two content caches that make exploration cheap and resumable:

- **edits**: ``(tool id, input image id, parameters, region) -> output image id`` (or the error).
  The same candidate applied to the same image is run once, whatever subtask or sample asked;
- **judgements**: ``(judge id, input id, output id, subject) -> scores``, where the subject is
  the hash of the subtask view the judge saw (:func:`subtask_sample`). A candidate that changes
  nothing is judged once for all candidates that also change nothing.

Both are filled from the run's existing ``explorations.jsonl`` when the explorer opens, so a
resumed (or repeated, or adaptive after exhaustive) exploration pays for nothing twice; a record
whose key exists is never written again.

The subtask judge
-----------------
A registered judge sees one *subtask view* of the sample (:func:`subtask_sample`): the goal is
the subtask's text, the checklist its one goal criterion ``t1`` plus the sample's preserve
criteria, the source the image the candidate was applied to. On scene samples the view's
``truth`` is exact: the input's scene spec as ``source``, the subtask's target as ``target`` and
every other dimension as ``keep``, so the ``attributes`` judge answers "did it reach the
subtask's value without breaking any other dimension" from the sidecars (``reached``, ``kept``,
``overall``). The weight-free ``checklist-heuristic`` judge gets the suite's own measurable
checks for the criteria they match (the goal criterion about the same dimension and value, the
preserve criteria) and its lexicon otherwise. Any other registered judge (a VLM rubric) can be
named too. The reward of a record (:func:`reward_of`) is the ``attributes`` judge's ``overall``
(the mean of reached and kept); for ``checklist-heuristic`` and the VLM ``checklist`` rubric the
mean of their goal and preserve pass rates, and none when the goal criterion was undecidable (an edit whose effect the judge
cannot see must not earn the preserve criteria's full marks); for any other judge its
``overall`` score, else its first declared score; or the score named by ``reward_scores``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bench.components import Built, build_component
from bench.context import ToolBox, ToolContext
from bench.ids import content_hash, derive_seed
from bench.model import Criterion, ImageRef, Sample, Step, Trajectory
from bench.protocols import JudgeItem
from bench.scene import CONTEXT_KEYS, SIDE_CAR_SUFFIX, SceneSpec
from bench.spec import ComponentSpec
from bench.store import RunStore

from .candidates import Arm, propose
from .plans import PlannedSubtask, SamplePlan

log = logging.getLogger(__name__)

__all__ = ["REWARD_SCORES", "ExploreConfig", "Explorer", "Outcome", "record_key", "reward_of", "reward_score_of",
           "subtask_sample"]

RECORD_KIND = "exploration"
#: The score that is a record's reward, per judge name (others: ``overall`` if declared, else the first).
REWARD_SCORES: dict[str, str] = {"attributes": "overall", "checklist-heuristic": "goal+preserve",
                                 "checklist": "goal+preserve"}
BASES: tuple[str, ...] = ("original", "sequential")
EXPLORE_SYSTEM = "explore"


@dataclass(frozen=True)
class ExploreConfig:
    """What an exploration tries and how it judges (the same keys as the ``explore`` command).

    ``tools`` / ``judges`` empty mean *auto*: on a scene sample the scene-tool variants
    (:mod:`baselines.tools.scene_variants`) and the exact ``attributes`` judge; otherwise the
    planner system's own tool library and the ``checklist-heuristic`` judge. The first judge is
    the primary one (its reward drives adaptive allocation and learning).
    """

    tools: tuple[str, ...] = ()
    tool_args: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    regions: tuple[Mapping[str, Any], ...] = ({"kind": "full"}, {"kind": "named", "name": "top"},
                                              {"kind": "named", "name": "bottom"})
    judges: tuple[ComponentSpec, ...] = ()
    reward_scores: Mapping[str, str] = field(default_factory=dict)
    seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class Outcome:
    """What evaluating one candidate gave, for the primary judge: its reward and what it cost."""

    reward: float | None
    status: str
    output: str | None
    tool_call: bool
    judge_call: bool
    judged: bool  # a judge looked at an image (False for an edit that failed)
    subject: str | None  # the judgement's cache key: equal keys are one judge call after caching
    records: tuple[dict[str, Any], ...] = ()


def record_key(suite: str, sample_id: str, system_id: str, subtask: str, arm: Arm, basis: str, input_id: str,
               judge_id: str) -> str:
    """The content key of an exploration record (resume skips a key that exists)."""
    return content_hash([suite, sample_id, system_id, subtask, arm.tool, arm.params, arm.region, basis, input_id,
                         judge_id], 32)


def reward_score_of(built: Built, overrides: Mapping[str, str] | None = None) -> str:
    """The score a judge's reward is read from."""
    name = built.spec.name
    if overrides and name in overrides:
        return overrides[name]
    if name in REWARD_SCORES:
        return REWARD_SCORES[name]
    specs = [s.name for s in built.score_specs()]
    return "overall" if "overall" in specs or not specs else specs[0]


def reward_of(rule: str, scores: Mapping[str, Any]) -> float | None:
    """The reward a judgement's ``scores`` give under ``rule`` (a score name, or ``goal+preserve``)."""

    def num(name: str) -> float | None:
        v = scores.get(name)
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    if rule == "goal+preserve":
        goal, keep = num("goal_pass_rate"), num("preserve_pass_rate")
        if goal is None:
            return None
        return goal if keep is None else (goal + keep) / 2
    return num(rule)


def _spec_of(store: RunStore, image_id: str) -> dict[str, Any] | None:
    data = store.images.get_sidecar(image_id, SIDE_CAR_SUFFIX)
    if data is None:
        return None
    return SceneSpec.from_json(data.decode("utf-8")).to_dict()


def subtask_sample(sample: Sample, sub: PlannedSubtask, input_id: str, input_spec: Mapping[str, Any] | None
                   ) -> Sample:
    """The view of ``sample`` a subtask judge sees (module doc): goal = the subtask, source = ``input_id``."""
    truth = sample.truth if isinstance(sample.truth, Mapping) else {}
    dims: Mapping[str, Any] = truth.get("dimensions") or {}
    checks: Mapping[str, Any] = truth.get("checks") or {}
    target_all: Mapping[str, Any] = truth.get("target") or {}
    keeps = [c for c in sample.checklist if c.kind == "preserve"]
    checklist = (Criterion("t1", sub.text, "goal"), *keeps)
    new_truth: dict[str, Any] = {}
    view_checks: dict[str, Any] = {c.id: checks[c.id] for c in keeps if c.id in checks}
    if sub.target:
        for c in sample.checklist:  # the suite's own measurable check for this very change, if it has one
            if c.kind == "goal" and c.id in checks and sorted(dims.get(c.id) or ()) == sorted(sub.target) and \
                    all(target_all.get(k) == v for k, v in sub.target.items()):
                view_checks["t1"] = checks[c.id]
                break
    if view_checks:
        new_truth["checks"] = view_checks
    if sub.target and input_spec is not None:
        new_truth.update(source=dict(input_spec), target=dict(sub.target),
                         keep=[k for k in CONTEXT_KEYS.values() if k not in sub.target],
                         dimensions={"t1": list(sub.target), **{c.id: list(dims.get(c.id) or ()) for c in keeps}})
    context = SceneSpec.from_dict(input_spec).context() if input_spec is not None else dict(sample.context)
    return Sample(id=sample.id, image=ImageRef(id=input_id), goal=sub.text, checklist=checklist, context=context,
                  preserve=tuple(sample.preserve), tags=dict(sample.tags), description=sample.description,
                  truth=new_truth or None)


class Explorer:
    """Applies candidates and judges them, with content caches; hands back exploration records.

    ``sink`` receives every new record (the driver appends it to the store); records whose key
    exists are returned from the index and not written again.
    """

    def __init__(self, store: RunStore, config: ExploreConfig, sink: Callable[[dict[str, Any]], None] | None = None,
                 *, preload: bool = True) -> None:
        self.store = store
        self.config = config
        self.sink = sink
        self.toolbox = ToolBox()
        self._judges: dict[str, Built] = {}
        self._edits: dict[str, tuple[str | None, str | None]] = {}
        self._verdicts: dict[str, dict[str, Any]] = {}
        self.index: dict[str, dict[str, Any]] = {}
        self.meta = store.read_meta()
        self.tool_calls = 0
        self.judge_calls = 0
        self.new_records = 0
        if preload:
            for _, rec in store.records("explorations"):
                if rec.get("kind", RECORD_KIND) == RECORD_KIND and "key" in rec:
                    self.remember(rec)

    # -- caches ----------------------------------------------------------------------------------------
    def remember(self, rec: Mapping[str, Any]) -> None:
        """Add a record (and its edit and judgement) to the index and the content caches."""
        self.index[rec["key"]] = dict(rec)
        if rec.get("edit_key"):
            self._edits.setdefault(rec["edit_key"], (rec.get("output"), rec.get("error") if rec.get("output") is None
                                                     else None))
        if rec.get("judge_key") and rec.get("status") in ("ok", "unscored"):
            self._verdicts.setdefault(rec["judge_key"], {k: rec.get(k) for k in ("scores", "na", "status", "error")})

    # -- what to try, and with which judges -------------------------------------------------------------
    def tools_for(self, plan: SamplePlan) -> list[str]:
        if self.config.tools:
            return list(self.config.tools)
        if plan.is_scene:
            from baselines.tools.scene_variants import SCENE_VARIANTS

            return list(SCENE_VARIANTS)
        for comp in (self.meta.get("components") or {}).get("systems", []):
            if comp.get("id") == plan.system_id:
                tools = (comp.get("info") or {}).get("tools")
                if tools:
                    return list(tools)
        from baselines.agents.toolset import default_tools

        return list(default_tools())

    def judge_specs_for(self, plan: SamplePlan) -> list[ComponentSpec]:
        if self.config.judges:
            return list(self.config.judges)
        return [ComponentSpec("attributes")] if plan.is_scene else [ComponentSpec("checklist-heuristic")]

    def judge(self, spec: ComponentSpec) -> Built:
        key = str(spec)
        if key not in self._judges:
            self._judges[key] = build_component("judges", spec)
        return self._judges[key]

    def arms(self, plan: SamplePlan, sub: PlannedSubtask) -> list[Arm]:
        return propose(sub, self.tools_for(plan), self.config.regions, self.toolbox, self.config.tool_args)

    # -- one edit ---------------------------------------------------------------------------------------
    def _tool_id(self, name: str) -> str:
        return self.toolbox.id_of(name, **dict(self.config.tool_args.get(name, {})))

    def edit(self, arm: Arm, input_id: str) -> tuple[str | None, str | None, bool, float]:
        """``(output id, error, ran now, seconds)`` of ``arm`` on the stored image ``input_id`` (cached)."""
        key = self.edit_key(arm, input_id)
        if key in self._edits:
            out, err = self._edits[key]
            return out, err, False, 0.0
        tool = self.toolbox.get(arm.tool, **dict(self.config.tool_args.get(arm.tool, {})))
        seed = derive_seed(self.config.seed, self._tool_id(arm.tool), input_id, arm.key)
        tctx = ToolContext(images=self.store.images, seed=seed, device=self.config.device)
        t0 = time.perf_counter()
        out_id: str | None = None
        error: str | None = None
        try:
            image = self.store.images.get(input_id)
            out = tool.apply(image, dict(arm.params), arm.region_obj(), tctx)
            if not isinstance(out, Image.Image):
                raise TypeError(f"tool {arm.tool!r} returned {type(out).__name__}, not an image")
            out_id = self.store.images.put(out)
        except Exception as err:  # a failing candidate is a result of exploration, not a crash
            error = f"{type(err).__name__}: {err}"
        self.tool_calls += 1
        self._edits[key] = (out_id, error)
        return out_id, error, True, time.perf_counter() - t0

    def edit_key(self, arm: Arm, input_id: str) -> str:
        return content_hash([self._tool_id(arm.tool), input_id, arm.params, arm.region], 32)

    # -- one judgement ------------------------------------------------------------------------------------
    def judge_pair(self, built: Built, plan: SamplePlan, sub: PlannedSubtask, input_id: str, output_id: str
                   ) -> tuple[dict[str, Any], str, bool, float]:
        """``(verdict, judge key, ran now, seconds)``: the subtask judge on input -> output (cached)."""
        view = subtask_sample(plan.sample, sub, input_id, _spec_of(self.store, input_id))
        subject = content_hash([built.id, input_id, output_id, view.replace(id="").to_dict()], 32)
        if subject in self._verdicts:
            return self._verdicts[subject], subject, False, 0.0
        images = self.store.images
        traj = Trajectory(suite=plan.suite, sample_id=plan.sample.id, system_id=EXPLORE_SYSTEM, final=output_id,
                          steps=(Step(tool="explore", input=input_id, output=output_id, subtask=sub.id),))
        item = JudgeItem(suite=plan.suite, sample=view, source=images.get(input_id), final=images.get(output_id),
                         trajectory=traj, load_image=images.get, put_raw=self.store.put_raw,
                         get_sidecar=images.get_sidecar)
        t0 = time.perf_counter()
        try:
            [j] = built.obj.judge([item])
            verdict = {"scores": dict(j.scores), "na": dict(j.na), "status": j.status, "error": j.error}
        except Exception as err:  # a crashing judge gives an error record, the exploration goes on
            verdict = {"scores": {}, "na": {}, "status": "error", "error": f"{type(err).__name__}: {err}"}
        self.judge_calls += 1
        if verdict["status"] in ("ok", "unscored"):
            self._verdicts[subject] = verdict
        return verdict, subject, True, time.perf_counter() - t0

    # -- one candidate, every judge ---------------------------------------------------------------------
    def evaluate(self, plan: SamplePlan, sub: PlannedSubtask, arm: Arm, *, basis: str = "original",
                 input_id: str | None = None) -> Outcome:
        """Apply ``arm`` for ``sub`` on ``input_id`` (default: the source) and judge it with every judge.

        Returns the primary judge's outcome with all records (new ones go to ``sink``).
        """
        if basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
        input_id = input_id or plan.source_id
        specs = self.judge_specs_for(plan)
        records: list[dict[str, Any]] = []
        first: Outcome | None = None
        for n, spec in enumerate(specs):
            built = self.judge(spec)
            score_name = reward_score_of(built, self.config.reward_scores)
            key = record_key(plan.suite, plan.sample.id, plan.system_id, sub.id, arm, basis, input_id, built.id)
            if key in self.index:
                rec = self.index[key]
                outcome = Outcome(rec.get("reward"), rec["status"], rec.get("output"), False, False,
                                  rec.get("output") is not None, rec.get("judge_key"), (rec,))
            else:
                outcome = self._new_record(plan, sub, arm, basis, input_id, built, score_name, key)
            records.extend(outcome.records)
            if n == 0:
                first = outcome
        assert first is not None
        return Outcome(first.reward, first.status, first.output, first.tool_call, first.judge_call, first.judged,
                       first.subject, tuple(records))

    def _new_record(self, plan: SamplePlan, sub: PlannedSubtask, arm: Arm, basis: str, input_id: str, built: Built,
                    score_name: str, key: str) -> Outcome:
        out_id, error, ran, seconds = self.edit(arm, input_id)
        verdict: dict[str, Any] = {"scores": {}, "na": {}, "status": "error", "error": error}
        subject: str | None = None
        judged_now = False
        if out_id is not None:
            verdict, subject, judged_now, js = self.judge_pair(built, plan, sub, input_id, out_id)
            seconds += js
        scores = verdict.get("scores") or {}
        reward = reward_of(score_name, scores) if verdict.get("status") == "ok" else None
        rec = {
            "kind": RECORD_KIND, "key": key, "suite": plan.suite, "sample_id": plan.sample.id,
            "system_id": plan.system_id, "subtask": sub.id, "subtask_text": sub.text, "k": sub.index,
            "family": sub.family, "target": sub.target, "tool": arm.tool, "tool_id": self._tool_id(arm.tool),
            "params": arm.params, "region": arm.region, "basis": basis, "input": input_id, "output": out_id,
            "judge": built.spec.name, "judge_id": built.id, "reward_score": score_name,
            "reward": reward,
            "scores": scores, "na": verdict.get("na") or {}, "status": verdict.get("status") or "error",
            "error": verdict.get("error"), "seconds": round(seconds, 6), "tool_calls": int(ran),
            "judge_calls": int(judged_now), "cached": {"edit": not ran, "judgement": out_id is not None and not judged_now},
            "edit_key": self.edit_key(arm, input_id), "judge_key": subject,
        }
        self.remember(rec)
        self.new_records += 1
        if self.sink is not None:
            self.sink(rec)
        return Outcome(rec["reward"], rec["status"], out_id, ran, judged_now, out_id is not None, subject, (rec,))


def records_by_subtask(store: RunStore, *, basis: str = "original", judge: str | None = None
                       ) -> dict[tuple[str, str, str, str], list[dict[str, Any]]]:
    """Exploration records grouped by subtask key, filtered by basis and judge (name or id; default: any).

    Only records on the subtask's *source* image are kept for ``basis="original"``.
    """
    out: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for _, rec in store.records("explorations"):
        if rec.get("kind", RECORD_KIND) != RECORD_KIND or rec.get("basis") != basis:
            continue
        if judge is not None and judge not in (rec.get("judge"), rec.get("judge_id")):
            continue
        out.setdefault((rec["suite"], rec["sample_id"], rec["system_id"], rec["subtask"]), []).append(rec)
    return out


def primary_judges(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Judge ids present in ``records``, ``attributes`` first, then ``checklist-heuristic``, then the rest."""
    names = {r["judge_id"]: r.get("judge", "") for r in records}
    rank = {"attributes": 0, "checklist-heuristic": 1}
    return sorted(names, key=lambda j: (rank.get(names[j], 2), j))
