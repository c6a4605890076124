"""One trajectory as training data, and the one prompt and target format training and inference share.

Every data source (:mod:`.sources`, :mod:`.testbed`) yields :class:`TrainRecord`: what the planner
saw (:class:`PlannerInput`: goal, what to keep, the ten-dimension context, the textual analysis,
the source image), what it planned (paper B's plan: per-step reasoning, action id and parameters;
optionally the synthesised instruction), the scalar reward, and the group (the source image's id:
paper B's groups are "all trajectories of one base image", READING §1.1).

:func:`planner_messages` renders a :class:`PlannerInput` into chat messages and :func:`target_text`
a plan into the JSON the model learns to write. The trained planner (:mod:`.trained_planner`) calls
the same two functions at inference, so a model is always asked in the format it was trained on;
``PROMPT_VERSION`` is recorded with the weights and changes when either function does.

The reply is JSON in the shape the ``styling-planner`` parses (``{"reasoning", "actions": [{
"reasoning", "action", "parameters"}]}``), as paper B's code trains on the plan JSON (READING
§6.5). ``reasoning_order`` puts each step's reasoning before its action (paper B L35) or after
(the code's key order).

Tasks. The same trainer learns other replies of the agents, so a record says which question it
answers: ``PlannerInput.task`` (and the plan's ``"task"`` key, which must agree) selects the
prompt and target renderers (:data:`TASKS`); the task's own inputs travel in
``PlannerInput.task_input``. Everything else (tokenisation, loss masking, methods, splits,
checkpoints) is the same for every task.

- ``plan`` (the default): paper B's styling plan, as above.
- ``orchestrate`` (paper A's orchestrator): the subtask's text (and the planner's action), the
  candidate tools with the parameters each would get, the candidate regions, the state and the
  textual analysis (text modality) or the image (vision); the target is the JSON the
  ``planner-orchestrator`` asks its orchestrator for (``{"tool", "params", "region"}``, the
  ``orchestrator.j2`` reply), so its own parser reads the trained model's answer.
- ``subtasks`` (paper A's planner without its checklist, for self-distillation): the goal, what
  to keep and the textual analysis (or the image); the target is the ``planner.j2`` reply
  (``{"reasoning", "subtasks": [{"reasoning", "text", "region"}]}``).

A record file written before tasks existed reads as ``plan``, and a ``plan`` record is written
exactly as before (no task keys), so earlier data and trained folders keep their meaning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.backends.base import ChatMessage, ImagePart, TextPart
from bench.ids import content_hash
from bench.model import CONTEXT_DIMENSIONS

PROMPT_VERSION = "1"

#: Short on purpose: every training sample carries it, and a fine-tuned planner learns the reply's
#: shape from its targets, not from this sentence.
SYSTEM_PROMPT = "You are an image-styling planner. Reply with a JSON plan: actions from the library, each with its reasoning."

#: The tasks a record can train (module doc), each with its system prompt and prompt version.
TASKS: tuple[str, ...] = ("plan", "orchestrate", "subtasks")
SYSTEM_PROMPTS: dict[str, str] = {
    "plan": SYSTEM_PROMPT,
    "orchestrate": "You are an image-editing orchestrator. For one subtask, reply with JSON: the tool from the "
                   "candidates, its params and the region to apply it to.",
    "subtasks": "You are an image-editing planner. Reply with a JSON plan: atomic subtasks, each with its reasoning, "
                "the change and where it applies.",
}
PROMPT_VERSIONS: dict[str, str] = {"plan": PROMPT_VERSION, "orchestrate": "1", "subtasks": "1"}


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`, else ``ValueError``."""
    if task not in TASKS:
        raise ValueError(f"unknown training task {task!r}; one of {', '.join(TASKS)}")
    return task


