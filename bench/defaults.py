"""What ``editbench run`` does with no arguments: built-in suites, systems and judges needing no weights.

The four generated suites at their full default size (40 samples each), the two rule baselines, both
papers' agents on their offline rule backends (so every agent step runs without a model), and the
weight-free judges. About 3 minutes on an idle 2-core machine.
"""

from __future__ import annotations

DEFAULT_SUITES: tuple[str, ...] = ("ads-abstract", "styling-simple", "styling-regular", "styling-complex")
DEFAULT_SYSTEMS: tuple[str, ...] = (
    "edit-only",
    "rule-pipeline",
    "planner-orchestrator:backend=rules",
    "styling-planner:backend=rules",
)
DEFAULT_JUDGES: tuple[str, ...] = ("checklist-heuristic", "ssim", "psnr")
DEFAULT_RUNS_DIR = "runs"
