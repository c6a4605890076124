"""Turning what a user typed (or wrote in YAML) into live suites and specs.

This is the one place in ``bench`` that reaches an upper package, and only inside functions: a
suite given as a folder path is loaded by ``suites.folder``. Everything else goes by registry name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import registry
from bench.errors import SuiteError, UsageError
from bench.model import Suite
from bench.spec import ComponentSpec, parse_spec, spec_from_obj


def load_suite_spec(text_or_obj: Any) -> Suite:
    """A suite from ``NAME[:k=v,...]`` (registered) or a folder path."""
    if isinstance(text_or_obj, str) and (os.path.isdir(text_or_obj) or os.sep in text_or_obj or text_or_obj.startswith(".")):
        if not os.path.isdir(text_or_obj):
            raise SuiteError("suite folder does not exist", file=text_or_obj)
        from suites.folder import load_suite  # upper package, reached only here and lazily

        return load_suite(text_or_obj)
    spec = spec_from_obj(text_or_obj)
    if spec.name.endswith((".yaml", ".yml", ".jsonl")) or os.path.isdir(spec.name):
        return load_suite_spec(os.path.dirname(spec.name) or ".")
    builder = registry.get("suites", spec.name)
    suite = builder(**dict(spec.args))
    if not isinstance(suite, Suite):
        raise UsageError(f"suite {spec.name!r} builder returned {type(suite).__name__}, not a Suite")
    return suite


@dataclass
class RunConfig:
    """A run, fully described: the same keys on the command line, in YAML and in Python."""

    suites: list[Any] = field(default_factory=list)
    systems: list[ComponentSpec] = field(default_factory=list)
    judges: list[ComponentSpec] = field(default_factory=list)
    seed: int = 0
    limit: int | None = None
    samples: list[str] = field(default_factory=list)
    shard: tuple[int, int] | None = None
    workers: int | None = None
    executor: str = "process"
    runs_dir: str = "runs"
    name: str | None = None
    leaderboard: bool = True
    max_tool_calls: int | None = 32
    max_seconds: float | None = None
    device: str = "cpu"


CONFIG_KEYS = {f for f in RunConfig.__dataclass_fields__}


def parse_shard(text: Any) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise UsageError(f"--shard must be i/n, got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise UsageError(f"--shard {text!r}: need 0 <= i < n")
    return (i, n)


def load_config(path: str | Path) -> RunConfig:
    """Read a run YAML file; unknown keys are an error naming the file and the key."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except OSError as err:
        raise UsageError(f"cannot read config: {err.strerror}", file=str(p)) from None
    except yaml.YAMLError as err:
        raise UsageError(f"config is not valid YAML: {err}", file=str(p)) from None
    if not isinstance(data, dict):
        raise UsageError("config must be a mapping", file=str(p))
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(CONFIG_KEYS), n=1)
        raise UsageError(f"unknown key{'; did you mean ' + repr(close[0]) + '?' if close else ''} Keys: {', '.join(sorted(CONFIG_KEYS))}",
                         file=str(p), field=unknown[0])
    cfg = RunConfig()
    for key, val in data.items():
        if key in ("systems", "judges"):
            val = [spec_from_obj(v, where=f"{p}:{key}") for v in (val or [])]
        elif key == "suites":
            val = list(val or [])
        elif key == "shard":
            val = parse_shard(val)
        elif key == "samples":
            val = [str(v) for v in (val or [])]
        setattr(cfg, key, val)
    return cfg


def specs(texts: Any) -> list[ComponentSpec]:
    return [parse_spec(t) for t in texts]
