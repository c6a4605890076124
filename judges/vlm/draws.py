"""The records the engine passes around, and the pure functions that turn replies into a judgement.

Kept apart from :mod:`judges.vlm.base` so the engine's control flow reads on one screen, and so
these pieces (telemetry, rationale, script loading, score specs) can be tested without a backend.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.backends.base import ChatResponse
from bench.backends.prices import PRICE_TABLE_VERSION
from bench.errors import UsageError
from bench.model import ScoreSpec, Telemetry

from .rubric import CriterionDef, RenderedPrompt, Rubric


@dataclass(frozen=True)
class Ask:
    """One question about an item: ``key`` names it within the item (``main``, ``sc``, ``ab``)."""

    key: str
    rubric: Rubric
    prompt: RenderedPrompt


@dataclass
class Draw:
    """One read reply: a value per criterion (expected or sampled) and what could not be read."""

    values: dict[str, float]
    sampled: dict[str, float]
    labels: dict[str, str]
    reasoning: dict[str, str]
    overall_reasoning: str | None
    missing: dict[str, str]
    expected_notes: dict[str, str] = field(default_factory=dict)


@dataclass
class DrawScores:
    """The scores one draw gives, and why any declared score is absent."""

    scores: dict[str, float] = field(default_factory=dict)
    na: dict[str, str] = field(default_factory=dict)
    note: str | None = None  # why no request was needed (recorded as the rationale)


@dataclass
class Outcome:
    """What became of one draw of one ask: every response (the repair's too), and the read draw
    or the failure status and message."""

    responses: list[ChatResponse] = field(default_factory=list)
    draw: Draw | None = None
    status: str = "ok"
    error: str | None = None


def mean(xs: Sequence[float]) -> float:
    """The arithmetic mean of a non-empty sequence."""
    return sum(xs) / len(xs)


def telemetry_of(responses: list[ChatResponse]) -> Telemetry:
    """Cost of an item: logical calls, HTTP requests (retries included), cache hits, the tokens and
    dollars of the replies actually paid for (a cache hit costs nothing), the price table's version."""
    fresh = [r for r in responses if not r.cached]
    return Telemetry(
        calls=len(responses),
        requests=sum(r.attempts for r in responses),
        cached_requests=sum(1 for r in responses if r.cached),
        tokens_in=sum(r.usage.tokens_in for r in fresh),
        tokens_out=sum(r.usage.tokens_out for r in fresh),
        dollars=sum(r.dollars or 0.0 for r in responses),
        price_table=PRICE_TABLE_VERSION,
    )


def rationale_of(
    samples: int,
    asks: list[Ask],
    per_draw: list[dict[str, Draw]],
    draw_scores: list[DrawScores],
    names: list[str],
) -> dict[str, Any]:
    def about(ask: Ask, d: Draw) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if d.overall_reasoning:
            out["reasoning"] = d.overall_reasoning
        if d.reasoning:
            out["criteria"] = dict(d.reasoning)
        if d.missing:
            out["missing"] = dict(d.missing)
        if d.expected_notes:
            out["expected"] = dict(d.expected_notes)
        return out

    first = per_draw[0]
    if len(asks) == 1:
        rationale = about(asks[0], first[asks[0].key])
    else:
        rationale = {"asks": {a.key: about(a, first[a.key]) for a in asks}}
    if samples > 1:
        rationale["draws"] = f"reasoning of draw 1 of {samples}; every reply is in raw"
        spread = {}
        for n in names:
            xs = [ds.scores[n] for ds in draw_scores if n in ds.scores]
            m = mean(xs)
            spread[n] = math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))
            if len(xs) < len(draw_scores):
                rationale.setdefault("partial", {})[n] = f"in {len(xs)} of {len(draw_scores)} draws"
        rationale["spread"] = spread  # population standard deviation over draws
    return rationale


def load_script(script: Any) -> list[str]:
    """Replies for ``backend=scripted``: a list as given, or a file (``.jsonl``: one JSON value a
    line, strings kept, objects re-serialised; otherwise one reply a line)."""
    if isinstance(script, (list, tuple)):
        return [s if isinstance(s, str) else json.dumps(s) for s in script]
    if isinstance(script, str):
        p = Path(script).expanduser()
        if not p.exists():
            raise UsageError(f"script file {script!r} does not exist")
        lines = [ln for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if p.suffix == ".jsonl":
            vals = [json.loads(ln) for ln in lines]
            return [v if isinstance(v, str) else json.dumps(v) for v in vals]
        return lines
    raise UsageError(f"script must be a list of replies or a file path, not {type(script).__name__}")


def numeric_specs(criteria: Sequence[CriterionDef], description: str = "") -> list[ScoreSpec]:
    """One :class:`ScoreSpec` per numeric criterion, with its scale."""
    return [ScoreSpec(c.id, c.low, c.high, True, "{:.2f}", c.description or description) for c in criteria]
