"""``styling-reward``: paper B's reward model as a judge (Appendix C.3).

``variant=paper`` (default) is B's text: six criteria with B's weights — goal alignment 0.30,
aesthetic quality 0.25, spatial consistency 0.15, technical quality 0.15, temporal consistency
0.10, creative interpretation 0.05 — each rated **1-5**, judged from the base image, the edited
image and the editing prompt (L590). C.3 states only the weights; the 5-point scale is inferred
from B's reports ("4.0/5.0 (Good)", L927) and whether it runs 0-5 or 1-5 is silent, so 1-5 (five
tiers, Excellent to Very Poor) is our reading. ``aggregate=weighted`` (default) gives
``reward = Σ w_k s_k`` (the weights sum to 1, so the reward stays on 1-5); ``aggregate=mean`` the
unweighted mean, for B's other description ("a scalar reward by averaging", L38). The default
model is B's, ``Qwen/Qwen3-VL-8B-Instruct``, greedy.

``variant=code`` is what B's public code computes instead (READING 6.2): seven 1-5 dimensions
judged with the executed plan, and ``reward`` = the holistic ``overall_quality``; the four plan
dimensions are N/A for a system without a plan.

The reward is computed only when every criterion it needs was read; otherwise it is N/A with
the missing criteria named (the criteria that were read keep their scores).
"""

from __future__ import annotations

from typing import Any

from bench.errors import UsageError
from bench.model import ScoreSpec
from bench.protocols import JudgeItem

from .base import Draw, DrawScores, VLMJudge, mean, numeric_specs
from .views import has_plan, plan_view, result_part, sample_view, source_part

QWEN3_VL_8B = "Qwen/Qwen3-VL-8B-Instruct"


class StylingRewardJudge(VLMJudge):
    """Paper B's styling reward: six weighted criteria on 1-5 (C.3), weighted to one scalar."""

    name = "styling-reward"
    VARIANTS: dict[str, dict[str, Any]] = {
        "paper": {"model": QWEN3_VL_8B, "temperature": 0.0, "max_tokens": 2048},
        "code": {"model": QWEN3_VL_8B, "temperature": 0.0, "max_tokens": 2048},
    }
    TEMPLATES = {"paper": {"main": "styling_reward.j2"}, "code": {"main": "styling_reward_code.j2"}}
    EXTRA_OPTIONS = ("aggregate",)
    AGGREGATES = {"paper": ("weighted", "mean"), "code": ("overall",)}

    def __init__(self, aggregate: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        allowed = self.AGGREGATES[self.variant]
        self.aggregate = aggregate or allowed[0]
        if self.aggregate not in allowed:
            raise UsageError(
                f"styling-reward variant={self.variant}: aggregate must be one of "
                f"{', '.join(allowed)}, not {self.aggregate!r}"
            )

    @property
    def criteria(self):
        return self.rubric().criteria

    def score_specs(self) -> list[ScoreSpec]:
        if self.variant == "code":
            what = "overall_quality, the holistic 1-5 score B's code trains on"
        elif self.aggregate == "weighted":
            what = "Σ weight × score over the six criteria (weights 0.30/0.25/0.15/0.15/0.10/0.05), 1-5 (scale inferred)"
        else:
            what = "unweighted mean of the six criteria, 1-5 (scale inferred)"
        return [ScoreSpec("reward", 1.0, 5.0, True, "{:.2f}", what), *numeric_specs(self.criteria)]

    def prepare(self, item: JudgeItem) -> Any:
        planned = has_plan(item.trajectory)
        criteria = [c for c in self.criteria if planned or not c.needs_plan]
        ctx = {
            "sample": sample_view(item.sample),
            "plan": plan_view(item.trajectory.plan) if planned else None,
        }
        return [self.ask("main", ctx, {"source": source_part(item), "result": result_part(item)}, criteria)]

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        d = draws["main"]
        out = DrawScores()
        for c in self.criteria:
            if c.id in d.values:
                out.scores[c.id] = d.values[c.id]
            elif c.needs_plan and not has_plan(item.trajectory):
                out.na[c.id] = "N/A: the system made no plan"
            else:
                out.na[c.id] = f"not read from the reply ({d.missing.get(c.id, 'absent')})"
        if self.variant == "code":
            needed = ["overall_quality"]
        else:
            needed = [c.id for c in self.criteria]
        missing = [n for n in needed if n not in out.scores]
        if missing:
            out.na["reward"] = "needs " + ", ".join(missing)
        elif self.variant == "code":
            out.scores["reward"] = out.scores["overall_quality"]
        elif self.aggregate == "weighted":
            total = sum(c.weight for c in self.criteria)
            out.scores["reward"] = sum(c.weight * out.scores[c.id] for c in self.criteria) / total
        else:
            out.scores["reward"] = mean([out.scores[c.id] for c in self.criteria])
        return out
