"""Random scene specs for suite generators.

:func:`random_spec` draws every dimension and a plausible layout from one random source, in a
fixed order, *whether or not a field is fixed*: two calls with equal seeds that differ only in a
fixed value give specs that differ only in that value. That is what lets a generator build a
source scene and its edited target from the same draw.
"""

from __future__ import annotations

import random as _pyrandom
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from bench.scene.spec import DEFAULTS, DIMENSIONS, VOCAB, SceneObject, SceneSpec

T = TypeVar("T")

#: Relative rows of the street band (city and suburb draw a road here; lamps and cars use it).
ROAD_TOP = 0.77
ROAD_BOTTOM = 0.86


class _Draw:
    """One interface over ``numpy.random.Generator`` and ``random.Random``."""

    def __init__(self, rng: np.random.Generator | _pyrandom.Random | int) -> None:
        if isinstance(rng, bool):
            raise TypeError("rng: expected a numpy Generator, random.Random or an int seed, got bool")
        if isinstance(rng, int):
            rng = np.random.Generator(np.random.PCG64(rng))
        if not isinstance(rng, (np.random.Generator, _pyrandom.Random)):
            raise TypeError(
                f"rng: expected a numpy Generator, random.Random or an int seed, got {type(rng)!r}"
            )
        self._rng = rng

    def random(self) -> float:
        return float(self._rng.random())

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.random()

    def integer(self, lo: int, hi: int) -> int:
        """A uniform integer in ``[lo, hi]`` (both ends included)."""
        if isinstance(self._rng, np.random.Generator):
            return int(self._rng.integers(lo, hi + 1))
        return self._rng.randint(lo, hi)

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self.integer(0, len(seq) - 1)]

    def shuffled(self, seq: Sequence[T]) -> list[T]:
        out = list(seq)
        for i in range(len(out) - 1, 0, -1):  # Fisher-Yates through integer(): same on both sources
            j = self.integer(0, i)
            out[i], out[j] = out[j], out[i]
        return out


def random_layout(
    rng: np.random.Generator | _pyrandom.Random | int, horizon: float
) -> tuple[SceneObject, ...]:
    """A plausible street-scene layout for a given horizon: 1-3 buildings on the horizon's edge,
    2-4 trees between them, 1-3 street lights, maybe a vehicle on the road, maybe a pond, 1-3
    figures in the foreground. Positions never depend on the dimensions, so any dimension can be
    edited without moving anything."""
    d = rng if isinstance(rng, _Draw) else _Draw(rng)
    objs: list[SceneObject] = []
    slots = d.shuffled([0.12, 0.31, 0.5, 0.69, 0.88])
    n_build = d.integer(1, 3)
    for i in range(n_build):
        y = horizon + d.uniform(0.06, 0.11)
        h = min(d.uniform(0.26, 0.42), y - 0.05)
        objs.append(SceneObject("building", slots[i] + d.uniform(-0.03, 0.03), y, d.uniform(0.15, 0.22), h))
    tree_slots = slots[n_build:] + [d.uniform(0.05, 0.95)]
    for i in range(d.integer(2, 4)):
        x = tree_slots[i] + d.uniform(-0.05, 0.05) if i < len(tree_slots) else d.uniform(0.05, 0.95)
        y = horizon + d.uniform(0.07, max(0.08, min(0.16, ROAD_TOP - 0.03 - horizon)))
        objs.append(SceneObject("tree", x, y, d.uniform(0.09, 0.14), d.uniform(0.16, 0.25)))
    if d.random() < 0.3:
        y = d.uniform(horizon + 0.13, ROAD_TOP - 0.02)
        objs.append(
            SceneObject("water", d.uniform(0.3, 0.7), y, d.uniform(0.28, 0.42), d.uniform(0.045, 0.065))
        )
    for _ in range(d.integer(1, 3)):
        objs.append(
            SceneObject(
                "light",
                d.uniform(0.05, 0.95),
                ROAD_TOP + d.uniform(-0.005, 0.005),
                0.04,
                d.uniform(0.17, 0.22),
            )
        )
    if d.random() < 0.6:
        objs.append(
            SceneObject(
                "vehicle",
                d.uniform(0.2, 0.8),
                ROAD_BOTTOM - d.uniform(0.0, 0.015),
                d.uniform(0.17, 0.22),
                0.085,
            )
        )
    for _ in range(d.integer(1, 3)):
        h = d.uniform(0.12, 0.17)
        objs.append(SceneObject("figure", d.uniform(0.08, 0.92), d.uniform(0.89, 0.97), h * 0.4, h))
    return tuple(objs)


def random_spec(
    rng: np.random.Generator | _pyrandom.Random | int, *, plain: float = 0.0, **fixed: Any
) -> SceneSpec:
    """Draw a valid :class:`SceneSpec`; keyword arguments fix any field (dimensions, ``objects``,
    ``horizon``, ``width``, ``height``, ``seed``).

    ``plain`` is the probability that a dimension that is not fixed keeps its default value
    (:data:`~bench.scene.spec.DEFAULTS`): ten independent uniform draws stack many strong effects
    (a foggy, hazy, sepia night in oil paint), so generators that want mostly clean source
    scenes raise it.

    ``rng`` is a ``numpy.random.Generator``, a ``random.Random`` or an int seed. All draws happen
    in a fixed order regardless of ``fixed`` (see the module doc). Unknown or invalid fixed values
    raise ``ValueError``.

    >>> a = random_spec(7); b = random_spec(7, season="winter")
    >>> {k for k in a.dims() if a.dims()[k] != b.dims()[k]} <= {"season"}
    True
    """
    d = _Draw(rng)
    allowed = set(DIMENSIONS) | {"objects", "horizon", "width", "height", "seed"}
    unknown = set(fixed) - allowed
    if unknown:
        raise ValueError(f"random_spec: unknown fields {sorted(unknown)}")
    if not 0.0 <= plain <= 1.0:
        raise ValueError(f"random_spec.plain: {plain!r} is not a probability")
    values: dict[str, Any] = {}
    for dim in DIMENSIONS:
        keep, pick = d.random() < plain, d.choice(VOCAB[dim])  # both drawn: streams stay aligned
        values[dim] = DEFAULTS[dim] if keep else pick
    values["horizon"] = round(d.uniform(0.5, 0.62), 4)
    values["seed"] = d.integer(0, 2**31 - 1)
    horizon = fixed.get("horizon", values["horizon"])
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float)):
        horizon = values["horizon"]  # SceneSpec below names the bad value
    values["objects"] = random_layout(d, float(horizon))
    values.update(fixed)
    return SceneSpec(**values)
