"""``edit-only``: paper B's Edit-Only baseline reduced to classical tools — one call, raw goal.

Paper B's "E" edits "directly ... without structured planning" (§5): the raw prompt goes to the
editor in one shot. With classical tools that means: the single tool the goal's words best map to,
with the lexicon's default parameters, on the whole image. No context, no preserve list, no
regions, no decomposition — exactly what a planner is supposed to add.

Choosing the tool: every phrase of :mod:`baselines.lexicon` found in the goal's change clauses
(not in "keep ..." clauses, not negated) votes for its entry's primary tool with its length in
words; the tool with the most votes wins, ties going to the tool named earliest in the goal, then
to lexicon order. Its parameters are those of the longest phrase that voted for it. If nothing
matches, the call is still made, with the documented neutral fallback
(:data:`baselines.lexicon.FALLBACK`: a light "vibrant" grade), and the plan says so: the input is
never returned silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PIL import Image

from baselines import lexicon as lx
from bench.context import EditContext
from bench.errors import ToolError
from bench.model import Plan, Sample, Subtask, Trajectory
from bench.protocols import Component, SystemInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """The one call edit-only makes, and why."""

    action: lx.Action
    votes: int
    phrases: tuple[str, ...]
    reasoning: str
    fallback: bool = False


def choose(goal: str, *, advert: bool, product: str | None = None) -> Choice:
    """The single tool ``goal`` best maps to (see the module doc for the scoring and tie rules)."""
    reading = lx.read_goal(goal, advert=advert, ignore=(product,) if product else ())
    tally: dict[str, list] = {}  # tool -> [votes, first position, lexicon order, best match]
    order = {e.aspect: i for i, e in enumerate(lx.ENTRIES)}
    for m in reading.changes:
        if not m.entry.actions:
            continue
        action = m.entry.actions[0]
        if action.advert_only and not advert:
            continue
        row = tally.setdefault(action.action, [0, m.start, order[m.entry.aspect], m])
        row[0] += m.score
        if m.start < row[1]:
            row[1], row[2] = m.start, order[m.entry.aspect]
        if m.score > row[3].score:
            row[3] = m
    if not tally:
        return Choice(lx.FALLBACK, 0, (), "edit-only: " + lx.FALLBACK.why + " (one call on the whole image)",
                      fallback=True)
    tool, (votes, _, _, best) = min(tally.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
    voters = tuple(m.phrase for m in reading.changes if m.entry.actions and m.entry.actions[0].action == tool)
    others = sorted(t for t in tally if t != tool)
    why = (f"edit-only: one call with the raw goal; {tool} gets {votes} vote(s) from "
           + ", ".join(f"'{p}'" for p in voters)
           + (f" (also matched: {', '.join(others)}, not used: one call only)" if others else "")
           + f"; parameters of '{best.phrase}' ({best.entry.label}) on the whole image")
    return Choice(best.entry.actions[0], votes, voters, why)


class EditOnly(Component):
    """One classical tool call chosen from the raw goal's words, on the whole image (paper B's
    Edit-Only; option: strength=1.0).

    Options: ``strength`` (1.0) scales the chosen dimension tool's default intensity when the
    lexicon leaves it open, with the same meaning and default as ``rule-pipeline``'s, so the two
    differ only in planning.
    """

    name = "edit-only"
    version = "1"

    def __init__(self, strength: float = 1.0) -> None:
        if not 0.0 <= float(strength) <= 2.0:
            raise ValueError(f"strength must lie in [0, 2], got {strength}")
        self.strength = float(strength)

    def info(self) -> SystemInfo:
        return SystemInfo(track="edit-only", description="One classical tool call chosen by lexicon votes over the "
                          "raw goal; whole image; no planning.", tools=lx.all_actions())

    def plan(self, sample: Sample) -> Plan:
        context = dict(sample.context)
        choice = choose(sample.goal, advert=lx.is_advert(sample.goal, context, sample.description),
                        product=context.get("product"))
        a = choice.action
        params = lx.scaled_params(a, self.strength)
        text = (f"Set {a.dimension.replace('_', ' ')} to {(a.value or '').replace('_', ' ')}" if a.dimension
                else f"{a.action.replace('_', ' ').capitalize()}: {a.why}")
        sub = Subtask(id="s1", text=text, reasoning=choice.reasoning, action=a.action,
                      action_params=lx.paper_action_params(a, {}, sample.goal), tool=a.action, params=params,
                      region=None)
        return Plan(subtasks=(sub,), instruction=sample.goal, reasoning=choice.reasoning)

    def edit(self, sample: Sample, image: Image.Image, ctx: EditContext) -> Trajectory:
        plan = self.plan(sample)
        st = plan.subtasks[0]
        try:
            out, _ = ctx.apply_tool(st.tool or "", image, dict(st.params), None, subtask=st.id,
                                    instruction=sample.goal)
        except ToolError as err:
            return ctx.trajectory(None, plan=plan, status="failed", error=f"{st.tool}: {err}")
        return ctx.trajectory(out, plan=plan)
