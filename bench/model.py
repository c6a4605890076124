"""The data model: what flows from suites to systems to judges to the store.

Field names here are a contract with every stored run; change one only with a migration. Every
record written to a JSONL file carries ``v`` (``SCHEMA_VERSION``). ``Telemetry`` (timings, token
counts) is excluded from equality, because an interrupted and an uninterrupted run must produce the
same results even though they took different times.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.serde import from_jsonable, to_jsonable

SCHEMA_VERSION = 1

CriterionKind = Literal["goal", "preserve", "quality"]
TrajectoryStatus = Literal["ok", "failed", "refused"]
JudgementStatus = Literal["ok", "unscored", "refused", "error"]
Verdict = Literal["pass", "partial", "fail", "undecidable"]
VERDICTS: tuple[str, ...] = ("pass", "partial", "fail", "undecidable")

# The structured context keys of paper B's ten visual dimensions (Appendix C.1 names them Location,
# Architecture, Time Period, ...). Suites may add more keys.
CONTEXT_DIMENSIONS: tuple[str, ...] = (
    "location",
    "architecture",
    "time_period",
    "time_of_day",
    "season",
    "weather",
    "mood_lighting",
    "color_grading",
    "artistic_medium",
    "atmospheric_effects",
)

# The action (tool) that edits each dimension, named as paper B's action library names them (§2,
# C.2): context says *what is*, the action says *what changes it*.
DIMENSION_ACTIONS: dict[str, str] = {
    "location": "location_setting",
    "architecture": "architecture_style",
    "time_period": "time_period",
    "time_of_day": "time_of_day",
    "season": "season",
    "weather": "weather",
    "mood_lighting": "mood_lighting",
    "color_grading": "color_grading",
    "artistic_medium": "artistic_medium",
    "atmospheric_effects": "atmospheric_effects",
}


class Record:
    """Mixin: JSON conversion shared by every record type."""

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, strict: bool = False, where: str = ""):
        return from_jsonable(cls, data, strict=strict, where=where)

    def replace(self, **changes: Any):
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Telemetry(Record):
    """Cost of producing a record. Never part of identity or equality."""

    calls: int = 0
    requests: int = 0
    cached_requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    dollars: float = 0.0
    price_table: str | None = None

    def __add__(self, other: Telemetry) -> Telemetry:
        return Telemetry(
            calls=self.calls + other.calls,
            requests=self.requests + other.requests,
            cached_requests=self.cached_requests + other.cached_requests,
            tokens_in=self.tokens_in + other.tokens_in,
            tokens_out=self.tokens_out + other.tokens_out,
            seconds=self.seconds + other.seconds,
            dollars=self.dollars + other.dollars,
            price_table=self.price_table or other.price_table,
        )


@dataclass(frozen=True)
class Criterion(Record):
    """One checklist item a good result must meet (paper A's checklist)."""

    id: str
    text: str
    kind: CriterionKind = "goal"
    weight: float = 1.0


@dataclass(frozen=True)
class ImageRef(Record):
    """An image by content id, with where to find it (relative to a suite folder or a store)."""

    id: str
    path: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Sample(Record):
    """One editing task: a source image, a goal in a user's words, and what a good result meets.

    ``reference`` (a dataset's own plan or instruction) and ``truth`` (what a generator knows) are
    for judges; systems get :meth:`for_system`, which removes them unless the system is an oracle.
    """

    id: str
    image: ImageRef
    goal: str
    checklist: tuple[Criterion, ...] = ()
    context: dict[str, str] = field(default_factory=dict)
    preserve: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    reference: Any = None
    truth: Any = None

    def for_system(self, oracle: bool = False) -> Sample:
        return self if oracle else dataclasses.replace(self, reference=None, truth=None)


@dataclass(frozen=True)
class SuiteInfo(Record):
    """A suite's identity as recorded in ``run.json``: name, version and content hash."""

    name: str
    version: str
    description: str = ""
    primary: str | None = None
    hash: str = ""
    size: int = 0
    root: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Region(Record):
    """Where an operation applies. ``kind`` decides which other fields matter.

    - ``full``: the whole image;
    - ``named``: ``name`` in :data:`bench.regions.NAMED_REGIONS`;
    - ``box``: ``box = (x0, y0, x1, y1)`` in relative coordinates (0..1);
    - ``mask``: ``mask`` is the image id of a stored mask (white = inside);
    - ``phrase``: ``phrase`` still to be grounded into one of the others.
    ``invert`` takes the complement; ``feather`` softens the edge (relative to the short side).
    """

    kind: Literal["full", "named", "box", "mask", "phrase"] = "full"
    name: str | None = None
    box: tuple[float, float, float, float] | None = None
    mask: str | None = None
    phrase: str | None = None
    invert: bool = False
    feather: float = 0.0

    def describe(self) -> str:
        base = {
            "full": "whole image",
            "named": self.name or "?",
            "box": "box " + ",".join(f"{v:.2f}" for v in (self.box or ())),
            "mask": f"mask {str(self.mask)[:10]}",
            "phrase": f"'{self.phrase}'",
        }[self.kind]
        return f"not {base}" if self.invert else base


FULL = Region()


@dataclass(frozen=True)
class Subtask(Record):
    """An atomic step of a plan: the planner's intent and the orchestrator's choice."""

    id: str
    text: str
    reasoning: str | None = None
    action: str | None = None
    action_params: dict[str, Any] = field(default_factory=dict)
    tool: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    region: Region | None = None


@dataclass(frozen=True)
class Plan(Record):
    checklist: tuple[Criterion, ...] = ()
    context: dict[str, str] = field(default_factory=dict)
    subtasks: tuple[Subtask, ...] = ()
    instruction: str | None = None
    reasoning: str | None = None
    raw: str | None = None


@dataclass(frozen=True)
class Step(Record):
    """One executed tool call, with its input and output images (ids in the image store)."""

    tool: str
    input: str
    output: str | None = None
    subtask: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    region: Region | None = None
    region_query: str | None = None
    instruction: str | None = None
    error: str | None = None
    cached: bool = field(default=False, compare=False)
    telemetry: Telemetry = field(default_factory=Telemetry, compare=False)


@dataclass(frozen=True)
class Trajectory(Record):
    """What a system did on one sample: its plan, its steps, its final image."""

    suite: str
    sample_id: str
    system_id: str
    plan: Plan | None = None
    steps: tuple[Step, ...] = ()
    final: str | None = None
    status: TrajectoryStatus = "ok"
    error: str | None = None
    telemetry: Telemetry = field(default_factory=Telemetry, compare=False)
    v: int = SCHEMA_VERSION

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.suite, self.sample_id, self.system_id)


