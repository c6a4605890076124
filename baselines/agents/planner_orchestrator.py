"""``planner-orchestrator``: paper A's agent (checklist-conditioned planner + tool/region orchestrator).

How one sample runs (paper A, project page; READING.md §4):

1. **Checklist** — the suite's own (``checklist=suite``; an empty one is said so in the plan, never
   replaced silently), written by the model (``checklist=generate``, prompt ``checklist.j2``), or
   none (``checklist=none``: the planner plans from the goal alone).
2. **Plan** — the planner sees the goal, the image, the checklist (and the sample's description and
   preserve list when given) and writes ``min_subtasks``..``max_subtasks`` atomic subtasks, each
   with its reasoning and where it applies (``planner.j2``). Unparseable: one retry, then ``failed``
   with both raw replies in ``Plan.raw``. With ``planner=DIR`` the plan comes from a planner
   distilled from the checklist-conditioned one (paper A's self-distillation,
   :mod:`baselines.agents.distill`), asked without any checklist in its training format.
3. **Orchestrate** — per subtask, a tool from the library shown to it (name, description, JSON
   schema of each tool), its parameters and a region: the whole image, a named region, a box, or a
   phrase grounded to a region (``grounding``: through ``baselines.grounding.ground`` when that
   module is installed, else by the phrase's words). Zero-shot from the model (``orchestrator.j2``),
   from a learned policy file (``policy=PATH``, :mod:`baselines.agents.policy`), or from a trained
   orchestrator model (``policy=DIR`` where ``DIR/train.json`` says task ``orchestrate``:
   :mod:`baselines.explore.orchestrator_model`; its reply is parsed like the zero-shot one); a
   subtask the policy has no decision for (or the model no candidate or no usable reply) goes to
   the model (``policy_fallback=backend``) or is dropped (``drop``). ``orchestrate_on=source``
   decides every subtask on the source image in one batch (paper A's original-image criterion);
   ``current`` decides each on the image as it is when its turn comes.
4. **Refine** — a choice that cannot run (no tool chosen, unknown tool, parameters the tool rejects,
   a region that does not parse or cannot be grounded) gets one re-ask with the problem named; if
   it still cannot run, the subtask is **dropped** and the reason recorded. A tool that fails while
   running drops its subtask too (its failed step stays in the trajectory).
5. **Execute** — the remaining subtasks run one after the other through ``ctx.apply_tool``: every
   intermediate image, tool, parameter set and region is a step of the trajectory.

Where drops are recorded (``bench.model`` has no field for them): each dropped subtask stays in
``Plan.subtasks`` with ``dropped: <why>`` as the last line of its ``reasoning``; the last line of
``Plan.reasoning`` is ``dropped: [{"id", "text", "stage", "why"}, ...]`` (JSON; read it with
:func:`baselines.agents.common.dropped_of`). A subtask without a step was dropped before running.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bench.context import BudgetExceeded, EditContext
from bench.errors import EditbenchError, ToolError, UsageError
from bench.model import Criterion, Plan, Region, Sample, Subtask, Trajectory
from bench.protocols import Component, SystemInfo
from bench.regions import NAMED_REGIONS

from .backends import Call
from .common import (
    COMMON_OPTIONS,
    RAW_SEPARATOR,
    AgentBase,
    Session,
    StageFailed,
    Unusable,
    check_choice,
    dropped_line,
    ground,
    parse_region,
)
from .policy import Policy, resolve_path
from .toolset import ToolSet

log = logging.getLogger(__name__)

_OWN_OPTIONS = ("checklist", "tools", "tool_args", "policy", "policy_fallback", "orchestrate_on", "grounding",
                "min_subtasks", "max_subtasks", "planner")
_CHECKLIST_KINDS = ("goal", "preserve", "quality")


@dataclass
class Choice:
    """An orchestrator's decision for one subtask, checked: runnable (``tool`` set) or not (``why``)."""

    tool: str | None
    params: dict[str, Any] = field(default_factory=dict)
    region: Region | None = None
    query: str | None = None  # the phrase the region was grounded from
    reasoning: str = ""
    why: str = ""  # why it cannot run (tool is None)


