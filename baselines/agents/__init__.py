"""The two papers' planning agents as editing systems.

- :mod:`.planner_orchestrator` (``planner-orchestrator``, paper A): a checklist-conditioned planner
  writes atomic subtasks; an orchestrator picks a tool and a region for each, zero-shot from a
  model or from a learned policy file (:mod:`.policy`); infeasible subtasks are dropped with the
  reason; the rest run one after the other.
- :mod:`.styling_planner` (``styling-planner``, paper B, Section 2): context extraction, a plan of
  actions from the 10- or 20-action library (:mod:`.library`) with reasoning before each action,
  instruction synthesis, and rendering in one editor call or action by action.

Both talk to a model through :mod:`.backends` (any registered chat backend, or the rule-based
offline backend of :mod:`.rules`), with prompts as versioned files under ``prompts/``
(:mod:`.templates`). Nothing here imports a heavy library at import time.
"""
