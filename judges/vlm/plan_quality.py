"""``plan-quality``: paper B's judge of action plans and their reasoning (H.1, F.1.1).

``variant=paper`` (default), per B's text (READING 5.1 #2, #3): eight dimensions on **0-100** —
Action Quality: ``relevance``, ``theme_style_focus``, ``completeness``, ``efficiency``,
``correctness``; Reasoning Quality: ``reasoning_conciseness``, ``reasoning_completeness``,
``reasoning_specificity`` (the issue's two "completeness" are told apart by the prefix) — judged
"without image execution" (L1637): the judge sees the goal, the structured context and the plan
text, no image. B names three aggregates without saying how they are formed; editbench uses
unweighted means: ``overall_action_quality`` (of 5), ``overall_reasoning_quality`` (of 3),
``overall`` (of 8). Defaults are B's evaluation settings (F.2).

``variant=code`` is B's public code (READING 6.3): the original image is shown, eight dimensions
on **0-10**, and the three aggregates computed by the model itself and used as-is; the sample's
``reference`` plan, when it has one, is shown "for context only".

A trajectory without a plan gets no request: every score is N/A ("E is N/A", L2198).
"""

from __future__ import annotations

from typing import Any

from bench.model import ScoreSpec
from bench.protocols import JudgeItem

from .base import Draw, DrawScores, VLMJudge, mean, numeric_specs
from .views import has_plan, plan_view, sample_view, source_part

GROUPS = {"action": "overall_action_quality", "reasoning": "overall_reasoning_quality"}
MODEL_AGGREGATES = {
    "overall_action_quality": "overall_action_quality",
    "overall_reasoning_quality": "overall_reasoning_quality",
    "overall_score": "overall",
}


class PlanQualityJudge(VLMJudge):
    """Paper B's plan judge: 5 action and 3 reasoning dimensions on 0-100, from the plan text alone."""

    name = "plan-quality"
    VARIANTS: dict[str, dict[str, Any]] = {
        "paper": {"model": "gpt-4o-2024-08-06", "temperature": 0.3, "top_p": 0.95, "max_tokens": 2048},
        "code": {"model": "gpt-4o", "temperature": 0.3, "max_tokens": 800},
    }
    TEMPLATES = {"paper": {"main": "plan_quality.j2"}, "code": {"main": "plan_quality_code.j2"}}

    @property
    def dimensions(self):
        return [c for c in self.rubric().criteria if c.group in GROUPS]

    def score_specs(self) -> list[ScoreSpec]:
        top = 10.0 if self.variant == "code" else 100.0
        how = "computed by the model (as B's code)" if self.variant == "code" else "unweighted mean"
        return [
            ScoreSpec("overall", 0.0, top, True, "{:.1f}", f"all eight dimensions, {how}"),
            ScoreSpec(
                "overall_action_quality", 0.0, top, True, "{:.1f}", f"the five action dimensions, {how}"
            ),
            ScoreSpec(
                "overall_reasoning_quality",
                0.0,
                top,
                True,
                "{:.1f}",
                f"the three reasoning dimensions, {how}",
            ),
            *numeric_specs(self.dimensions),
        ]

    def prepare(self, item: JudgeItem) -> Any:
        if not has_plan(item.trajectory):
            why = "N/A: the system made no plan"
            return DrawScores(na={s.name: why for s in self.score_specs()}, note=why)
        ctx = {
            "sample": sample_view(item.sample),
            "context": dict(sorted({**item.sample.context, **item.trajectory.plan.context}.items())),  # type: ignore[union-attr]
            "plan": plan_view(item.trajectory.plan),
            "reference": item.sample.reference,
        }
        images = {"source": source_part(item)} if self.variant == "code" else {}
        return [self.ask("main", ctx, images)]

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        d = draws["main"]
        out = DrawScores()
        for c in self.dimensions:
            if c.id in d.values:
                out.scores[c.id] = d.values[c.id]
            else:
                out.na[c.id] = f"not read from the reply ({d.missing.get(c.id, 'absent')})"
        if self.variant == "code":
            for asked, name in MODEL_AGGREGATES.items():
                if asked in d.values:
                    out.scores[name] = d.values[asked]
                else:
                    out.na[name] = f"the model gave no {asked} ({d.missing.get(asked, 'absent')})"
            return out
        for group, name in GROUPS.items():
            ids = [c.id for c in self.dimensions if c.group == group]
            missing = [i for i in ids if i not in out.scores]
            if missing:
                out.na[name] = "needs " + ", ".join(missing)
            else:
                out.scores[name] = mean([out.scores[i] for i in ids])
        missing = [c.id for c in self.dimensions if c.id not in out.scores]
        if missing:
            out.na["overall"] = "needs " + ", ".join(missing)
        else:
            out.scores["overall"] = mean([out.scores[c.id] for c in self.dimensions])
        return out
