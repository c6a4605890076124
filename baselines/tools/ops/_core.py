"""The op contract, parameter schemas and the colour maths every classical op shares.

An op is a pure, deterministic function ``op(image, mask, **params) -> image``:

* ``image`` is a PIL RGB image; ``mask`` a float32 ``HxW`` array in [0, 1] (1 = edit here; ``None``
  means the whole image);
* the result has the same size and is ``blend(original, edited, mask)``, so every pixel where
  ``mask == 0`` is exactly the original's;
* randomness (noise, flakes, scattered shapes) comes only from an explicit ``seed`` parameter.

Each op is written as an *implementation* on a float32 ``HxWx3`` array in [0, 1] with keyword-only
parameters and no defaults; :func:`make_op` wraps it into the public function, so validation,
defaults (the JSON schema is their single source), mask checks and the final blend live in one place.
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
from scipy import ndimage
from skimage import color as skcolor

__all__ = [
    "OpError",
    "OpSpec",
    "make_op",
    "validate_params",
    "blend",
    "to_array",
    "check_mask",
]

#: Rec. 601 luma weights, used by every op and measure that needs "brightness".
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

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
    return {"type": "number", "minimum": minimum, "maximum": maximum, "default": default, "description": description}


def int_param(default: int, minimum: int, maximum: int, description: str) -> dict[str, Any]:
    """An integer parameter in ``[minimum, maximum]``."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum, "default": default, "description": description}


def bool_param(default: bool, description: str) -> dict[str, Any]:
    """A boolean parameter."""
    return {"type": "boolean", "default": default, "description": description}


def color_param(default: str | None, description: str) -> dict[str, Any]:
    """A ``#RRGGBB`` colour; ``default=None`` makes it nullable (null = the op's own choice)."""
    kind: Any = "string" if default is not None else ["string", "null"]
    return {"type": kind, "pattern": _HEX, "default": default, "description": description}


def string_param(description: str, max_length: int, default: str | None = None) -> dict[str, Any]:
    """A free string; without ``default`` it is required."""
    prop: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}
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
                raise OpError(f"{name}: implementation returned shape {edited.shape}, expected {original.shape}")
            return Image.fromarray(_blend_u8(original, edited, m), "RGB")

        op.__doc__ = f"{description}\n\nParameters (validated against the JSON schema):\n{_params_doc(schema)}\n"
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


# --------------------------------------------------------------------------------------------------
# Colour maths on float32 arrays in [0, 1]
# --------------------------------------------------------------------------------------------------


