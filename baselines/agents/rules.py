"""The rule-based offline "model": every agent stage answered from the lexicon, with no weights.

It answers the same questions a model is asked, from the structured inputs the prompt was
rendered from, in the same JSON shapes, so the agents' parsing, checking, refinement and
execution run exactly as they do with a model. It is honest about what it cannot see: it reads
words (the goal, the sample's description and context), never pixels.

- ``checklist``: one goal criterion per change the lexicon reads in the goal (best first), one
  preserve criterion per kept thing, one quality criterion.
- ``planner`` (paper A): :class:`baselines.rule_pipeline.RulePipeline`'s plan for the goal
  conditioned on the checklist (its preserve criteria are added to what must be kept, its goal
  criteria are read as more of the goal), one subtask per step; then one subtask for each change
  the goal asks for that no classical operation can make, so refinement has something honest to
  drop.
- ``orchestrator``: the same plan's tool, parameters and region for the subtask (recomputed, so
  the answer depends only on the inputs), or ``tool: null`` with the reason for infeasible ones.
- ``context`` (paper B stage 1): the sample's given context (the rules cannot look at pixels).
- ``styling_plan``: one atomic action per dimension the goal asks to change (not already true,
  not to be kept), foundation first; with the 20-action library also ``preserve_attribute`` and
  ``preserve_object_category`` for what must be kept, when there is room.
- ``instruction``: :func:`template_instruction` (paper B stage 3 by template).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from baselines import lexicon as lx
from bench.ids import content_hash, image_id
from bench.model import CONTEXT_DIMENSIONS, Criterion, Plan, Sample

from .library import ACTION_OF_DIMENSION, ACTIONS, PlannedAction

RULES_VERSION = "2"  # 2: the orchestrator answers for its own subtasks by id and words, not id alone
_PLANS: OrderedDict[str, Plan] = OrderedDict()
_PLANS_LOCK = threading.Lock()
_INFEASIBLE_PREFIX = "x"


def reply(stage: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The rules' JSON answer for ``stage``; ``KeyError`` for a stage they do not know."""
    return _STAGES[stage](inputs)


# -- paper A -----------------------------------------------------------------------------------------
def _reading(sample: Sample) -> lx.GoalReading:
    ctx = dict(sample.context)
    product = ctx.get("product")
    return lx.read_goal(sample.goal, advert=lx.is_advert(sample.goal, ctx, sample.description),
                        ignore=(product,) if product else ())


def checklist(inputs: Mapping[str, Any]) -> dict[str, Any]:
    sample: Sample = inputs["sample"]
    hi = int(inputs.get("max_items", 6))
    reading = _reading(sample)
    goal: list[dict[str, str]] = []
    seen: set[str] = set()
    for m in reading.changes:
        if m.entry.aspect in seen:
            continue
        seen.add(m.entry.aspect)
        what = m.entry.label if not m.entry.dimension else f"the {m.entry.dimension.replace('_', ' ')} is {m.entry.label}"
        goal.append({"kind": "goal", "text": f"The result clearly shows that {what} ('{m.phrase}')"})
    if not goal:
        goal.append({"kind": "goal", "text": f"The result visibly does what was asked: {sample.goal}"})
    keep = [{"kind": "preserve", "text": f"The {_words(item)} stays as it was"} for item in sample.preserve]
    keep += [{"kind": "preserve", "text": f"What the goal keeps stays as it was ('{text}')"} for text in reading.keep_texts]
    quality = [{"kind": "quality", "text": "The result looks like one coherent image, with no visible editing artefacts"}]
    n_goal = max(1, min(len(goal), hi - min(len(keep), 2) - 1))
    items = goal[:n_goal] + keep[: max(0, hi - n_goal - 1)] + quality
    return {"criteria": items[:hi]}


def _conditioned(sample: Sample, crit: Sequence[Criterion]) -> Sample:
    extra_goal = " ".join(c.text.rstrip(".") + "." for c in crit if c.kind == "goal")
    extra_keep = tuple(c.text for c in crit if c.kind == "preserve")
    return sample.replace(goal=f"{sample.goal} {extra_goal}".strip(), preserve=tuple(sample.preserve) + extra_keep)


def _rule_plan(inputs: Mapping[str, Any]) -> tuple[Plan, Sample]:
    """The rule pipeline's plan for the checklist-conditioned sample, memoised by content."""
    from baselines.rule_pipeline import RulePipeline

    sample = _conditioned(inputs["sample"], inputs.get("checklist") or ())
    source = inputs["source"]
    # The plan names masks put into the run's image store, so the memo is per store: a hit from
    # another run's store would point at masks this store lacks.
    images = getattr(inputs.get("ctx"), "images", None)
    store = str(getattr(images, "root", "")) if images is not None else ""
    key = content_hash([sample.to_dict(), image_id(source), RULES_VERSION, store])
    with _PLANS_LOCK:
        if key in _PLANS:
            _PLANS.move_to_end(key)
            return _PLANS[key], sample
    plan = RulePipeline(max_steps=int(inputs.get("max_subtasks", 5))).plan(sample, source, inputs.get("ctx"))
    with _PLANS_LOCK:
        _PLANS[key] = plan
        while len(_PLANS) > 64:
            _PLANS.popitem(last=False)
    return plan, sample


