"""What ``editbench run`` does with no arguments: built-in suites, systems and judges needing no weights.

Kept small enough to finish in a couple of minutes on a 2-core laptop, and complete enough that the
leaderboard it writes shows every kind of number editbench produces offline.
"""

from __future__ import annotations

DEFAULT_SUITES: tuple[str, ...] = ("ads-abstract:size=12",)
DEFAULT_SYSTEMS: tuple[str, ...] = ("edit-only", "rule-pipeline")
DEFAULT_JUDGES: tuple[str, ...] = ("ssim", "psnr")
DEFAULT_RUNS_DIR = "runs"
