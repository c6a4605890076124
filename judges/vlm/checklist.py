"""``checklist``: a verdict per checklist criterion, and pass rates.

Paper A's checklists list what any acceptable result must satisfy; this judge asks a VLM, for
each criterion of the sample's checklist, whether the edited result meets it: **pass**,
**partial** or **fail**, each with a one- or two-sentence rationale (the judge itself is
editbench's: A's checklist conditions its planner, not a judge — READING 5.1 #6).

Scores (all on 0-1, higher is better), with pass = 1, partial = 0.5, fail = 0:

* ``pass_rate``: the mean value over the criteria the judge decided;
* ``weighted_pass_rate``: the same weighted by each criterion's ``weight``;
* ``goal_pass_rate``, ``preserve_pass_rate``, ``quality_pass_rate``: the mean over the decided
  criteria of that kind, absent (with the reason in ``na``) when the sample has none.

A criterion the reply leaves out, or answers with something that is not a verdict, is
``undecidable``: it is excluded from every rate (never counted as a fail) and named in the
rationale. ``verdicts`` holds each criterion's verdict; with ``samples=n`` or ``expected=true`` a
criterion's value is a mean (or expectation) and its verdict is the nearest of pass / partial /
fail (>= 0.75 pass, > 0.25 partial). A sample without a checklist gets no request: every score is
N/A with the reason.
"""

from __future__ import annotations

from typing import Any

from bench.model import ScoreSpec
from bench.protocols import JudgeItem

from .base import Draw, DrawScores, VLMJudge, mean
from .views import result_part, sample_view, source_part

KINDS: tuple[str, ...] = ("goal", "preserve", "quality")
VALUES = {"pass": 1.0, "partial": 0.5, "fail": 0.0}


def verdict_of(value: float) -> str:
    """The verdict nearest to a (mean or expected) value on the pass = 1 / partial = 0.5 / fail = 0 scale."""
    return "pass" if value >= 0.75 else "partial" if value > 0.25 else "fail"


class ChecklistJudge(VLMJudge):
    """Pass / partial / fail per checklist criterion, with a rationale; pass rate and weighted pass rate."""

    name = "checklist"
    VARIANTS: dict[str, dict[str, Any]] = {"default": {}}
    TEMPLATES = {"default": {"main": "checklist.j2"}}

    def score_specs(self) -> list[ScoreSpec]:
        rule = " (pass = 1, partial = 0.5, fail = 0; undecidable criteria excluded)"
        specs = [
            ScoreSpec("pass_rate", 0.0, 1.0, True, "{:.3f}", "mean verdict over the checklist" + rule),
            ScoreSpec("weighted_pass_rate", 0.0, 1.0, True, "{:.3f}", "weight-weighted mean verdict" + rule),
        ]
        specs += [
            ScoreSpec(f"{k}_pass_rate", 0.0, 1.0, True, "{:.3f}", f"mean verdict over {k} criteria" + rule)
            for k in KINDS
        ]
        return specs

    def prepare(self, item: JudgeItem) -> Any:
        checklist = item.sample.checklist
        if not checklist:
            why = "the sample has no checklist"
            return DrawScores(na={s.name: why for s in self.score_specs()}, note=why)
        ids = [c.id for c in checklist]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"checklist criterion ids are not unique: {dupes}")
        rubric = self.rubric()
        criteria = [rubric.criterion(c.id, label=c.text, weight=c.weight, kind=c.kind) for c in checklist]
        images = {"source": source_part(item), "result": result_part(item)}
        return [self.ask("main", {"sample": sample_view(item.sample)}, images, criteria)]

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        d = draws["main"]
        checklist = item.sample.checklist
        decided = [(c, d.values[c.id]) for c in checklist if c.id in d.values]
        out = DrawScores()
        if not decided:
            why = "no criterion could be decided"
            out.na = {s.name: why for s in self.score_specs()}
            return out
        out.scores["pass_rate"] = mean([v for _, v in decided])
        total = sum(c.weight for c, _ in decided)
        if total > 0:
            out.scores["weighted_pass_rate"] = sum(c.weight * v for c, v in decided) / total
        else:
            out.na["weighted_pass_rate"] = "the decided criteria have zero total weight"
        for kind in KINDS:
            vals = [v for c, v in decided if c.kind == kind]
            if vals:
                out.scores[f"{kind}_pass_rate"] = mean(vals)
            elif any(c.kind == kind for c in checklist):
                out.na[f"{kind}_pass_rate"] = f"every {kind} criterion was undecidable"
            else:
                out.na[f"{kind}_pass_rate"] = f"the sample has no {kind} criteria"
        return out

    def verdicts(self, item: JudgeItem, per_draw: list[dict[str, Draw]]) -> dict[str, str]:
        out = {}
        for c in item.sample.checklist:
            vals = [pd["main"].values[c.id] for pd in per_draw if c.id in pd["main"].values]
            out[c.id] = verdict_of(mean(vals)) if vals else "undecidable"
        return out
