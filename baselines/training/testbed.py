"""The exact-reward testbed: the experiment paper B could not run, because its reward is a judge.

Paper B trains planners on rewards from one VLM judge whose agreement with people is weak, so its
method ranking cannot be told apart from judge noise. Here the reward is exact:

- **inputs**: the styling suites (``styling-simple``, ``-regular``, ``-complex``, built through the
  registry), whose samples carry the true source scene, the target values and what must be kept;
- **a deliberately imperfect data planner** (:func:`noisy_rule_plan`): the weight-free rule
  planner of :mod:`baselines.agents.rules` (it reads the goal with the lexicon) with two kinds of
  seeded error. *Random* noise in its choices and parameters: actions dropped, target values
  replaced by another value of the dimension, spurious actions on random dimensions. And a
  *systematic* bias, the naive editor's habit the styling suites' constraints are written against:
  with probability ``bias`` each requested change drags a dimension it tempts along (night ->
  the mood lighting, winter -> the weather...; :data:`TEMPTS`), which breaks the sample when that
  dimension is to be kept. Greedy imitation removes random noise (the mode of a noisy planner is
  the clean plan) but keeps a bias above 0.5: only the reward can teach a student to leave kept
  dimensions alone. ``rollouts`` plans per sample form a group;
- **the exact reward**: each plan is executed by the ``scene`` tool's logic (the
  ``styling-planner``'s scene executor, one call with every change) and scored by the
  ``attributes`` judge's comparison of the resulting scene with the sample's truth
  (:func:`exact_scores`); ``overall`` in [0, 1] becomes paper B's 1-5 scale as ``1 + 4 * overall``,
  so τ_R = 3.5 and RW's ``max(r - 3, 0)`` mean what the paper means. An unparseable plan scores
  ``overall = 0``.

:func:`exact_scores` skips the render (the scene tool's output is the render of its spec, which is
all the judge's re-render checks), so thousands of trajectories cost seconds;
``tests/test_training.py`` checks that it equals the ``attributes`` judge through ``editbench run``.
``reward_noise`` adds judge-like noise (Gaussian, stated σ on the 1-5 scale, clipped) to the
training reward only; evaluation always uses the exact score.
"""

from __future__ import annotations

import importlib
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.ids import derive_seed
from bench.model import CONTEXT_DIMENSIONS, Sample

from .records import PlannerInput, TrainRecord

log = logging.getLogger(__name__)

#: The three styling suites. ``styling-complex`` at seed 0 (or 1) cannot draw a source for its
#: "architects-study" theme at some index below 150 (a SuiteError), so the testbed builds it at seed 2.
DEFAULT_SUITES: tuple[str, ...] = ("styling-simple", "styling-regular", "styling-complex:seed=2")
#: Context key -> the atomic action that changes it (paper B's ids).
_ACTION_OF: dict[str, str] = {}


def _action_of(dim: str) -> str:
    if not _ACTION_OF:
        from baselines.agents.library import ACTION_OF_DIMENSION

        _ACTION_OF.update(ACTION_OF_DIMENSION)
    return _ACTION_OF[dim]


@dataclass(frozen=True)
class TestbedConfig:
    """What the testbed is built from. Recorded in ``train.json`` with the data."""

    suites: tuple[str, ...] = DEFAULT_SUITES
    size: int = 120
    suite_seed: int = 0
    rollouts: int = 6
    noise: float = 0.3
    bias: float = 0.6
    seed: int = 0
    reward_noise: float = 0.0
    description: bool = False
    reading: bool = True
    goal_text: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"suites": list(self.suites), "size": self.size, "suite_seed": self.suite_seed,
                "rollouts": self.rollouts, "noise": self.noise, "bias": self.bias, "seed": self.seed,
                "reward_noise": self.reward_noise, "description": self.description, "reading": self.reading,
                "goal_text": self.goal_text}


@dataclass
class Testbed:
    """The testbed's trajectories and the samples (with truth) that score new plans exactly."""

    config: TestbedConfig
    records: list[TrainRecord]
    samples: dict[str, Sample] = field(default_factory=dict)  # group (source image id) -> sample with truth
    suites: dict[str, str] = field(default_factory=dict)  # group -> suite ref

    def score(self, group: str, plan: Any) -> dict[str, float]:
        """Exact scores of ``plan`` (a parsed reply, or ``None`` for an unusable one) on the sample of ``group``."""
        return exact_scores(self.samples[group], plan)


