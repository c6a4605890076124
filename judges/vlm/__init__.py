"""VLM judges: versioned rubrics (template + parser + aggregation) on the shared model backends.

One engine (:mod:`judges.vlm.base`) and one module per judge family; the prompts are data, in
``judges/vlm/prompts/`` (front matter + Jinja2), and each template's SHA-256 is part of the judge's
id. Registered names (entry points in ``editbench.judges``):

=================  ==============================================================================
``checklist``      pass / partial / fail per checklist criterion; pass rate, weighted pass rate
``styling-reward`` paper B's reward: six weighted criteria on 1-5 (``variant=code``: B's code)
``image-quality``  paper B's evaluation: six dimensions on 0-100, overall = mean (``variant=code``)
``plan-quality``   paper B's plan judge: 5 action + 3 reasoning dimensions on 0-100
``viescore``       VIEScore: SC and PQ on 0-10, overall = sqrt(min SC x min PQ)
``pairwise``       which of two results better meets the goal, both orders, ties allowed
=================  ==============================================================================
"""

from .base import COMMON_OPTIONS, Ask, Draw, DrawScores, VLMJudge
from .checklist import ChecklistJudge
from .image_quality import ImageQualityJudge
from .pairwise import PairwiseJudge
from .plan_quality import PlanQualityJudge
from .rubric import CriterionDef, ParseError, Rubric
from .styling import StylingRewardJudge
from .viescore import VIEScoreJudge

JUDGES: dict[str, type[VLMJudge]] = {
    "checklist": ChecklistJudge,
    "styling-reward": StylingRewardJudge,
    "image-quality": ImageQualityJudge,
    "plan-quality": PlanQualityJudge,
    "viescore": VIEScoreJudge,
    "pairwise": PairwiseJudge,
}

__all__ = [
    "COMMON_OPTIONS",
    "JUDGES",
    "Ask",
    "ChecklistJudge",
    "CriterionDef",
    "Draw",
    "DrawScores",
    "ImageQualityJudge",
    "PairwiseJudge",
    "ParseError",
    "PlanQualityJudge",
    "Rubric",
    "StylingRewardJudge",
    "VIEScoreJudge",
    "VLMJudge",
]
