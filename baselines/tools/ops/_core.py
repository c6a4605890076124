"""The op contract: specs, parameter schemas and their validation, mask checks and blending.

An op is a pure, deterministic function ``op(image, mask, **params) -> image``:

* ``image`` is a PIL RGB image; ``mask`` a float32 ``HxW`` array in [0, 1] (1 = edit here; ``None``
  means the whole image);
* the result has the same size and is ``blend(original, edited, mask)``, so every pixel where
  ``mask == 0`` is exactly the original's;
* randomness (noise, flakes, scattered shapes) comes only from an explicit ``seed`` parameter.

Each op is written as an *implementation* on a float32 ``HxWx3`` array in [0, 1] with keyword-only
parameters and no defaults; :func:`make_op` wraps it into the public function, so validation,
defaults (the JSON schema is their single source), mask checks and the final blend live in one place.
The colour maths the implementations share is in :mod:`._color`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "OpError",
    "OpSpec",
    "make_op",
    "validate_params",
    "blend",
    "to_array",
    "check_mask",
]

#: Categories an op can belong to; ``dimension`` ops change one of paper B's ten context dimensions.
CATEGORIES = ("dimension", "compositional", "advert", "adjustment")

_HEX = r"^#[0-9A-Fa-f]{6}$"


class OpError(ValueError):
    """A classical op was called with an invalid image, mask or parameter."""


# --------------------------------------------------------------------------------------------------
# Specs and schemas
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpSpec:
    """What a planner sees of an op, and how to call it.

    ``params_schema`` is a JSON schema (an ``object`` with ``properties``) and the only source of
    the defaults; treat it as read-only (``copy.deepcopy`` it before changing it). ``fn`` is the
    public function ``fn(image, mask=None, **params) -> PIL.Image``. ``dimension`` names the
    ``Sample.context`` key a ``category == "dimension"`` op changes, else ``None``. Bump
    ``version`` whenever the pixels an op produces change.
    """

    name: str
    description: str
    params_schema: dict[str, Any] = field(compare=False, hash=False, repr=False)
    fn: Callable[..., Image.Image] = field(compare=False, hash=False, repr=False)
    category: str = "adjustment"
    dimension: str | None = None
    version: str = "1"
    impl: Callable[..., np.ndarray] = field(default=None, compare=False, hash=False, repr=False)  # type: ignore[assignment]

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return ``params`` checked against the schema, with every default filled in."""
        return validate_params(self.name, self.params_schema, params or {})

    def edit_array(self, img: np.ndarray, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """Run the op on a float32 ``HxWx3`` array in [0, 1], unmasked (used to compose ops)."""
        return np.clip(self.impl(img, **self.validate(params)), 0.0, 1.0).astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        """The op as a planner-facing catalogue entry (JSON-serialisable)."""
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "dimension": self.dimension,
            "version": self.version,
            "parameters": copy.deepcopy(self.params_schema),
        }


def enum_param(values: tuple[str, ...], default: str, description: str) -> dict[str, Any]:
    """A string parameter restricted to ``values``."""
    return {"type": "string", "enum": list(values), "default": default, "description": description}


def number_param(default: float, minimum: float, maximum: float, description: str) -> dict[str, Any]:
    """A float parameter in ``[minimum, maximum]``."""
    return {
        "type": "number",
        "minimum": minimum,
        "maximum": maximum,
        "default": default,
        "description": description,
    }


def int_param(default: int, minimum: int, maximum: int, description: str) -> dict[str, Any]:
    """An integer parameter in ``[minimum, maximum]``."""
    return {
        "type": "integer",
        "minimum": minimum,
        "maximum": maximum,
        "default": default,
        "description": description,
    }


def bool_param(default: bool, description: str) -> dict[str, Any]:
    """A boolean parameter."""
    return {"type": "boolean", "default": default, "description": description}