# -- the data planner --------------------------------------------------------------------------------
def _vocab_values(dim: str) -> tuple[str, ...]:
    from bench.scene import CONTEXT_KEYS, VOCAB

    scene_dim = next(d for d, k in CONTEXT_KEYS.items() if k == dim)
    return VOCAB[scene_dim]


def _action(dim: str, current: str, value: str) -> dict[str, Any]:
    from baselines.agents.library import ACTIONS

    aid = _action_of(dim)
    d = ACTIONS[aid]
    return {"reasoning": f"We choose {dim} -> {value}, because {dim}={current}",
            "action": aid, "parameters": {d.target_param: value}}


def rule_plan(sample: Sample) -> dict[str, Any]:
    """The rule planner's plan for ``sample`` (10-action library, at most 5 actions) in the testbed's
    compact form: per action a short reasoning in paper B's "we choose Y because the current state
    is X" form, written with the reading's ``dim -> value`` and the state's ``dim=value`` items
    (``We choose season -> winter, because season=summer``: tokens a small model can copy), the
    action and its target value. Parameters beyond the target and a plan-level reasoning are left
    out, to keep sequences short enough for a CPU."""
    from baselines.agents import rules
    from baselines.agents.library import ATOMIC

    ctx = {d: str(sample.context.get(d) or "unknown") for d in CONTEXT_DIMENSIONS}
    reply = rules.styling_plan({"sample": sample, "context": ctx, "library": [a.id for a in ATOMIC],
                                "max_actions": 5})
    actions = []
    for a in reply["actions"]:
        from baselines.agents.library import ACTIONS

        d = ACTIONS[a["action"]]
        if d.dimension is None:
            continue
        value = a["parameters"].get(d.target_param)
        actions.append(_action(d.dimension, ctx[d.dimension], str(value)))
    return {"reasoning": "", "actions": actions}


#: Dimensions a naive edit toward a change tends to drag along (context keys), as the styling
#: suites' preservation constraints anticipate ("night tempts the mood and the grade").
TEMPTS: dict[str, tuple[str, ...]] = {
    "time_of_day": ("mood_lighting", "color_grading"),
    "season": ("weather", "atmospheric_effects", "color_grading"),
    "weather": ("mood_lighting", "time_of_day", "atmospheric_effects"),
    "mood_lighting": ("color_grading", "time_of_day"),
    "color_grading": ("mood_lighting",),
    "artistic_medium": ("color_grading",),
    "atmospheric_effects": ("weather",),
    "location": ("architecture", "time_period"),
    "architecture": ("time_period", "location"),
    "time_period": ("architecture", "location"),
}


def noisy_rule_plan(sample: Sample, rng: random.Random, noise: float, bias: float = 0.0) -> dict[str, Any]:
    """The rule plan of ``sample`` with seeded random noise of strength ``noise`` and a temptation
    ``bias`` (both 0: the rule plan itself); see :func:`noisy_plan`."""
    ctx = {d: str(sample.context.get(d) or "unknown") for d in CONTEXT_DIMENSIONS}
    return noisy_plan(_changes(rule_plan(sample)), ctx, rng, noise, bias)


