"""``styling-planner``: paper B's four-stage agent (Section 2), on any backend and executor.

1. **Extract structured context** — the image's state along the ten dimensions as JSON from a VLM
   (``context=extract``, prompt ``context.j2``; all ten keys required), or the sample's own
   context (``context=given``; missing keys read ``unknown``).
2. **Plan actions with reasoning** — ``min_actions``..``max_actions`` actions from the 10- or
   20-action library (``library=10|20``, :mod:`baselines.agents.library`), each written reasoning
   first, then the action id, then its parameters (``styling_plan.j2``). Paper B's action ids, with
   the published code's ``time_period_era``, ``season_cycle`` and ``weather_conditions`` read as
   aliases. A reply that is not JSON or not a valid plan (unknown action, missing target, too many
   actions) is re-asked once, naming the problem, then the sample is ``failed`` with both raw
   replies in ``Plan.raw``.
3. **Synthesise one precise instruction** — by the model (``synthesis=model``, ``instruction.j2``)
   or by template (``synthesis=template``); kept in ``Plan.instruction`` whatever the executor.
4. **Render** — see :mod:`baselines.agents.styling_exec`: an instruction editor
   (``executor=instruct-edit``) in one call or action by action (``mode=single|stepwise``), the
   ``scene`` tool (each action's target becomes a ``changes`` entry: scored exactly by the
   ``attributes`` judge), or the classical dimension ops (``executor=classical``, stepwise).

Track: ``mode=single`` makes one editor call from a rewritten request, so the system declares
``rewrite-then-edit``; ``mode=stepwise`` declares ``planner+tools``. The plan's subtasks are the
planner's actions (``a1``, ``a2``...: ``action``, ``action_params`` and per-action ``reasoning``);
in stepwise mode each also carries its tool call, in single mode the one step carries the
instruction. Actions the executor cannot render are dropped with the reason, as in
``planner-orchestrator`` (:func:`baselines.agents.common.dropped_of`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from PIL import Image

from bench.context import BudgetExceeded, EditContext
from bench.errors import EditbenchError, ToolError, UsageError
from bench.model import CONTEXT_DIMENSIONS, Plan, Sample, Subtask, Trajectory
from bench.protocols import Component, SystemInfo

from .backends import Call
from .common import COMMON_OPTIONS, AgentBase, Session, StageFailed, check_choice, dropped_line
from .library import EXAMPLE_VALUES, PlannedAction, library, plan_schema, read_actions
from .styling_exec import Rendering, render_classical, render_instruction, render_scene, scene_dimension

log = logging.getLogger(__name__)

_OWN_OPTIONS = ("context", "library", "min_actions", "max_actions", "synthesis", "executor", "mode",
                "executor_args", "strength")
_CONTEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**{d: {"type": "string"} for d in CONTEXT_DIMENSIONS}, "scene_description": {"type": "string"}},
    "required": [*CONTEXT_DIMENSIONS, "scene_description"],
}
_INSTRUCTION_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"instruction": {"type": "string"}},
                                       "required": ["instruction"]}


class StylingPlanner(AgentBase, Component):
    """Paper B's agent: ten-dimension context extraction, a 2-5 action plan from the 10- or 20-action library with reasoning before each action, one synthesised instruction, rendered by an instruction editor (one call or stepwise), the scene tool or classical ops.

    Options (``styling-planner:key=value,...``; defaults in brackets):

    | option | meaning |
    | --- | --- |
    | ``backend`` [rules] | ``rules`` (offline, lexicon), ``openai``, ``transformers``, ``scripted``, or a registered backend |
    | ``model`` [Qwen/Qwen3-VL-8B-Instruct] | model id for the backend |
    | ``base_url``, ``api_key_env``, ``backend_options``, ``script`` | as for ``planner-orchestrator`` |
    | ``context`` [extract] | ``extract``: the ten dimensions from the model (stage 1); ``given``: the sample's context |
    | ``library`` [10] | action library: ``10`` (C.2.1) or ``20`` (C.2.2: with the constraint actions) |
    | ``min_actions``, ``max_actions`` [1, 5] | plan length (paper B: "typically 2-5"; Simple plans have 1-2) |
    | ``synthesis`` [model] | stage 3 by the ``model`` or by ``template`` |
    | ``executor`` [classical] | ``classical`` ops, the ``scene`` tool, or an instruction-editor tool name (``instruct-edit``) |
    | ``mode`` [single; classical: stepwise] | ``single``: one editor call; ``stepwise``: one call per action |
    | ``executor_args`` | constructor options of the executor tool, e.g. ``{model: Qwen/Qwen-Image-Edit, device: cuda}`` |
    | ``strength`` [1.0] | classical ops' intensity scale (as ``rule-pipeline``'s) |
    | ``max_tool_calls`` [16], ``max_model_tokens``, ``max_seconds`` | per-sample budget; exceeding it fails the sample |
    | ``max_tokens`` [2048], ``temperature`` [0], ``top_p``, ``prompts``, ``cache``, ``concurrency``, ``timeout``, ``max_retries`` | as for ``planner-orchestrator`` |
    """

    name = "styling-planner"
    version = "1"
    TEMPLATES = ("context", "styling_plan", "instruction")

    def __init__(self, backend: Any = "rules", model: str | None = None, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", script: Any = None, backend_options: dict | None = None,
                 cache: bool = True, concurrency: int = 16, timeout: float = 300.0, max_retries: int = 5,
                 max_tokens: int = 2048, temperature: float = 0.0, top_p: float | None = None,
                 prompts: str | None = None, max_tool_calls: int | None = 16, max_model_tokens: int | None = None,
                 max_seconds: float | None = None, context: str = "extract", library: int = 10,
                 min_actions: int = 1, max_actions: int = 5, synthesis: str = "model", executor: str = "classical",
                 mode: str | None = None, executor_args: dict | None = None, strength: float = 1.0) -> None:
        opts = dict(locals())
        opts.pop("self")
        self.context = check_choice(context, ("extract", "given"), "context")
        self.library = int(library)
        self._library = {a.id: a for a in _library(self.library)}
        if not 1 <= int(min_actions) <= int(max_actions) <= 8:
            raise ValueError(f"need 1 <= min_actions <= max_actions <= 8, got {min_actions}, {max_actions}")
        self.min_actions, self.max_actions = int(min_actions), int(max_actions)
        self.synthesis = check_choice(synthesis, ("model", "template"), "synthesis")
        if not isinstance(executor, str) or not executor:
            raise UsageError("executor must be 'classical', 'scene' or an instruction-editor tool name")
        self.executor = executor
        default_mode = "stepwise" if executor == "classical" else "single"
        self.mode = check_choice(mode or default_mode, ("single", "stepwise"), "mode")
        if executor == "classical" and self.mode == "single":
            raise UsageError("executor=classical runs one op per action: use mode=stepwise (its default)")
        self.executor_args = dict(executor_args or {})
        if not 0.0 <= float(strength) <= 2.0:
            raise ValueError(f"strength must lie in [0, 2], got {strength}")
        self.strength = float(strength)
        self._init_common(opts)

    # -- identity and info ---------------------------------------------------------------------------
    def _option_names(self) -> list[str]:
        return [*COMMON_OPTIONS, *_OWN_OPTIONS]

    def _tool_names(self) -> tuple[str, ...]:
        if self.executor == "classical":
            from .toolset import default_tools

            return default_tools()
        return (self.executor,)

    def identity_extra(self) -> dict[str, Any]:
        from bench import registry

        extra = super().identity_extra()
        try:
            extra["tools"] = {n: str(getattr(registry.get("tools", n), "version", "1")) for n in self._tool_names()}
        except Exception as err:  # an executor that is not registered is a usage error, early
            raise UsageError(f"{self.name}: {err}") from err
        return extra

    def info(self) -> SystemInfo:
        return SystemInfo(track="rewrite-then-edit" if self.mode == "single" else "planner+tools",
                          description=f"Paper B: context ({self.context}), {self.library}-action plan with "
                                      f"reasoning, instruction ({self.synthesis}), {self.executor} executor "
                                      f"({self.mode}).",
                          models=self.models(), tools=self._tool_names())

    # -- the edit --------------------------------------------------------------------------------------
    def edit(self, sample: Sample, image: Image.Image, ctx: EditContext) -> Trajectory:
        s = self.session(ctx)
        state: dict[str, Any] = {"context": {}, "actions": [], "reasoning": [], "dropped": [], "raw": None,
                                 "instruction": None, "calls": {}}
        try:
            final = self._edit(s, sample, image, state)
        except StageFailed as err:
            state["raw"] = state["raw"] or err.raw
            return self.finish(s, None, self._plan(state), status=err.status, error=err.message)
        except BudgetExceeded as err:
            return self.finish(s, None, self._plan(state), status="failed", error=f"budget exceeded: {err.message}")
        except ToolError as err:  # the single editor call failed: nothing was rendered
            return self.finish(s, None, self._plan(state), status="failed", error=f"rendering failed: {err.message}")
        except EditbenchError as err:  # a tool that is not registered, a bad option met late: plan kept
            return self.finish(s, None, self._plan(state), status="failed", error=f"{type(err).__name__}: {err}")
        return self.finish(s, final, self._plan(state))

    def _edit(self, s: Session, sample: Sample, image: Image.Image, state: dict[str, Any]) -> Image.Image:
        state["context"] = self._extract(s, sample, image, state)
        actions = self._planned(s, sample, image, state)
        state["actions"] = actions
        state["instruction"] = self._instruction(s, sample, state["context"], actions)
        rendering = self._render(s, sample, image, actions, state["instruction"])
        state["reasoning"] += rendering.notes
        for i, why in sorted(rendering.dropped.items()):
            a = actions[i]
            state["dropped"].append({"id": f"a{i + 1}", "text": _action_text(a), "stage": "render", "why": why})
        current = image
        for call in rendering.calls:
            sub = f"a{call.actions[0] + 1}" if len(call.actions) == 1 or self.mode == "stepwise" else None
            try:
                current, _ = s.ctx.apply_tool(call.tool, current, call.params, call.region, subtask=sub,
                                              instruction=call.instruction,
                                              tool_args=self.executor_args or None if call.tool == self.executor else None)
            except ToolError as err:
                if self.mode == "single":
                    raise
                for i in call.actions:
                    state["dropped"].append({"id": f"a{i + 1}", "text": _action_text(actions[i]), "stage": "execute",
                                             "why": f"{call.tool} failed: {err.message}"})
                continue
            for i in call.actions:
                state["calls"][i] = call
        if not rendering.calls:
            state["reasoning"].append("no action could be rendered: the image is returned unchanged")
        return current

    # -- stages --------------------------------------------------------------------------------------
    def _extract(self, s: Session, sample: Sample, image: Image.Image, state: dict[str, Any]) -> dict[str, str]:
        if self.context == "given":
            state["reasoning"].append("context: the sample's own")
            return {d: str(sample.context.get(d) or "unknown") for d in CONTEXT_DIMENSIONS}
        variables = {"dimensions": [(d, EXAMPLE_VALUES[d]) for d in CONTEXT_DIMENSIONS]}
        call = s.call("context", variables, {"source": image}, _CONTEXT_SCHEMA, {"sample": sample})
        got = s.ask([call], _parse_context)[0]
        kind = s.answerer.spec().get("kind", "model")
        state["reasoning"].append(f"context: extracted by the {kind} backend"
                                  + (" (rules read the sample's given context: they see no pixels)"
                                     if kind == "rules" else ""))
        return got

    def _planned(self, s: Session, sample: Sample, image: Image.Image, state: dict[str, Any]) -> list[PlannedAction]:
        ctx_view = {k: v for k, v in state["context"].items() if k != "scene_description"}
        variables = {"goal": sample.goal, "preserve": list(sample.preserve),
                     "context_json": json.dumps(state["context"], indent=1),
                     "library_json": "\n".join(json.dumps(a.catalog_entry(), separators=(",", ":"))
                                               for a in self._library.values()),
                     "values_json": "\n".join(f"{k}: {', '.join(v)}" for k, v in self._values().items()),
                     "min_actions": self.min_actions, "max_actions": self.max_actions}
        inputs = {"sample": sample, "context": ctx_view, "library": list(self._library),
                  "max_actions": self.max_actions}
        call = s.call("styling_plan", variables, {"source": image},
                      plan_schema(self._library, self.max_actions), inputs)
        reasoning, actions = s.ask([call], self._parse_plan)[0]
        state["raw"] = s.raw("styling_plan")
        if reasoning:
            state["reasoning"].insert(0, reasoning)
        return actions

    def _parse_plan(self, value: Any, call: Call) -> tuple[str, list[PlannedAction]]:
        return read_actions(value, self._library, self.min_actions, self.max_actions)

    def _instruction(self, s: Session, sample: Sample, context: dict[str, str], actions: list[PlannedAction]) -> str:
        from .library import serialise
        from .rules import template_instruction

        if self.synthesis == "template":
            return template_instruction(actions, sample.preserve)
        variables = {"goal": sample.goal, "preserve": list(sample.preserve),
                     "context_json": json.dumps(context, indent=1),
                     "plan_lines": [f"{serialise(a)}  [REASONING] {a.reasoning}" for a in actions]}
        call = s.call("instruction", variables, {}, _INSTRUCTION_SCHEMA, {"sample": sample, "actions": actions})
        return s.ask([call], _parse_instruction)[0]

    def _values(self) -> dict[str, list[str]]:
        """The target values the executor accepts, shown to the planner (none for free-text editors)."""
        if self.executor == "scene":
            from bench.scene import VOCAB

            return {d: list(VOCAB[scene_dimension(d)]) for d in CONTEXT_DIMENSIONS}
        if self.executor == "classical":
            from baselines import lexicon as lx

            out: dict[str, list[str]] = {}
            for e in lx.DIMENSION_LEXICON:
                if e.dimension and e.value and e.actions and e.value not in out.setdefault(e.dimension, []):
                    out[e.dimension].append(e.value)
            return out
        return {}

    def _render(self, s: Session, sample: Sample, image: Image.Image, actions: list[PlannedAction],
                instruction: str) -> Rendering:
        single = self.mode == "single"
        if self.executor == "scene":
            return render_scene(actions, single)
        if self.executor == "classical":
            return render_classical(actions, self.strength, s.ctx, image.size)
        tool = s.ctx.tools.get(self.executor, **self.executor_args)
        props = (getattr(tool, "params_schema", {}) or {}).get("properties", {})
        key = next((k for k in ("instruction", "prompt") if k in props), None)
        if key is None:
            raise StageFailed("failed", f"executor {self.executor!r} takes neither an 'instruction' nor a 'prompt' "
                                        "parameter: it is not an instruction editor")
        return render_instruction(self.executor, key, actions, instruction, single, sample.preserve)

    def _plan(self, state: dict[str, Any]) -> Plan:
        dropped = {d["id"]: d["why"] for d in state["dropped"]}
        subs = []
        for a in state["actions"]:
            sid = f"a{a.index + 1}"
            call = state["calls"].get(a.index)
            remarks = [n[len(sid) + 1:] for n in state["reasoning"] if n.startswith(f"{sid} ")]
            reasoning = "\n".join([a.reasoning, *(f"executor: {r}" for r in remarks)]).strip()
            reasoning += f"\ndropped: {dropped[sid]}" if sid in dropped else ""
            stepwise = call is not None and self.mode == "stepwise"
            subs.append(Subtask(id=sid, text=_action_text(a), reasoning=reasoning or None, action=a.action,
                                action_params=dict(a.parameters), tool=call.tool if stepwise else None,
                                params=dict(call.params) if stepwise else {}, region=call.region if stepwise else None))
        return Plan(context=dict(state["context"]), subtasks=tuple(subs), instruction=state["instruction"],
                    reasoning="\n".join([*state["reasoning"], dropped_line(state["dropped"])]), raw=state["raw"])


def _library(size: int) -> Any:
    try:
        return library(size)
    except ValueError as err:
        raise UsageError(str(err), field="library") from None


def _action_text(a: PlannedAction) -> str:
    if a.dimension:
        src = a.source
        what = a.dimension.replace("_", " ")
        tgt = str(a.target).replace("_", " ")
        return f"Change the {what} from {src.replace('_', ' ')} to {tgt}" if src and src != "unknown" \
            else f"Make the {what} {tgt}"
    return str(a.parameters.get("description") or a.definition.title)


def _parse_context(value: Any, call: Call) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("the reply must be a JSON object with the ten dimensions")
    missing = [d for d in CONTEXT_DIMENSIONS if not str(value.get(d) or "").strip()]
    if missing:
        raise ValueError(f"the reply lacks {', '.join(missing)}")
    out = {d: str(value[d]).strip() for d in CONTEXT_DIMENSIONS}
    desc = value.get("scene_description")
    if isinstance(desc, str) and desc.strip():
        out["scene_description"] = desc.strip()
    return out


def _parse_instruction(value: Any, call: Call) -> str:
    text = value.get("instruction") if isinstance(value, dict) else value
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the reply needs a non-empty 'instruction'")
    return text.strip()
