"""Compositional ops from paper B's 20-action library that are image operations.

``graduated_effect`` (and ``spatial_constraint``) apply a base op along a gradient;
``layered_blend`` mixes two ops with a blend mode and weight (paper B's ``layered_transformation``,
``parallel_transform`` and ``selective_blend`` reduced to two layers and a spatial criterion).
Sequencing is the caller's job (apply ops one after another); exclusion and preservation are mask
operations (:mod:`.masks`). Base ops run on the whole frame and the result is then confined to the
outer mask, so a base op's own mask is never needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import advert, atmosphere, environment, lighting, medium, scene
from ._color import (
    lerp,
    multiply,
    overlay,
    screen,
    soft_light,
)
from ._core import (
    OpError,
    OpSpec,
    enum_param,
    make_op,
    number_param,
)
from .masks import CURVES, DIRECTIONS, gradient_mask

__all__ = ["graduated_effect", "layered_blend", "BASE_OPS", "SPEC"]

#: Ops that may be nested inside a compositional op (every non-compositional op).
BASE_OPS: dict[str, OpSpec] = {
    spec.name: spec
    for module in (scene, environment, atmosphere, lighting, medium, advert)
    for spec in module.SPEC
}

_BLEND_MODES = {
    "normal": lambda a, b: b,
    "multiply": multiply,
    "screen": screen,
    "overlay": overlay,
    "soft_light": soft_light,
}


def _base(outer: str, key: str, name: str) -> OpSpec:
    try:
        return BASE_OPS[name]
    except KeyError:
        raise OpError(f"{outer}: {key}={name!r} is not a base op; choose one of {sorted(BASE_OPS)}") from None


def _run(outer: str, key: str, name: str, params: Mapping[str, Any], img: np.ndarray) -> np.ndarray:
    spec = _base(outer, key, name)
    try:
        return spec.edit_array(img, params)
    except OpError as err:
        raise OpError(f"{outer}: in {key}: {err}") from err


def _object_param(description: str) -> dict[str, Any]:
    return {"type": "object", "default": {}, "description": description}


@make_op(
    "graduated_effect",
    "Apply a base op with intensity varying across the frame: from start at the origin side of "
    "direction to end at the far side, along a linear, exponential or sigmoid curve (e.g. fog dense "
    "at the bottom and clear at the top: op=atmospheric_effects, direction=bottom_to_top, start=1, "
    "end=0).",
    {
        "op": enum_param(tuple(BASE_OPS), "atmospheric_effects", "The base op to graduate"),
        "params": _object_param("Parameters of the base op (its own schema)"),
        "direction": enum_param(DIRECTIONS, "top_to_bottom", "Direction of the gradient"),
        "start": number_param(1.0, 0.0, 1.0, "Effect strength at the origin side"),
        "end": number_param(0.0, 0.0, 1.0, "Effect strength at the far side"),
        "curve": enum_param(CURVES, "linear", "Shape of the ramp"),
    },
    category="compositional",
)
def graduated_effect(
    img: np.ndarray, *, op: str, params: dict, direction: str, start: float, end: float, curve: str
) -> np.ndarray:
    edited = _run("graduated_effect", "params", op, params, img)
    ramp = gradient_mask(img.shape[0], img.shape[1], direction, start, end, curve)
    return lerp(img, edited, ramp[..., None])


@make_op(
    "layered_blend",
    "Blend two ops as layers: layer A is op_a's result, layer B is op_b's result on the original "
    "(order=parallel) or on layer A (order=sequential); B is combined with A by blend_mode "
    "(normal, multiply, screen, overlay, soft_light) and mixed over A with weight (0 = only A, "
    "1 = the full combination).",
    {
        "op_a": enum_param(tuple(BASE_OPS), "color_grading", "The first (bottom) layer's op"),
        "params_a": _object_param("Parameters of op_a"),
        "op_b": enum_param(tuple(BASE_OPS), "atmospheric_effects", "The second (top) layer's op"),
        "params_b": _object_param("Parameters of op_b"),
        "weight": number_param(0.5, 0.0, 1.0, "Opacity of the top layer"),
        "blend_mode": enum_param(tuple(_BLEND_MODES), "normal", "How the top layer combines"),
        "order": enum_param(
            ("parallel", "sequential"), "parallel", "Is op_b applied to the original or to A"
        ),
    },
    category="compositional",
)
def layered_blend(
    img: np.ndarray,
    *,
    op_a: str,
    params_a: dict,
    op_b: str,
    params_b: dict,
    weight: float,
    blend_mode: str,
    order: str,
) -> np.ndarray:
    layer_a = _run("layered_blend", "params_a", op_a, params_a, img)
    layer_b = _run("layered_blend", "params_b", op_b, params_b, img if order == "parallel" else layer_a)
    combined = _BLEND_MODES[blend_mode](layer_a, layer_b)
    return lerp(layer_a, combined, weight)


#: The ops of this module, in catalogue order.
SPEC = (graduated_effect.spec, layered_blend.spec)  # type: ignore[attr-defined]