@dataclass(frozen=True)
class PlannerInput:
    """What a planner is conditioned on (paper B's ``s = (x, p, c)`` plus the textual analysis).

    ``image_id`` is the source image's pixel id (``bench.ids.image_id``); ``image_path`` where to
    read it for the vision modality (``None`` when only the id is known). ``reading`` is a frozen
    reader's structured reading of the goal (the testbed's: the rule lexicon's), given to planners
    that are too small to have learned language; ``None`` for everyone else. ``task`` selects the
    question asked (module doc) and ``task_input`` holds that task's own inputs (JSON values):
    for ``orchestrate`` ``subtask``, ``action``, ``tools`` (``[[name, params], ...]``) and
    ``regions`` (region JSON, as policies store them).
    """

    goal: str
    preserve: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    image_id: str | None = None
    image_path: str | None = None
    reading: str | None = None
    task: str = "plan"
    task_input: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_task(self.task)

    @property
    def key(self) -> str:
        """Identity of the input (image, goal, context, what to keep, and a task's own inputs): DPO pairs share it."""
        parts: list[Any] = [self.image_id, self.goal, sorted(self.preserve), sorted(dict(self.context).items())]
        if self.task != "plan":
            parts += [self.task, dict(self.task_input)]
        return content_hash(parts, 16)

    def to_dict(self) -> dict[str, Any]:
        out = {"goal": self.goal, "preserve": list(self.preserve), "context": dict(self.context),
               "description": self.description, "image_id": self.image_id, "image_path": self.image_path,
               "reading": self.reading}
        if self.task != "plan":
            out.update(task=self.task, task_input=dict(self.task_input))
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PlannerInput:
        return cls(goal=str(d["goal"]), preserve=tuple(d.get("preserve") or ()), context=dict(d.get("context") or {}),
                   description=d.get("description"), image_id=d.get("image_id"), image_path=d.get("image_path"),
                   reading=d.get("reading"), task=str(d.get("task") or "plan"),
                   task_input=dict(d.get("task_input") or {}))


@dataclass(frozen=True)
class TrainRecord:
    """One trajectory: input, plan, reward (``None`` when the chosen judge gave none) and group.

    ``plan`` is the target as data: for ``plan`` records paper B's plan, for other tasks an object
    with ``"task"`` naming the input's task (a mismatch is a ``ValueError``: the target would be
    rendered for another question than the prompt asks).
    """

    key: str
    input: PlannerInput
    plan: Mapping[str, Any]
    reward: float | None
    group: str
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if task_of(self.plan) != self.input.task:
            raise ValueError(f"record {self.key}: its target is for task {task_of(self.plan)!r}, its input for "
                             f"{self.input.task!r}")

    @property
    def task(self) -> str:
        return self.input.task

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "input": self.input.to_dict(), "plan": dict(self.plan), "reward": self.reward,
                "group": self.group, "source": self.source, "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainRecord:
        return cls(key=str(d["key"]), input=PlannerInput.from_dict(d["input"]), plan=dict(d["plan"]),
                   reward=None if d.get("reward") is None else float(d["reward"]), group=str(d["group"]),
                   source=str(d.get("source", "")), meta=dict(d.get("meta") or {}))


