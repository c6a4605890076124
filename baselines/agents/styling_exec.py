"""Rendering a styling plan (paper B stage 4): how each executor turns actions into tool calls.

Three executors, chosen by ``styling-planner:executor=``:

- **an instruction editor** (``instruct-edit``, or any tool that takes an ``instruction`` or
  ``prompt`` parameter): paper B's frozen editor. ``mode=single``: one call with the synthesised
  instruction. ``mode=stepwise``: one call per atomic action with that action's own instruction
  (the plan's constraints appended to each), so the two modes can be compared.
- **``scene``** (the scene tool: exact re-rendering of a styling suite's scene description): each
  atomic action's target value becomes a ``changes`` entry, so the plan is scored exactly by the
  ``attributes`` judge. ``single``: one call with every change; ``stepwise``: one call per action.
- **``classical``** (the classical dimension ops; always stepwise): each atomic action becomes its
  dimension's op with the lexicon's parameters for the target value; ``exclude_region`` and
  ``preserve_object_category`` confine every step (an inverted named region, or a stored mask when
  several apply); ``graduated_effect`` / ``spatial_constraint`` wrap the step they name in the
  classical ``graduated_effect`` op.

Constraint actions an executor has no counterpart for, and target values it cannot render, are
recorded as dropped with the reason (never ignored); ``preserve_attribute`` drops any action that
would change a dimension it protects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from baselines import lexicon as lx
from bench.context import EditContext
from bench.model import Region
from bench.regions import mask_to_image, region_mask

from .library import PlannedAction

#: Context key -> scene dimension name (``location`` -> ``location_setting``...).
_SCENE_DIM = {"location": "location_setting", "architecture": "architecture_style"}
#: exclude_region's region types (C.2.2) -> the region the *edit* is confined to.
_EXCLUDE: dict[str, Region] = {
    "foreground": Region(kind="named", name="background"),
    "background": Region(kind="named", name="foreground"),
    "top_half": Region(kind="named", name="top", invert=True),
    "bottom_half": Region(kind="named", name="bottom", invert=True),
    "center": Region(kind="named", name="center", invert=True),
    "edges": Region(kind="named", name="center"),
}
#: C.2.2 directions -> the classical graduated_effect op's.
_DIRECTIONS = {"top_to_bottom": "top_to_bottom", "top_to_bottom_gradient": "top_to_bottom",
               "bottom_to_top": "bottom_to_top", "left_to_right": "left_to_right", "right_to_left": "right_to_left",
               "center_outward": "center_outward", "outward_to_center": "outward_to_center"}
#: Actions that only order or group the others: nothing to execute, nothing lost.
ORDERING = ("sequence_transform", "parallel_transform")


@dataclass
class Call:
    """One tool call the executor will make (``actions``: the plan actions it carries out)."""

    tool: str
    params: dict[str, Any]
    actions: tuple[int, ...]
    region: Region | None = None
    instruction: str | None = None


@dataclass
class Rendering:
    """An executor's decision for a whole plan: the calls, the drops (index -> why) and notes."""

    calls: list[Call] = field(default_factory=list)
    dropped: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def scene_dimension(dim: str) -> str:
    return _SCENE_DIM.get(dim, dim)


def protected(actions: Sequence[PlannedAction], out: Rendering) -> list[PlannedAction]:
    """The atomic actions left once ``preserve_attribute`` has vetoed those touching what it protects."""
    keep: dict[str, int] = {}
    for a in actions:
        if a.action == "preserve_attribute":
            for dim in a.parameters.get("attributes_to_preserve", []):
                keep.setdefault(lx.normalize(str(dim)).replace(" ", "_"), a.index)
    live = []
    for a in actions:
        if a.dimension is None:
            continue
        if a.dimension in keep:
            out.dropped[a.index] = f"would change {a.dimension}, which action a{keep[a.dimension] + 1} " \
                                   "(preserve_attribute) keeps"
        elif a.target is None:
            out.dropped[a.index] = "no target value"
        else:
            live.append(a)
    for a in actions:
        if a.action == "preserve_attribute":
            out.notes.append(f"a{a.index + 1} preserve_attribute: honoured by not changing "
                             + ", ".join(map(str, a.parameters.get("attributes_to_preserve", []))))
        elif a.action in ORDERING:
            out.notes.append(f"a{a.index + 1} {a.action}: the actions run in plan order")
    return live


# -- scene ---------------------------------------------------------------------------------------------
def render_scene(actions: Sequence[PlannedAction], single: bool) -> Rendering:
    from bench.scene import canonical_value

    out = Rendering()
    changes: list[tuple[PlannedAction, str, str]] = []
    seen: dict[str, int] = {}
    for a in protected(actions, out):
        try:
            value = canonical_value(scene_dimension(a.dimension or ""), a.target or "")
        except ValueError as err:
            out.dropped[a.index] = f"the scene tool cannot render it: {err}"
            continue
        if a.dimension in seen:
            out.dropped[a.index] = f"{a.dimension} is already set by a{seen[a.dimension] + 1}"
            continue
        seen[a.dimension or ""] = a.index
        changes.append((a, a.dimension or "", value))
    for a in actions:
        if a.dimension is not None or a.action in ("preserve_attribute", *ORDERING):
            continue
        if a.action == "preserve_object_category":
            out.notes.append(f"a{a.index + 1} preserve_object_category: the scene tool keeps every object")
        else:
            out.dropped[a.index] = f"{a.action} has no counterpart in the scene tool (it edits whole dimensions)"
    if single and changes:
        out.calls.append(Call("scene", {"changes": {d: v for _, d, v in changes}}, tuple(a.index for a, _, _ in changes)))
    elif changes:
        out.calls += [Call("scene", {"changes": {d: v}}, (a.index,)) for a, d, v in changes]
    return out


