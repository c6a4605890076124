"""Learned-metric judges: LPIPS, CLIP, DINOv2, FID and KID, batched on the chosen device.

They wrap well-kept libraries (``lpips``, ``open_clip``, ``transformers``, ``torchmetrics``) and
are registered by name (``lpips``, ``clip``, ``dino``, ``fid``, ``kid``); importing this package
imports none of those libraries and loads no model. Shared conventions (device, dtype, the model
cache, failure statuses) are in :mod:`judges.learned._runtime`; each module's docstring says how
it aligns source and result sizes and where its weights come from.
"""

from __future__ import annotations

__all__ = ["CLIPJudge", "DINOJudge", "FIDJudge", "KIDJudge", "LPIPSJudge"]

_WHERE = {
    "CLIPJudge": "judges.learned.clip_judge",
    "DINOJudge": "judges.learned.dino_judge",
    "FIDJudge": "judges.learned.fid_judge",
    "KIDJudge": "judges.learned.fid_judge",
    "LPIPSJudge": "judges.learned.lpips_judge",
}


def __getattr__(name: str) -> object:
    """Lazy access (``from judges.learned import CLIPJudge``) without importing every module up front."""
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
