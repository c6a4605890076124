"""Running a built judge on probe items (controls, canaries) the way the runner would, never raising.

Probe items are not the run's trajectories, so :func:`bench.judging.judge_tasks` (which keys its
output by stored trajectories) does not fit; this is its small sibling: batches of the judge's own
size, one failure turning its batch into ``error`` judgements, ``judge_id`` filled in.
"""

from __future__ import annotations

import copy
import logging
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

from bench.components import Built
from bench.judging import judge_batch_size
from bench.model import Judgement, Sample, Trajectory
from bench.protocols import JudgeItem
from bench.store import RunStore

log = logging.getLogger(__name__)


def make_item(
    suite: str,
    sample: Sample,
    source: Image.Image,
    final: Image.Image,
    trajectory: Trajectory,
    *,
    store: RunStore | None = None,
    other: JudgeItem | None = None,
    load_image: Callable[[str], Image.Image] | None = None,
) -> JudgeItem:
    """A :class:`JudgeItem` for a probe; with ``store``, raw replies and sidecars go through the run."""
    return JudgeItem(
        suite=suite,
        sample=sample,
        source=source,
        final=final,
        trajectory=trajectory,
        load_image=load_image or (store.images.get if store is not None else None),
        other=other,
        put_raw=store.put_raw if store is not None else None,
        get_sidecar=store.images.get_sidecar if store is not None else None,
    )


def judge_items(b: Built, items: Sequence[JudgeItem], judge: Any = None) -> list[Judgement]:
    """One judgement per item, in order; a judge that raises gives ``error`` judgements for its batch.

    ``judge`` overrides the object that judges (an uncached copy for canaries); ``b`` still names it.
    """
    obj = judge if judge is not None else b.obj
    size = judge_batch_size(b)
    out: list[Judgement] = []
    for start in range(0, len(items), size):
        batch = list(items[start : start + size])
        try:
            got = list(obj.judge(batch))
            if len(got) != len(batch):
                raise RuntimeError(f"returned {len(got)} judgements for {len(batch)} items")
        except Exception as err:
            log.debug("probe judging failed: %s", traceback.format_exc())
            got = [
                Judgement(
                    suite=it.suite,
                    sample_id=it.sample.id,
                    system_id=it.trajectory.system_id,
                    judge_id=b.id,
                    status="error",
                    error=f"{type(err).__name__}: {err}",
                )
                for it in batch
            ]
        for it, j in zip(batch, got, strict=True):
            versus = it.other.trajectory.system_id if it.other is not None else None
            out.append(
                j.replace(
                    suite=it.suite,
                    sample_id=it.sample.id,
                    system_id=it.trajectory.system_id,
                    versus=versus,
                    judge_id=b.id,
                )
            )
    return out


def uncached(b: Built) -> tuple[Any, str]:
    """The judge to use without the shared reply cache, and what was done: ``bypassed`` (a copy
    with the cache switched off), ``off`` (its cache was off already) or ``none`` (it has none).

    Judges that use the cache expose it as a boolean attribute ``cache`` (the VLM judges' option);
    a shallow copy with ``cache=False`` shares the backend but neither reads nor writes the cache.
    Judges without one (metrics, the heuristic) compute afresh anyway and are returned as they are.
    """
    cache = getattr(b.obj, "cache", None)
    if not isinstance(cache, bool):
        return b.obj, "none"
    if not cache:
        return b.obj, "off"
    clone = copy.copy(b.obj)
    clone.cache = False
    return clone, "bypassed"
