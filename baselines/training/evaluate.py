"""Scoring trained planners on held-out testbed samples, through the path the ``trained-planner`` system uses.

Each held-out sample's request is rendered with :func:`.records.planner_messages` and answered by
the ``transformers`` backend on the trained planner's (merged) model, greedily and in batches;
each reply is parsed and scored exactly (:func:`.testbed.exact_scores`: the ``scene`` executor and
the ``attributes`` judge's comparison). A reply that is not a usable plan scores 0 and counts as
invalid. This is what ``editbench run --system trained-planner:path=... --judge attributes``
computes, minus the renders (``tests/test_training.py`` checks the equality on the judge side).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from bench.backends.base import ChatRequest, parse_json_reply

from .records import PlannerInput, planner_messages

log = logging.getLogger(__name__)


def plan_replies(folder: str | os.PathLike, inputs: Sequence[PlannerInput], *, max_tokens: int = 256,
                 max_batch: int = 32, device: str = "cpu") -> list[Any]:
    """The trained planner's parsed replies (``None`` when a reply is not JSON) for ``inputs``."""
    from bench.backends.transformers_backend import TransformersBackend, clear_model_cache

    from .pipeline import read_train_json
    from .trained_planner import merged_model

    info = read_train_json(folder)
    prompt = info["prompt"]
    if prompt["modality"] != "text":
        raise ValueError("plan_replies scores text planners; run a vision planner through editbench run")
    model = merged_model(folder, info)
    backend = TransformersBackend(model, device=device, dtype="float32" if device == "cpu" else "auto",
                                  max_batch=max_batch, max_new_tokens=max_tokens)
    reqs = [ChatRequest(messages=planner_messages(inp, description=bool(prompt.get("description", True))),
                        max_tokens=max_tokens, temperature=0.0) for inp in inputs]
    try:
        responses = backend.chat_many(reqs)
    finally:
        clear_model_cache()
    out: list[Any] = []
    for r in responses:
        if r.status != "ok":
            out.append(None)
            continue
        try:
            out.append(parse_json_reply(r.text))
        except ValueError:
            out.append(None)
    return out


def score_planner(folder: str | os.PathLike, testbed: Any, groups: Sequence[str], **kw: Any) -> dict[str, dict[str, float]]:
    """Exact scores of the trained planner in ``folder`` on the testbed samples of ``groups``."""
    from .testbed import planner_input

    cfg = testbed.config
    inputs = [planner_input(testbed.samples[g], bool(cfg.description), bool(cfg.reading), bool(cfg.goal_text))
              for g in groups]
    replies = plan_replies(folder, inputs, **kw)
    return {g: testbed.score(g, reply) for g, reply in zip(groups, replies, strict=True)}