def color_param(default: str | None, description: str) -> dict[str, Any]:
    """A ``#RRGGBB`` colour; ``default=None`` makes it nullable (null = the op's own choice)."""
    kind: Any = "string" if default is not None else ["string", "null"]
    return {"type": kind, "pattern": _HEX, "default": default, "description": description}


def string_param(description: str, max_length: int, default: str | None = None) -> dict[str, Any]:
    """A free string; without ``default`` it is required."""
    prop: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "description": description,
    }
    if default is not None:
        prop["default"] = default
    return prop


def object_schema(properties: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The op's parameter object: properties without a default are required; no extra keys."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": [k for k, v in properties.items() if "default" not in v],
        "additionalProperties": False,
    }


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "number": lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, (bool, np.bool_)),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, (list, tuple)),
}


def _check_value(op: str, key: str, prop: Mapping[str, Any], value: Any) -> Any:
    kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    kind = next((k for k in kinds if _TYPE_CHECKS[k](value)), None)
    if kind is None:
        raise OpError(f"{op}: parameter {key!r} must be {' or '.join(kinds)}, got {value!r}")
    if kind == "null":
        return None
    if kind == "number":
        value = float(value)
        if not math.isfinite(value):
            raise OpError(f"{op}: parameter {key!r} must be finite, got {value!r}")
    elif kind == "integer":
        value = int(value)
    elif kind == "boolean":
        value = bool(value)
    elif kind == "object":
        value = copy.deepcopy(dict(value))
    if "enum" in prop and value not in prop["enum"]:
        raise OpError(f"{op}: parameter {key!r} must be one of {prop['enum']}, got {value!r}")
    if "minimum" in prop and value < prop["minimum"]:
        raise OpError(f"{op}: parameter {key!r} must be >= {prop['minimum']}, got {value!r}")
    if "maximum" in prop and value > prop["maximum"]:
        raise OpError(f"{op}: parameter {key!r} must be <= {prop['maximum']}, got {value!r}")
    if kind == "string":
        if "pattern" in prop and not re.fullmatch(prop["pattern"], value):
            raise OpError(f"{op}: parameter {key!r} must match {prop['pattern']}, got {value!r}")
        if len(value) < prop.get("minLength", 0) or len(value) > prop.get("maxLength", 1 << 30):
            raise OpError(f"{op}: parameter {key!r} has length {len(value)}, outside the schema's limits")
    return value


