"""The protocols of the five plug-in points, and the small records they exchange.

A plug-in is any object with these attributes; subclassing :class:`Component` is a convenience
that gives it ``config()`` (what its id is computed from) for free.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from PIL import Image

from bench.model import Judgement, Region, Sample, ScoreSpec, Suite, Trajectory

if TYPE_CHECKING:
    from bench.context import EditContext, ToolContext

TRACKS: tuple[str, ...] = ("edit-only", "rewrite-then-edit", "rule-pipeline", "planner+tools")


class Component:
    """Base for built-in components: ``config()`` returns every constructor argument with defaults.

    The id of a component is computed from ``config()``, so ``edit-only`` and
    ``edit-only:strength=1.0`` (the default) are one and the same system.
    """

    name: str = ""
    version: str = "1"

    def config(self) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        out: dict[str, Any] = {}
        for pname in list(sig.parameters)[1:]:
            if hasattr(self, pname):
                out[pname] = getattr(self, pname)
            elif hasattr(self, "_" + pname):
                out[pname] = getattr(self, "_" + pname)
        return out

    def identity_extra(self) -> dict[str, Any]:
        """Identity parts beyond name, config and version (prompt hashes, file hashes)."""
        return {}


@dataclass(frozen=True)
class SystemInfo:
    """What a system declares about itself: its track, and what it uses (disclosed on the leaderboard)."""

    track: str
    description: str = ""
    trained: bool = False
    reward_judge: str | None = None
    oracle: bool = False
    models: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "track": self.track,
            "description": self.description,
            "trained": self.trained,
            "reward_judge": self.reward_judge,
            "oracle": self.oracle,
            "models": list(self.models),
            "tools": list(self.tools),
        }


@runtime_checkable
class EditingSystem(Protocol):
    name: str
    version: str

    def info(self) -> SystemInfo: ...

    def edit(self, sample: Sample, image: Image.Image, ctx: EditContext) -> Trajectory:
        """Edit ``image`` toward ``sample.goal``; ``sample`` has no ``truth``/``reference`` unless oracle."""
        ...


@runtime_checkable
class Tool(Protocol):
    name: str
    version: str
    description: str
    params_schema: dict[str, Any]

    def apply(self, image: Image.Image, params: dict[str, Any], region: Region | None, ctx: ToolContext) -> Image.Image: ...


@dataclass(frozen=True)
class JudgeItem:
    """What a judge sees for one result: the whole sample (truth included), both images, the trajectory.

    ``final`` is ``None`` only for set-scope judges' placeholders; the runner never asks a judge to
    score a failed trajectory (it records that as unscored itself).
    """

    suite: str
    sample: Sample
    source: Image.Image
    final: Image.Image
    trajectory: Trajectory
    load_image: Any = None  # callable(image id) -> PIL image, for intermediate images and masks
    other: JudgeItem | None = None  # the competitor, for pairwise judges
    put_raw: Any = None  # callable(text) -> raw id: where a model judge keeps its raw replies
    get_sidecar: Any = None  # callable(image id, suffix) -> bytes | None: generator sidecars (scene specs)
    load_png: Any = None  # callable(image id) -> the stored PNG bytes: model judges send them as they are


@runtime_checkable
class Judge(Protocol):
    name: str
    version: str
    scope: Literal["sample", "pairwise", "set"]

    def score_specs(self) -> list[ScoreSpec]: ...

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order. ``judge_id`` may be left empty: the runner fills it."""
        ...


@runtime_checkable
class SuiteBuilder(Protocol):
    """A registered suite: called with its options, returns a loaded :class:`~bench.model.Suite`."""

    def __call__(self, **options: Any) -> Suite: ...


@dataclass(frozen=True)
class JudgeInfo:
    description: str = ""
    kind: str = "metric"  # metric | heuristic | exact | vlm
    models: tuple[str, ...] = field(default_factory=tuple)
