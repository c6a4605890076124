"""Drawing the styling samples: source scenes, the changes asked for, the dimensions kept.

Everything here draws from a ``random.Random`` handed in by :mod:`suites.builtin.styling`, in a
fixed order, so a sample depends only on its own seed. The tables say which requests read
naturally: :data:`CLASHES` are value pairs a request must not combine ("make it summer and add
falling snow"), :data:`TEMPTS` the dimensions a naive edit toward a value tends to drag along,
which are the preservation constraints worth asking for.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.errors import SuiteError
from bench.scene import DEFAULTS, DIMENSIONS, VOCAB, SceneSpec, random_spec
from suites.builtin._styling_text import join_clauses, value_words
from suites.builtin._styling_themes import Theme

#: Chance that a source dimension keeps its plain default; the rest are drawn uniformly.
SOURCE_PLAIN: dict[str, float] = {
    "time_of_day": 0.55, "season": 0.5, "weather": 0.7, "mood_lighting": 0.85, "color_grading": 0.85,
    "artistic_medium": 0.9, "atmospheric_effects": 0.85,
}
#: How often each dimension is asked to change (simple and regular).
CHANGE_WEIGHTS: dict[str, float] = {
    "time_of_day": 3.0, "season": 3.0, "weather": 3.0, "color_grading": 2.0, "artistic_medium": 2.0,
    "mood_lighting": 2.0, "atmospheric_effects": 2.0, "location_setting": 1.5, "architecture_style": 1.5,
    "time_period": 1.0,
}
#: Dimensions a naive edit toward a value tends to drag along: the preservation constraints worth asking for.
TEMPTS: dict[str, tuple[str, ...]] = {
    "time_of_day": ("mood_lighting", "color_grading"),
    "season": ("weather", "atmospheric_effects", "color_grading"),
    "weather": ("mood_lighting", "time_of_day", "atmospheric_effects"),
    "mood_lighting": ("color_grading", "time_of_day"),
    "color_grading": ("mood_lighting",),
    "artistic_medium": ("color_grading",),
    "atmospheric_effects": ("weather",),
    "location_setting": ("architecture_style", "time_period"),
    "architecture_style": ("time_period", "location_setting"),
    "time_period": ("architecture_style", "location_setting"),
}
#: The scene's identity: kept by default in simple samples unless it is what changes.
IDENTITY: tuple[str, ...] = ("architecture_style", "location_setting")
#: Value pairs a request must not combine (they contradict each other in words).
CLASHES: tuple[tuple[str, frozenset[str], str, frozenset[str]], ...] = (
    ("season", frozenset({"summer", "spring"}), "weather", frozenset({"snowy"})),
    ("season", frozenset({"summer", "spring"}), "atmospheric_effects", frozenset({"snow"})),
    ("weather", frozenset({"clear"}), "atmospheric_effects", frozenset({"fog", "rain", "snow"})),
    ("weather", frozenset({"snowy"}), "atmospheric_effects", frozenset({"rain"})),
    ("weather", frozenset({"rainy", "stormy"}), "atmospheric_effects", frozenset({"snow"})),
    ("weather", frozenset({"foggy"}), "atmospheric_effects", frozenset({"none"})),
    ("time_of_day", frozenset({"night"}), "atmospheric_effects", frozenset({"light_rays"})),
    ("artistic_medium", frozenset({"pencil_sketch"}), "color_grading",
     frozenset({"vibrant", "teal_orange", "warm_cinematic", "cool_blue", "pastel", "sepia"})),
)
PLACE_WORDS: dict[str, str] = {
    "city": "city street", "suburb": "suburban street", "village": "village street", "beach": "beachfront",
    "desert": "desert town", "mountains": "mountain valley", "forest": "forest clearing",
}


def clashes(request: dict[str, str]) -> bool:
    """Whether a requested state (targets and kept values) contradicts itself (:data:`CLASHES`)."""
    return any(request.get(a) in va and request.get(b) in vb for a, va, b, vb in CLASHES)


def draw_source(rng: random.Random) -> SceneSpec:
    """A mostly plain source scene: any place, architecture and era; mostly clear summer daylight."""
    fixed: dict[str, str] = {}
    for dim in DIMENSIONS:
        plain, pick = rng.random() < SOURCE_PLAIN.get(dim, 0.0), rng.choice(VOCAB[dim])
        fixed[dim] = DEFAULTS[dim] if plain else pick
    if clashes(fixed):  # e.g. clear weather with falling rain: drop the overlay
        fixed["atmospheric_effects"] = "none"
    return random_spec(random.Random(rng.getrandbits(63)), **fixed)


def _weighted_pick(rng: random.Random, options: Sequence[str], weights: dict[str, float]) -> str:
    total = sum(weights.get(o, 1.0) for o in options)
    x = rng.random() * total
    for o in options:
        x -= weights.get(o, 1.0)
        if x < 0:
            return o
    return options[-1]


def draw_changes(rng: random.Random, source: SceneSpec, k: int) -> dict[str, str]:
    """``k`` dimensions and new values for them, free of clashes; deterministic for ``rng``."""
    for _ in range(200):
        dims: list[str] = []
        while len(dims) < k:
            dims.append(_weighted_pick(rng, [d for d in DIMENSIONS if d not in dims], CHANGE_WEIGHTS))
        changes = {d: rng.choice([v for v in VOCAB[d] if v != getattr(source, d)]) for d in dims}
        if not clashes(changes):
            return changes
    raise SuiteError(f"could not draw {k} compatible changes for a source scene", field="truth.target")


def theme_changes(theme: Theme, source: SceneSpec, k: int) -> dict[str, str]:
    """The first ``k`` of the theme's dimensions (most essential first) that differ from the source."""
    differing = [(d, v) for d, v in theme.dims if getattr(source, d) != v]
    return dict(differing[:k])


