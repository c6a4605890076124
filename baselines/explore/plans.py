"""The plans an exploration starts from: subtasks read from a finished run, with what they ask for.

Paper A explores per subtask of a plan. A finished run of ``planner-orchestrator`` (or any system
whose trajectories carry a :class:`~bench.model.Plan`) holds those plans; this module reads them
back as :class:`SamplePlan` s, every subtask kept, the ones the zero-shot orchestrator dropped
included (they are exactly where a learned choice can help). Each subtask also gets:

- ``target``: what it asks of a rendered scene, ``{context key: value}``, read from its words by
  :func:`scene_target` (the lexicon of :mod:`baselines.lexicon`, values mapped onto the scene
  vocabulary); ``None`` when the words name no scene dimension. The scene-tool family gets its
  parameters from it, and the exact subtask judge its target.
- ``family``: the key under which "similar subtasks" share what exploration learned
  (:func:`family_of`): the scene dimensions it changes (``scene:season``), else the planner's
  action, else the lexicon aspect, else the normalised text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.model import Region, Sample, Trajectory
from bench.scene import CONTEXT_KEYS, SIDE_CAR_SUFFIX, canonical_value
from bench.store import RunStore

log = logging.getLogger(__name__)

__all__ = ["PlannedSubtask", "SamplePlan", "family_of", "read_plans", "scene_target", "system_matches"]

#: context key -> scene dimension (``location`` -> ``location_setting``).
DIMENSION_OF: dict[str, str] = {key: dim for dim, key in CONTEXT_KEYS.items()}
#: Words naming a dimension (normalised) -> its context key.
_DIM_WORDS: dict[str, str] = {
    **{key.replace("_", " "): key for key in CONTEXT_KEYS.values()},
    **{dim.replace("_", " "): key for dim, key in CONTEXT_KEYS.items()},
    "setting": "location", "era": "time_period", "colour grading": "color_grading", "lighting mood": "mood_lighting",
    "medium": "artistic_medium", "rendering style": "artistic_medium", "atmospheric effect": "atmospheric_effects",
}
_NAMED = re.compile(r"^(?:set|change|make|turn|switch) (?:the )?("
                    + "|".join(sorted((re.escape(w) for w in _DIM_WORDS), key=len, reverse=True))
                    + r") (?:to |into |be )?([a-z0-9 ]+?)$")


@dataclass(frozen=True)
class PlannedSubtask:
    """One subtask of one plan, with the zero-shot orchestrator's choice and what the words ask for."""

    suite: str
    sample_id: str
    system_id: str
    index: int
    id: str
    text: str
    action: str | None = None
    plan_tool: str | None = None
    plan_params: dict[str, Any] = field(default_factory=dict)
    plan_region: Region | None = None
    target: dict[str, str] | None = None
    family: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(suite, sample, system whose plan it is, subtask id): unique within a run."""
        return (self.suite, self.sample_id, self.system_id, self.id)


@dataclass(frozen=True)
class SamplePlan:
    """A sample (with its truth: exploration is judge-side) and one system's plan for it."""

    suite: str
    sample: Sample
    system_id: str
    source_id: str
    subtasks: tuple[PlannedSubtask, ...]
    is_scene: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.suite, self.sample.id)


def scene_target(text: str) -> dict[str, str] | None:
    """``{context key: scene vocabulary value}`` the subtask's words ask for, or ``None``.

    >>> scene_target("Set time of day to dawn")
    {'time_of_day': 'dawn'}
    >>> scene_target("Add a glowing price tag") is None
    True
    """
    from baselines import lexicon as lx

    words = lx.normalize(text)
    named = _NAMED.search(words)
    if named:  # "set <dimension> to <value>": the dimension is named, the value follows it
        key = _DIM_WORDS[named.group(1)]
        try:
            return {key: canonical_value(DIMENSION_OF[key], named.group(2).replace(" ", "_"))}
        except ValueError:
            pass
    out: dict[str, str] = {}
    for m in lx.read_goal(text, advert=False).changes:
        if m.entry.dimension and m.entry.value:  # what the phrase means, not how pixels imitate it
            pairs = [(m.entry.dimension, m.entry.value)]
        else:
            pairs = [(a.dimension, a.value) for a in m.entry.actions if a.dimension and a.value]
        for key, value in pairs:
            dim = DIMENSION_OF.get(key, key if key in CONTEXT_KEYS else None)
            if dim is None or CONTEXT_KEYS[dim] in out:
                continue
            try:
                out[CONTEXT_KEYS[dim]] = canonical_value(dim, value)
            except ValueError:
                continue
    return out or None


def family_of(text: str, action: str | None, target: Mapping[str, str] | None) -> str:
    """The key under which similar subtasks share exploration statistics (see the module doc)."""
    from baselines import lexicon as lx

    if target:
        return "scene:" + "+".join(sorted(target))
    if action:
        return f"action:{action}"
    reading = lx.read_goal(text, advert=True)
    if reading.changes:
        return f"aspect:{reading.changes[0].entry.aspect}"
    return "text:" + lx.normalize(text)


def system_matches(system_id: str, wanted: Iterable[str]) -> bool:
    """``system_id`` is one of ``wanted``, given as full ids or as names (the part before the hash)."""
    name = system_id.rsplit(".", 1)[0]
    return any(w in (system_id, name) for w in wanted)


def _subtasks(t: Trajectory, sample: Sample) -> tuple[PlannedSubtask, ...]:
    out = []
    for i, st in enumerate(t.plan.subtasks if t.plan else ()):
        target = scene_target(st.text)
        out.append(PlannedSubtask(suite=t.suite, sample_id=sample.id, system_id=t.system_id, index=i, id=st.id,
                                  text=st.text, action=st.action, plan_tool=st.tool, plan_params=dict(st.params),
                                  plan_region=st.region, target=target,
                                  family=family_of(st.text, st.action, target)))
    return tuple(out)


def read_plans(store: RunStore, systems: Sequence[str] = (), samples: Iterable[tuple[str, str]] | None = None
               ) -> list[SamplePlan]:
    """Every plan with at least one subtask in the run, in (suite, sample, system) order.

    ``systems`` keeps only those systems (ids or names); ``samples`` only those (suite, sample id)
    pairs. A trajectory whose sample is missing from ``samples.jsonl`` is skipped with a warning.
    """
    stored = store.samples()
    keep = set(samples) if samples is not None else None
    out = []
    for key, t in sorted(store.trajectories().items()):
        if systems and not system_matches(t.system_id, systems):
            continue
        if keep is not None and (t.suite, t.sample_id) not in keep:
            continue
        if t.plan is None or not t.plan.subtasks:
            continue
        sample = stored.get((t.suite, t.sample_id))
        if sample is None:
            log.warning("trajectory %s has no stored sample: skipped", key)
            continue
        source = sample.image.id
        scene = store.images.get_sidecar(source, SIDE_CAR_SUFFIX) is not None
        out.append(SamplePlan(suite=t.suite, sample=sample, system_id=t.system_id, source_id=source,
                              subtasks=_subtasks(t, sample), is_scene=scene))
    return out
