"""Classical image operations behind editbench's tool library.

Every op is a pure, deterministic function ``op(image, mask, **params) -> image`` (see
:mod:`._core` for the contract): PIL RGB in and out, same size, pixels where ``mask == 0`` exactly
unchanged, randomness only from an explicit ``seed``. :data:`ALL_OPS` maps each op's name to its
:class:`OpSpec` (description, JSON schema of its parameters, function, category, dimension,
version), which is what a planner is shown and what a ``Tool`` wraps.

The library covers paper B's ten styling dimensions (one op each; where a classical operation
can only approximate the change, its description says so), the compositional actions that are
image operations (``graduated_effect``, ``layered_blend``; exclusion and preservation are mask
helpers in :mod:`.masks`), advertising edits and two plain adjustments.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> from baselines.tools.ops import ALL_OPS, apply_op
    >>> image = Image.new("RGB", (64, 48), (90, 140, 200))
    >>> mask = np.zeros((48, 64), np.float32); mask[:, :32] = 1.0
    >>> out = apply_op("time_of_day", image, mask, {"target": "night"})
    >>> out.getpixel((63, 0)) == image.getpixel((63, 0)), out.getpixel((0, 0)) < image.getpixel((0, 0))
    (True, True)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from . import advert, atmosphere, compose, environment, lighting, medium, scene
from ._core import OpError, OpSpec, blend, check_mask, validate_params
from .advert import add_badge, add_pattern_or_border, add_text, recolor_region, replace_background
from .atmosphere import atmospheric_effects
from .compose import graduated_effect, layered_blend
from .environment import season, weather
from .lighting import brightness_contrast, color_grading, mood_lighting, saturation, time_of_day
from .masks import feather_mask, gradient_mask, mask_exclude, mask_intersect, mask_union
from .medium import artistic_medium
from .scene import architecture_style, location_setting, time_period

__all__ = [
    "ALL_OPS",
    "DIMENSION_OPS",
    "OpError",
    "OpSpec",
    "apply_op",
    "blend",
    "catalog",
    "check_mask",
    "get_op",
    "validate_params",
    # masks
    "feather_mask",
    "gradient_mask",
    "mask_exclude",
    "mask_intersect",
    "mask_union",
    # ops
    "add_badge",
    "add_pattern_or_border",
    "add_text",
    "architecture_style",
    "artistic_medium",
    "atmospheric_effects",
    "brightness_contrast",
    "color_grading",
    "graduated_effect",
    "layered_blend",
    "location_setting",
    "mood_lighting",
    "recolor_region",
    "replace_background",
    "saturation",
    "season",
    "time_of_day",
    "time_period",
    "weather",
]


def _registry() -> dict[str, OpSpec]:
    out: dict[str, OpSpec] = {}
    for module in (scene, environment, atmosphere, lighting, medium, compose, advert):
        for spec in module.SPEC:
            if spec.name in out:
                raise RuntimeError(f"duplicate op name {spec.name!r}")
            out[spec.name] = spec
    return out


#: Every op by name, in catalogue order.
ALL_OPS: dict[str, OpSpec] = _registry()

#: The op for each of paper B's ten dimensions, keyed by the ``Sample.context`` key it changes.
DIMENSION_OPS: dict[str, OpSpec] = {s.dimension: s for s in ALL_OPS.values() if s.dimension is not None}


def get_op(name: str) -> OpSpec:
    """The op called ``name``; an unknown name raises :class:`OpError` with close matches."""
    try:
        return ALL_OPS[name]
    except KeyError:
        close = difflib.get_close_matches(name, ALL_OPS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise OpError(f"unknown op {name!r}{hint}") from None


def apply_op(
    name: str, image: Image.Image, mask: np.ndarray | None = None, params: Mapping[str, Any] | None = None
) -> Image.Image:
    """Run the op ``name`` on ``image`` inside ``mask`` with ``params`` (validated, defaults filled)."""
    return get_op(name).fn(image, mask, **dict(params or {}))


def catalog(category: str | None = None) -> list[dict[str, Any]]:
    """The ops as JSON-ready entries (name, description, category, dimension, version, parameters)."""
    return [s.to_json() for s in ALL_OPS.values() if category is None or s.category == category]