def validate_params(op: str, schema: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``params`` against an op's schema and fill in defaults.

    Raises :class:`OpError` naming the op and the parameter on an unknown key, a missing required
    key, a wrong type, a value outside an enum or a range, or a malformed colour.
    """
    props: Mapping[str, Any] = schema["properties"]
    unknown = sorted(set(params) - set(props))
    if unknown:
        raise OpError(f"{op}: unknown parameter(s) {unknown}; expected some of {sorted(props)}")
    out: dict[str, Any] = {}
    for key, prop in props.items():
        if key in params:
            out[key] = _check_value(op, key, prop, params[key])
        elif "default" in prop:
            out[key] = copy.deepcopy(prop["default"])
        else:
            raise OpError(f"{op}: missing required parameter {key!r}")
    return out


# --------------------------------------------------------------------------------------------------
# Images, masks, blending
# --------------------------------------------------------------------------------------------------


def to_array(image: Image.Image) -> np.ndarray:
    """A PIL RGB image as a uint8 ``HxWx3`` array (the op contract takes RGB only)."""
    if not isinstance(image, Image.Image):
        raise OpError(f"expected a PIL image, got {type(image).__name__}")
    if image.mode != "RGB":
        raise OpError(f"expected an RGB image, got mode {image.mode!r}; convert it first")
    return np.asarray(image, dtype=np.uint8)


def check_mask(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """Validate a mask for an image of ``shape`` (H, W); ``None`` means everywhere."""
    if mask is None:
        return np.ones(shape, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)
    if m.shape != tuple(shape):
        raise OpError(f"mask has shape {m.shape}, the image needs {tuple(shape)} (H, W)")
    if not np.isfinite(m).all():
        raise OpError("mask contains NaN or infinity")
    if m.size and (m.min() < -1e-6 or m.max() > 1 + 1e-6):
        raise OpError(f"mask values must lie in [0, 1], got [{m.min():.4g}, {m.max():.4g}]")
    return np.clip(m, 0.0, 1.0)


def _blend_u8(original: np.ndarray, edited: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Blend uint8 ``original`` with float ``edited`` (0-1); exact where mask is 0 or 1."""
    m = mask[..., None]
    edited255 = np.clip(edited, 0.0, 1.0) * 255.0
    mixed = np.rint(original.astype(np.float32) * (1.0 - m) + edited255 * m)
    out = np.clip(mixed, 0, 255).astype(np.uint8)
    return np.where(m == 0.0, original, out)


def blend(original: Image.Image, edited: Image.Image, mask: np.ndarray | None) -> Image.Image:
    """``original * (1 - mask) + edited * mask``, rounded; pixels where ``mask == 0`` stay exact."""
    a = to_array(original)
    b = to_array(edited)
    if a.shape != b.shape:
        raise OpError(f"blend needs equal sizes, got {original.size} and {edited.size}")
    m = check_mask(mask, a.shape[:2])
    return Image.fromarray(_blend_u8(a, b.astype(np.float32) / 255.0, m), "RGB")


def _params_doc(schema: Mapping[str, Any]) -> str:
    lines = []
    for key, prop in schema["properties"].items():
        default = f" (default {prop['default']!r})" if "default" in prop else " (required)"
        choices = f" One of {prop['enum']}." if "enum" in prop else ""
        lines.append(f"    {key}: {prop['description']}{default}.{choices}")
    return "\n".join(lines)


def make_op(
    name: str,
    description: str,
    params: Mapping[str, dict[str, Any]],
    *,
    category: str,
    dimension: str | None = None,
    version: str = "1",
) -> Callable[[Callable[..., np.ndarray]], Callable[..., Image.Image]]:
    """Decorate an array implementation into a public op carrying its :class:`OpSpec` as ``.spec``.

    The implementation takes ``(img, *, <every schema parameter>)`` — keyword-only, no defaults, so
    the schema stays the single source of truth — and returns the fully edited float array.
    """
    if category not in CATEGORIES:
        raise ValueError(f"{name}: unknown category {category!r}")
    schema = object_schema(params)

    def decorate(impl: Callable[..., np.ndarray]) -> Callable[..., Image.Image]:
        sig = inspect.signature(impl)
        kw = [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        if kw != list(schema["properties"]) or any(
            sig.parameters[k].default is not inspect.Parameter.empty for k in kw
        ):
            raise TypeError(f"{name}: implementation keywords {kw} must equal the schema's, without defaults")

        @functools.wraps(impl)
        def op(image: Image.Image, mask: np.ndarray | None = None, **kwargs: Any) -> Image.Image:
            values = validate_params(name, schema, kwargs)
            original = to_array(image)
            m = check_mask(mask, original.shape[:2])
            if not m.any():
                return image.copy()
            edited = impl(original.astype(np.float32) / 255.0, **values)
            if edited.shape != original.shape:
                raise OpError(
                    f"{name}: implementation returned shape {edited.shape}, expected {original.shape}"
                )
            return Image.fromarray(_blend_u8(original, edited, m), "RGB")

        op.__doc__ = (
            f"{description}\n\nParameters (validated against the JSON schema):\n{_params_doc(schema)}\n"
        )
        op.__name__ = name
        op.__qualname__ = name
        op.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("image", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Image.Image),
                inspect.Parameter("mask", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
                inspect.Parameter("params", inspect.Parameter.VAR_KEYWORD),
            ],
            return_annotation=Image.Image,
        )
        op.spec = OpSpec(  # type: ignore[attr-defined]
            name=name,
            description=description,
            params_schema=schema,
            fn=op,
            category=category,
            dimension=dimension,
            version=version,
            impl=impl,
        )
        return op

    return decorate
