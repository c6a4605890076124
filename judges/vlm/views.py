"""What a rubric template sees: plain dicts made from a sample, a plan and the item's images.

Templates get data, never records: a field rename in :mod:`bench.model` then breaks one function
here (and the prompt snapshots), not every template.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from bench.backends.base import ImagePart
from bench.model import Plan, Sample, Trajectory
from bench.protocols import JudgeItem


def image_part(img: Image.Image, known_id: str | None = None, load_png: Any = None) -> ImagePart:
    """An image part, reusing the store's id when known (the same id: both are of pixels).

    With the store's PNG at hand (``JudgeItem.load_png``) its bytes are sent as they are: decoding
    and re-encoding two 512 px images per request costs more CPU than the request itself.
    """
    if not known_id:
        return ImagePart.from_pil(img)
    png = None
    if load_png is not None:
        try:
            png = load_png(known_id)
        except Exception:  # noqa: BLE001 - not stored: encode from pixels instead
            png = None
    return ImagePart(image_id=known_id, image=img, png=png)


def source_part(item: JudgeItem) -> ImagePart:
    return image_part(item.source, item.sample.image.id or None, getattr(item, "load_png", None))


def result_part(item: JudgeItem) -> ImagePart:
    return image_part(item.final, item.trajectory.final, getattr(item, "load_png", None))


def sample_view(sample: Sample) -> dict[str, Any]:
    """The sample as a template reads it: goal, checklist, structured context, what to keep."""
    return {
        "id": sample.id,
        "goal": sample.goal,
        "checklist": [
            {"id": c.id, "text": c.text, "kind": c.kind, "weight": c.weight} for c in sample.checklist
        ],
        "context": {k: v for k, v in sorted(sample.context.items()) if v not in (None, "")},
        "preserve": list(sample.preserve),
        "description": sample.description,
        "reference": sample.reference,
    }


def has_plan(traj: Trajectory) -> bool:
    """A system planned if its trajectory holds subtasks or a synthesised instruction."""
    p = traj.plan
    return p is not None and bool(p.subtasks or p.instruction)


def plan_view(plan: Plan | None) -> dict[str, Any] | None:
    """The plan as text-ready data: instruction, plan-level reasoning, and each step's intent."""
    if plan is None:
        return None
    steps = [
        {
            "n": i,
            "id": st.id,
            "text": st.text,
            "reasoning": st.reasoning,
            "action": st.action,
            "action_params": dict(st.action_params),
            "tool": st.tool,
            "params": dict(st.params),
            "region": st.region.describe() if st.region is not None else None,
        }
        for i, st in enumerate(plan.subtasks, 1)
    ]
    reasoning = plan.reasoning or ""
    return {
        "instruction": plan.instruction,
        "reasoning": plan.reasoning,
        "reasoning_words": len(reasoning.split()),
        "steps": steps,
        "context": {k: v for k, v in sorted(plan.context.items()) if v not in (None, "")},
    }