@dataclass
class _Run:
    """One sample in progress: what the final plan is built from, even when the sample fails."""

    sample: Sample
    source: Image.Image
    checklist: tuple[Criterion, ...] = ()
    reasoning: list[str] = field(default_factory=list)
    subtasks: list[dict[str, Any]] = field(default_factory=list)
    choices: dict[str, Choice] = field(default_factory=dict)
    dropped: list[dict[str, str]] = field(default_factory=list)
    raw: str | None = None

    def drop(self, sub: dict[str, Any], stage: str, why: str) -> None:
        self.dropped.append({"id": sub["id"], "text": sub["text"], "stage": stage, "why": why})

    def plan(self) -> Plan:
        why = {d["id"]: d for d in self.dropped}
        subs = []
        for sub in self.subtasks:
            c = self.choices.get(sub["id"])
            lines = [sub["reasoning"]] if sub["reasoning"] else []
            if c is not None and c.reasoning:
                lines.append(f"orchestrator: {c.reasoning}")
            if sub["id"] in why:
                lines.append(f"dropped: {why[sub['id']]['why']}")
            subs.append(Subtask(id=sub["id"], text=sub["text"], reasoning="\n".join(lines) or None,
                                action=sub.get("action"), tool=c.tool if c else None,
                                params=dict(c.params) if c else {}, region=c.region if c else None))
        return Plan(checklist=self.checklist, subtasks=tuple(subs),
                    reasoning="\n".join([*self.reasoning, dropped_line(self.dropped)]), raw=self.raw)


