"""Pinning: what model actually answered each judgement, and whether that identity is a fixed one.

Every judgement records ``model_resolved`` (what the server says answered) and ``endpoint_host``.
This check reads them for one judge, with the judge's own settings — the model asked for, the
prompt templates' hashes, the sampling parameters — and records one ``pinning`` record:

* ``pinned``: every resolved model names a fixed snapshot (:func:`is_dated`);
* ``undated``: some judgement was answered by an alias (``gpt-4o``, ``claude-3-5-sonnet-latest``,
  a local model at ``@main``) whose meaning can change from month to month: a **warning**;
* ``mixed``: different snapshots or hosts answered judgements of one judge (a re-pointed alias
  mid-run, or two providers behind one name): a **warning**;
* ``unknown``: the judge uses a model but no judgement carried a resolved identity;
* ``n/a``: the judge asks no served model (metrics, the heuristic and exact judges; learned
  metrics, whose weights are pinned by content or revision in the judge's id).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from bench.components import Built
from bench.ids import content_hash
from bench.model import Judgement

log = logging.getLogger(__name__)

# A date in the name: 2024-08-06, 20240806, 2024_08_06 (not inside a longer number).
_FULL_DATE = re.compile(r"(?<!\d)(19|20)\d{2}[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
# OpenAI's older MMDD snapshots at the end of the name: gpt-4-0613, gpt-3.5-turbo-1106.
_MMDD = re.compile(r"-(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
# A pinned revision: name@<commit hash> (local transformers models, Vertex-style @20240620).
_REVISION = re.compile(r"@([0-9a-f]{7,40}|(19|20)\d{6})$", re.IGNORECASE)
_FLOATING = re.compile(r"(latest|preview|current|default|@main|@master)$", re.IGNORECASE)
SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "samples", "expected", "seed")


def is_dated(model: str) -> bool:
    """Whether a resolved model name names a fixed snapshot (a date or a commit), not an alias.

    >>> [is_dated(m) for m in ("gpt-4o-2024-08-06", "gpt-4-0613", "qwen2-vl@3c2e1f0a9b", "gpt-4o", "m-latest")]
    [True, True, True, False, False]
    """
    name = model.strip()
    if not name or _FLOATING.search(name):
        return False
    return bool(_FULL_DATE.search(name) or _MMDD.search(name) or _REVISION.search(name))


def _models(j: Judgement) -> list[str]:
    return [m.strip() for m in (j.model_resolved or "").split(",") if m.strip()]


def judge_settings(b: Built) -> dict[str, Any]:
    """The model asked for, the prompts' hash and the sampling parameters, as the judge reports them."""
    obj = b.obj
    config = obj.config() if hasattr(obj, "config") else dict(b.spec.args)
    extra = obj.identity_extra() if hasattr(obj, "identity_extra") else {}
    templates = extra.get("templates") if isinstance(extra, dict) else None
    info = obj.info() if hasattr(obj, "info") else None
    models = tuple(getattr(info, "models", ()) or ())
    backend = (
        extra.get("backend") if isinstance(extra, dict) and isinstance(extra.get("backend"), dict) else {}
    )
    return {
        "model_requested": config.get("model") or (models[0] if models else None),
        # a judge that asks a served model (a backend); local weights are pinned by the judge's id
        "uses_model": bool(backend) or getattr(info, "kind", "") == "vlm",
        "backend": backend.get("kind") or config.get("backend"),
        "endpoint_host": backend.get("endpoint_host"),
        "prompt_hash": content_hash({"templates": templates, "repair": extra.get("repair")}, 16)
        if templates
        else None,
        "templates": templates,
        "sampling": {k: config[k] for k in SAMPLING_KEYS if k in config},
    }


def check_pinning(b: Built, judgements: Iterable[Judgement]) -> dict[str, Any]:
    """One ``pinning`` record for judge ``b`` from its judgements (see the module docstring)."""
    settings = judge_settings(b)
    mine = [j for j in judgements if j.judge_id == b.id]
    per_model: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    undated_js = 0
    for j in mine:
        ms = _models(j)
        for m in ms:
            per_model[m] += 1
        if j.endpoint_host:
            hosts[j.endpoint_host] += 1
        if ms and not all(is_dated(m) for m in ms):
            undated_js += 1
    with_identity = sum(1 for j in mine if _models(j))
    warnings: list[str] = []
    notes: list[str] = []
    requested = settings["model_requested"]
    if not settings["uses_model"] and not per_model:
        status = "n/a"
    elif not per_model:
        status = "unknown"
        if mine:
            warnings.append(f"no judgement of {len(mine)} carried a resolved model identity")
    else:
        undated = sorted(m for m in per_model if not is_dated(m))
        if undated:
            status = "undated"
            warnings.append(
                f"answered by an undated model alias ({', '.join(undated)}) in {undated_js} of "
                f"{len(mine)} judgements: its meaning can change; pin a dated snapshot"
            )
        else:
            status = "pinned"
        if len(per_model) > 1 or len(hosts) > 1:
            status = "mixed" if status == "pinned" else status
            warnings.append(
                f"judgements were answered by {len(per_model)} models ({', '.join(sorted(per_model))}) "
                f"on {len(hosts)} hosts ({', '.join(sorted(hosts))})"
            )
        if requested and not is_dated(str(requested)) and not undated:
            notes.append(
                f"requested alias {requested!r} resolved to {', '.join(sorted(per_model))}; "
                "pin that snapshot in the spec to keep it"
            )
    for w in warnings:
        log.warning("judge %s: %s", b.display, w)
    return {
        "kind": "pinning",
        "judge_id": b.id,
        "status": status,
        "warnings": warnings,
        "notes": notes,
        "model_requested": requested,
        "requested_dated": None if not requested else is_dated(str(requested)),
        "models": dict(sorted(per_model.items())),
        "hosts": dict(sorted(hosts.items())),
        "judgements": len(mine),
        "with_identity": with_identity,
        "undated_judgements": undated_js,
        **{k: settings[k] for k in ("backend", "prompt_hash", "templates", "sampling")},
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
