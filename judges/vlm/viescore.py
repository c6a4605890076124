"""``viescore``: VIEScore for image editing (Ku et al., "VIEScore: Towards Explainable Metrics
for Conditional Image Synthesis Evaluation", ACL 2024).

Two requests per result, as in VIEScore:

* **SC** (semantic consistency; source image, edited image and the instruction): two 0-10
  scores, ``editing_success`` (the instruction was carried out) and ``overediting`` (10 = a
  minimal yet effective edit, 0 = a different picture); ``sc`` = the smaller of the two;
* **PQ** (perceptual quality; the edited image alone): ``naturalness`` and ``artifacts``
  (10 = none); ``pq`` = the smaller;
* ``overall`` = sqrt(sc · pq), on 0-10.

Taking the minimum is VIEScore's choice: an edit must do both things well. A sub-score the
reply leaves out makes its ``sc`` or ``pq`` (and ``overall``) N/A, never 0.
"""

from __future__ import annotations

import math
from typing import Any

from bench.model import ScoreSpec
from bench.protocols import JudgeItem

from .base import Draw, DrawScores, VLMJudge, numeric_specs
from .views import result_part, sample_view, source_part


class VIEScoreJudge(VLMJudge):
    """VIEScore: semantic consistency and perceptual quality on 0-10; overall = sqrt(min SC × min PQ)."""

    name = "viescore"
    VARIANTS: dict[str, dict[str, Any]] = {"default": {}}
    TEMPLATES = {"default": {"sc": "viescore_sc.j2", "pq": "viescore_pq.j2"}}

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec("overall", 0.0, 10.0, True, "{:.2f}", "sqrt(sc x pq)"),
            ScoreSpec(
                "sc", 0.0, 10.0, True, "{:.2f}", "semantic consistency: min(editing_success, overediting)"
            ),
            ScoreSpec("pq", 0.0, 10.0, True, "{:.2f}", "perceptual quality: min(naturalness, artifacts)"),
            *numeric_specs(self.rubric("sc").criteria),
            *numeric_specs(self.rubric("pq").criteria),
        ]

    def prepare(self, item: JudgeItem) -> Any:
        ctx = {"sample": sample_view(item.sample)}
        result = result_part(item)
        return [
            self.ask("sc", ctx, {"source": source_part(item), "result": result}),
            self.ask("pq", ctx, {"result": result}),
        ]

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        out = DrawScores()
        for part in ("sc", "pq"):
            d = draws[part]
            ids = [c.id for c in self.rubric(part).criteria]
            for i in ids:
                if i in d.values:
                    out.scores[i] = d.values[i]
                else:
                    out.na[i] = f"not read from the reply ({d.missing.get(i, 'absent')})"
            missing = [i for i in ids if i not in d.values]
            if missing:
                out.na[part] = "needs " + ", ".join(missing)
            else:
                out.scores[part] = min(d.values[i] for i in ids)
        if "sc" in out.scores and "pq" in out.scores:
            out.scores["overall"] = math.sqrt(out.scores["sc"] * out.scores["pq"])
        else:
            out.na["overall"] = "needs both sc and pq"
        return out