class PlannerOrchestrator(AgentBase, Component):
    """Paper A's agent: a checklist-conditioned planner writes atomic subtasks, an orchestrator picks a tool and a region for each (model or learned policy), refinement drops what no tool can run, the rest run in order.

    Options (``planner-orchestrator:key=value,...``; defaults in brackets):

    | option | meaning |
    | --- | --- |
    | ``backend`` [rules] | ``rules`` (offline, lexicon), ``openai`` (any OpenAI-compatible server), ``transformers`` (local model), ``scripted``, or a registered backend |
    | ``model`` [Qwen/Qwen3-VL-8B-Instruct] | model id for the backend |
    | ``base_url`` | server root, e.g. ``http://localhost:8000/v1`` (vLLM) |
    | ``api_key_env`` [OPENAI_API_KEY] | variable holding the API key (never stored) |
    | ``backend_options`` | passed to the backend (``device``, ``dtype``, ``extra_body``...) |
    | ``script`` | replies for ``backend=scripted`` (list, or file) |
    | ``checklist`` [suite] | ``suite``: the sample's checklist; ``generate``: written by the model; ``none``: no checklist (the default with ``planner``) |
    | ``planner`` | a distilled planner's folder (``editbench distill``): it writes the plan, without a checklist |
    | ``tools`` [classical library] | tool names the orchestrator may use, e.g. ``[instruct-edit, inpaint, render-text, recolor_region]`` |
    | ``tool_args`` | per-tool constructor options, ``{inpaint: {model: ..., device: cuda}}`` |
    | ``policy`` | learned orchestrator instead of the model: a policy file (or folder with ``policy.json``), or a trained orchestrator model's folder (``editbench learn-policy --model``) |
    | ``policy_fallback`` [backend] | subtask the policy (or model) has no decision for: ``backend`` asks the model, ``drop`` drops it |
    | ``orchestrate_on`` [source] | ``source``: all subtasks decided on the source image in one batch; ``current``: each on the current image |
    | ``grounding`` [auto] | phrase regions: ``auto`` / a method of ``baselines.grounding``, or ``words`` (named regions by the phrase's words) |
    | ``min_subtasks``, ``max_subtasks`` [1, 6] | bounds on the plan's length (outside them the plan is re-asked, then failed) |
    | ``max_tool_calls`` [16], ``max_model_tokens``, ``max_seconds`` | per-sample budget; exceeding it fails the sample with the reason |
    | ``max_tokens`` [2048], ``temperature`` [0], ``top_p`` | decoding of every request |
    | ``prompts`` | folder whose ``*.j2`` files override the built-in prompts by name |
    | ``cache`` [true], ``concurrency``, ``timeout``, ``max_retries`` | transport (not part of the id) |
    """

    name = "planner-orchestrator"
    version = "1"
    TEMPLATES = ("checklist", "planner", "orchestrator")

    def __init__(self, backend: Any = "rules", model: str | None = None, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", script: Any = None, backend_options: dict | None = None,
                 cache: bool = True, concurrency: int = 16, timeout: float = 300.0, max_retries: int = 5,
                 max_tokens: int = 2048, temperature: float = 0.0, top_p: float | None = None,
                 prompts: str | None = None, max_tool_calls: int | None = 16, max_model_tokens: int | None = None,
                 max_seconds: float | None = None, checklist: str | None = None, tools: list[str] | None = None,
                 tool_args: dict | None = None, policy: str | None = None, policy_fallback: str = "backend",
                 orchestrate_on: str = "source", grounding: str = "auto", min_subtasks: int = 1,
                 max_subtasks: int = 6, planner: str | None = None) -> None:
        opts = dict(locals())
        opts.pop("self")
        if checklist is None:
            checklist = "none" if planner else "suite"
        self.checklist = check_choice(checklist, ("suite", "generate", "none"), "checklist")
        if planner and self.checklist != "none":
            raise UsageError("planner-orchestrator: a distilled planner (planner=...) plans without a checklist; "
                             "leave checklist out or set checklist=none", field="checklist")
        self.policy_fallback = check_choice(policy_fallback, ("backend", "drop"), "policy_fallback")
        self.orchestrate_on = check_choice(orchestrate_on, ("source", "current"), "orchestrate_on")
        self.grounding = str(grounding)
        if not 1 <= int(min_subtasks) <= int(max_subtasks) <= 12:
            raise ValueError(f"need 1 <= min_subtasks <= max_subtasks <= 12, got {min_subtasks}, {max_subtasks}")
        self.min_subtasks, self.max_subtasks = int(min_subtasks), int(max_subtasks)
        self._toolset = ToolSet(tools, tool_args, self.name)
        self.tools = list(self._toolset.names)
        self.tool_args = self._toolset.tool_args
        self.policy = policy
        self.planner = planner
        self._policy: Policy | None = None
        self._model: Any = None  # a trained orchestrator model (policy=DIR)
        if policy:
            from .trained import trained_task

            if trained_task(policy) is not None:
                from baselines.explore.orchestrator_model import OrchestratorModel

                self._model = OrchestratorModel(policy, cache=cache)
            else:
                self._policy = Policy.load(policy)
        self._planner: Any = None
        if planner:
            from .trained import TrainedModel

            self._planner = TrainedModel(planner, "subtasks", cache=cache, option="planner")
        self._init_common(opts)

    # -- identity and info ---------------------------------------------------------------------------
    def _option_names(self) -> list[str]:
        return [*COMMON_OPTIONS, *_OWN_OPTIONS]

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.pop("policy", None)  # identified by content below, not by where the file lies
        out.pop("planner", None)  # likewise (absent when not given: earlier ids stay as they were)
        return out

    def identity_extra(self) -> dict[str, Any]:
        from bench.ids import file_content_hash

        extra = super().identity_extra()
        extra["tools"] = self._toolset.versions()
        if self._model is not None:
            extra["policy"] = self._model.identity()
        elif self.policy:
            extra["policy"] = file_content_hash(str(resolve_path(self.policy)))
        if self._planner is not None:
            extra["planner"] = self._planner.identity()
        return extra

    def info(self) -> SystemInfo:
        meta = (self._policy.data.get("meta") or {}) if self._policy is not None else {}
        judge = meta.get("reward_judge") if isinstance(meta, dict) else None
        trained = [m for m in (self._model.model if self._model is not None else None, self._planner) if m is not None]
        judge = judge or next((m.reward_judge for m in trained if m.reward_judge), None)
        orchestrator = "policy file" if self._policy else "trained model" if self._model is not None else "zero-shot"
        planner = "distilled planner without checklist" if self._planner is not None else \
            "planner without checklist" if self.checklist == "none" else "checklist-conditioned planner"
        return SystemInfo(track="planner+tools", trained=self._policy is not None or bool(trained),
                          reward_judge=judge,
                          description=f"Paper A: {planner}, tool/region orchestrator ({orchestrator}), refinement, "
                                      "sequential execution.",
                          models=self.models() + tuple(m.label() for m in trained), tools=tuple(self.tools))

    # -- the edit --------------------------------------------------------------------------------------
    def edit(self, sample: Sample, image: Image.Image, ctx: EditContext) -> Trajectory:
        s = self.session(ctx)
        run = _Run(sample=sample, source=image)
        try:
            final = self._edit(s, run)
        except StageFailed as err:
            run.raw = run.raw or err.raw
            return self.finish(s, None, run.plan(), status=err.status, error=err.message)
        except BudgetExceeded as err:
            return self.finish(s, None, run.plan(), status="failed", error=f"budget exceeded: {err.message}")
        except EditbenchError as err:  # a tool that is not registered, a bad option met late: plan kept
            return self.finish(s, None, run.plan(), status="failed", error=f"{type(err).__name__}: {err}")
        return self.finish(s, final, run.plan())

    def _edit(self, s: Session, run: _Run) -> Image.Image:
        run.checklist = self._checklist(s, run)
        self._plan(s, run)
        if self.orchestrate_on == "source":
            for sub, choice in zip(run.subtasks, self._orchestrate(s, run, run.subtasks, run.source), strict=True):
                run.choices[sub["id"]] = choice
        current = run.source
        done: list[str] = []
        for sub in run.subtasks:
            if self.orchestrate_on == "current":
                run.choices[sub["id"]] = self._orchestrate(s, run, [sub], current, done)[0]
            choice = run.choices[sub["id"]]
            if choice.tool is None:
                run.drop(sub, "refine", choice.why)
                continue
            try:
                current, _ = s.ctx.apply_tool(choice.tool, current, dict(choice.params), choice.region,
                                              subtask=sub["id"], region_query=choice.query, instruction=sub["text"],
                                              tool_args=self._toolset.args(choice.tool) or None)
            except ToolError as err:
                run.drop(sub, "execute", f"{choice.tool} failed: {err.message}")
                continue
            done.append(sub["text"])
        if not done:
            run.reasoning.append("no subtask could be executed: the image is returned unchanged")
        return current

    # -- stages ------------------------------------------------------------------------------------
    def _checklist(self, s: Session, run: _Run) -> tuple[Criterion, ...]:
        sample = run.sample
        if self.checklist == "none":
            run.reasoning.append("checklist: none (planning from the goal alone)")
            return ()
        if self.checklist == "suite":
            if not sample.checklist:
                run.reasoning.append("checklist: the suite gives none; planning from the goal alone")
            else:
                run.reasoning.append(f"checklist: the suite's ({len(sample.checklist)} criteria)")
            return tuple(sample.checklist)
        variables = {"goal": sample.goal, "preserve": list(sample.preserve), "description": sample.description or "",
                     "min_items": 2, "max_items": 6}
        call = s.call("checklist", variables, {"source": run.source}, _CHECKLIST_SCHEMA,
                      {"sample": sample, "source": run.source, "max_items": 6})
        crit = s.ask([call], _parse_checklist)[0]
        run.reasoning.append(f"checklist: generated ({len(crit)} criteria)")
        return crit

    def _plan(self, s: Session, run: _Run) -> None:
        sample = run.sample
        variables = {"goal": sample.goal, "checklist": [c.to_dict() for c in run.checklist],
                     "preserve": list(sample.preserve), "description": sample.description or "",
                     "min_subtasks": self.min_subtasks, "max_subtasks": self.max_subtasks}
        inputs = {"sample": sample, "checklist": run.checklist, "source": run.source, "ctx": s.ctx,
                  "max_subtasks": self.max_subtasks}
        if self._planner is not None:
            from .distill import student_call

            call = student_call(self._planner, sample, run.source, _PLAN_SCHEMA, inputs)
            reasoning, subtasks = self._planner.session(s).ask([call], self._parse_plan)[0]
        else:
            call = s.call("planner", variables, {"source": run.source}, _PLAN_SCHEMA, inputs)
            reasoning, subtasks = s.ask([call], self._parse_plan)[0]
        run.raw = s.raw("planner")
        run.subtasks = subtasks
        if reasoning:
            run.reasoning.insert(0, reasoning)

    def _parse_plan(self, value: Any, call: Call) -> tuple[str, list[dict[str, Any]]]:
        if isinstance(value, list):
            value = {"subtasks": value}
        if not isinstance(value, dict):
            raise ValueError("the reply must be a JSON object with 'reasoning' and 'subtasks'")
        items = value.get("subtasks", value.get("steps", value.get("plan")))
        if not isinstance(items, list):
            raise ValueError("the reply has no 'subtasks' list")
        if not self.min_subtasks <= len(items) <= self.max_subtasks:
            raise ValueError(f"the plan has {len(items)} subtasks; it must have {self.min_subtasks} to "
                             f"{self.max_subtasks}")
        out: list[dict[str, Any]] = []
        for i, it in enumerate(items):
            if isinstance(it, str):
                it = {"text": it}
            if not isinstance(it, dict) or not str(it.get("text") or it.get("subtask") or "").strip():
                raise ValueError(f"subtasks[{i}] needs a non-empty 'text'")
            given = str(it.get("id") or "").strip()
            sid = given if given and given not in {o["id"] for o in out} else f"s{i + 1}"
            hint = it.get("region")
            out.append({"id": sid, "text": str(it.get("text") or it.get("subtask")).strip(),
                        "reasoning": str(it.get("reasoning") or "").strip(),
                        "region_hint": hint if isinstance(hint, str) else (json.dumps(hint) if hint else ""),
                        "action": str(it["action"]) if it.get("action") else None})
        reasoning = value.get("reasoning", "")
        return (reasoning if isinstance(reasoning, str) else json.dumps(reasoning)), out

    def _orchestrate(self, s: Session, run: _Run, subs: list[dict[str, Any]], image: Image.Image,
                     done: list[str] | None = None) -> list[Choice]:
        """Choices for ``subs`` (policy or trained model first when given), each checked; unusable ones
        become ``Choice(None)``."""
        out: list[Choice | None] = [None] * len(subs)
        if self._model is not None:
            ask = self._model_choices(s, run, subs, image, out)
        else:
            ask = self._policy_choices(s, subs, image, out)
        if ask:
            catalog = "\n".join(json.dumps(t, separators=(",", ":")) for t in self._toolset.catalog(s.ctx))
            calls = []
            for i in ask:
                sub = subs[i]
                variables = {"goal": run.sample.goal, "subtask": sub, "done": list(done or []),
                             "catalog_json": catalog, "named_regions": list(NAMED_REGIONS)}
                inputs = {"sample": run.sample, "checklist": run.checklist, "source": run.source, "ctx": s.ctx,
                          "subtask": sub, "max_subtasks": self.max_subtasks}
                calls.append(s.call("orchestrator", variables, {"current": image}, _CHOICE_SCHEMA, inputs))
            replies = s.ask(calls, lambda v, c: self._parse_choice(s, v, image), per_item=True)
            for i, got in zip(ask, replies, strict=True):
                out[i] = Choice(None, why=f"no runnable choice after one re-ask: {got.error} (last reply: "
                                          f"{got.raw.split(RAW_SEPARATOR)[-1][:300]!r})") \
                    if isinstance(got, Unusable) else got
        return [c for c in out if c is not None]

    def _policy_choices(self, s: Session, subs: list[dict[str, Any]], image: Image.Image,
                        out: list[Choice | None]) -> list[int]:
        """Fill ``out`` with the policy file's checked choices; returns the indices left to the model."""
        ask: list[int] = []
        for i, sub in enumerate(subs):
            if self._policy is None:
                ask.append(i)
                continue
            decision = self._policy.decide(sub["text"], sub.get("action"))
            if decision is None:
                if self.policy_fallback == "backend":
                    ask.append(i)
                else:
                    out[i] = Choice(None, why="the policy has no decision for this subtask")
                continue
            try:
                out[i] = self._check(s, decision.to_dict(), image, decision.why)
            except ValueError as err:
                out[i] = Choice(None, reasoning=decision.why, why=f"the policy's choice cannot run: {err}")
        return ask

    def _model_choices(self, s: Session, run: _Run, subs: list[dict[str, Any]], image: Image.Image,
                       out: list[Choice | None]) -> list[int]:
        """Fill ``out`` with the trained orchestrator's choices; returns the indices left to the fallback."""
        calls: list[tuple[int, Call]] = []
        left: list[int] = []
        for i, sub in enumerate(subs):
            inputs = {"sample": run.sample, "checklist": run.checklist, "source": run.source, "ctx": s.ctx,
                      "subtask": sub, "max_subtasks": self.max_subtasks}
            call = self._model.call(sub, run.sample, image, self.tools, self.tool_args, _CHOICE_SCHEMA, inputs)
            if call is not None:
                calls.append((i, call))
            elif self.policy_fallback == "backend":
                left.append(i)
            else:
                out[i] = Choice(None, why="the trained orchestrator has no candidate tool for this subtask")
        if calls:
            replies = self._model.model.session(s).ask([c for _, c in calls],
                                                       lambda v, c: self._parse_choice(s, v, image), per_item=True)
            for (i, _), got in zip(calls, replies, strict=True):
                if isinstance(got, Unusable):
                    if self.policy_fallback == "backend":
                        left.append(i)
                    else:
                        out[i] = Choice(None, why=f"the trained orchestrator's reply is unusable after one re-ask: "
                                                  f"{got.error}")
                    continue
                got.reasoning = f"trained model{': ' + got.reasoning if got.reasoning else ''}"
                out[i] = got
        return sorted(left)

    def _parse_choice(self, s: Session, value: Any, image: Image.Image) -> Choice:
        if not isinstance(value, dict):
            raise ValueError("the reply must be a JSON object with reasoning, tool, params and region")
        reasoning = str(value.get("reasoning") or "")
        if value.get("tool") in (None, "", "none", "null"):
            return Choice(None, reasoning=reasoning, why=f"the orchestrator chose no tool: {reasoning or 'no reason given'}")
        return self._check(s, value, image, reasoning)

    def _check(self, s: Session, value: dict[str, Any], image: Image.Image, reasoning: str) -> Choice:
        """A choice that can run, or ``ValueError`` naming what cannot (the re-ask's message)."""
        params = self._toolset.check(value.get("tool"), value.get("params", {}), s.ctx)
        region = parse_region(value.get("region"))
        query = region.phrase if region is not None and region.kind == "phrase" else None
        if query is not None:
            backend = getattr(self._answerer, "backend", None)
            region = ground(region, image, method=self.grounding, backend=backend, ctx=s.ctx)
        return Choice(str(value["tool"]), params, region, query, reasoning)


