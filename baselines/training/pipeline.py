"""From records to a trained planner folder: split, (build a tiny base), train, save, record.

A trained planner is a folder (DESIGN, "The run store"):

```
OUT/
  train.json        kind, task (plan | orchestrate | subtasks: which question the model answers, see
                    .records), base (name and content hash), method, every option and its provenance,
                    the prompt format, data read (sources, reward judge and score, counts, retention),
                    splits (seed, fractions, every split's groups = source image ids), the result
  adapter/          LoRA weights (peft) with the tokenizer or processor      (adapter=lora)
  model/            the whole model with its tokenizer                       (adapter=full)
  base/             the tiny base built from a config, when --base tiny[:...]
  data/{train,val,test}.jsonl   the split records, as read
  metrics.jsonl     loss, learning rate, skipped batches, DPO preference accuracy per step
  checkpoints/      resumable state (re-running the same command continues from the last one)
```
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.ids import content_hash
from bench.images import atomic_write

from .options import PROVENANCE, TrainOptions
from .records import PROMPT_VERSIONS, TrainRecord, planner_messages, system_prompt, target_text
from .sources import write_records
from .splits import Splits, split_groups
from .tinylm import TinyConfig, save_tiny_base
from .trainer import Trainer, TrainResult, load_base, prepare, save_history, validation_nll

log = logging.getLogger(__name__)
TRAIN_JSON_VERSION = 1


@dataclass
class Outcome:
    """What :func:`train_planner` made: the folder, its ``train.json``, and the run's result."""

    out_dir: str
    train_json: dict[str, Any]
    result: TrainResult
    splits: Splits


def parse_tiny(base: str) -> TinyConfig | None:
    """``tiny`` or ``tiny:hidden=64,layers=2`` -> a :class:`TinyConfig`; anything else -> ``None``."""
    if base != "tiny" and not base.startswith("tiny:"):
        return None
    from bench.spec import parse_spec

    spec = parse_spec(base)
    try:
        return TinyConfig(**dict(spec.args))
    except TypeError as err:
        raise UsageError(f"bad tiny base {base!r}: {err}", field="--base") from None


