"""The scene specification: the ground truth behind every rendered styling image.

A :class:`SceneSpec` is the complete, closed description of one synthetic image: the ten visual
dimensions of paper B's structured context (Appendix C.1; the same ten its action library edits,
C.2), the objects placed in the scene, the canvas size and the seed of all texture noise.
:func:`bench.scene.render.render` turns it into pixels deterministically, so a spec *is* the truth
about its image: suites store it beside each image, scene tools edit it, and the exact
``attributes`` judge re-renders it and compares image ids.

Every dimension draws from a small closed vocabulary (:mod:`bench.scene.vocab`), so a value is
either right or wrong; the free wording of a planner or of paper B's extractor is mapped onto it
with :func:`canonical_value`, never silently accepted by the spec itself.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.scene.vocab import (
    ALIASES,
    CONTEXT_KEYS,
    DEFAULTS,
    DIMENSIONS,
    VOCAB,
    canonical_value,
    check_dimension,
    check_value,
)

__all__ = [
    "ALIASES",
    "CONTEXT_KEYS",
    "DEFAULTS",
    "DIMENSIONS",
    "OBJECT_KINDS",
    "SPEC_VERSION",
    "VOCAB",
    "SceneObject",
    "SceneSpec",
    "canonical_value",
    "diff",
    "edit",
]

#: Version of the serialised form (``to_dict``'s ``"v"``). Bump with a migration.
SPEC_VERSION = 1

#: Kinds of placed objects. ``sky`` and ``ground`` are not objects: every scene has both, split
#: at ``SceneSpec.horizon``.
OBJECT_KINDS: tuple[str, ...] = ("building", "tree", "figure", "water", "light", "vehicle")


def _check_float(owner: str, name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{owner}.{name}: {value!r} is not a finite number")
    if not lo <= value <= hi:
        raise ValueError(f"{owner}.{name}: {value!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True)
class SceneObject:
    """One placed object, in coordinates relative to the canvas (0..1 both ways, y downwards).

    ``(x, y)`` is the object's *footprint*: the centre of its base, where it meets the ground, so
    objects are painted far to near by ``y``. ``w`` and ``h`` are fractions of the canvas width and
    height; a drawing style may use less of the box (a Greek temple is lower than a Gothic spire)
    but never more than a small ornament beyond it. ``style`` applies to buildings only: ``None``
    follows the scene's ``architecture_style`` (so editing that dimension restyles the building);
    a value pins this building to one style (a pagoda kept among glass towers).
    """

    kind: str
    x: float
    y: float
    w: float
    h: float
    style: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in OBJECT_KINDS:
            raise ValueError(f"object.kind: {self.kind!r} is not one of {', '.join(OBJECT_KINDS)}")
        owner = f"object({self.kind})"
        _check_float(owner, "x", self.x, -0.5, 1.5)
        _check_float(owner, "y", self.y, 0.0, 1.2)
        _check_float(owner, "w", self.w, 1e-3, 1.5)
        _check_float(owner, "h", self.h, 1e-3, 1.5)
        if self.style is not None:
            if self.kind != "building":
                raise ValueError(f"{owner}.style: only buildings take a style, got {self.style!r}")
            check_value("architecture_style", self.style)
        for name in ("x", "y", "w", "h"):  # store ints as floats so JSON round trips are exact
            object.__setattr__(self, name, float(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``style`` is omitted when it follows the scene."""
        out: dict[str, Any] = {"kind": self.kind, "x": self.x, "y": self.y, "w": self.w, "h": self.h}
        if self.style is not None:
            out["style"] = self.style
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SceneObject:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"object: expected a mapping, got {type(data).__name__}")
        unknown = set(data) - {"kind", "x", "y", "w", "h", "style"}
        if unknown:
            raise ValueError(f"object: unknown keys {sorted(unknown)}")
        missing = {"kind", "x", "y", "w", "h"} - set(data)
        if missing:
            raise ValueError(f"object: missing keys {sorted(missing)}")
        return cls(**dict(data))