def _parse_checklist(value: Any, call: Call) -> tuple[Criterion, ...]:
    items = value.get("criteria") if isinstance(value, dict) else value
    if not isinstance(items, list) or not items:
        raise ValueError("the reply needs a non-empty 'criteria' list")
    out = []
    for i, it in enumerate(items):
        if isinstance(it, str):
            it = {"text": it, "kind": "goal"}
        if not isinstance(it, dict) or not str(it.get("text") or "").strip():
            raise ValueError(f"criteria[{i}] needs a non-empty 'text'")
        kind = str(it.get("kind") or "goal").lower()
        if kind not in _CHECKLIST_KINDS:
            raise ValueError(f"criteria[{i}].kind must be one of {', '.join(_CHECKLIST_KINDS)}, not {kind!r}")
        out.append(Criterion(id=f"g{i + 1}", text=str(it["text"]).strip(), kind=kind,  # type: ignore[arg-type]
                             weight=0.5 if kind == "quality" else 1.0))
    if not any(c.kind == "goal" for c in out):
        raise ValueError("the checklist has no 'goal' criterion")
    return tuple(out)


_CHECKLIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"criteria": {"type": "array", "items": {
        "type": "object", "properties": {"kind": {"type": "string", "enum": list(_CHECKLIST_KINDS)},
                                         "text": {"type": "string"}}, "required": ["kind", "text"]}}},
    "required": ["criteria"],
}
_PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"reasoning": {"type": "string"}, "subtasks": {"type": "array", "items": {
        "type": "object", "properties": {"reasoning": {"type": "string"}, "text": {"type": "string"},
                                         "region": {"type": "string"}}, "required": ["reasoning", "text"]}}},
    "required": ["reasoning", "subtasks"],
}
_CHOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"reasoning": {"type": "string"}, "tool": {"type": ["string", "null"]},
                   "params": {"type": "object"}, "region": {"type": "object"}},
    "required": ["reasoning", "tool", "params", "region"],
}
