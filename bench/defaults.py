"""What ``editbench run`` does with no arguments: built-in suites, systems and judges needing no weights.

The four generated suites at their full default size (40 samples each), the two rule baselines, both
papers' agents on their offline rule backends (so every agent step runs without a model), and the
weight-free judges. About 4.5 minutes on a 2-core machine from a cold cache.
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
