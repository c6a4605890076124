"""The approximations fragment, kept here for old callers: the rendering lives in the leaderboard.

``approximations.json`` (written by :func:`baselines.explore.approximations.write`) is read and
rendered by :mod:`leaderboard.approximations`, which the site's approximations page and
``editbench approximations --html`` use, so the fragment and the page cannot disagree. Upper
packages import only ``bench`` at module level, so these wrappers reach the leaderboard lazily,
inside each call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["load", "render_fragment", "write_fragment"]


def load(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The run's approximations report, or ``None`` when it has none (``leaderboard.approximations.load``)."""
    from leaderboard.approximations import load as _load

    return _load(run_dir)


def render_fragment(report: Mapping[str, Any]) -> str:
    """One self-contained ``<section>`` showing ``report`` (``leaderboard.approximations.render_fragment``)."""
    from leaderboard.approximations import render_fragment as _render

    return _render(report)


def write_fragment(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path | None:
    """Write ``approximations.html`` beside the report, or to ``out``; ``None`` without a report."""
    from leaderboard.approximations import write_fragment as _write

    return _write(run_dir, out)
