"""What a system gets to work with: tools, the image store, a seeded RNG, a budget, a logger.

Systems never construct tools or write images themselves; they go through :class:`EditContext`, which
records every call as a :class:`~bench.model.Step` (input and output image ids, params, region,
time) and enforces the per-sample budget. That is how every trajectory ends up complete.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from bench import registry
from bench.errors import EditSystemError, ToolError
from bench.ids import component_id, derive_seed
from bench.images import ImageStore
from bench.model import Plan, Region, Step, Telemetry, Trajectory
from bench.regions import region_mask
from bench.spec import ComponentSpec


class BudgetExceeded(EditSystemError):
    """A system went over its per-sample limit on tool calls, tokens or seconds."""


@dataclass
class Budget:
    """Per-sample limits; ``None`` means unlimited."""

    max_tool_calls: int | None = 32
    max_tokens: int | None = None
    max_seconds: float | None = None
    tool_calls: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)

    def charge(self, *, tool_calls: int = 0, tokens: int = 0) -> None:
        self.tool_calls += tool_calls
        self.tokens += tokens
        if self.max_tool_calls is not None and self.tool_calls > self.max_tool_calls:
            raise BudgetExceeded(f"tool-call budget of {self.max_tool_calls} exceeded")
        if self.max_tokens is not None and self.tokens > self.max_tokens:
            raise BudgetExceeded(f"token budget of {self.max_tokens} exceeded")
        if self.max_seconds is not None and time.monotonic() - self.started > self.max_seconds:
            raise BudgetExceeded(f"time budget of {self.max_seconds}s exceeded")


@dataclass
class ToolContext:
    """What a tool may use: the image store (masks, scene sidecars), a seed, a device."""

    images: ImageStore
    seed: int = 0
    device: str = "cpu"
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("editbench.tools"))

    def mask(self, region: Region | None, size: tuple[int, int]) -> np.ndarray:
        return region_mask(region, size, self.images.get)


class ToolBox:
    """Tools built once per process from their specs, by name, with their ids."""

    def __init__(self) -> None:
        self._tools: dict[str, Any] = {}
        self._ids: dict[str, str] = {}

    def get(self, name: str, **args: Any) -> Any:
        spec = ComponentSpec(name, args)
        key = str(spec)
        if key not in self._tools:
            tool = registry.build("tools", spec)
            cfg = tool.config() if hasattr(tool, "config") else dict(args)
            extra = tool.identity_extra() if hasattr(tool, "identity_extra") else {}
            self._tools[key] = tool
            self._ids[key] = component_id(name, cfg, getattr(tool, "version", "1"), extra=extra)
        return self._tools[key]

    def id_of(self, name: str, **args: Any) -> str:
        self.get(name, **args)
        return self._ids[str(ComponentSpec(name, args))]


@dataclass
class EditContext:
    """Handed to ``EditingSystem.edit``. One per (sample, system) task."""

    images: ImageStore
    seed: int
    tools: ToolBox
    budget: Budget = field(default_factory=Budget)
    device: str = "cpu"
    backends: dict[str, Any] = field(default_factory=dict)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("editbench.systems"))
    steps: list[Step] = field(default_factory=list)
    suite: str = ""
    sample_id: str = ""
    system_id: str = ""

    @property
    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def put(self, image: Image.Image) -> str:
        return self.images.put(image)

    def apply_tool(
        self,
        tool: str,
        image: Image.Image,
        params: dict[str, Any] | None = None,
        region: Region | None = None,
        *,
        subtask: str | None = None,
        region_query: str | None = None,
        instruction: str | None = None,
        tool_args: dict[str, Any] | None = None,
    ) -> tuple[Image.Image, Step]:
        """Run one tool, store input and output, record and return the step.

        A tool error is recorded on the step and re-raised as :class:`ToolError` for the system to
        decide (skip the step, or fail the sample); the step is kept either way.
        """
        params = dict(params or {})
        self.budget.charge(tool_calls=1)
        tool_obj = self.tools.get(tool, **(tool_args or {}))
        tool_id = self.tools.id_of(tool, **(tool_args or {}))
        in_id = self.images.put(image)
        tctx = ToolContext(images=self.images, seed=derive_seed(self.seed, tool_id, in_id, len(self.steps)), device=self.device)
        t0 = time.perf_counter()
        try:
            out = tool_obj.apply(image, params, region, tctx)
        except Exception as err:
            step = Step(
                tool=tool, input=in_id, output=None, subtask=subtask, params=params, region=region,
                region_query=region_query, instruction=instruction, error=f"{type(err).__name__}: {err}",
                telemetry=Telemetry(calls=1, seconds=time.perf_counter() - t0),
            )
            self.steps.append(step)
            if isinstance(err, ToolError):
                raise
            raise ToolError(f"tool {tool!r} failed: {err}") from err
        out_id = self.images.put(out)
        step = Step(
            tool=tool, input=in_id, output=out_id, subtask=subtask, params=params, region=region,
            region_query=region_query, instruction=instruction,
            telemetry=Telemetry(calls=1, seconds=time.perf_counter() - t0),
        )
        self.steps.append(step)
        return out, step


    def trajectory(
        self,
        final: Image.Image | None,
        *,
        plan: Plan | None = None,
        status: str = "ok",
        error: str | None = None,
        telemetry: Telemetry | None = None,
    ) -> Trajectory:
        """The trajectory of this task: every recorded step, the final image stored by id.

        Systems end ``edit`` with ``return ctx.trajectory(final, plan=plan)``.
        """
        final_id = self.images.put(final) if final is not None else None
        tele = telemetry or Telemetry()
        for s in self.steps:
            tele = tele + s.telemetry
        return Trajectory(
            suite=self.suite, sample_id=self.sample_id, system_id=self.system_id, plan=plan,
            steps=tuple(self.steps), final=final_id, status=status, error=error, telemetry=tele,
        )