def _infeasible(sample: Sample) -> list[lx.Match]:
    out, seen = [], set()
    for m in _reading(sample).changes:
        if not m.entry.actions and m.entry.aspect not in seen:
            seen.add(m.entry.aspect)
            out.append(m)
    return out


def _infeasible_text(m: lx.Match) -> str:
    return f"Make the {m.entry.dimension or 'image'} {m.entry.label}"


def planner(inputs: Mapping[str, Any]) -> dict[str, Any]:
    plan, sample = _rule_plan(inputs)
    subtasks = [{"id": st.id, "reasoning": st.reasoning or "", "text": st.text,
                 "region": st.region.describe() if st.region is not None else "the whole image"}
                for st in plan.subtasks]
    for i, m in enumerate(_infeasible(sample)):
        subtasks.append({"id": f"{_INFEASIBLE_PREFIX}{i + 1}", "text": _infeasible_text(m), "region": "the whole image",
                         "reasoning": f"the goal asks for {m.entry.label} ('{m.phrase}')"})
    if not subtasks:
        # Nothing the lexicon reads as a change: the same documented neutral fallback as edit-only and
        # the rules styling plan, rather than an empty plan the agent would have to fail on.
        subtasks.append({"id": "s1", "text": "Give the image a light vibrant colour grade", "region": "the whole image",
                         "reasoning": "no lexicon phrase names a change the tools can make: a light vibrant grade "
                                      "is the neutral fallback"})
    return {"reasoning": f"rule plan: {plan.reasoning}", "subtasks": subtasks}


def orchestrator(inputs: Mapping[str, Any]) -> dict[str, Any]:
    from .common import region_to_json

    sub = inputs["subtask"]
    # A subtask is the rules' own only when both its id and its words are theirs: another planner
    # (scripted, a model, a distilled student) reuses ids like "s1" for different subtasks.
    plan, sample = _rule_plan(inputs)
    for i, m in enumerate(_infeasible(sample)):
        if sub["id"] == f"{_INFEASIBLE_PREFIX}{i + 1}" and sub["text"] == _infeasible_text(m):
            return {"reasoning": f"{m.entry.label}: {m.entry.note or 'no tool in the library does this'}",
                    "tool": None, "params": {}, "region": {"kind": "full"}}
    st = next((s for s in plan.subtasks if s.id == sub["id"] and s.text == sub["text"]), None)
    if st is None:  # a subtask the rules did not write (a scripted or model planner's): read its words
        from baselines.edit_only import choose

        choice = choose(sub["text"], advert=lx.is_advert(inputs["sample"].goal, inputs["sample"].context,
                                                           inputs["sample"].description))
        if choice.fallback:
            return {"reasoning": f"no lexicon phrase in {sub['text']!r}", "tool": None, "params": {},
                    "region": {"kind": "full"}}
        return {"reasoning": choice.reasoning, "tool": choice.action.action, "params": dict(choice.action.params),
                "region": region_to_json(None)}
    return {"reasoning": st.reasoning or "", "tool": st.tool, "params": dict(st.params),
            "region": region_to_json(st.region)}


# -- paper B -----------------------------------------------------------------------------------------
def context(inputs: Mapping[str, Any]) -> dict[str, Any]:
    sample: Sample = inputs["sample"]
    out = {dim: str(lx.context_value(sample.context, dim) or "unknown") for dim in CONTEXT_DIMENSIONS}
    out["scene_description"] = sample.description or ""
    return out


def _kept_dimensions(sample: Sample, reading: lx.GoalReading) -> list[str]:
    dims: list[str] = [p for p in sample.preserve if p in CONTEXT_DIMENSIONS]
    for item in [*sample.preserve, *reading.keep_texts]:
        for key in lx.find_words(item, lx.PRESERVE_DIMENSIONS):
            dims += [d for d in lx.PRESERVE_DIMENSIONS[key] if d not in dims]
    dims += [m.entry.dimension for m in reading.kept if m.entry.dimension and m.entry.dimension not in dims]
    return list(dict.fromkeys(dims))


def _kept_objects(sample: Sample, reading: lx.GoalReading) -> list[str]:
    kinds: list[str] = []
    for item in [*sample.preserve, *reading.keep_texts]:
        kinds += [lx.PRESERVE_OBJECTS[k] for k in lx.find_words(item, lx.PRESERVE_OBJECTS)]
    return list(dict.fromkeys(k for k in kinds if k not in ("sky", "ground", "text")))