# -- instruction editors ---------------------------------------------------------------------------------
def render_instruction(tool: str, key: str, actions: Sequence[PlannedAction], instruction: str, single: bool,
                       preserve: Sequence[str]) -> Rendering:
    from .rules import template_instruction

    out = Rendering()
    if single:
        out.calls.append(Call(tool, {key: instruction}, tuple(a.index for a in actions), instruction=instruction))
        out.notes.append("every action rendered by one editor call with the synthesised instruction")
        return out
    live = protected(actions, out)
    constraints = [a for a in actions if a.dimension is None and a.action not in ORDERING]
    for a in constraints:
        out.notes.append(f"a{a.index + 1} {a.action}: added to every step's instruction")
    for a in live:
        text = template_instruction([a, *constraints], preserve)
        out.calls.append(Call(tool, {key: text}, (a.index,), instruction=text))
    return out


# -- classical -------------------------------------------------------------------------------------------
def classical_op(a: PlannedAction, strength: float) -> tuple[str, dict[str, Any]]:
    """The classical op and params for an atomic action's target; ``ValueError`` when none exists."""
    from bench.scene import canonical_value

    dim = a.dimension or ""
    target = a.target or ""
    candidates = [lx.normalize(target).replace(" ", "_")]
    try:
        candidates.append(canonical_value(scene_dimension(dim), target))
    except ValueError:
        pass
    entries = [e for v in candidates for e in lx.DIMENSION_LEXICON if e.dimension == dim and e.value == v]
    if not entries:
        entries = [m.entry for m in lx.find_matches(target.replace("_", " "), "any") if m.entry.dimension == dim]
    for e in entries:
        act = next((x for x in e.actions if x.dimension == dim), None)
        if act is not None:
            return act.action, lx.scaled_params(act, strength)
    if entries:
        raise ValueError(f"no classical op renders {dim} = {target!r} ({entries[0].note or 'no op'})")
    raise ValueError(f"the lexicon has no {dim} value like {target!r}")


def _confinement(actions: Sequence[PlannedAction], out: Rendering, ctx: EditContext, size: tuple[int, int]
                 ) -> Region | None:
    regions: list[Region] = []
    for a in actions:
        if a.action == "exclude_region":
            kind = str(a.parameters.get("region_type", ""))
            if kind not in _EXCLUDE:
                out.dropped[a.index] = f"unknown region_type {kind!r}"
                continue
            regions.append(_EXCLUDE[kind])
            out.notes.append(f"a{a.index + 1} exclude_region: every step confined away from the {kind}")
        elif a.action == "preserve_object_category":
            places = {lx.DEFAULT_PLACE.get(lx.PRESERVE_OBJECTS.get(lx.normalize(str(c)), str(c)))
                      for c in a.parameters.get("object_categories", [])}
            places.discard(None)
            if not places:
                out.dropped[a.index] = "cannot locate " + ", ".join(map(str, a.parameters.get("object_categories", [])))
                continue
            for p in sorted(places):  # type: ignore[type-var]
                regions.append(Region(kind="named", name=p, invert=True))
            out.notes.append(f"a{a.index + 1} preserve_object_category: every step avoids the "
                             + " and ".join(sorted(places)))  # type: ignore[arg-type]
    if not regions:
        return None
    if len(regions) == 1:
        return regions[0]
    inside = np.ones((size[1], size[0]), np.float32)
    for r in regions:
        inside = np.minimum(inside, region_mask(r, size))
    return Region(kind="mask", mask=ctx.put(mask_to_image(inside)))


def render_classical(actions: Sequence[PlannedAction], strength: float, ctx: EditContext, size: tuple[int, int]
                     ) -> Rendering:
    out = Rendering()
    live = protected(actions, out)
    region = _confinement(actions, out, ctx, size)
    wraps: dict[str, PlannedAction] = {}
    for a in actions:
        if a.action in ("graduated_effect", "spatial_constraint"):
            base = a.parameters.get("base_action", a.parameters.get("affected_attribute"))
            wraps[lx.normalize(str(base)).replace(" ", "_")] = a
        elif a.dimension is None and a.action not in ("exclude_region", "preserve_object_category",
                                                      "preserve_attribute", *ORDERING):
            out.dropped[a.index] = f"{a.action} has no counterpart among the classical ops"
    used: set[int] = set()
    for a in live:
        try:
            tool, params = classical_op(a, strength)
        except ValueError as err:
            out.dropped[a.index] = str(err)
            continue
        carried = (a.index,)
        w = wraps.get(a.action) or wraps.get(a.dimension or "")
        if w is not None and w.index not in used:
            direction = str(w.parameters.get("gradient_direction") or w.parameters.get("constraint_type")
                            or "top_to_bottom")
            params = {"op": tool, "params": params, "direction": _DIRECTIONS.get(direction, "top_to_bottom"),
                      "curve": str(w.parameters.get("intensity_curve", "linear"))}
            if params["curve"] not in ("linear", "exponential", "sigmoid"):
                params["curve"] = "linear"
            tool = "graduated_effect"
            carried = (a.index, w.index)
            used.add(w.index)
        out.calls.append(Call(tool, params, carried, region=region))
    for w in wraps.values():
        if w.index not in used:
            out.dropped[w.index] = f"{w.action} names no action of the plan that runs"
    return out
