"""``pairwise``: which of two systems' results better meets the goal (scope ``pairwise``).

The runner hands one item per pair — the item's result and, in ``item.other``, the competitor's
— and the judge asks **both orders**: ``ab`` shows the item's result as A, ``ba`` shows it as B.
Each order's answer is turned into the item's point of view (A = 1, tie = 0.5, B = 0 in ``ab``;
reversed in ``ba``), then:

* ``win`` ∈ {1, 0.5, 0} per draw: 1 if both orders prefer the item, 0 if both prefer the other,
  0.5 otherwise — a tie, or the two orders disagreeing (the judge followed the position, not the
  images). This is the conservative rule of MT-Bench's pairwise judge: a win must survive the
  swap;
* ``win_rate`` ∈ [0, 1]: the mean of the two orders' values (softer; with ``expected=true`` a
  mean of probabilities);
* ``position_consistent`` ∈ {0, 1}: whether the two orders agree (both prefer the same result,
  or both say tie);
* ``first_position`` ∈ [0, 1]: the share of the two orders' verdicts that went to whichever result
  was shown first (A), 0.5 = no lean. The other scores are the item's point of view and cannot
  tell "A twice" from "B twice"; this one can, so the position-bias probe reads which position a
  judge prefers when it flips (``judges.probes.bias``).

With ``samples=n`` each is the mean over draws. ``versus`` is the competitor's system id;
``win`` of (a vs b) is ``1 - win`` of (b vs a), which is what Bradley-Terry / Elo fitting in the
leaderboard reads. Two identical results are a tie without a request. Because the requests of
(a vs b) are those of (b vs a) in the other order, a reply cache serves both directions.
"""

from __future__ import annotations

from typing import Any

from bench.model import Judgement, ScoreSpec
from bench.protocols import JudgeItem

from .base import Draw, DrawScores, VLMJudge
from .views import result_part, sample_view, source_part


def _side(v: float) -> int:
    return 1 if v > 0.5 else -1 if v < 0.5 else 0


class PairwiseJudge(VLMJudge):
    """Which of two results better meets the goal, asked in both orders; ties allowed."""

    name = "pairwise"
    scope = "pairwise"
    VARIANTS: dict[str, dict[str, Any]] = {"default": {}}
    TEMPLATES = {"default": {"main": "pairwise.j2"}}

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                "win",
                0.0,
                1.0,
                True,
                "{:.2f}",
                "1 both orders prefer this system, 0 both prefer versus, 0.5 otherwise",
            ),
            ScoreSpec(
                "win_rate", 0.0, 1.0, True, "{:.2f}", "mean preference for this system over the two orders"
            ),
            ScoreSpec("position_consistent", 0.0, 1.0, True, "{:.2f}", "1 when the two orders agree"),
            ScoreSpec("first_position", 0.0, 1.0, True, "{:.2f}",
                      "share of the two orders' verdicts that went to the result shown first; 0.5 = no lean"),
        ]

    def prepare(self, item: JudgeItem) -> Any:
        other = item.other
        if other is None:
            raise ValueError("the pairwise judge needs the competitor in JudgeItem.other")
        mine, theirs = result_part(item), result_part(other)
        if mine.image_id == theirs.image_id:
            return DrawScores(
                scores={"win": 0.5, "win_rate": 0.5, "position_consistent": 1.0, "first_position": 0.5},
                note="identical results: a tie without a request",
            )
        ctx = {"sample": sample_view(item.sample)}
        src = source_part(item)
        return [
            self.ask("main", ctx, {"source": src, "a": mine, "b": theirs}, key="ab"),
            self.ask("main", ctx, {"source": src, "a": theirs, "b": mine}, key="ba"),
        ]

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        v_ab = draws["ab"].values.get("winner")
        v_ba = draws["ba"].values.get("winner")
        if v_ab is None or v_ba is None:  # cannot happen: a reply without "winner" is a parse error
            why = "an order's reply has no winner"
            return DrawScores(na={s.name: why for s in self.score_specs()})
        first, second = v_ab, 1.0 - v_ba  # both from the item's point of view
        s1, s2 = _side(first), _side(second)
        win = 1.0 if s1 == s2 == 1 else 0.0 if s1 == s2 == -1 else 0.5
        return DrawScores(
            scores={
                "win": win,
                "win_rate": (first + second) / 2,
                "position_consistent": 1.0 if s1 == s2 else 0.0,
                "first_position": (v_ab + v_ba) / 2,  # raw verdicts: 1 = the result shown first
            }
        )

    def finalize(self, item: JudgeItem, judgement: Judgement) -> Judgement:
        if item.other is not None:
            return judgement.replace(versus=item.other.trajectory.system_id)
        return judgement
