"""View models: what the templates render, assembled from the run store and nothing else.

Data assembly (``header``, ``table``, ``overview``, ``suitepage``) fills these frozen records;
rendering (``render``) only walks them. Every string here is raw user or run data — the templates escape it on output
(Jinja2 autoescape is on), so nothing in this module may be pre-escaped or marked safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.model import ScoreSpec


@dataclass(frozen=True)
class SystemView:
    """A system as the site names it: its spec string (``edit-only:strength=0.5``) and declared info."""

    id: str
    display: str
    track: str = ""
    description: str = ""
    version: str = ""
    trained: bool = False
    oracle: bool = False
    models: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    reward_judge: str = ""
    color: str = "#2a5bd7"  # the system's colour in every chart and legend (by system order)


@dataclass(frozen=True)
class JudgeView:
    id: str
    display: str
    description: str = ""
    kind: str = ""
    version: str = ""


@dataclass(frozen=True)
class SuiteView:
    ref: str
    name: str
    version: str
    hash: str
    size: int
    description: str = ""
    primary: str | None = None
    anchor: str = ""


@dataclass(frozen=True)
class RunView:
    name: str
    started: str
    ended: str
    seed: str
    git: str
    selection: str
    packages: str


@dataclass(frozen=True)
class Header:
    title: str
    date: str
    runs: tuple[RunView, ...]
    suites: tuple[SuiteView, ...]
    n_systems: int
    n_judges: int
    n_samples: int
    n_trajectories: int


@dataclass(frozen=True)
class Column:
    """One (judge, score) column of a suite table."""

    key: str
    judge: JudgeView
    spec: ScoreSpec
    label: str
    sublabel: str
    better: str  # "high" | "low": the first click sorts best first
    scale: str
    calibration: str = ""  # the judge's agreement with people on this score, when calibrated
    calibration_title: str = ""


@dataclass(frozen=True)
class Bar:
    """A mean and its interval as percentages of the column's shared axis (a small forest plot)."""

    low: float
    high: float
    mean: float


@dataclass(frozen=True)
class Cell:
    mean_text: str
    ci_text: str
    sort_value: str  # the mean as text for the sorter; "" when there is none
    n: int
    unscored: int
    bar: Bar | None = None
    title: str = ""


@dataclass(frozen=True)
class Row:
    system: SystemView
    trajectories: int
    failed: int
    refused: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class SuiteTable:
    suite: SuiteView
    n_samples: int
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class ImageView:
    """An exported image: thumbnail and full-size copy, paths relative to the site root."""

    id: str
    thumb: str
    full: str
    width: int
    height: int
    full_width: int
    full_height: int


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str
    current: bool = False