def hex_to_rgb(value: str) -> np.ndarray:
    """``#RRGGBB`` to a float32 RGB triple in [0, 1]."""
    return np.array([int(value[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32) / 255.0


def luma(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an ``...x3`` array."""
    return (img @ LUMA_WEIGHTS).astype(np.float32)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """``a + (b - a) * t``; ``t`` broadcasts (pass ``HxWx1`` for per-pixel weights)."""
    return (a + (b - a) * t).astype(np.float32)


def clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    return skcolor.rgb2hsv(img.astype(np.float32)).astype(np.float32)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    return clip01(skcolor.hsv2rgb(np.clip(hsv, 0.0, 1.0).astype(np.float32)))


def set_saturation(img: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    """Scale colourfulness around each pixel's luma (factor 0 = grey, 1 = unchanged); luma kept."""
    y = luma(img)[..., None]
    f = factor[..., None] if isinstance(factor, np.ndarray) and factor.ndim == 2 else factor
    return clip01(y + (img - y) * f)


def set_contrast(img: np.ndarray, factor: float, pivot: float | None = None) -> np.ndarray:
    """Stretch (>1) or flatten (<1) around ``pivot`` (default: the image's mean luma)."""
    p = float(luma(img).mean()) if pivot is None else pivot
    return clip01((img - p) * factor + p)


def s_curve(img: np.ndarray, strength: float) -> np.ndarray:
    """Blend each channel toward a smoothstep tone curve: deeper shadows, brighter highlights."""
    curved = img * img * (3.0 - 2.0 * img)
    return clip01(lerp(img, curved, strength))


def apply_gains(img: np.ndarray, gains: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """Per-channel multipliers (a white-balance shift)."""
    return clip01(img * np.asarray(gains, dtype=np.float32))


def lift_gamma_gain(img: np.ndarray, lift: float = 0.0, gamma: float = 1.0, gain: float = 1.0) -> np.ndarray:
    """Classic grading: raise blacks by ``lift``, bend mid-tones by ``gamma`` (>1 darker), scale whites."""
    x = np.power(np.clip(img, 0.0, 1.0), gamma) * gain
    return clip01(lift + x * (1.0 - lift))


def match_luma(rgb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Colours with the chroma direction of ``rgb`` and luma exactly ``target``.

    Darker targets scale the colour down; brighter ones mix it toward white, so the result stays in
    gamut. ``rgb`` broadcasts against ``target[..., None]``; black ``rgb`` yields grey.
    """
    t = np.clip(target, 0.0, 1.0)[..., None].astype(np.float32)
    c = np.broadcast_to(np.asarray(rgb, dtype=np.float32), t.shape[:-1] + (3,))
    lc = luma(c)[..., None]
    safe = np.maximum(lc, 1e-6)
    darker = c * (t / safe)
    brighter = c + (1.0 - c) * ((t - lc) / np.maximum(1.0 - lc, 1e-6))
    out = np.where(t <= lc, darker, brighter)
    grey = np.broadcast_to(t, out.shape)
    return clip01(np.where(lc <= 1e-6, grey, out))


def tint(img: np.ndarray, rgb: np.ndarray | tuple[float, float, float], amount: float | np.ndarray) -> np.ndarray:
    """Move ``img`` toward the hue/saturation of ``rgb`` at each pixel's own luma."""
    target = match_luma(np.asarray(rgb, dtype=np.float32), luma(img))
    a = amount[..., None] if isinstance(amount, np.ndarray) and amount.ndim == 2 else amount
    return clip01(lerp(img, target, a))


def split_tone(img: np.ndarray, shadow_rgb: tuple, highlight_rgb: tuple, amount: float) -> np.ndarray:
    """Tint shadows and highlights toward two colours (teal/orange and friends)."""
    y = luma(img)
    out = tint(img, shadow_rgb, (1.0 - y) ** 1.5 * amount)
    return tint(out, highlight_rgb, y**1.5 * amount)


def screen(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return clip01(1.0 - (1.0 - a) * (1.0 - b))


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return clip01(a * b)


def overlay(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return clip01(np.where(a < 0.5, 2.0 * a * b, 1.0 - 2.0 * (1.0 - a) * (1.0 - b)))


def soft_light(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The W3C soft-light formula (gentle contrast from ``b`` over ``a``)."""
    d = np.where(a <= 0.25, ((16.0 * a - 12.0) * a + 4.0) * a, np.sqrt(np.clip(a, 0.0, 1.0)))
    return clip01(np.where(b <= 0.5, a - (1.0 - 2.0 * b) * a * (1.0 - a), a + (2.0 * b - 1.0) * (d - a)))


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an ``HxW`` or ``HxWxC`` array, spatial axes only."""
    if sigma <= 0:
        return img.astype(np.float32)
    s = (sigma, sigma) + (0,) * (img.ndim - 2)
    return ndimage.gaussian_filter(img.astype(np.float32), s, mode="reflect")


def scale_of(h: int, w: int) -> float:
    """Resolution factor (1.0 at a 512 px short side) so radii and counts scale with the image."""
    return max(min(h, w) / 512.0, 0.125)


def vignette(h: int, w: int, strength: float) -> np.ndarray:
    """Multiplicative ``HxW`` map: 1 at the centre, ``1 - strength`` in the corners."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h * 2.0 - 1.0
    x = (np.arange(w, dtype=np.float32) + 0.5) / w * 2.0 - 1.0
    r2 = (x[None, :] ** 2 + y[:, None] ** 2) / 2.0
    return (1.0 - strength * smoothstep(0.15, 1.0, r2)).astype(np.float32)


def sky_weight(h: int, w: int, horizon: float) -> np.ndarray:
    """``HxW`` weight: 1 at the top, easing to 0 at the relative row ``horizon`` (a sky proxy)."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    col = 1.0 - smoothstep(0.0, max(horizon, 1e-3), y)
    return np.repeat(col[:, None], w, axis=1).astype(np.float32)


def ground_weight(h: int, w: int, horizon: float) -> np.ndarray:
    """``HxW`` weight: 0 above the relative row ``horizon``, easing to 1 at the bottom."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    col = smoothstep(min(horizon, 0.999), 1.0, y)
    return np.repeat(col[:, None], w, axis=1).astype(np.float32)


def horizon_bands(h: int, w: int, horizon: float, softness: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """``(sky, ground)`` ``HxW`` weights that cross over within ``softness`` of the relative row ``horizon``."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    ground = smoothstep(horizon - softness / 2, horizon + softness, y)
    sky = 1.0 - smoothstep(horizon - softness, horizon + softness / 2, y)
    return np.repeat(sky[:, None], w, axis=1), np.repeat(ground[:, None], w, axis=1)


def smooth_noise(h: int, w: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """Seeded value noise in [0, 1] with features about ``cell`` pixels across."""
    gh, gw = max(2, int(math.ceil(h / cell)) + 2), max(2, int(math.ceil(w / cell)) + 2)
    grid = rng.random((gh, gw)).astype(np.float32)
    field_ = ndimage.zoom(grid, (h / (gh - 2), w / (gw - 2)), order=3, mode="nearest", grid_mode=True)
    field_ = field_[:h, :w]
    if field_.shape != (h, w):
        field_ = np.pad(field_, ((0, h - field_.shape[0]), (0, w - field_.shape[1])), mode="edge")
    lo, hi = float(field_.min()), float(field_.max())
    return ((field_ - lo) / max(hi - lo, 1e-6)).astype(np.float32)


def edge_magnitude(gray: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of an ``HxW`` array, normalised so a unit step gives about 1."""
    gx = ndimage.sobel(gray, axis=1, mode="reflect")
    gy = ndimage.sobel(gray, axis=0, mode="reflect")
    return (np.hypot(gx, gy) / 4.0).astype(np.float32)


def gray3(img: np.ndarray) -> np.ndarray:
    """Luma broadcast back to three channels."""
    return np.repeat(luma(img)[..., None], 3, axis=2)
