"""``build_annotation_page``: run stores in, a static annotation page out (works from ``file://``).

Output::

    out/index.html        the page shell (keyboard shortcuts documented on it)
    out/annotate.js       vanilla JS: rendering, shortcuts, autosave (localStorage), export
    out/annotate.css
    out/data-meta.js      run key, mode, dimensions: ``window.EDITBENCH_ANNOTATE = {...}``
    out/data-0000.js ...  the samples, in chunks of ``CHUNK`` (plain ``<script src>``: no fetch)
    out/img/<id>.png      every image shown, copied from the run stores by content id

The page never holds a system id or name: each result is named by
:func:`bench.labels.blind_token`, which differs per sample, so annotators judge blind and the
import (:func:`bench.labels.validate_labels`) maps tokens back using the runs. Rate mode shows
one result at a time with its plan; rank mode shows a sample's results side by side, images only
(a plan's shape would give a system away), in an order the page shuffles per annotator.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bench.errors import UsageError
from bench.images import atomic_write
from bench.labels import LABEL_FORMAT, RANK_DIMENSIONS, RATE_DIMENSIONS, blind_token, run_key
from bench.model import SCHEMA_VERSION, Sample, Trajectory
from bench.results import Results, load_results

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CHUNK = 100
STATIC = ("annotate.js", "annotate.css")
_ID = re.compile(r"^[0-9a-f]{64}$")
_DATA_FILE = re.compile(r"^data-(meta|\d{4})\.js$")


@dataclass
class PageData:
    """What the page shows: its meta block and one dict per sample."""

    meta: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)
    images: set[str] = field(default_factory=set)


def _plan_view(t: Trajectory) -> dict[str, Any] | None:
    if t.plan is None:
        return None
    p = t.plan
    return {
        "instruction": p.instruction,
        "reasoning": p.reasoning,
        "subtasks": [
            {
                "text": s.text, "reasoning": s.reasoning, "action": s.action, "tool": s.tool,
                "params": json.dumps(s.params or s.action_params, ensure_ascii=False, sort_keys=True)
                if (s.params or s.action_params) else "",
            }
            for s in p.subtasks
        ],
    }


def _steps_view(t: Trajectory) -> list[dict[str, Any]]:
    return [{"tool": s.tool, "instruction": s.instruction, "error": s.error} for s in t.steps]


def _sample_view(suite: str, sample: Sample, image: str | None) -> dict[str, Any]:
    return {
        "suite": suite, "sample_id": sample.id, "goal": sample.goal, "image": image,
        "checklist": [{"id": c.id, "text": c.text, "kind": c.kind} for c in sample.checklist],
        "preserve": list(sample.preserve),
        "context": {k: str(v) for k, v in sample.context.items()},
    }


def assemble(res: Results, *, mode: Literal["rate", "rank"] = "rate", limit: int | None = None,
             top: int = 3, title: str | None = None) -> PageData:
    """Choose the samples and results to show. ``limit``: the first N samples of each suite.

    A result is shown when its trajectory is ``ok`` and its final image is in a run store. Rate
    mode keeps samples with at least one such result; rank mode needs two (nothing to rank
    otherwise). Skipped samples are counted in ``meta["skipped"]``.
    """
    if mode not in ("rate", "rank"):
        raise UsageError(f"--mode must be 'rate' or 'rank', got {mode!r}")
    if limit is not None and limit < 0:
        raise UsageError("--limit must be >= 0")
    if top < 1:
        raise UsageError("--top must be >= 1")
    by_sample: dict[tuple[str, str], list[Trajectory]] = {}
    for (suite, sample_id, _system), t in sorted(res.trajectories.items()):
        by_sample.setdefault((suite, sample_id), []).append(t)
    dims = RATE_DIMENSIONS if mode == "rate" else RANK_DIMENSIONS
    data = PageData(meta={})
    per_suite: dict[str, int] = {}
    skipped = {"no_result": 0, "too_few_results": 0, "missing_source_image": 0}

    def shown(image_id: str | None) -> str | None:
        if image_id and _ID.match(image_id) and res.image_path(image_id) is not None:
            data.images.add(image_id)
            return f"img/{image_id}.png"
        return None

    for (suite, sample_id), sample in res.samples.items():
        if limit is not None and per_suite.get(suite, 0) >= limit:
            continue
        per_suite[suite] = per_suite.get(suite, 0) + 1
        results = []
        for t in by_sample.get((suite, sample_id), []):
            if t.status != "ok" or not t.final or not _ID.match(t.final) or res.image_path(t.final) is None:
                continue
            view: dict[str, Any] = {"token": blind_token(suite, sample_id, t.system_id), "final": t.final}
            if mode == "rate":
                view.update(plan=_plan_view(t), steps=_steps_view(t))
            results.append(view)
        if not results:
            skipped["no_result"] += 1
            continue
        if mode == "rank" and len(results) < 2:
            skipped["too_few_results"] += 1
            continue
        source = shown(sample.image.id)
        if source is None:
            skipped["missing_source_image"] += 1
            log.warning("%s/%s: source image not in the run stores; sample skipped", suite, sample_id)
            continue
        for view in results:
            view["image"] = shown(view.pop("final"))
        results.sort(key=lambda v: v["token"])  # stable and name-free; the page shuffles per annotator
        data.samples.append({**_sample_view(suite, sample, source), "results": results})
    data.meta = {
        "format": "editbench-annotate", "v": SCHEMA_VERSION, "label_format": LABEL_FORMAT,
        "run_key": run_key(res.runs), "runs": [m.get("name", "") for m in res.runs],
        "mode": mode, "top": top, "title": title or f"editbench annotation ({mode})",
        "dimensions": [{"id": d.id, "name": d.name, "help": d.help} for d in dims],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_samples": len(data.samples),
        "n_items": sum(len(s["results"]) for s in data.samples) if mode == "rate" else len(data.samples),
        "skipped": skipped,
    }
    return data


def _js(prefix: str, value: Any, suffix: str = ";\n") -> str:
    # JSON is JavaScript; ASCII-only output also escapes U+2028/9, which older engines reject.
    return f"{prefix}{json.dumps(value, ensure_ascii=True, separators=(',', ':'))}{suffix}"


def _copy_images(res: Results, out: Path, ids: set[str]) -> None:
    img = out / "img"
    img.mkdir(parents=True, exist_ok=True)
    for image_id in sorted(ids):
        dst = img / f"{image_id}.png"
        if dst.exists():
            continue
        src = res.image_path(image_id)
        if src is None:
            continue
        tmp = dst.with_name(f".tmp-{image_id}.png")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


def write_page(data: PageData, res: Results, out: Path) -> Path:
    """Write the page files for ``data`` into ``out``; returns ``index.html``."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # chunks of an earlier, larger build must not linger
        if _DATA_FILE.match(old.name):
            old.unlink()
    chunks = []
    atomic_write(out / "data-meta.js", _js("window.EDITBENCH_ANNOTATE = ", {"meta": data.meta, "samples": []}).encode())
    for i in range(0, max(len(data.samples), 1), CHUNK):
        name = f"data-{i // CHUNK:04d}.js"
        body = _js("window.EDITBENCH_ANNOTATE.samples.push.apply(window.EDITBENCH_ANNOTATE.samples, ",
                   data.samples[i:i + CHUNK], ");\n")
        atomic_write(out / name, body.encode())
        chunks.append(name)
    for name in STATIC:
        atomic_write(out / name, (HERE / name).read_bytes())
    _copy_images(res, out, data.images)
    env = Environment(loader=FileSystemLoader(str(HERE)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("index.html.j2").render(meta=data.meta, chunks=chunks)
    index = out / "index.html"
    atomic_write(index, html.encode("utf-8"))
    return index


def build_annotation_page(run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike, *,
                          mode: Literal["rate", "rank"] = "rate", limit: int | None = None, top: int = 3,
                          title: str | None = None) -> Path:
    """Write the annotation page for ``run_dirs`` into ``out``; returns the path of ``index.html``.

    Raises :class:`bench.errors.StoreError` for a folder that is not a run and
    :class:`bench.errors.UsageError` for bad options or when no sample can be shown.
    """
    res = load_results([Path(d) for d in run_dirs])
    try:
        data = assemble(res, mode=mode, limit=limit, top=top, title=title)
        if not data.samples:
            raise UsageError(f"nothing to annotate in mode {mode!r}: skipped {data.meta['skipped']}")
        index = write_page(data, res, Path(out))
    finally:
        for store in res.stores:
            store.close()
    log.info("annotation page (%s, %d samples) written to %s", mode, len(data.samples), index)
    return index
