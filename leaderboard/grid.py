"""The comparison grid: per sample, the source and every system's final image in one row.

Under the source: the goal, the checklist and the tags. Under each result: its scores (formatted
by their ``ScoreSpec``), checklist verdicts when a judge gave them, and the judges' rationales.
A failed or refused trajectory is a labelled placeholder with its error; a system that has no
trajectory for the sample (a partial or sharded run) says so instead of leaving a hole.
"""

from __future__ import annotations

import json
from typing import Any

from bench.model import Judgement, Sample, Trajectory
from bench.results import Results
from leaderboard.assets import ImageExporter
from leaderboard.formatting import MISSING, format_score, is_number
from leaderboard.header import Names, anchor
from leaderboard.views import (
    RationaleView,
    ResultCell,
    SampleRow,
    ScoreLine,
    SuiteGrid,
    SuiteView,
    SystemView,
    VerdictChip,
)

ScorePair = tuple[str, str]  # (judge id, score name)


def _rationale_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=1, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def score_pairs(res: Results, names: Names, suite_ref: str) -> list[ScorePair]:
    """The (judge, score) pairs of a suite's sample-scope judgements, in judge then spec order."""
    pairs: set[ScorePair] = set()
    for j in res.judgements.values():
        if j.suite != suite_ref or j.scope != "sample" or j.versus:
            continue
        declared = list(res.score_specs.get(j.judge_id, {}))
        for s in declared or list(j.scores):
            pairs.add((j.judge_id, s))

    def key(p: ScorePair) -> tuple[int, str, int, str]:
        declared = list(res.score_specs.get(p[0], {}))
        return (
            names.judge_order.get(p[0], len(names.judge_order)),
            p[0],
            declared.index(p[1]) if p[1] in declared else len(declared),
            p[1],
        )

    return sorted(pairs, key=key)


def _label(names: Names, judge_id: str, score: str) -> str:
    shown = names.judge(judge_id).display
    return score if shown == score else f"{shown} · {score}"


def _score_line(res: Results, names: Names, j: Judgement | None, judge_id: str, score: str) -> ScoreLine:
    label = _label(names, judge_id, score)
    spec = res.score_specs.get(judge_id, {}).get(score)
    if j is None:
        return ScoreLine(label, MISSING, "missing", "not judged")
    if score in j.na:
        return ScoreLine(label, "n/a", "na", f"does not apply: {j.na[score]}")
    if j.status != "ok":
        return ScoreLine(label, j.status, "unscored", j.error or f"judgement {j.status}")
    value = j.scores.get(score)
    if not is_number(value):
        return ScoreLine(label, MISSING, "unscored", "no score recorded")
    title = spec.description if spec is not None and spec.description else ""
    return ScoreLine(label, format_score(value, spec), "ok", title)


def _result_cell(
    res: Results,
    names: Names,
    exporter: ImageExporter,
    sample: Sample,
    suite_ref: str,
    system: SystemView,
    pairs: list[ScorePair],
    judge_ids: list[str],
) -> ResultCell:
    t: Trajectory | None = res.trajectories.get((suite_ref, sample.id, system.id))
    if t is None:
        return ResultCell(system=system, status="missing", image=None, error="no trajectory for this sample")
    judgements = {jid: res.judgements.get((suite_ref, sample.id, system.id, "", jid)) for jid in judge_ids}
    scores = tuple(_score_line(res, names, judgements[jid], jid, s) for jid, s in pairs)
    criteria = {c.id: c.text for c in sample.checklist}
    verdicts: list[VerdictChip] = []
    rationales: list[RationaleView] = []
    for jid in judge_ids:
        j = judgements[jid]
        if j is None:
            continue
        shown = names.judge(jid).display
        for cid, verdict in j.verdicts.items():
            verdicts.append(
                VerdictChip(criterion=str(cid), verdict=str(verdict), judge=shown, text=criteria.get(cid, ""))
            )
        text = _rationale_text(j.rationale)
        if text or j.error:
            rationales.append(RationaleView(judge=shown, status=j.status, text=text, error=j.error or ""))
    common = dict(
        system=system,
        steps=len(t.steps),
        seconds=float(t.telemetry.seconds or 0.0),
        scores=scores,
        verdicts=tuple(verdicts),
        rationales=tuple(rationales),
    )
    if t.status != "ok":
        return ResultCell(status=t.status, image=None, error=t.error or f"trajectory {t.status}", **common)
    image = exporter.view(t.final)
    if image is None:
        return ResultCell(
            status="no-image", image=None, error="final image not found in the run store", **common
        )
    return ResultCell(status="ok", image=image, **common)


def build_grids(
    res: Results, names: Names, suites: dict[str, SuiteView], exporter: ImageExporter
) -> list[SuiteGrid]:
    """One :class:`SuiteGrid` per suite with samples; exports every image it shows."""
    wanted = [s.image.id for s in res.samples.values()]
    wanted += [t.final for t in res.trajectories.values() if t.final and t.status == "ok"]
    exporter.export(wanted)
    by_suite: dict[str, list[Sample]] = {}
    for (ref, _), sample in res.samples.items():
        by_suite.setdefault(ref, []).append(sample)
    grids = []
    for ref, suite in suites.items():
        samples = by_suite.get(ref, [])
        if not samples:
            continue
        system_ids = {t.system_id for t in res.trajectories.values() if t.suite == ref}
        systems = tuple(
            names.system(s)
            for s in sorted(system_ids, key=lambda s: (names.order.get(s, len(names.order)), s))
        )
        pairs = score_pairs(res, names, ref)
        judge_ids = sorted(
            {
                j.judge_id
                for j in res.judgements.values()
                if j.suite == ref and j.scope == "sample" and not j.versus
            },
            key=lambda i: (names.judge_order.get(i, len(names.judge_order)), i),
        )
        rows = []
        for sample in samples:
            rows.append(
                SampleRow(
                    suite_ref=ref,
                    sample_id=sample.id,
                    anchor=anchor("sample", ref, sample.id),
                    goal=sample.goal,
                    checklist=tuple(sample.checklist),
                    tags=tuple(sorted((str(k), str(v)) for k, v in sample.tags.items())),
                    source=exporter.view(sample.image.id),
                    results=tuple(
                        _result_cell(res, names, exporter, sample, ref, s, pairs, judge_ids) for s in systems
                    ),
                )
            )
        grids.append(SuiteGrid(suite=suite, systems=systems, rows=tuple(rows)))
    return grids
