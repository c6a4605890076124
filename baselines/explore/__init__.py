"""Learning the orchestrator from judged outcomes (paper A), and measuring its two approximations.

The loop (commands in :mod:`bench.cli_explore`):

1. **Explore** (:mod:`.loop`, :mod:`.evaluate`, :mod:`.candidates`, :mod:`.plans`): for every
   subtask of a finished run's plans, apply each candidate (tool, parameters, region) to the
   original image and score it with a subtask judge; one exploration record per candidate and
   judge in ``explorations.jsonl``, resumable, edits and judgements cached by content.
2. **Spend less** (:mod:`.adaptive`): successive halving or a UCB bandit over the candidates,
   sharing statistics across similar subtasks, compared with the exhaustive choice.
3. **Learn** (:mod:`.learn`): a nearest-neighbour, linear or table policy over subtask words in
   the format ``planner-orchestrator:policy=PATH`` loads (:mod:`baselines.agents.policy`).
4. **Measure the approximations** (:mod:`.approximations`, :mod:`.report`): sequential execution on
   held-out samples; additivity, the original-image criterion, undone steps, with intervals.

On the styling suites the candidates are the scene-tool variants of
:mod:`baselines.tools.scene_variants` (documented strengths, so the right answer is known) and the
subtask judge is the exact ``attributes`` judge.
"""

from .adaptive import (
    ALLOCATORS,
    Allocation,
    Comparison,
    Problem,
    Pull,
    compare,
    exhaustive,
    successive_halving,
    ucb,
)
from .approximations import measure, write
from .candidates import DEFAULT_REGIONS, Arm, parse_regions, propose
from .evaluate import ExploreConfig, Explorer, Outcome, records_by_subtask, subtask_sample
from .learn import LearnResult, Split, fixed_policy, learn_policy, random_policy, split_samples
from .loop import Counts, ExploreSummary, explore
from .plans import PlannedSubtask, SamplePlan, read_plans, scene_target
from .report import render_fragment, write_fragment

__all__ = [
    "ALLOCATORS",
    "DEFAULT_REGIONS",
    "Allocation",
    "Arm",
    "Comparison",
    "Counts",
    "ExploreConfig",
    "ExploreSummary",
    "Explorer",
    "LearnResult",
    "Outcome",
    "PlannedSubtask",
    "Problem",
    "Pull",
    "SamplePlan",
    "Split",
    "compare",
    "exhaustive",
    "explore",
    "fixed_policy",
    "learn_policy",
    "measure",
    "parse_regions",
    "propose",
    "random_policy",
    "read_plans",
    "records_by_subtask",
    "render_fragment",
    "scene_target",
    "split_samples",
    "subtask_sample",
    "successive_halving",
    "ucb",
    "write",
    "write_fragment",
]