@dataclass(frozen=True)
class SceneSpec:
    """The full truth of one synthetic image: ten dimensions, the placed objects, size and seed.

    Construction validates everything and raises ``ValueError`` naming the field and the bad
    value. ``objects`` may be given as any sequence of :class:`SceneObject` (or their dicts) and
    is stored as a tuple. ``horizon`` is the relative height where sky meets ground.
    """

    location_setting: str = DEFAULTS["location_setting"]
    architecture_style: str = DEFAULTS["architecture_style"]
    time_period: str = DEFAULTS["time_period"]
    time_of_day: str = DEFAULTS["time_of_day"]
    season: str = DEFAULTS["season"]
    weather: str = DEFAULTS["weather"]
    mood_lighting: str = DEFAULTS["mood_lighting"]
    color_grading: str = DEFAULTS["color_grading"]
    artistic_medium: str = DEFAULTS["artistic_medium"]
    atmospheric_effects: str = DEFAULTS["atmospheric_effects"]
    objects: tuple[SceneObject, ...] = field(default_factory=tuple)
    horizon: float = 0.58
    width: int = 512
    height: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        for dim in DIMENSIONS:
            check_value(dim, getattr(self, dim))
        objs = self.objects
        if isinstance(objs, (str, bytes, Mapping)) or not hasattr(objs, "__iter__"):
            raise ValueError(f"objects: expected a sequence of objects, got {type(objs).__name__}")
        converted = tuple(o if isinstance(o, SceneObject) else SceneObject.from_dict(o) for o in objs)
        object.__setattr__(self, "objects", converted)
        _check_float("scene", "horizon", self.horizon, 0.2, 0.85)
        object.__setattr__(self, "horizon", float(self.horizon))
        for name, lo, hi in (("width", 16, 4096), ("height", 16, 4096), ("seed", 0, 2**63 - 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"scene.{name}: {value!r} is not an integer in [{lo}, {hi}]")

    def dims(self) -> dict[str, str]:
        """The ten dimensions as ``{dimension: value}`` (paper B's order)."""
        return {dim: getattr(self, dim) for dim in DIMENSIONS}

    def context(self) -> dict[str, str]:
        """The dimensions keyed as ``Sample.context`` names them (``location``, ``architecture``...)."""
        return {CONTEXT_KEYS[dim]: getattr(self, dim) for dim in DIMENSIONS}

    def to_dict(self) -> dict[str, Any]:
        """Lossless JSON-ready form with the schema version ``v``."""
        out: dict[str, Any] = {"v": SPEC_VERSION}
        out.update(self.dims())
        out.update(
            objects=[o.to_dict() for o in self.objects],
            horizon=self.horizon,
            width=self.width,
            height=self.height,
            seed=self.seed,
        )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SceneSpec:
        """Inverse of :meth:`to_dict`. Missing fields take their defaults; unknown keys and a
        newer ``v`` raise ``ValueError`` (a stored spec must never be half understood)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"scene: expected a mapping, got {type(data).__name__}")
        payload = dict(data)
        version = payload.pop("v", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise ValueError(
                f"scene.v: unsupported spec version {version!r} (this code reads {SPEC_VERSION})"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(payload) - known
        if unknown:
            raise ValueError(f"scene: unknown keys {sorted(unknown)}")
        if "objects" in payload:
            objs = payload["objects"]
            if not isinstance(objs, (list, tuple)):
                raise ValueError(f"objects: expected a list, got {type(objs).__name__}")
            payload["objects"] = tuple(SceneObject.from_dict(o) for o in objs)
        return cls(**payload)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, compact): equal specs give equal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> SceneSpec:
        """Parse :meth:`to_json` output (or any JSON of :meth:`to_dict`'s shape)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"scene: invalid JSON ({exc})") from exc
        return cls.from_dict(data)

    def building_style(self, obj: SceneObject) -> str:
        """The architecture a building is drawn in: its own ``style`` or the scene's."""
        return obj.style or self.architecture_style


def edit(spec: SceneSpec, changes: Mapping[str, str]) -> SceneSpec:
    """Return ``spec`` with some dimensions changed; everything else (objects, seed) is kept.

    ``changes`` maps dimension names to vocabulary values; an unknown dimension or value raises
    ``ValueError`` naming it. Use :func:`canonical_value` first to accept free spellings.
    Buildings with a pinned ``style`` keep it when ``architecture_style`` changes.
    """
    for dim, value in changes.items():
        check_dimension(dim)
        check_value(dim, value)
    return dataclasses.replace(spec, **dict(changes))


def diff(a: SceneSpec, b: SceneSpec, *, dimensions_only: bool = False) -> dict[str, tuple[str, str]]:
    """What differs between two specs, as ``{field: (value in a, value in b)}``.

    Dimensions come first, in paper B's order. Unless ``dimensions_only``, the other fields are
    compared too (``objects``, ``horizon``, ``width``, ``height``, ``seed``), their values given as
    compact JSON text so the result type stays uniform.
    """
    out: dict[str, tuple[str, str]] = {}
    for dim in DIMENSIONS:
        va, vb = getattr(a, dim), getattr(b, dim)
        if va != vb:
            out[dim] = (va, vb)
    if not dimensions_only:
        da, db = a.to_dict(), b.to_dict()
        for name in ("objects", "horizon", "width", "height", "seed"):
            if da[name] != db[name]:
                out[name] = (
                    json.dumps(da[name], sort_keys=True, separators=(",", ":")),
                    json.dumps(db[name], sort_keys=True, separators=(",", ":")),
                )
    return out
