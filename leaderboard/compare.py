"""The side-by-side comparison's data: per sample, the source and every system's result.

One record per sample (``data-cmp-NNN.js``): the goal, checklist and tags, the source image, and
per system its status, final image, every score formatted by its ``ScoreSpec``, the checklist
verdicts of every judge, time and steps — the papers' 9-way figure, one row per sample. A failed
or refused edit is a labelled placeholder with its error; a system with no trajectory for the
sample (a partial or sharded run) is ``missing``, never a hole.

``spread`` is how much the systems disagree on the sample: the range (max − min) of their
primary scores, divided by the range of that score over the whole suite, so it lies in [0, 1]
and is comparable between suites; ``null`` when fewer than two systems have a primary score.
"""

from __future__ import annotations

import json
import math
from typing import Any

from bench.model import Judgement, Sample
from bench.results import Results
from leaderboard.assets import ImageExporter
from leaderboard.catalog import Catalog, Chunk, ScoreColumn, image_ref, result_key
from leaderboard.formatting import MISSING, format_score, is_number


def rationale_text(value: Any) -> str:
    """A judge's rationale as plain text (structured rationales as indented JSON)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=1, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def score_cell(res: Results, j: Judgement | None, col: ScoreColumn) -> list[str]:
    """``[text, state, title]`` for one score of one result; state: ok | na | unscored | missing."""
    spec = res.score_specs.get(col.judge_id, {}).get(col.score)
    if j is None:
        return [MISSING, "missing", "not judged"]
    if col.score in j.na:
        return ["n/a", "na", f"does not apply: {j.na[col.score]}"]
    if j.status != "ok":
        return [j.status, "unscored", j.error or f"judgement {j.status}"]
    value = j.scores.get(col.score)
    if not is_number(value):
        return [MISSING, "unscored", "no score recorded"]
    return [format_score(value, spec), "ok", spec.description if spec is not None else ""]


def primary_value(j: Judgement | None, col: ScoreColumn | None) -> float | None:
    if j is None or col is None or j.status != "ok" or col.score in j.na:
        return None
    v = j.scores.get(col.score)
    return float(v) if is_number(v) else None


def _sample_record(
    cat: Catalog, exporter: ImageExporter, chunk: Chunk, sample: Sample, order: int
) -> dict[str, Any]:
    res, ref = cat.res, chunk.suite
    cols = cat.columns[ref]
    primary = next((c for c in cols if c.primary), None)
    judge_ids = sorted({c.judge_id for c in cols}, key=lambda j: cat.judge_index.get(j, 10**6))
    results = []
    for sid in cat.suite_systems[ref]:
        t = res.trajectories.get((ref, sample.id, sid))
        base: dict[str, Any] = {"sys": cat.system_index[sid], "key": result_key(ref, sample.id, sid)}
        if t is None:
            results.append({**base, "st": "missing", "err": "no trajectory for this sample"})
            continue
        judgements = {jid: res.judgements.get((ref, sample.id, sid, "", jid)) for jid in cat.judge_ids}
        verdict_judges = [
            jid for jid in cat.judge_ids if judgements.get(jid) is not None and judgements[jid].verdicts
        ]
        image = exporter.view(t.final) if t.status == "ok" else None
        status = t.status if t.status != "ok" else ("ok" if image is not None else "no-image")
        error = t.error or (f"trajectory {t.status}" if t.status != "ok" else "")
        if status == "no-image":
            error = "final image not found in the run store"
        results.append(
            {
                **base,
                "st": status,
                "err": error,
                "img": image_ref(image),
                "sc": [score_cell(res, judgements.get(c.judge_id), c) for c in cols],
                "pv": primary_value(judgements.get(primary.judge_id), primary) if primary else None,
                "vd": [
                    [str(cid), str(v), cat.judge_index[jid]]
                    for jid in verdict_judges
                    for cid, v in judgements[jid].verdicts.items()
                ],
                "sec": float(t.telemetry.seconds or 0.0),
                "steps": len(t.steps),
                "notes": sum(
                    1
                    for jid in judge_ids
                    if judgements.get(jid) is not None and rationale_text(judgements[jid].rationale)
                ),
            }
        )
    values = [r["pv"] for r in results if r.get("pv") is not None]
    return {
        "suite": cat.suite_index[ref],
        "id": sample.id,
        "i": order,
        "goal": sample.goal,
        "tags": [[str(k), str(v)] for k, v in sorted(sample.tags.items())],
        "checklist": [[c.id, c.kind, c.text] for c in sample.checklist],
        "src": image_ref(exporter.view(sample.image.id)),
        "traj": chunk.trj,
        "range": (max(values) - min(values)) if len(values) > 1 else None,
        "res": results,
    }


def compare_chunks(cat: Catalog, exporter: ImageExporter) -> dict[str, dict[str, Any]]:
    """``{chunk name: payload}`` for every comparison chunk, with each sample's ``spread``."""
    out: dict[str, dict[str, Any]] = {}
    order: dict[str, int] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    for chunk in cat.chunks:
        rows = []
        for sample in chunk.samples:
            k = order.get(chunk.suite, 0)
            order[chunk.suite] = k + 1
            rows.append(_sample_record(cat, exporter, chunk, sample, k))
        records[chunk.cmp] = rows
    # The suite-wide range of the primary score, to normalise each sample's spread.
    span: dict[int, tuple[float, float]] = {}
    for rows in records.values():
        for row in rows:
            for r in row["res"]:
                v = r.get("pv")
                if v is not None:
                    lo, hi = span.get(row["suite"], (math.inf, -math.inf))
                    span[row["suite"]] = (min(lo, v), max(hi, v))
    for chunk in cat.chunks:
        for row in records[chunk.cmp]:
            lo, hi = span.get(row["suite"], (0.0, 0.0))
            rng = row.pop("range")
            row["spread"] = None if rng is None else (rng / (hi - lo) if hi > lo else 0.0)
        out[chunk.cmp] = {"suite": cat.suite_index[chunk.suite], "samples": records[chunk.cmp]}
    return out
