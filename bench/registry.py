"""The registry: one table per plug-in point, filled by name, resolved lazily.

Built-ins and third-party plug-ins arrive the same way, as Python entry points in the groups
``editbench.systems``, ``editbench.tools``, ``editbench.judges``, ``editbench.suites`` and
``editbench.backends``; code can also :func:`register` directly (tests, notebooks). Nothing is
imported until it is asked for, so listing names never loads torch.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any

from bench.errors import RegistryError, UsageError
from bench.spec import ComponentSpec

KINDS: tuple[str, ...] = ("systems", "tools", "judges", "suites", "backends")
SINGULAR = {"systems": "system", "tools": "tool", "judges": "judge", "suites": "suite", "backends": "backend"}

_lock = threading.Lock()
_tables: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
_loaded_entry_points: set[str] = set()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise RegistryError(f"unknown plug-in kind {kind!r}; kinds: {', '.join(KINDS)}")


def _load_entry_points(kind: str) -> None:
    if kind in _loaded_entry_points:
        return
    with _lock:
        if kind in _loaded_entry_points:
            return
        for ep in metadata.entry_points(group=f"editbench.{kind}"):
            # Direct registrations win over entry points of the same name (tests, overrides).
            _tables[kind].setdefault(ep.name, ep.value)
        _loaded_entry_points.add(kind)


def register(kind: str, name: str, target: Any) -> None:
    """Register ``target`` (a factory, or a lazy ``"module:attr"`` string) under ``name``."""
    _check_kind(kind)
    _load_entry_points(kind)
    with _lock:
        _tables[kind][name] = target


def unregister(kind: str, name: str) -> None:
    _check_kind(kind)
    with _lock:
        _tables[kind].pop(name, None)


def registered(kind: str, name: str) -> Callable[[Any], Any]:
    """Decorator form of :func:`register`."""

    def deco(obj: Any) -> Any:
        register(kind, name, obj)
        return obj

    return deco


def names(kind: str) -> list[str]:
    _check_kind(kind)
    _load_entry_points(kind)
    return sorted(_tables[kind])


def _resolve_target(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


def get(kind: str, name: str) -> Any:
    """The factory registered as ``name``; a typo gets a "did you mean" error."""
    _check_kind(kind)
    _load_entry_points(kind)
    table = _tables[kind]
    if name not in table:
        known = sorted(table)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = f" Known {kind}: {', '.join(known)}." if known else " (none registered: is editbench installed? pip install -e .)"
        raise RegistryError(f"no {SINGULAR[kind]} named {name!r}{hint}{listing}")
    target = table[name]
    if isinstance(target, str):
        try:
            resolved = _resolve_target(target)
        except Exception as err:  # a broken plug-in must say which one
            raise RegistryError(f"cannot load {SINGULAR[kind]} {name!r} from {target!r}: {err}") from err
        with _lock:
            table[name] = resolved
        target = resolved
    return target


def build(kind: str, spec: ComponentSpec) -> Any:
    """Instantiate a component from its spec; unknown options are a usage error listing valid ones."""
    factory = get(kind, spec.name)
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        accepted = [p for p in sig.parameters if p != "self"]
        for key in spec.args:
            if key not in accepted:
                close = difflib.get_close_matches(key, accepted, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise UsageError(
                    f"{SINGULAR[kind]} {spec.name!r} has no option {key!r}{hint} Options: {', '.join(accepted) or 'none'}."
                )
    try:
        return factory(**dict(spec.args))
    except (TypeError, ValueError) as err:
        raise UsageError(f"cannot build {SINGULAR[kind]} {str(spec)!r}: {err}") from err


def describe(kind: str, name: str) -> str:
    """First paragraph of the factory's docstring: what ``editbench systems`` prints."""
    obj = get(kind, name)
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ")
