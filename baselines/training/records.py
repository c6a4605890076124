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


@dataclass(frozen=True)
class PlannerInput:
    """What a planner is conditioned on (paper B's ``s = (x, p, c)`` plus the textual analysis).

    ``image_id`` is the source image's pixel id (``bench.ids.image_id``); ``image_path`` where to
    read it for the vision modality (``None`` when only the id is known). ``reading`` is a frozen
    reader's structured reading of the goal (the testbed's: the rule lexicon's), given to planners
    that are too small to have learned language; ``None`` for everyone else.
    """

    goal: str
    preserve: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    image_id: str | None = None
    image_path: str | None = None
    reading: str | None = None

    @property
    def key(self) -> str:
        """Identity of the input (image, goal, context, what to keep): DPO pairs share it."""
        return content_hash([self.image_id, self.goal, sorted(self.preserve), sorted(dict(self.context).items())], 16)

    def to_dict(self) -> dict[str, Any]:
        return {"goal": self.goal, "preserve": list(self.preserve), "context": dict(self.context),
                "description": self.description, "image_id": self.image_id, "image_path": self.image_path,
                "reading": self.reading}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PlannerInput:
        return cls(goal=str(d["goal"]), preserve=tuple(d.get("preserve") or ()), context=dict(d.get("context") or {}),
                   description=d.get("description"), image_id=d.get("image_id"), image_path=d.get("image_path"),
                   reading=d.get("reading"))


@dataclass(frozen=True)
class TrainRecord:
    """One trajectory: input, plan, reward (``None`` when the chosen judge gave none) and group."""

    key: str
    input: PlannerInput
    plan: Mapping[str, Any]
    reward: float | None
    group: str
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

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


def target_text(plan: Mapping[str, Any], *, target: str = "plan", reasoning_order: str = "before") -> str:
    """The JSON the planner learns to write for ``plan`` (one line, keys in a fixed order).

    ``target="plan+instruction"`` appends the ``instruction`` (paper B's code trains on it); a plan
    without one then has no instruction key.
    """
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


# -- prompts ---------------------------------------------------------------------------------------
def _words(value: str) -> str:
    return str(value).replace("_", " ")


def prompt_text(inp: PlannerInput, *, description: bool = True) -> str:
    """The user turn: goal (left out when empty), what to keep, the ten-dimension state (values
    ``unknown`` left out), the goal's reading when there is one, and (optionally) the scene analysis."""
    lines = [f"Goal: {inp.goal.strip()}"] if inp.goal.strip() else []
    lines.append("Keep: " + (", ".join(inp.preserve) if inp.preserve else "nothing named"))
    state = [f"{d}={inp.context[d]}" for d in CONTEXT_DIMENSIONS if inp.context.get(d) not in (None, "", "unknown")]
    extra = [f"{k}={v}" for k, v in sorted(inp.context.items()) if k not in CONTEXT_DIMENSIONS and v not in ("", "unknown")]
    if state or extra:
        lines.append("State: " + "; ".join(state + extra))
    if inp.reading:
        lines.append(f"Reading: {inp.reading.strip()}")
    if description and inp.description:
        lines.append(f"Scene: {inp.description.strip()}")
    return "\n".join(lines)


def planner_messages(inp: PlannerInput, *, modality: str = "text", description: bool = True,
                     image: Any = None) -> tuple[ChatMessage, ...]:
    """The chat messages a planner gets: the system prompt and one user turn (with the image first
    for ``modality="vision"``; ``image`` is then a PIL image)."""
    parts: list[TextPart | ImagePart] = []
    if modality == "vision":
        if image is None:
            raise ValueError("modality=vision needs the source image")
        parts.append(ImagePart.from_pil(image))
    parts.append(TextPart(prompt_text(inp, description=description)))
    return (ChatMessage.system(SYSTEM_PROMPT), ChatMessage("user", tuple(parts)))


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
