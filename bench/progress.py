"""One progress-bar helper, so library code never prints and the bar can be turned off in one place."""

from __future__ import annotations

import os
import sys
from typing import Any


def progress(total: int, desc: str, enabled: bool | None = None) -> Any:
    """A tqdm bar on stderr; disabled when not a terminal unless forced (``EDITBENCH_PROGRESS=1``)."""
    from tqdm.auto import tqdm

    if enabled is None:
        env = os.environ.get("EDITBENCH_PROGRESS")
        enabled = env == "1" if env is not None else sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True, file=sys.stderr)
