"""Checkpoints that survive a kill: one file per checkpoint, written to a temporary name and renamed.

A checkpoint holds everything the next step depends on: the trainable weights, the optimizer and
schedule state, every random generator (LoRA dropout draws from torch's), the step reached, the
running counters and the metrics so far, and a fingerprint of the training (options, data, base).
Resuming loads the newest checkpoint whose fingerprint matches and continues from its step; the
data order of every epoch is a function of the seed and the epoch, so the resumed run sees exactly
the batches the uninterrupted one would have, and ends with the same weights.
"""

from __future__ import annotations

import logging
import os
import random
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_NAME = re.compile(r"step-(\d{8})\.pt$")
KEEP = 2


def rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    out: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(folder: str | os.PathLike, step: int, state: dict[str, Any]) -> Path:
    """Write ``state`` as ``folder/step-NNNNNNNN.pt`` atomically; keep the newest :data:`KEEP`."""
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:08d}.pt"
    tmp = folder / f".tmp-{os.getpid()}-step-{step:08d}.pt"
    torch.save(state, tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    for old in sorted(p for p in folder.iterdir() if _NAME.search(p.name))[:-KEEP]:
        old.unlink(missing_ok=True)
    return final


def latest(folder: str | os.PathLike, fingerprint: str) -> dict[str, Any] | None:
    """The newest readable checkpoint in ``folder`` with this fingerprint, or ``None``.

    A checkpoint of a different training (another fingerprint) is a usage error, not something to
    silently train over.
    """
    import torch

    from bench.errors import UsageError

    folder = Path(folder)
    if not folder.exists():
        return None
    for path in sorted((p for p in folder.iterdir() if _NAME.search(p.name)), reverse=True):
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:  # a damaged file: fall back to the one before
            log.warning("checkpoint %s is unreadable (%s); trying an older one", path, err)
            continue
        if state.get("fingerprint") != fingerprint:
            raise UsageError(f"{folder} holds a checkpoint of a different training (other options, data or base): "
                             "use another --out, or --restart to discard it", file=str(path))
        return state
    return None