def corpus(records: Sequence[TrainRecord], opts: TrainOptions, description: bool) -> list[str]:
    """The texts a tiny tokenizer is trained on: each training record's conversation as the chat
    template renders it (system prompt, request, target; the images left out), so what is
    frequent there merges."""
    import jinja2

    from .tinylm import CHAT_TEMPLATE

    tmpl = jinja2.Environment().from_string(CHAT_TEMPLATE)
    texts = []
    for r in records:
        msgs = [{"role": m.role, "content": m.text()}
                for m in planner_messages(r.input, modality="text", description=description)]
        text = tmpl.render(messages=msgs, add_generation_prompt=True) + target_text(
            r.plan, target=opts.target, reasoning_order=opts.reasoning_order)
        for special in ("<|im_start|>", "<|im_end|>"):  # single tokens of their own: not merge material
            text = text.replace(special, "\x00")
        texts.extend(t for t in text.split("\x00") if t)
    return texts


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("editbench", "torch", "transformers", "peft", "accelerate"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def train_planner(records: Sequence[TrainRecord], *, base: str, out_dir: str | os.PathLike, opts: TrainOptions,
                  fractions: Mapping[str, float] | str | None = None, split_seed: int = 0,
                  exclude_images: Sequence[str] = (), data_info: Mapping[str, Any] | None = None,
                  description: bool = True, splits: Splits | None = None, restart: bool = False,
                  callback: Callable[[int, dict[str, Any]], None] | None = None,
                  show_progress: bool | None = None, device: str | None = None) -> Outcome:
    """Train ``opts.method`` on the train split of ``records`` from ``base`` into ``out_dir``.

    ``base`` is a model folder, a hub id in the local cache, or ``tiny[:k=v,...]`` (a
    :class:`TinyConfig` model with a tokenizer trained on the training split, saved in
    ``out_dir/base``). Re-running with the same arguments resumes from the last checkpoint.
    """
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if splits is None:
        splits = split_groups(records, fractions, split_seed, exclude_images)
    train = splits["train"]
    if not train:
        raise UsageError("the train split is empty (no records, or every group excluded)")
    task = task_of_records(records)
    tiny = parse_tiny(base)
    base_ref = base
    if tiny is not None:
        base = str(out / "base")
        texts = corpus(train, opts, description)
        made = {"config": tiny.to_dict(), "corpus": content_hash(texts)}
        stamp = Path(base) / "made_from.json"
        if not stamp.exists() or json.loads(stamp.read_text()) != made:  # the data or the config changed
            save_tiny_base(base, texts, tiny)
            stamp.write_text(json.dumps(made))
        base_ref = "base"  # relative to the trained planner's folder
    lm = load_base(base, opts, device)
    if opts.modality == "vision" and not lm.vision:
        raise UsageError(f"modality=vision needs a vision-language model; {base_ref} is text-only", field="modality")
    stats = [r for part in splits.parts.values() for r in part] if opts.sw_stats == "all" else train
    data = prepare(lm, train, opts, description=description, stats_records=stats)
    result = Trainer(lm, data, opts, out, callback=callback, show_progress=show_progress, restart=restart).run()
    model = result.model
    kind = "lora-adapter" if opts.adapter == "lora" else "full-model"
    weights_dir = out / ("adapter" if opts.adapter == "lora" else "model")
    model.save_pretrained(weights_dir)
    (lm.processor or lm.tokenizer).save_pretrained(weights_dir)
    val_nll = validation_nll(lm, model, splits.parts.get("val", []), opts, description) if splits.parts.get("val") \
        else float("nan")
    save_history(out, result.history)
    (out / "data").mkdir(exist_ok=True)
    for name, part in splits.parts.items():
        write_records(out / "data" / f"{name}.jsonl", part)
    steps = [h for h in result.history if "loss" in h]
    info = {
        "v": TRAIN_JSON_VERSION, "kind": kind, "task": task, "method": opts.method, "preset": opts.preset,
        "base": {"model": base_ref, "revision": lm.revision, "tiny": tiny.to_dict() if tiny else None,
                 "vision": lm.vision},
        "weights": weights_dir.name,
        "prompt": {"task": task, "version": PROMPT_VERSIONS[task], "system": system_prompt(task),
                   "modality": opts.modality,
                   "description": bool(description), "target": opts.target, "reasoning_order": opts.reasoning_order,
                   "reading": _reader(train), "goal": any(bool(r.input.goal) for r in train)},
        "options": opts.to_dict(), "provenance": {k: list(v) for k, v in PROVENANCE.items()},
        "data": {**dict(data_info or {}), "counts": _finite(result.counts)},
        "reward_judge": (data_info or {}).get("reward_judge"),
        "splits": splits.to_dict(), "training_image_ids": sorted({r.group for r in train}),
        "result": _finite({"steps": result.steps, "seconds": result.seconds,
                           "final_loss": steps[-1]["loss"] if steps else None,
                           "val_nll": val_nll, "skipped_batches": result.counts.get("skipped_batches", 0),
                           "pref_accuracy_last": next((h["pref_accuracy"] for h in reversed(steps)
                                                       if "pref_accuracy" in h), None)}),
        "versions": _versions(),
    }
    atomic_write(out / "train.json", (json.dumps(info, indent=1, allow_nan=False) + "\n").encode("utf-8"))
    return Outcome(str(out), info, result, splits)


def task_of_records(records: Sequence[TrainRecord]) -> str:
    """The one task every record trains (:data:`.records.TASKS`); records of two tasks are a usage error
    (one model answers one question in one format)."""
    tasks = sorted({r.task for r in records})
    if len(tasks) > 1:
        raise UsageError(f"the records train different tasks ({', '.join(tasks)}): train one task per model")
    return tasks[0] if tasks else "plan"


def _reader(records: Sequence[TrainRecord]) -> str | None:
    """Which goal reader the training inputs carry (the trained planner recomputes it at inference)."""
    if not any(r.input.reading for r in records):
        return None
    from .testbed import READER

    return READER


def _finite(obj: Any) -> Any:
    """NaN and infinities become ``None`` (``train.json`` never holds NaN)."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def read_train_json(path: str | os.PathLike) -> dict[str, Any]:
    """``train.json`` of a trained planner folder (``path`` is the folder or the file)."""
    p = Path(path)
    p = p / "train.json" if p.is_dir() else p
    if not p.exists():
        raise UsageError("not a trained planner folder (no train.json)", file=str(p.parent))
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError as err:
        raise UsageError(f"train.json is not valid JSON: {err}", file=str(p)) from None
