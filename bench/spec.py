"""Component specs: ``NAME:key=value,key=value`` on the command line, the same keys in YAML.

The name ends at the first ``:``; values are YAML-typed (``steps=20`` is an int, ``fast=true`` a
bool) and may be quoted, so ``base_url='http://host:8000/v1'`` keeps its colons and
``tags=[a, b]`` its comma. A spec is frozen and hashable: it is what a run records and what a
worker rebuilds a component from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bench.errors import UsageError
from bench.jsonio import canonical_json


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.name, canonical_json(dict(self.args))))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ComponentSpec)
            and self.name == other.name
            and canonical_json(dict(self.args)) == canonical_json(dict(other.args))
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "args": dict(self.args)}

    def __str__(self) -> str:
        if not self.args:
            return self.name
        parts = [f"{k}={_format_value(v)}" for k, v in sorted(self.args.items())]
        return f"{self.name}:{','.join(parts)}"


def _format_value(v: Any) -> str:
    """The inverse of :func:`parse_value` for one option: bare where YAML reads it back, quoted otherwise."""
    import json

    if isinstance(v, str):
        bare_ok = v and not any(c in v for c in ",=[]{}()'\"") and v.strip() == v
        if bare_ok:
            try:
                bare_ok = yaml.safe_load(v) == v
            except yaml.YAMLError:
                bare_ok = False
        return v if bare_ok else json.dumps(v)
    return json.dumps(v, separators=(", ", ": ")) if isinstance(v, (list, dict)) else yaml.safe_dump(v).split("\n")[0]


def _split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quotes and brackets."""
    parts, buf, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    if quote:
        raise UsageError(f"unclosed quote in {text!r}")
    parts.append("".join(buf))
    return parts


def parse_value(raw: str, where: str = "") -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise UsageError(f"cannot parse value {raw!r}{' of ' + where if where else ''}: {err}") from None


def parse_spec(text: str) -> ComponentSpec:
    """Parse ``NAME`` or ``NAME:key=value,...`` into a :class:`ComponentSpec`."""
    text = text.strip()
    if not text:
        raise UsageError("empty component name")
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise UsageError(f"missing component name in {text!r}")
    args: dict[str, Any] = {}
    if rest.strip():
        for item in _split_top_level(rest, ","):
            if not item.strip():
                continue
            key, eq, raw = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise UsageError(f"option {item.strip()!r} of {name!r} is not key=value")
            if key in args:
                raise UsageError(f"option {key!r} given twice for {name!r}")
            args[key] = parse_value(raw.strip(), f"{name}:{key}")
    return ComponentSpec(name, args)


def spec_from_obj(obj: Any, where: str = "") -> ComponentSpec:
    """A spec from YAML: ``"name:k=v"``, ``{name: x, args: {...}}``, ``{name: x, k: v}`` or ``{x: {...}}``."""
    if isinstance(obj, ComponentSpec):
        return obj
    if isinstance(obj, str):
        return parse_spec(obj)
    if isinstance(obj, Mapping):
        if "name" in obj:
            extra = {k: v for k, v in obj.items() if k not in ("name", "args")}
            args = dict(obj.get("args") or {})
            args.update(extra)
            return ComponentSpec(str(obj["name"]), args)
        if len(obj) == 1:
            (name, args), = obj.items()
            if args is None:
                args = {}
            if not isinstance(args, Mapping):
                raise UsageError(f"options of {name!r} must be a mapping{' in ' + where if where else ''}")
            return ComponentSpec(str(name), dict(args))
    raise UsageError(f"cannot read a component from {obj!r}{' in ' + where if where else ''}")