# -- plans -----------------------------------------------------------------------------------------
def normalise_plan(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Any plan shape a source stores -> ``{"reasoning", "actions": [{"reasoning", "action",
    "parameters"}], "instruction"}``.

    Accepts paper B's ``action_plan.json`` (``action_id``, ``overall_instruction``, ``priority``:
    dropped, it is not in the paper's target) and editbench's own (``action``). A plan with no
    actions is a ``ValueError``: there is nothing to learn from it.
    """
    if not isinstance(plan, Mapping):
        raise ValueError("a plan must be a JSON object")
    actions = plan.get("actions", plan.get("plan", plan.get("steps")))
    if not isinstance(actions, Sequence) or isinstance(actions, str) or not actions:
        raise ValueError("the plan has no actions")
    out_actions = []
    for i, a in enumerate(actions):
        if not isinstance(a, Mapping):
            raise ValueError(f"actions[{i}] is not an object")
        aid = next((a[k] for k in ("action", "action_id", "action_type", "id") if a.get(k)), None)
        if not isinstance(aid, str):
            raise ValueError(f"actions[{i}] has no action id")
        params = a.get("parameters", a.get("params")) or {}
        if not isinstance(params, Mapping):
            raise ValueError(f"actions[{i}].parameters is not an object")
        out_actions.append({"reasoning": str(a.get("reasoning") or "").strip(), "action": aid,
                            "parameters": dict(params)})
    instruction = plan.get("instruction", plan.get("overall_instruction"))
    return {"reasoning": str(plan.get("reasoning") or "").strip(), "actions": out_actions,
            "instruction": instruction if isinstance(instruction, str) and instruction.strip() else None}


def task_of(plan: Mapping[str, Any]) -> str:
    """The task a target is for: its ``"task"`` key, ``plan`` when it has none."""
    return check_task(str(plan.get("task") or "plan")) if isinstance(plan, Mapping) else "plan"


def target_text(plan: Mapping[str, Any], *, target: str = "plan", reasoning_order: str = "before") -> str:
    """The JSON the model learns to write for ``plan`` (one line, keys in a fixed order).

    ``target="plan+instruction"`` appends the ``instruction`` (paper B's code trains on it); a plan
    without one then has no instruction key. Targets of other tasks go to their renderer
    (:func:`choice_target`, :func:`subtasks_target`).
    """
    task = task_of(plan)
    if task == "orchestrate":
        return choice_target(plan, reasoning_order=reasoning_order)
    if task == "subtasks":
        return subtasks_target(plan, reasoning_order=reasoning_order)
    p = normalise_plan(plan)
    actions = []
    for a in p["actions"]:
        if reasoning_order == "before":
            actions.append({"reasoning": a["reasoning"], "action": a["action"], "parameters": a["parameters"]})
        else:
            actions.append({"action": a["action"], "parameters": a["parameters"], "reasoning": a["reasoning"]})
    out: dict[str, Any] = {"reasoning": p["reasoning"], "actions": actions}
    if target == "plan+instruction" and p["instruction"]:
        out["instruction"] = p["instruction"]
    return json.dumps(out, ensure_ascii=False)


def _sorted_json(value: Any) -> Any:
    """``value`` with every object's keys sorted (prompt and target then spell parameters alike)."""
    return json.loads(json.dumps(value, sort_keys=True))


def choice_target(plan: Mapping[str, Any], *, reasoning_order: str = "before") -> str:
    """An orchestrator's choice as it answers: ``{"tool", "params", "region"}`` (``reasoning`` first or
    last when the choice has one). ``ValueError`` for a choice without a tool."""
    tool = plan.get("tool")
    if not isinstance(tool, str) or not tool:
        raise ValueError("an orchestrator target needs a tool")
    params = plan.get("params") or {}
    if not isinstance(params, Mapping):
        raise ValueError("an orchestrator target's params must be an object")
    out: dict[str, Any] = {"tool": tool, "params": _sorted_json(dict(params)),
                           "region": _sorted_json(plan.get("region") or {"kind": "full"})}
    reasoning = str(plan.get("reasoning") or "").strip()
    if reasoning:
        out = {"reasoning": reasoning, **out} if reasoning_order == "before" else {**out, "reasoning": reasoning}
    return json.dumps(out, ensure_ascii=False)


def subtasks_target(plan: Mapping[str, Any], *, reasoning_order: str = "before") -> str:
    """Paper A's planner reply: ``{"reasoning", "subtasks": [{"reasoning", "text", "region"}]}`` (a
    subtask's ``region`` only when it has one). ``ValueError`` for a plan without subtasks."""
    subs = plan.get("subtasks")
    if not isinstance(subs, Sequence) or isinstance(subs, str) or not subs:
        raise ValueError("the plan has no subtasks")
    out_subs = []
    for i, st in enumerate(subs):
        if not isinstance(st, Mapping) or not str(st.get("text") or "").strip():
            raise ValueError(f"subtasks[{i}] needs a text")
        item = {"text": str(st["text"]).strip()}
        if st.get("region"):
            item["region"] = str(st["region"])
        why = str(st.get("reasoning") or "").strip()
        out_subs.append({"reasoning": why, **item} if reasoning_order == "before" else {**item, "reasoning": why})
    return json.dumps({"reasoning": str(plan.get("reasoning") or "").strip(), "subtasks": out_subs},
                      ensure_ascii=False)


# -- prompts ---------------------------------------------------------------------------------------
def _words(value: str) -> str:
    return str(value).replace("_", " ")


def _state_line(inp: PlannerInput) -> str | None:
    state = [f"{d}={inp.context[d]}" for d in CONTEXT_DIMENSIONS if inp.context.get(d) not in (None, "", "unknown")]
    extra = [f"{k}={v}" for k, v in sorted(inp.context.items()) if k not in CONTEXT_DIMENSIONS and v not in ("", "unknown")]
    return "State: " + "; ".join(state + extra) if state or extra else None


def _plan_prompt(inp: PlannerInput, description: bool) -> list[str]:
    lines = [f"Goal: {inp.goal.strip()}"] if inp.goal.strip() else []
    lines.append("Keep: " + (", ".join(inp.preserve) if inp.preserve else "nothing named"))
    state = _state_line(inp)
    if state:
        lines.append(state)
    if inp.reading:
        lines.append(f"Reading: {inp.reading.strip()}")
    if description and inp.description:
        lines.append(f"Scene: {inp.description.strip()}")
    return lines


def _orchestrate_prompt(inp: PlannerInput, description: bool) -> list[str]:
    t = inp.task_input
    lines = [f"Subtask: {str(t.get('subtask') or '').strip()}"]
    if t.get("action"):
        lines.append(f"Action: {t['action']}")
    if inp.preserve:
        lines.append("Keep: " + ", ".join(inp.preserve))
    state = _state_line(inp)
    if state:
        lines.append(state)
    if description and inp.description:
        lines.append(f"Scene: {inp.description.strip()}")
    lines.append("Tools:")
    for name, params in t.get("tools") or ():
        lines.append(f"- {name} {json.dumps(_sorted_json(params), ensure_ascii=False)}")
    regions = [json.dumps(_sorted_json(r), ensure_ascii=False) for r in t.get("regions") or ()]
    lines.append("Regions: " + " | ".join(regions))
    return lines


def _subtasks_prompt(inp: PlannerInput, description: bool) -> list[str]:
    lines = [f"Goal: {inp.goal.strip()}"]
    if inp.preserve:
        lines.append("Keep: " + "; ".join(inp.preserve))
    if description and inp.description:
        lines.append(f"Scene: {inp.description.strip()}")
    return lines


_PROMPTS = {"plan": _plan_prompt, "orchestrate": _orchestrate_prompt, "subtasks": _subtasks_prompt}


def prompt_text(inp: PlannerInput, *, description: bool = True) -> str:
    """The user turn of ``inp.task``. For ``plan``: goal (left out when empty), what to keep, the
    ten-dimension state (values ``unknown`` left out), the goal's reading when there is one, and
    (optionally) the scene analysis. For ``orchestrate``: the subtask, its action, what to keep, the
    state, the analysis, one line per candidate tool with its parameters, the candidate regions.
    For ``subtasks``: the goal, what to keep, the analysis (no checklist: that is the point)."""
    return "\n".join(_PROMPTS[inp.task](inp, description))


def system_prompt(task: str = "plan") -> str:
    """The system prompt of ``task``."""
    return SYSTEM_PROMPTS[check_task(task)]


def planner_messages(inp: PlannerInput, *, modality: str = "text", description: bool = True,
                     image: Any = None) -> tuple[ChatMessage, ...]:
    """The chat messages a model gets for ``inp``: its task's system prompt and one user turn (with
    the image first for ``modality="vision"``; ``image`` is then a PIL image)."""
    parts: list[TextPart | ImagePart] = []
    if modality == "vision":
        if image is None:
            raise ValueError("modality=vision needs the source image")
        parts.append(ImagePart.from_pil(image))
    parts.append(TextPart(prompt_text(inp, description=description)))
    return (ChatMessage.system(system_prompt(inp.task)), ChatMessage("user", tuple(parts)))


def hf_conversation(messages: Sequence[ChatMessage], vision: bool) -> list[dict[str, Any]]:
    """Messages in the chat-template shape ``transformers`` expects (content parts for vision models),
    the same shape :class:`bench.backends.transformers_backend.TransformersBackend` builds."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if vision:
            content: list[dict[str, Any]] = []
            for p in m.content:
                if isinstance(p, TextPart):
                    content.append({"type": "text", "text": p.text})
                else:
                    from PIL import Image

                    img = p.image if getattr(p, "image", None) is not None else Image.open(_bytes_io(p.png_bytes()))
                    content.append({"type": "image", "image": img.convert("RGB")})
            out.append({"role": m.role, "content": content})
        else:
            out.append({"role": m.role, "content": m.text()})
    return out


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)
