"""Candidates for a subtask: every (tool, parameters, region) an explorer tries (paper A's T x G).

An :class:`Arm` is one candidate. For each tool of the candidate library and each candidate region
the tool's parameters for the subtask come from (first that applies):

1. a tool taking ``{"changes": {dimension: value}}`` (the scene-tool family): the subtask's scene
   ``target`` (:func:`baselines.explore.plans.scene_target`); no target, no candidate;
2. the tool the zero-shot orchestrator chose for this subtask: the parameters it chose;
3. a tool whose schema requires a text ``instruction`` or ``prompt`` (instruction editors,
   inpainting): the subtask's text;
4. a classical tool the lexicon maps the subtask's words to (:mod:`baselines.lexicon`): those
   parameters;
5. otherwise, ``{}`` when the tool accepts no parameters; else the tool is no candidate here.

Parameters are checked with the tool's own ``validate`` (or its JSON schema) before they become a
candidate, so a candidate that fails does so while running, never for a malformed call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.context import ToolBox
from bench.errors import ToolError
from bench.ids import content_hash
from bench.model import Region

from .plans import PlannedSubtask

__all__ = ["DEFAULT_REGIONS", "Arm", "parse_regions", "propose", "region_label"]

#: Candidate regions by default: the whole image, the upper half, the lower half.
DEFAULT_REGIONS: tuple[str, ...] = ("full", "top", "bottom")


def region_label(region: Mapping[str, Any] | None) -> str:
    """A short readable name of a region as policies store it: ``full``, a named region's name, or its JSON."""
    if not region or (region.get("kind", "full") == "full" and not region.get("invert")):
        return "full"
    if region.get("kind") == "named" and not region.get("invert") and not region.get("feather"):
        return str(region.get("name"))
    import json

    return json.dumps(dict(region), sort_keys=True, separators=(",", ":"))


def parse_regions(specs: Sequence[Any]) -> list[dict[str, Any]]:
    """Region specs (``"full"``, a named region, or a region object) as policy JSON, validated."""
    from baselines.agents.common import parse_region, region_to_json

    out: list[dict[str, Any]] = []
    for s in specs:
        region = parse_region(s)
        if region is not None and region.kind == "phrase":
            raise ValueError(f"candidate region {s!r} is not a named region, box or mask (phrases need grounding)")
        js = region_to_json(region)
        if js not in out:
            out.append(js)
    return out


@dataclass(frozen=True)
class Arm:
    """One candidate: a tool, its parameters and a region (as policy JSON)."""

    tool: str
    params: dict[str, Any] = field(default_factory=dict)
    region: dict[str, Any] = field(default_factory=lambda: {"kind": "full"})

    @property
    def signature(self) -> tuple[str, str]:
        """(tool, region label): what similar subtasks share (their parameters differ)."""
        return (self.tool, region_label(self.region))

    @property
    def key(self) -> str:
        return content_hash([self.tool, self.params, self.region], 24)

    def region_obj(self) -> Region | None:
        from baselines.agents.common import parse_region

        return parse_region(self.region)

    def decision(self) -> dict[str, Any]:
        """The arm as a policy decision (:mod:`baselines.agents.policy`)."""
        return {"tool": self.tool, "params": dict(self.params), "region": dict(self.region)}

    def to_dict(self) -> dict[str, Any]:
        return self.decision()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Arm:
        return cls(str(d["tool"]), dict(d.get("params") or {}), dict(d.get("region") or {"kind": "full"}))


def _schema(tool: Any) -> Mapping[str, Any]:
    return getattr(tool, "params_schema", None) or {}


def _valid(tool: Any, params: dict[str, Any]) -> bool:
    from baselines.agents.toolset import check_schema

    try:
        validate = getattr(tool, "validate", None)
        if callable(validate):
            validate(params)
        else:
            check_schema(_schema(tool), params)
    except (ToolError, ValueError, TypeError, KeyError):
        return False
    return True


def _lexicon_params(text: str, tool: str) -> dict[str, Any] | None:
    from baselines import lexicon as lx

    for advert in (False, True):
        for m in lx.read_goal(text, advert=advert).changes:
            for a in m.entry.actions:
                if a.action == tool:
                    return dict(a.params)
    return None


def params_for(sub: PlannedSubtask, name: str, tool: Any) -> dict[str, Any] | None:
    """The parameters ``tool`` gets for ``sub`` (rules in the module doc), or ``None``: no candidate."""
    props = _schema(tool).get("properties", {}) or {}
    required = set(_schema(tool).get("required", ()) or ())
    tries: list[dict[str, Any] | None] = []
    if "changes" in props:
        tries.append({"changes": dict(sub.target)} if sub.target else None)
    else:
        if name == sub.plan_tool:
            tries.append(dict(sub.plan_params))
        text_key = next((k for k in ("instruction", "prompt") if k in required and
                         (props.get(k) or {}).get("type") == "string"), None)
        if text_key:
            tries.append({text_key: sub.text})
        tries.append(_lexicon_params(sub.text, name))
        if not required:
            tries.append({})
    for params in tries:
        if params is not None and _valid(tool, params):
            return params
    return None


def propose(sub: PlannedSubtask, tools: Sequence[str], regions: Sequence[Mapping[str, Any]],
            toolbox: ToolBox, tool_args: Mapping[str, Mapping[str, Any]] | None = None) -> list[Arm]:
    """Every candidate for ``sub``: tools in order, each with every region; tools without parameters for it skipped."""
    out: list[Arm] = []
    for name in tools:
        tool = toolbox.get(name, **dict((tool_args or {}).get(name, {})))
        params = params_for(sub, name, tool)
        if params is None:
            continue
        out.extend(Arm(name, params, dict(r)) for r in regions)
    return out
