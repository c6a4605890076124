"""``image-quality``: paper B's GPT-4o evaluation of edited images.

``variant=paper`` (default) follows B's text, which the issue misread (READING 5.1 #1, #4):

* six dimensions — instruction following, visual quality, semantic accuracy, coherence,
  technical execution, transformation strength — each on **0-100** (L64, L2333);
* ``overall`` = their unweighted mean ("0-100 scale per dimension, then averaged", L2333);
* the judge sees the plan: four dimensions "require evaluating the action plan" and are N/A for
  a system without one (L65, L1883). For such a system those four are absent with the reason,
  ``overall`` is N/A (a mean of two dimensions is not comparable with a mean of six), and
  ``overall_shared`` — the mean of instruction following and visual quality, given for every
  system — is the fair comparison across planning and non-planning systems;
* B's evaluation settings as defaults: ``gpt-4o-2024-08-06``, temperature 0.3, top-p 0.95, 2048
  tokens (F.2).

``variant=code`` is what B's public code runs (READING 6.3): no plan, six dimensions on **0-10**,
and an ``overall`` the model computes itself ("<average of the 6 scores>"), used as-is; we also
report ``overall_mean`` (our mean of the six, to check the model's arithmetic) and
``overall_x10`` (B's tables print scores x10). Defaults: ``gpt-4o``, temperature 0.3, 500 tokens.
"""

from __future__ import annotations

from typing import Any

from bench.model import ScoreSpec
from bench.protocols import JudgeItem

from .base import Draw, DrawScores, VLMJudge, mean, numeric_specs
from .views import has_plan, plan_view, result_part, sample_view, source_part

SHARED = ("instruction_following", "visual_quality")
NO_PLAN = "N/A: this dimension requires the action plan and the system made none (paper B, L65, L1883)"


class ImageQualityJudge(VLMJudge):
    """Paper B's image evaluation: six dimensions on 0-100 with the plan shown; overall = their mean."""

    name = "image-quality"
    VARIANTS: dict[str, dict[str, Any]] = {
        "paper": {"model": "gpt-4o-2024-08-06", "temperature": 0.3, "top_p": 0.95, "max_tokens": 2048},
        "code": {"model": "gpt-4o", "temperature": 0.3, "max_tokens": 500},
    }
    TEMPLATES = {"paper": {"main": "image_quality.j2"}, "code": {"main": "image_quality_code.j2"}}

    @property
    def dimensions(self):
        return [c for c in self.rubric().criteria if c.id != "overall_image_score"]

    def score_specs(self) -> list[ScoreSpec]:
        dims = numeric_specs(self.dimensions)
        if self.variant == "code":
            return [
                ScoreSpec(
                    "overall", 0.0, 10.0, True, "{:.2f}", "the model's own average of the six (as B's code)"
                ),
                ScoreSpec("overall_x10", 0.0, 100.0, True, "{:.1f}", "overall x10, the scale of B's tables"),
                ScoreSpec("overall_mean", 0.0, 10.0, True, "{:.2f}", "our unweighted mean of the six"),
                *dims,
            ]
        return [
            ScoreSpec(
                "overall", 0.0, 100.0, True, "{:.1f}", "unweighted mean of the six dimensions (B L2333)"
            ),
            ScoreSpec(
                "overall_shared",
                0.0,
                100.0,
                True,
                "{:.1f}",
                "mean of instruction following and visual quality: defined for systems without a plan too",
            ),
            *dims,
        ]

    def prepare(self, item: JudgeItem) -> Any:
        planned = self.variant == "paper" and has_plan(item.trajectory)
        criteria = [c for c in self.rubric().criteria if planned or not c.needs_plan]
        ctx = {
            "sample": sample_view(item.sample),
            "plan": plan_view(item.trajectory.plan) if planned else None,
        }
        return [self.ask("main", ctx, {"source": source_part(item), "result": result_part(item)}, criteria)]

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        d = draws["main"]
        out = DrawScores()
        dims = self.dimensions
        planned = has_plan(item.trajectory)
        for c in dims:
            if c.id in d.values:
                out.scores[c.id] = d.values[c.id]
            elif c.needs_plan and not planned:
                out.na[c.id] = NO_PLAN
            else:
                out.na[c.id] = f"not read from the reply ({d.missing.get(c.id, 'absent')})"
        missing = [c.id for c in dims if c.id not in out.scores]
        if self.variant == "code":
            if "overall_image_score" in d.values:
                out.scores["overall"] = d.values["overall_image_score"]
                out.scores["overall_x10"] = 10.0 * d.values["overall_image_score"]
            else:
                why = f"the model gave no overall_image_score ({d.missing.get('overall_image_score', 'absent')})"
                out.na["overall"] = out.na["overall_x10"] = why
            if missing:
                out.na["overall_mean"] = "needs " + ", ".join(missing)
            else:
                out.scores["overall_mean"] = mean([out.scores[c.id] for c in dims])
            return out
        if missing:
            out.na["overall"] = "needs all six dimensions; missing " + ", ".join(missing)
        else:
            out.scores["overall"] = mean([out.scores[c.id] for c in dims])
        if all(s in out.scores for s in SHARED):
            out.scores["overall_shared"] = mean([out.scores[s] for s in SHARED])
        else:
            out.na["overall_shared"] = "needs " + " and ".join(SHARED)
        return out
