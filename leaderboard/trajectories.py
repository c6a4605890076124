"""The trajectory viewer's data: a system's plan step by step, and what the judges said about it.

Per result (``data-trj-NNN.js``, keyed by :func:`~leaderboard.catalog.result_key`): the plan
(checklist used, context as extracted, the synthesised instruction, reasoning, and every subtask
with the planner's action and the orchestrator's tool, parameters and region), every executed
step (tool, parameters, region drawn as an overlay on the step's input, input and output images,
seconds, cached, error), the final image, telemetry, and every judgement with its scores,
verdicts, rationale and the model that answered. Each chunk also carries its samples (goal,
checklist, source), so a viewer page needs exactly one data file besides ``data-meta.js``.
"""

from __future__ import annotations

import json
from typing import Any

from bench.model import Region, Step, Trajectory
from leaderboard.assets import ImageExporter
from leaderboard.catalog import Catalog, Chunk, image_ref, result_key
from leaderboard.compare import rationale_text, score_cell
from leaderboard.overlays import OverlayExporter


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _params(params: dict[str, Any]) -> list[list[str]]:
    return [[str(k), _json_text(v)] for k, v in params.items()]


def _region(
    region: Region | None, exporter: ImageExporter, overlays: OverlayExporter, on: str | None
) -> dict[str, Any] | None:
    if region is None:
        return None
    out: dict[str, Any] = {"desc": region.describe(), "kind": region.kind}
    if region.feather:
        out["desc"] += f", feather {region.feather:g}"
    view = exporter.view(on) if on else None
    if view is not None:
        out["overlay"] = overlays.path(region, (view.width, view.height))
    return out


def _step(
    st: Step, k: int, texts: dict[str, str], exporter: ImageExporter, overlays: OverlayExporter
) -> dict[str, Any]:
    return {
        "n": k + 1,
        "subtask": st.subtask or "",
        "subtask_text": texts.get(st.subtask or "", ""),
        "tool": st.tool,
        "params": _params(st.params),
        "region": _region(st.region, exporter, overlays, st.input),
        "region_query": st.region_query or "",
        "instruction": st.instruction or "",
        "in": image_ref(exporter.view(st.input)),
        "out": image_ref(exporter.view(st.output)) if st.output else None,
        "sec": float(st.telemetry.seconds or 0.0),
        "cached": bool(st.cached),
        "error": st.error or "",
    }


def _plan(t: Trajectory) -> dict[str, Any] | None:
    p = t.plan
    if p is None:
        return None
    return {
        "instruction": p.instruction or "",
        "reasoning": p.reasoning or "",
        "context": [[str(k), str(v)] for k, v in p.context.items()],
        "checklist": [[c.id, c.kind, c.text] for c in p.checklist],
        "subtasks": [
            {
                "id": s.id,
                "text": s.text,
                "reasoning": s.reasoning or "",
                "action": s.action or "",
                "action_params": _params(s.action_params),
                "tool": s.tool or "",
                "params": _params(s.params),
                "region": s.region.describe() if s.region is not None else "",
            }
            for s in p.subtasks
        ],
    }


def _trajectory(
    cat: Catalog, t: Trajectory, exporter: ImageExporter, overlays: OverlayExporter
) -> dict[str, Any]:
    res = cat.res
    texts = {s.id: s.text for s in (t.plan.subtasks if t.plan else ())}
    judgements = []
    for jid in cat.judge_ids:
        j = res.judgements.get((t.suite, t.sample_id, t.system_id, "", jid))
        if j is None:
            continue
        cols = [c for c in cat.columns.get(t.suite, []) if c.judge_id == jid]
        judgements.append(
            {
                "judge": cat.judge_index[jid],
                "status": j.status,
                "error": j.error or "",
                "scores": [[c.score, *score_cell(res, j, c)] for c in cols],
                "verdicts": [[str(cid), str(v)] for cid, v in j.verdicts.items()],
                "rationale": rationale_text(j.rationale),
                "model": j.model_resolved or "",
                "host": j.endpoint_host or "",
            }
        )
    for j in cat.pairwise.get((t.suite, t.sample_id), ()):
        if t.system_id not in (j.system_id, j.versus) or j.judge_id not in cat.judge_index:
            continue
        mine = j.system_id == t.system_id
        other = j.versus if mine else j.system_id
        win = j.scores.get("win") if j.status == "ok" else None
        if win is not None and not mine:
            win = 1.0 - float(win)  # the record holds the first system's side
        judgements.append(
            {
                "judge": cat.judge_index[j.judge_id],
                "status": j.status,
                "error": j.error or "",
                "versus": cat.system_index.get(other or ""),
                "win": win,
                "scores": [],
                "verdicts": [],
                "rationale": rationale_text(j.rationale),
                "model": j.model_resolved or "",
                "host": j.endpoint_host or "",
            }
        )
    tele = t.telemetry
    return {
        "suite": cat.suite_index[t.suite],
        "sample": t.sample_id,
        "sys": cat.system_index[t.system_id],
        "status": t.status,
        "error": t.error or "",
        "final": image_ref(exporter.view(t.final)) if t.final else None,
        "plan": _plan(t),
        "steps": [_step(st, k, texts, exporter, overlays) for k, st in enumerate(t.steps)],
        "tele": {
            "seconds": tele.seconds,
            "calls": tele.calls,
            "requests": tele.requests,
            "tokens_in": tele.tokens_in,
            "tokens_out": tele.tokens_out,
            "dollars": tele.dollars,
        },
        "judgements": judgements,
    }


def trajectory_chunk(
    cat: Catalog, chunk: Chunk, exporter: ImageExporter, overlays: OverlayExporter
) -> dict[str, Any]:
    """The payload of ``data-trj-NNN.js`` for one chunk of samples."""
    samples = {}
    trajectories = {}
    for sample in chunk.samples:
        samples[sample.id] = {
            "goal": sample.goal,
            "checklist": [[c.id, c.kind, c.text] for c in sample.checklist],
            "tags": [[str(k), str(v)] for k, v in sorted(sample.tags.items())],
            "src": image_ref(exporter.view(sample.image.id)),
            "systems": [],
        }
        for sid in cat.suite_systems[chunk.suite]:
            t = cat.res.trajectories.get((chunk.suite, sample.id, sid))
            if t is None:
                continue
            key = result_key(chunk.suite, sample.id, sid)
            trajectories[key] = _trajectory(cat, t, exporter, overlays)
            samples[sample.id]["systems"].append([cat.system_index[sid], key])
    return {"suite": cat.suite_index[chunk.suite], "samples": samples, "trajectories": trajectories}