def draw_keeps(rng: random.Random, source: SceneSpec, changes: dict[str, str], n: int,
               avoid: Sequence[str] = (), prefer: Sequence[str] = ()) -> list[str]:
    """``n`` dimensions to keep, none changed or avoided, not clashing with the request; those the
    changes tempt (:data:`TEMPTS`) and those in ``prefer`` are likelier."""
    weights: dict[str, float] = {}
    for d in DIMENSIONS:
        if d in changes or d in avoid:
            continue
        request = {**changes, d: getattr(source, d)}
        if clashes(request):
            continue
        w = 1.0 + (2.0 if d in prefer else 0.0) + 2.0 * sum(d in TEMPTS[c] for c in changes)
        weights[d] = w
    keeps: list[str] = []
    while len(keeps) < n and len(keeps) < len(weights):
        pick = _weighted_pick(rng, [d for d in weights if d not in keeps], weights)
        request = {**changes, **{d: getattr(source, d) for d in keeps}, pick: getattr(source, pick)}
        if clashes(request):
            weights.pop(pick)
            continue
        keeps.append(pick)
    return keeps


def violation(rng: random.Random, source: SceneSpec, dim: str) -> str:
    """Another value of ``dim``: what breaking a kept dimension looks like (calibrates its check)."""
    return rng.choice([v for v in VOCAB[dim] if v != getattr(source, dim)])


def describe(spec: SceneSpec) -> str:
    """The source scene in words (what a text-only planner is given instead of pixels)."""
    counts = {k: sum(o.kind == k for o in spec.objects) for k in ("building", "tree", "light", "figure")}

    def n(kind: str, noun: str) -> str:
        c = counts[kind]
        return f"{c} {noun}{'s' if c != 1 else ''}"

    parts = [f"{n('building', value_words('architecture_style', spec.architecture_style) + ' building')}",
             n("tree", "tree")]
    if any(o.kind == "water" for o in spec.objects):
        parts.append("a pond")
    parts.append(n("light", "street light"))
    if any(o.kind == "vehicle" for o in spec.objects):
        parts.append("a vehicle")
    parts.append(n("figure", "person") if counts["figure"] == 1 else f"{counts['figure']} people")
    atmos = spec.atmospheric_effects
    air = "clear air" if atmos == "none" else value_words("atmospheric_effects", atmos) + " in the air"
    return (f"A {PLACE_WORDS[spec.location_setting]} in a {value_words('time_period', spec.time_period)} setting "
            f"with {join_clauses(parts)}. It is {value_words('time_of_day', spec.time_of_day)} in "
            f"{spec.season}, the weather is {spec.weather}, with {air}; the lighting is "
            f"{value_words('mood_lighting', spec.mood_lighting)}, the colours "
            f"{value_words('color_grading', spec.color_grading)}, and it looks like "
            f"{value_words('artistic_medium', spec.artistic_medium)}.")