@dataclass(frozen=True)
class Judgement(Record):
    """A judge's verdict on one result (or a pair, or a set). Failures are statuses, never zeros.

    A score that does not apply is absent from ``scores`` and explained in ``na``; a judge that
    could not produce a score records ``status='unscored'`` and keeps its raw replies in ``raw``.
    """

    suite: str
    sample_id: str
    system_id: str
    judge_id: str
    scores: dict[str, float] = field(default_factory=dict)
    na: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    draws: dict[str, list[float]] = field(default_factory=dict)
    rationale: Any = None
    raw: tuple[str, ...] = ()
    versus: str | None = None
    scope: Literal["sample", "set"] = "sample"
    model_resolved: str | None = None
    endpoint_host: str | None = None
    status: JudgementStatus = "ok"
    error: str | None = None
    telemetry: Telemetry = field(default_factory=Telemetry, compare=False)
    v: int = SCHEMA_VERSION

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.suite, self.sample_id, self.system_id, self.versus or "", self.judge_id)

    def same_result(self, other: Judgement) -> bool:
        """Equality that treats NaN scores as equal (dataclass ``==`` would not)."""
        if self.replace(scores={}, draws={}) != other.replace(scores={}, draws={}):
            return False
        return _nan_equal(self.scores, other.scores) and _nan_equal(self.draws, other.draws)


def _nan_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_nan_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_nan_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@dataclass(frozen=True)
class ScoreSpec(Record):
    """How to read a score without the judge's code: its scale, direction and display format."""

    name: str
    min: float | None = None
    max: float | None = None
    higher_is_better: bool = True
    display: str = "{:.3f}"
    description: str = ""


@dataclass(frozen=True)
class ComponentRecord(Record):
    """A component as recorded in ``run.json``: enough to rebuild it through the registry."""

    kind: str
    name: str
    args: dict[str, Any]
    id: str
    version: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    """A loaded suite: its identity, its samples (in file order) and the folder its images live in."""

    info: SuiteInfo
    samples: tuple[Sample, ...]
    root: str

    @property
    def ref(self) -> str:
        return self.info.ref

    def sample(self, sample_id: str) -> Sample:
        for s in self.samples:
            if s.id == sample_id:
                return s
        raise KeyError(sample_id)

    def image_path(self, sample: Sample) -> str:
        import os

        return os.path.join(self.root, sample.image.path or "")

    def image(self, sample: Sample):
        """The sample's source image, normalised to RGB."""
        from bench.images import load_image

        return load_image(self.image_path(sample))
