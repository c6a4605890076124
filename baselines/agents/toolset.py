"""The tool library an orchestrator is shown, and the check that a choice from it can run.

Tools are named (``tools=[...]`` on the agent; by default the classical library of
:mod:`baselines.tools.classical`) and built through the registry via ``ctx.tools`` (so a
diffusers editor loads its pipeline once per process, on first use, not here). Per-tool
constructor options come from ``tool_args={name: {...}}``. Parameters are checked before a tool
runs: with the tool's own ``validate`` when it has one (the classical tools do, naming the field),
otherwise against its ``params_schema`` by :func:`check_schema` (the subset of JSON Schema the
tools use). An invalid choice never reaches ``ctx.apply_tool``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench import registry
from bench.context import EditContext
from bench.errors import RegistryError, ToolError, UsageError

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "integer": (int,),
                                       "boolean": (bool,), "object": (dict,), "array": (list, tuple),
                                       "null": (type(None),)}


def _type_ok(value: Any, types: Any) -> bool:
    names = types if isinstance(types, list) else [types]
    for t in names:
        py = _TYPES.get(t)
        if py is None:
            return True  # a type this checker does not know: not its business
        if isinstance(value, bool) and t in ("number", "integer"):
            continue
        if isinstance(value, py):
            return True
    return False


def check_schema(schema: Mapping[str, Any], value: Any, where: str = "params") -> None:
    """Raise ``ValueError`` naming the field when ``value`` breaks ``schema`` (type, enum, bounds,
    required, unknown properties when ``additionalProperties`` is false, nested objects/arrays)."""
    if "type" in schema and not _type_ok(value, schema["type"]):
        raise ValueError(f"{where} must be of type {schema['type']}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError(f"{where} must be one of {schema['enum']}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise ValueError(f"{where} must be >= {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ValueError(f"{where} must be <= {schema['maximum']}, got {value}")
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                raise ValueError(f"{where}.{key} is required")
        for key, v in value.items():
            if key in props:
                check_schema(props[key], v, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                raise ValueError(f"{where}: unknown parameter {key!r}; expected some of {sorted(props)}")
        if "minProperties" in schema and len(value) < int(schema["minProperties"]):
            raise ValueError(f"{where} needs at least {schema['minProperties']} entries")
    if isinstance(value, (list, tuple)) and isinstance(schema.get("items"), Mapping):
        for i, v in enumerate(value):
            check_schema(schema["items"], v, f"{where}[{i}]")


def default_tools() -> tuple[str, ...]:
    """The classical library's tool names, in catalogue order."""
    from baselines.tools.classical import TOOLS

    return tuple(TOOLS)


class ToolSet:
    """Named tools with their constructor options: the catalogue, versions and feasibility checks."""

    def __init__(self, names: Sequence[str] | None, tool_args: Mapping[str, Mapping[str, Any]] | None, owner: str
                 ) -> None:
        self.names: tuple[str, ...] = tuple(names) if names else default_tools()
        if not self.names:
            raise UsageError(f"{owner}: the tool library is empty")
        if len(set(self.names)) != len(self.names):
            raise UsageError(f"{owner}: tools lists a name twice: {list(self.names)}")
        self.tool_args: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (tool_args or {}).items()}
        unknown = set(self.tool_args) - set(self.names)
        if unknown:
            raise UsageError(f"{owner}: tool_args names tools not in the library: {sorted(unknown)}")
        self.owner = owner

    def versions(self) -> dict[str, str]:
        """Each tool's registered version (class attribute: nothing is built or loaded)."""
        out = {}
        for n in self.names:
            try:
                factory = registry.get("tools", n)
            except RegistryError as err:
                raise UsageError(f"{self.owner}: {err}") from err
            out[n] = str(getattr(factory, "version", "1"))
        return out

    def args(self, name: str) -> dict[str, Any]:
        return dict(self.tool_args.get(name, {}))

    def tool(self, name: str, ctx: EditContext) -> Any:
        return ctx.tools.get(name, **self.args(name))

    def catalog(self, ctx: EditContext) -> list[dict[str, Any]]:
        """What the orchestrator is shown: name, description and parameter schema of each tool."""
        out = []
        for n in self.names:
            t = self.tool(n, ctx)
            out.append({"name": n, "description": str(getattr(t, "description", "")),
                        "params_schema": dict(getattr(t, "params_schema", {}) or {})})
        return out

    def check(self, name: Any, params: Any, ctx: EditContext) -> dict[str, Any]:
        """``params`` when ``name`` is in the library and accepts them; ``ValueError`` saying why not."""
        if not isinstance(name, str) or name not in self.names:
            raise ValueError(f"unknown tool {name!r}; the library has {', '.join(self.names)}")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(f"params of {name} must be an object, got {type(params).__name__}")
        tool = self.tool(name, ctx)
        validate = getattr(tool, "validate", None)
        try:
            if callable(validate):
                validate(params)
            else:
                check_schema(getattr(tool, "params_schema", {}) or {}, params)
        except ToolError as err:
            raise ValueError(err.message) from None
        return dict(params)