def styling_plan(inputs: Mapping[str, Any]) -> dict[str, Any]:
    sample: Sample = inputs["sample"]
    ctx: Mapping[str, str] = inputs.get("context") or {}
    allowed = set(inputs["library"])
    hi = int(inputs.get("max_actions", 5))
    reading = _reading(sample)
    kept = _kept_dimensions(sample, reading)
    notes: list[str] = []
    chosen: list[tuple[int, dict[str, Any]]] = []
    taken: set[str] = set()
    for m in reading.changes:
        pairs = [(a.dimension, a.value) for a in m.entry.actions if a.dimension] or \
                ([(m.entry.dimension, m.entry.value)] if m.entry.dimension else [])
        for dim, value in pairs:
            if dim in taken or not value:
                continue
            if dim in kept:
                notes.append(f"'{m.phrase}' would change {dim}, which must be kept")
                continue
            current = ctx.get(dim) or "unknown"
            if lx.context_has({dim: current}, dim, value):
                notes.append(f"{dim} is already {value}")
                continue
            taken.add(dim)
            aid = ACTION_OF_DIMENSION[dim]
            d = ACTIONS[aid]
            chosen.append((lx.STAGES.index(dim), {
                "reasoning": f"Because the current {dim.replace('_', ' ')} is {current}, we choose {aid} to achieve "
                             f"{value.replace('_', ' ')}, as the goal asks ('{m.phrase}')",
                "action": aid,
                "parameters": {d.source_param: current, d.target_param: value,
                               "description": f"{dim.replace('_', ' ')}: {current} -> {value}"}}))
    if not chosen:
        a = lx.FALLBACK
        notes.append("no lexicon phrase names a dimension change: a light vibrant grade is the neutral fallback")
        d = ACTIONS["color_grading"]
        chosen.append((0, {"reasoning": "Because nothing in the goal names a dimension, we choose color_grading to "
                                        "achieve a neutral vibrant look", "action": "color_grading",
                           "parameters": {d.source_param: ctx.get("color_grading") or "unknown",
                                          d.target_param: "vibrant", "description": a.why}}))
    chosen.sort(key=lambda t: t[0])
    actions = [a for _, a in chosen]
    if len(actions) > hi:
        notes.append(f"{len(actions) - hi} change(s) left out: at most {hi} actions")
        actions = actions[:hi]
    objects = _kept_objects(sample, reading)
    if "preserve_attribute" in allowed and kept and len(actions) < hi:
        actions.append({"reasoning": f"Because the goal asks to keep {', '.join(kept)}, we choose preserve_attribute "
                                     "to hold them fixed while the rest changes", "action": "preserve_attribute",
                        "parameters": {"attributes_to_preserve": kept, "preservation_strength": "strict",
                                       "description": "keep " + ", ".join(kept)}})
    if "preserve_object_category" in allowed and objects and len(actions) < hi:
        actions.append({"reasoning": f"Because the goal asks to keep the {', '.join(objects)}, we choose "
                                     "preserve_object_category to leave them as they are",
                        "action": "preserve_object_category",
                        "parameters": {"object_categories": objects, "preservation_mode": "identity",
                                       "description": "keep the " + ", ".join(objects)}})
    head = "; ".join([f"{len(actions)} action(s), foundation first", *notes])
    return {"reasoning": head, "actions": actions}


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def template_instruction(actions: Sequence[PlannedAction], preserve: Sequence[str] = ()) -> str:
    """Paper B stage 3 by template: one clause per action, constraints last, composition kept."""
    changes: list[str] = []
    keeps: list[str] = []
    for a in actions:
        p = a.parameters
        if a.dimension:
            dim = _words(a.dimension)
            src = a.source
            change = f"change the {dim} from {_words(src)} to {_words(a.target)}" if src and src != "unknown" \
                else f"make the {dim} {_words(a.target)}"
            extras = [f"{_words(k)} {_words(v)}" for k, v in p.items()
                      if k not in (a.definition.source_param, a.definition.target_param, "description")
                      and isinstance(v, str)]
            changes.append(change + (f" ({', '.join(extras)})" if extras else ""))
        elif a.action == "preserve_attribute":
            keeps.append("keep the " + ", ".join(_words(x) for x in p.get("attributes_to_preserve", [])) + " unchanged")
        elif a.action == "preserve_object_category":
            keeps.append("keep the " + ", ".join(_words(x) for x in p.get("object_categories", [])) + " exactly as they are")
        elif a.action == "exclude_region":
            keeps.append(f"leave the {_words(p.get('region_type', 'region'))} untouched")
        else:
            changes.append(str(p.get("description") or f"apply {_words(a.action)}"))
    keeps += [f"keep the {_words(x)} as it is" for x in preserve if _words(x) not in " ".join(keeps)]
    text = "; ".join(changes)
    out = (text[:1].upper() + text[1:] + ".") if text else ""
    if keeps:
        out += " " + "; ".join(keeps)[:1].upper() + "; ".join(keeps)[1:] + "."
    return (out + " Preserve the original composition.").strip()


def instruction(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"instruction": template_instruction(inputs["actions"], inputs["sample"].preserve)}


_STAGES = {"checklist": checklist, "planner": planner, "orchestrator": orchestrator, "context": context,
           "styling_plan": styling_plan, "instruction": instruction}
