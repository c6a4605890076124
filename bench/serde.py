"""Typed JSON conversion for the frozen dataclasses of the data model.

One generic converter, driven by type hints, so that every record type round-trips the same way:
tuples become lists and back, nested records are rebuilt, a ``float`` written as ``null`` (the
store's NaN) is read back as ``NaN``. Keeping this in one place is what makes "JSON round-trip
without loss" a property of the model rather than of each class.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import cache
from typing import Any, Union

_NONE = type(None)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def to_jsonable(obj: Any) -> Any:
    """Records to plain dicts/lists; NaN is left for :func:`bench.jsonio.dumps_line` to null out."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            if f.metadata.get("transient"):
                continue
            out[f.name] = to_jsonable(getattr(obj, f.name))
        return out
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return obj


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None:
            if _NONE in args:
                return None
            if float in args:
                return math.nan
        non_none = [a for a in args if a is not _NONE]
        last_err: Exception | None = None
        for a in non_none:
            try:
                return _convert(a, value, where)
            except (TypeError, ValueError) as err:
                last_err = err
        raise TypeError(f"{where}: {value!r} matches none of {tp}") from last_err
    if tp is float:
        if value is None:
            return math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"{where}: expected a string, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{where}: expected true or false, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise TypeError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where}: expected a list, got {value!r}")
        return [_convert(args[0] if args else Any, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected an object, got {value!r}")
        vt = args[1] if len(args) == 2 else Any
        return {str(k): _convert(vt, v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_jsonable(tp, value, where=where)
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    return value


def from_jsonable(cls: type, data: Any, *, where: str = "", strict: bool = False) -> Any:
    """Rebuild a record of type ``cls`` from plain JSON data.

    Missing fields take their defaults (old stores stay readable); unknown fields are an error only
    when ``strict`` (suite files), and ignored otherwise (a newer writer's extra fields).
    """
    if not isinstance(data, dict):
        raise TypeError(f"{where or cls.__name__}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    if strict:
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{where or cls.__name__}: unknown field {unknown[0]!r}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}" if where else f.name)
    return cls(**kwargs)
