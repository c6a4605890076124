"""The ``scene`` tool: edit a rendered scene's description along paper B's ten dimensions.

A styling suite's image is a render of a :class:`bench.scene.SceneSpec`, stored beside it as a
``.scene.json`` sidecar. This tool reads the input image's spec from the image store, changes the
requested dimensions (:func:`bench.scene.edit`), renders the result (:func:`bench.scene.render`)
and writes the output's sidecar, so the next step, and the exact ``attributes`` judge, know the
result's true attributes. It is the frozen editor of paper B taken to its limit: with it, a
planner's choice of actions and values is scored with no editor or judge noise.

Contract
--------
- ``params = {"changes": {dimension: value, ...}}`` with one or more dimensions. A dimension may be
  named by its ``Sample.context`` key (``location``, ``architecture``, ``time_of_day``...), by
  paper B's action name (``location_setting``, ``architecture_style``...) or by the names paper
  B's code uses (``time_period_era``, ``season_cycle``, ``weather_conditions``). A value is a
  vocabulary value of :data:`bench.scene.VOCAB` or an alias (``"sunset"`` -> ``golden_hour``,
  ``"oil painting"`` -> ``oil_paint``; :func:`bench.scene.canonical_value`).
- The input must have a sidecar: an image that was not rendered from a scene spec (a photo, or a
  scene touched by a pixel tool) raises :class:`~bench.errors.ToolError`.
- The region must be the whole image (``None`` or ``Region(kind="full")``): the tool edits the
  scene *description*, which has no notion of a part of the picture; confining a change to a
  region is a pixel tool's job.
- Deterministic: equal input specs and changes give byte-identical outputs.

Example::

    out = SceneTool().apply(image, {"changes": {"time_of_day": "night", "season": "winter"}}, None, ctx)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from bench.errors import ToolError
from bench.ids import image_id
from bench.model import Region
from bench.protocols import Component
from bench.scene import (
    CONTEXT_KEYS,
    DIMENSIONS,
    RENDER_VERSION,
    SIDE_CAR_SUFFIX,
    SPEC_VERSION,
    VOCAB,
    SceneSpec,
    canonical_value,
    edit,
    render,
)

__all__ = ["DIMENSION_NAMES", "SceneTool", "resolve_changes", "resolve_dimension"]

#: Every accepted spelling of a dimension name -> the scene dimension (paper B's action name).
DIMENSION_NAMES: dict[str, str] = {
    **{dim: dim for dim in DIMENSIONS},
    **{key: dim for dim, key in CONTEXT_KEYS.items()},
    # names in paper B's released code (READING.md §6.4)
    "time_period_era": "time_period",
    "season_cycle": "season",
    "weather_conditions": "weather",
}


def resolve_dimension(name: str) -> str:
    """The scene dimension a name refers to (context key, action name or paper B's code name)."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in DIMENSION_NAMES:
        raise ToolError(
            f"scene tool: {name!r} is not a scene dimension; use one of {', '.join(CONTEXT_KEYS.values())} "
            f"(or paper B's action names {', '.join(DIMENSIONS)})",
            field="params.changes",
        )
    return DIMENSION_NAMES[key]


def resolve_changes(changes: Any) -> dict[str, str]:
    """``{dimension: value}`` in any accepted spelling -> ``{scene dimension: vocabulary value}``.

    Raises :class:`ToolError` for a missing or empty mapping, an unknown dimension or value, or two
    spellings of one dimension with different values.
    """
    if not isinstance(changes, Mapping) or not changes:
        raise ToolError("scene tool: params.changes must be a non-empty object {dimension: value}",
                        field="params.changes")
    out: dict[str, str] = {}
    for name, value in changes.items():
        dim = resolve_dimension(name)
        if not isinstance(value, str):
            raise ToolError(f"scene tool: the value of {name!r} must be a string, got {value!r}",
                            field=f"params.changes.{name}")
        try:
            canon = canonical_value(dim, value)
        except ValueError as err:
            raise ToolError(f"scene tool: {err}", field=f"params.changes.{name}") from None
        if dim in out and out[dim] != canon:
            raise ToolError(f"scene tool: {dim} is given twice, as {out[dim]!r} and {canon!r}",
                            field=f"params.changes.{name}")
        out[dim] = canon
    return out


def _params_schema() -> dict[str, Any]:
    dims = {
        CONTEXT_KEYS[dim]: {
            "type": "string",
            "enum": list(VOCAB[dim]),
            "description": f"new {dim.replace('_', ' ')} (paper B action {dim}); aliases such as paper B's "
                           f"example values are accepted",
        }
        for dim in DIMENSIONS
    }
    return {
        "type": "object",
        "properties": {
            "changes": {
                "type": "object",
                "description": "the dimensions to change and their new values; every other dimension, and "
                               "every object of the scene, stays as it is",
                "properties": dims,
                "minProperties": 1,
                "additionalProperties": False,
            }
        },
        "required": ["changes"],
        "additionalProperties": False,
    }


class SceneTool(Component):
    """Edits the scene description of a rendered styling image and re-renders it (no pixels involved)."""

    name = "scene"
    version = f"1.r{RENDER_VERSION}.s{SPEC_VERSION}"  # a new renderer or spec format is a new tool
    description = (
        "Changes any of the ten visual dimensions of a rendered scene (location, architecture, time period, "
        "time of day, season, weather, mood lighting, colour grading, artistic medium, atmospheric effects) by "
        "editing the scene's description and rendering it again: exact, with every other dimension and every "
        "object kept. Works only on images rendered from a scene description (the styling suites), and only "
        "on the whole image."
    )
    params_schema: dict[str, Any] = _params_schema()

    def __init__(self) -> None:
        pass

    def identity_extra(self) -> dict[str, Any]:
        return {"render": RENDER_VERSION, "spec": SPEC_VERSION}

    def read_spec(self, image: Image.Image, ctx: Any) -> SceneSpec:
        """The spec stored beside ``image`` in ``ctx.images``; a clear error when there is none."""
        iid = image_id(image)
        data = ctx.images.get_sidecar(iid, SIDE_CAR_SUFFIX)
        if data is None:
            raise ToolError(
                "the scene tool edits only images rendered from a scene spec: this image has no "
                f"{SIDE_CAR_SUFFIX} sidecar (it is not a styling-suite render, or a pixel tool changed it)",
                field="image",
            )
        try:
            return SceneSpec.from_json(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ToolError(f"the scene sidecar of image {iid[:12]} is unreadable: {err}", field="image") from err

    def apply(self, image: Image.Image, params: dict[str, Any], region: Region | None, ctx: Any) -> Image.Image:
        """Apply ``params["changes"]`` to the input's scene, render it, store the output and its sidecar."""
        if region is not None and (region.kind != "full" or region.invert):
            raise ToolError(
                f"the scene tool edits the scene description as a whole and cannot confine a change to "
                f"{region.describe()}; use a pixel tool for regional edits, or pass the full region",
                field="region",
            )
        unknown = set(params or {}) - {"changes"}
        if unknown:
            raise ToolError(f"scene tool: unknown parameters {sorted(unknown)}; expected only 'changes'",
                            field="params")
        changes = resolve_changes((params or {}).get("changes"))
        spec = edit(self.read_spec(image, ctx), changes)
        out = render(spec)
        out_id = ctx.images.put(out)
        ctx.images.put_sidecar(out_id, SIDE_CAR_SUFFIX, (spec.to_json() + "\n").encode("utf-8"))
        return out