def _changes(plan: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for a in plan["actions"]:
        dim = next(d for d in CONTEXT_DIMENSIONS if _action_of(d) == a["action"])
        out.append((dim, str(next(v for k, v in a["parameters"].items() if k.startswith("target_")))))
    return out


def noisy_plan(changes: Sequence[tuple[str, str]], ctx: Mapping[str, str], rng: random.Random, noise: float,
               bias: float = 0.0) -> dict[str, Any]:
    """A plan for the clean ``changes`` (``[(dim, value)]``) as the imperfect data planner writes it.

    Each action is dropped with probability ``noise/3`` and otherwise gets a wrong target value
    (another value of its dimension) with probability ``noise/3``; with probability ``noise`` one
    spurious action on a dimension the plan does not touch is added at a random position (a
    second with ``noise**2``). With probability ``bias``, each requested change is followed by an
    action on the first dimension it tempts (:data:`TEMPTS`) that the plan does not touch yet, to
    a random other value. A plan left empty gets one spurious action; plans keep at most five
    actions. Values are drawn from the scene vocabulary, so every plan is executable: the errors
    are in the choices, not the syntax.
    """
    requested = {_action_of(d) for d, _ in changes}
    actions: list[dict[str, Any]] = []
    for dim, value in changes:
        u = rng.random()
        if u < noise / 3:
            continue
        if u < 2 * noise / 3:
            others = [v for v in _vocab_values(dim) if v not in (value, ctx[dim])]
            value = rng.choice(others) if others else value
        actions.append(_action(dim, ctx[dim], value))
        if rng.random() < bias:
            used = {x["action"] for x in actions} | requested
            tempted = next((t for t in TEMPTS.get(dim, ()) if _action_of(t) not in used), None)
            if tempted is not None:
                values = [v for v in _vocab_values(tempted) if v != ctx[tempted]]
                actions.append(_action(tempted, ctx[tempted], rng.choice(values)))
    actions = actions[:5]
    n_spurious = int(rng.random() < noise) + int(rng.random() < noise * noise)
    if not actions:
        n_spurious = max(1, n_spurious)
    for _ in range(n_spurious):
        used = {a["action"] for a in actions}
        free = [d for d in CONTEXT_DIMENSIONS if _action_of(d) not in used]
        if not free or len(actions) >= 5:
            break
        dim = rng.choice(free)
        values = [v for v in _vocab_values(dim) if v != ctx[dim]]
        actions.insert(rng.randrange(len(actions) + 1), _action(dim, ctx[dim], rng.choice(values)))
    return {"reasoning": "", "actions": actions}


_TEMPLATES = ("make the {d} {v}", "change the {d} to {v}", "set the {d} to {v}", "give it a {v} {d}")


def synthetic_records(n: int, seed: int, noise: float, bias: float, goal_text: bool = False) -> list[TrainRecord]:
    """``n`` synthetic requests planned by the same imperfect data planner: the base's pretraining data.

    Each draws a random state over the ten dimensions (the scene vocabulary), one to four changes,
    up to two dimensions to keep (often ones the changes tempt), a templated goal ("change the
    season to winter and make the time of day dusk. Keep the weather as it is."), the reading of
    the changes, and one noisy plan. No styling suite is involved, so nothing here is ever
    evaluated; no reward is attached (the base is trained by S, which ignores rewards). Thousands
    of distinct requests are what teach a small model to read its input rather than memorise it.
    The templated goals are kept only with ``goal_text`` (their words are not the suites' words, so
    a student that reads goals would meet unknown words on the suites).
    """
    out = []
    for i in range(n):
        rng = random.Random(derive_seed(seed, "synthetic", str(i)))
        ctx = {d: rng.choice(_vocab_values(d)) for d in CONTEXT_DIMENSIONS}
        dims = rng.sample(list(CONTEXT_DIMENSIONS), rng.randint(1, 4))
        changes = [(d, rng.choice([v for v in _vocab_values(d) if v != ctx[d]])) for d in dims]
        tempted = [t for d in dims for t in TEMPTS.get(d, ()) if t not in dims]
        others = [d for d in CONTEXT_DIMENSIONS if d not in dims]
        keep: list[str] = []
        for _ in range(rng.randint(0, 2)):
            pool = [t for t in (tempted if tempted and rng.random() < 0.7 else others) if t not in keep]
            if pool:
                keep.append(rng.choice(pool))
        words = [rng.choice(_TEMPLATES).format(d=d.replace("_", " "), v=v.replace("_", " ")) for d, v in changes]
        goal = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
        goal = goal[0].upper() + goal[1:] + "." + "".join(f" Keep the {k.replace('_', ' ')} as it is." for k in keep)
        inp = PlannerInput(goal=goal if goal_text else "", preserve=tuple(keep), context=ctx,
                           reading="; ".join(f"{d} -> {v}" for d, v in changes))
        out.append(TrainRecord(key=f"synthetic/{i}", input=inp, plan=noisy_plan(changes, ctx, rng, noise, bias),
                               reward=None, group=f"synthetic-{i}", source="synthetic"))
    return out


# -- the exact reward ----------------------------------------------------------------------------------
def _score_function() -> Any:
    """``score_attributes`` of the registered ``attributes`` judge (found by registry name, lazily)."""
    from bench import registry

    cls = registry.get("judges", "attributes")
    return importlib.import_module(cls.__module__).score_attributes


def final_spec(sample: Sample, plan: Any) -> Any:
    """The scene the ``styling-planner`` with ``executor=scene`` produces for ``plan`` (``None``: the
    plan is not usable, so the sample would fail)."""
    from baselines.agents.library import PlanError, library, read_actions
    from baselines.agents.styling_exec import render_scene
    from baselines.tools.scene_tool import resolve_changes
    from bench.errors import ToolError
    from bench.scene import SceneSpec, edit

    source = SceneSpec.from_dict(sample.truth["source"])
    if plan is None:
        return None
    try:
        allowed = {a.id: a for a in library(20)}
        _, actions = read_actions(plan, allowed, 1, 8)
    except (PlanError, ValueError, TypeError, KeyError):
        return None
    rendering = render_scene(actions, single=True)
    changes: dict[str, Any] = {}
    for call in rendering.calls:
        changes.update(call.params["changes"])
    if not changes:
        return source
    try:
        return edit(source, resolve_changes(changes))
    except ToolError:
        return None


def exact_scores(sample: Sample, plan: Any) -> dict[str, float]:
    """The ``attributes`` judge's scores for ``plan`` on ``sample``, plus ``valid`` (1/0).

    An unusable plan (the sample would fail) scores ``overall = reached = exact = 0`` and
    ``valid = 0``: a failure counts against the planner, it is never dropped from the mean.
    """
    spec = final_spec(sample, plan)
    if spec is None:
        return {"overall": 0.0, "reached": 0.0, "exact": 0.0, "valid": 0.0}
    from bench.scene import SceneSpec

    truth = sample.truth
    scores, _na, _v, _r = _score_function()(SceneSpec.from_dict(truth["source"]), spec, truth["target"],
                                            list(truth["keep"]), truth.get("dimensions"), None)
    return {"overall": float(scores.get("overall", 0.0)), "reached": float(scores.get("reached", 0.0)),
            "exact": float(scores.get("exact", 0.0)), "valid": 1.0, **({"kept": scores["kept"]} if "kept" in scores else {})}


def to_reward(overall: float) -> float:
    """Paper B's 1-5 scale from the judge's 0-1 ``overall``."""
    return 1.0 + 4.0 * float(overall)


# -- building --------------------------------------------------------------------------------------------
def load_suites(names: Sequence[str], size: int, seed: int) -> list[Any]:
    """The styling suites through the registry (built once into the suite cache, then reused).

    A name may carry its own options as a component spec (``styling-complex:seed=1``); ``size``
    and ``seed`` are the defaults.
    """
    from bench import registry
    from bench.spec import ComponentSpec, parse_spec

    out = []
    for text in names:
        spec = parse_spec(text)
        args = {"size": int(size), "seed": int(seed), **dict(spec.args)}
        out.append(registry.build("suites", ComponentSpec(spec.name, args)))
    return out


#: The name ``train.json`` records for :func:`goal_reading`, so the trained planner recomputes it.
READER = "rules-lexicon"


def goal_reading(sample: Sample) -> str:
    """The rule lexicon's reading of the goal: the changes it finds, as ``dim -> value`` (no noise;
    the arrow, not the state's ``=``, so the target and the current value are told apart).

    A planner of half a million parameters trained on a few hundred goals cannot learn language;
    paper B's planners are pretrained LLMs that can. The testbed gives its students this frozen
    reading (as paper B's pipeline gives them a frozen extractor's context), beside the goal, so
    what they learn is the planning policy the data planner's noise and bias corrupt: which changes
    to make, how, and what else to touch.
    """
    plan = rule_plan(sample)
    parts = []
    for a in plan["actions"]:
        dim = next(d for d in CONTEXT_DIMENSIONS if _action_of(d) == a["action"])
        parts.append(f"{dim} -> {next(iter(a['parameters'].values()))}")
    return "; ".join(parts) if parts else "nothing recognised"


def planner_input(sample: Sample, description: bool, reading: bool = True, goal_text: bool = True) -> PlannerInput:
    """What a testbed student sees of ``sample`` (a system's view: no truth). Without ``goal_text``
    the goal's words are left out and the request is known through its reading only."""
    view = sample.for_system()
    return PlannerInput(goal=view.goal if goal_text else "", preserve=tuple(view.preserve),
                        context={d: v for d, v in view.context.items() if d in CONTEXT_DIMENSIONS},
                        description=view.description if description else None, image_id=view.image.id,
                        reading=goal_reading(view) if reading else None)


def build_testbed(config: TestbedConfig, suites: Sequence[Any] | None = None) -> Testbed:
    """Every (sample, rollout) trajectory of the data planner with its exact reward (and noisy reward).

    ``record.reward`` is what training sees (noisy when ``reward_noise > 0``);
    ``record.meta["exact"]`` keeps the exact 1-5 reward and the judge's scores.
    """
    suites = list(suites) if suites is not None else load_suites(config.suites, config.size, config.suite_seed)
    tb = Testbed(config=config, records=[])
    for suite in suites:
        for sample in suite.samples:
            group = sample.image.id
            view = sample.for_system()
            inp = planner_input(view, config.description, config.reading, config.goal_text)
            if inp.image_path is None:
                inp = PlannerInput(**{**inp.__dict__, "image_path": suite.image_path(sample)})
            tb.samples[group] = sample
            tb.suites[group] = suite.ref
            for k in range(config.rollouts):
                rng = random.Random(derive_seed(config.seed, suite.ref, sample.id, "rollout", str(k)))
                plan = noisy_rule_plan(view, rng, config.noise, config.bias)
                scores = exact_scores(sample, plan)
                exact = to_reward(scores["overall"])
                reward = exact
                if config.reward_noise > 0:
                    nrng = random.Random(derive_seed(config.seed, suite.ref, sample.id, "reward-noise", str(k)))
                    reward = min(5.0, max(1.0, exact + nrng.gauss(0.0, config.reward_noise)))
                tb.records.append(TrainRecord(
                    key=f"{suite.ref}/{sample.id}/{k}", input=inp, plan=plan, reward=reward, group=group,
                    source="testbed", meta={"suite": suite.ref, "sample_id": sample.id, "rollout": k,
                                            "exact": exact, "scores": scores,
                                            "complexity": sample.tags.get("complexity", "")}))
    log.info("testbed: %d trajectories over %d samples", len(tb.records), len(tb.samples))
    return tb


def reward_summary(records: Sequence[TrainRecord]) -> dict[str, Any]:
    """Mean, spread and tiers of the rewards (what paper B's C.4.6 table reports)."""
    import numpy as np

    r = np.array([x.reward for x in records if x.reward is not None], dtype=float)
    if r.size == 0:
        return {"n": 0}
    exact = np.array([x.meta.get("exact", np.nan) for x in records if x.reward is not None], dtype=float)
    out = {"n": int(r.size), "mean": float(r.mean()), "std": float(r.std()), "high_quality": float((r >= 4.0).mean()),
           "retained_at_3.5": float((r >= 3.5).mean())}
    if np.isfinite(exact).all() and exact.std() > 0 and r.std() > 0:
        out["corr_with_exact"] = float(np.corrcoef(r, exact)[0, 1])
    return out


def best_in_group(records: Sequence[TrainRecord]) -> dict[str, float]:
    """Per group, the best exact score among the data's trajectories (an oracle pick from the data)."""
    best: dict[str, float] = {}
    for r in records:
        s = float(r.meta.get("scores", {}).get("overall", 0.0))
        best[r.group] = max(best.get(r.group, 0.0), s)
    return best


def mean_by(records: Sequence[TrainRecord], key: str = "overall") -> dict[str, float]:
    """Per group, the data planner's mean exact score (what imitating it gets on average)."""
    tot: dict[str, list[float]] = {}
    for r in records:
        tot.setdefault(r.group, []).append(float(r.meta.get("scores", {}).get(key, 0.0)))
    return {g: sum(v) / len(v) for g, v in tot.items()}


def groups_of(records: Sequence[TrainRecord]) -> Mapping[str, list[TrainRecord]]:
    out: dict[str, list[TrainRecord]] = {}
    for r in records:
        out.setdefault(r.group, []).append(r)
    return out
