"""The classical tool library: one :class:`~bench.protocols.Tool` per op of :mod:`baselines.tools.ops`.

Each tool is a thin, honest wrapper around one deterministic op: it validates the parameters
against the op's JSON schema (a :class:`~bench.errors.ToolError` names the tool and the field),
turns the :class:`~bench.model.Region` into a mask through ``ctx.mask`` (full, named, box or a
stored mask; a phrase must be grounded first), hands the op ``seed=ctx.seed`` when the op draws
random shapes and the caller did not fix one, and runs it. Pixels outside the region are exactly
the input's, because every op blends its result through the mask.

The tools are registered under the op names, which for the ten styling dimensions are paper B's
action names (``location_setting``, ``architecture_style``, ``time_period``, ``time_of_day``,
``season``, ``weather``, ``mood_lighting``, ``color_grading``, ``artistic_medium``,
``atmospheric_effects``). Constructors take no arguments, so a tool's id depends only on its name
and :attr:`ClassicalTool.version`.

Example::

    from bench.registry import build
    from bench.spec import ComponentSpec
    tool = build("tools", ComponentSpec("time_of_day"))
    night = tool.apply(image, {"target": "night"}, Region(kind="named", name="top"), tool_ctx)
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from baselines.tools.ops import ALL_OPS, OpError, OpSpec, validate_params
from bench.errors import ToolError
from bench.model import Region
from bench.protocols import Component

if TYPE_CHECKING:
    from bench.context import ToolContext

log = logging.getLogger(__name__)

#: Version of this wrapper. A tool's version is ``"<WRAPPER_VERSION>.<op version>"``: bump this
#: when the wrapper changes what a tool outputs (validation, seeding, masking), bump the op's
#: version when its pixels change; either way every tool id changes with its output.
WRAPPER_VERSION = "1"

#: Largest seed the ops' schemas accept.
_SEED_MAX = 2_147_483_647

#: Compositional ops nest other ops: ``{nested params key: key naming the nested op}``.
NESTED_OPS: dict[str, dict[str, str]] = {
    "graduated_effect": {"params": "op"},
    "layered_blend": {"params_a": "op_a", "params_b": "op_b"},
}

#: Every tool class by tool name, filled as the classes below are defined.
TOOLS: dict[str, type[ClassicalTool]] = {}


def _takes_seed(spec: OpSpec) -> bool:
    return "seed" in spec.params_schema["properties"]


def check_params(tool: str, schema: Mapping[str, Any], params: Any, prefix: str = "") -> dict[str, Any]:
    """``params`` validated against ``schema`` with defaults filled, or a :class:`ToolError`.

    Unlike the ops' own validation, the error carries the offending field (``intensity``, or
    ``params_a.intensity`` inside a compositional op), so a planner can be told exactly what to fix.
    """
    if not isinstance(params, Mapping):
        raise ToolError(f"tool {tool!r}: parameters must be a JSON object, got {type(params).__name__}",
                        field=prefix.rstrip(".") or "params")
    props: Mapping[str, Any] = schema["properties"]
    for key in params:
        if key not in props:
            raise ToolError(f"tool {tool!r}: unknown parameter {prefix}{key!r}; expected some of {sorted(props)}",
                            field=f"{prefix}{key}")
    for key, value in params.items():
        try:
            validate_params("", {"properties": {key: props[key]}}, {key: value})
        except OpError as err:
            raise ToolError(f"tool {tool!r}: {str(err).removeprefix(': ')}", field=f"{prefix}{key}") from None
    for key in schema.get("required", ()):
        if key not in params:
            raise ToolError(f"tool {tool!r}: missing required parameter {prefix}{key!r}", field=f"{prefix}{key}")
    try:
        return validate_params(tool, schema, params)
    except OpError as err:  # not reachable after the per-key checks, kept as a safety net
        raise ToolError(f"tool {tool!r}: {err}", field=prefix.rstrip(".") or None) from None


class ClassicalTool(Component):
    """Base of the classical tools: subclasses only set ``op_name`` (the op in ``ALL_OPS``).

    ``name``, ``version``, ``description``, ``params_schema`` and the class docstring are taken
    from the op when the subclass is defined, so the library shown to planners is the ops' own.
    """

    op_name: ClassVar[str] = ""
    name: str = ""
    version: str = WRAPPER_VERSION
    description: str = ""
    params_schema: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.op_name:
            return
        spec = ALL_OPS.get(cls.op_name)
        if spec is None:
            raise TypeError(f"{cls.__name__}: no op named {cls.op_name!r} in baselines.tools.ops.ALL_OPS")
        if cls.op_name in TOOLS:
            raise TypeError(f"{cls.__name__}: a tool for op {cls.op_name!r} already exists ({TOOLS[cls.op_name].__name__})")
        cls.name = spec.name
        cls.version = f"{WRAPPER_VERSION}.{spec.version}"
        cls.description = spec.description
        cls.params_schema = copy.deepcopy(spec.params_schema)
        cls.__doc__ = f"Classical tool ``{spec.name}``: {spec.description}"
        TOOLS[cls.op_name] = cls

    def __init__(self) -> None:
        if not self.op_name:
            raise TypeError("ClassicalTool is abstract: use one of its subclasses (see TOOLS)")

    @property
    def spec(self) -> OpSpec:
        return ALL_OPS[self.op_name]

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Checked params with defaults filled (nested ops' params included); :class:`ToolError` if bad."""
        values = check_params(self.name, self.spec.params_schema, params or {})
        for nested_key, op_key in NESTED_OPS.get(self.name, {}).items():
            inner = ALL_OPS[values[op_key]]
            values[nested_key] = check_params(self.name, inner.params_schema, values[nested_key], f"{nested_key}.")
        return values

    def _seeded(self, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
        """``params`` with ``seed`` added where an op (or a nested op) draws randomness and none is set."""
        out = dict(params)
        if _takes_seed(self.spec) and "seed" not in out:
            out["seed"] = seed % (_SEED_MAX + 1)
        for nested_key, op_key in NESTED_OPS.get(self.name, {}).items():
            inner_name = out.get(op_key, self.spec.params_schema["properties"][op_key].get("default"))
            inner = ALL_OPS.get(str(inner_name))
            nested = out.get(nested_key, {})
            if inner is not None and _takes_seed(inner) and isinstance(nested, Mapping) and "seed" not in nested:
                out[nested_key] = {**nested, "seed": seed % (_SEED_MAX + 1)}
        return out

    def apply(self, image: Image.Image, params: dict[str, Any], region: Region | None, ctx: ToolContext) -> Image.Image:
        """Run the op on ``image`` inside ``region``; the result has the input's size."""
        if not isinstance(image, Image.Image):
            raise ToolError(f"tool {self.name!r}: expected a PIL image, got {type(image).__name__}", field="image")
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        values = self.validate(self._seeded(params or {}, ctx.seed))
        mask = ctx.mask(region, rgb.size)
        try:
            return self.spec.fn(rgb, mask, **values)
        except OpError as err:
            raise ToolError(f"tool {self.name!r}: {err}") from err

    def catalog_entry(self) -> dict[str, Any]:
        return catalog_entry(self.name)


# -- one class per op (entry points name these) ---------------------------------------------------
class LocationSetting(ClassicalTool):
    op_name = "location_setting"


class ArchitectureStyle(ClassicalTool):
    op_name = "architecture_style"


class TimePeriod(ClassicalTool):
    op_name = "time_period"


class TimeOfDay(ClassicalTool):
    op_name = "time_of_day"


class Season(ClassicalTool):
    op_name = "season"


class Weather(ClassicalTool):
    op_name = "weather"


class MoodLighting(ClassicalTool):
    op_name = "mood_lighting"


class ColorGrading(ClassicalTool):
    op_name = "color_grading"


class ArtisticMedium(ClassicalTool):
    op_name = "artistic_medium"


class AtmosphericEffects(ClassicalTool):
    op_name = "atmospheric_effects"


class BrightnessContrast(ClassicalTool):
    op_name = "brightness_contrast"


class Saturation(ClassicalTool):
    op_name = "saturation"


class GraduatedEffect(ClassicalTool):
    op_name = "graduated_effect"


class LayeredBlend(ClassicalTool):
    op_name = "layered_blend"


class AddText(ClassicalTool):
    op_name = "add_text"


class RecolorRegion(ClassicalTool):
    op_name = "recolor_region"


class ReplaceBackground(ClassicalTool):
    op_name = "replace_background"


class AddBadge(ClassicalTool):
    op_name = "add_badge"


class AddPatternOrBorder(ClassicalTool):
    op_name = "add_pattern_or_border"


def tool_class(name: str) -> type[ClassicalTool]:
    """The tool class for op ``name``; a :class:`ToolError` lists the known ones otherwise."""
    try:
        return TOOLS[name]
    except KeyError:
        raise ToolError(f"no classical tool named {name!r}; known: {', '.join(TOOLS)}", field="tool") from None


def catalog_entry(name: str) -> dict[str, Any]:
    """One tool as a planner sees it: name, description, JSON schema, category, dimension, version."""
    cls = tool_class(name)
    spec = ALL_OPS[cls.op_name]
    return {
        "name": cls.name,
        "description": cls.description,
        "params_schema": copy.deepcopy(cls.params_schema),
        "category": spec.category,
        "dimension": spec.dimension,
        "version": cls.version,
    }


def catalog(category: str | None = None) -> list[dict[str, Any]]:
    """The classical library as a JSON-able list, in the ops' catalogue order (for planner prompts).

    ``category`` (``dimension``, ``compositional``, ``advert``, ``adjustment``) narrows it.
    """
    return [catalog_entry(name) for name, spec in ALL_OPS.items()
            if name in TOOLS and (category is None or spec.category == category)]


def entry_point_lines() -> list[str]:
    """The ``[project.entry-points."editbench.tools"]`` lines that register every tool."""
    return [f'{name} = "baselines.tools.classical:{cls.__name__}"' for name, cls in TOOLS.items()]
