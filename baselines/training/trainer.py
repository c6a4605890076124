"""The one trainer: S, R, RW and SW as a filter, a weight and a normaliser (:mod:`.methods`), plus DPO.

For every optimizer batch ``b`` (``batch_size`` trajectories, ``micro_batch`` at a time) the loss is
``Σ_{i∈b} w_i ℓ_i / N_b`` with ``ℓ_i`` the trajectory's NLL over its target tokens
(:func:`.encode.sequence_nll`); a batch whose ``N_b`` is 0 (RW with every weight 0) is skipped and
counted. DPO's loss is ``-log σ(β[(log π(τ_w) − log π_ref(τ_w)) − (log π(τ_l) − log π_ref(τ_l))])``
averaged over the batch's pairs; the reference is the base model with the adapters off, and since
it never changes its log-probabilities are computed once before training.

The model is a ``transformers`` causal LM (or a vision-language model for ``modality=vision``)
with LoRA adapters from ``peft`` (``adapter=lora``) or all weights trainable (``adapter=full``, for
models trained from a tiny config). ``accelerate`` places it and runs it in bf16 on CUDA and across
processes (``accelerate launch``): every process takes its share of each batch's micro-batches,
and since every process knows every weight, ``N_b`` is the global one with no communication.

TRL is not used: its trainers own the data loop, and the methods here differ exactly in that loop
(per-trajectory weights, a normaliser over the whole accumulated batch, skipped batches, resuming
mid-epoch); DPO's loss is one line, written here as the paper states it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ids import content_hash, derive_seed

from . import checkpoint as ckpt
from .encode import Encoded, collate, encode, sequence_nll
from .methods import dpo_pairs, normaliser, select, sw_weights
from .options import TrainOptions
from .records import TrainRecord, hf_conversation, planner_messages, target_text

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """The base model and what encodes its inputs."""

    model: Any
    tokenizer: Any
    processor: Any  # a vision model's AutoProcessor, else None
    vision: bool
    revision: str


def load_base(base: str, opts: TrainOptions, device: str) -> Loaded:
    """Load ``base`` (a local folder or a hub id already cached) as a causal LM or a vision-language model."""
    import torch
    import transformers as tf
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING

    local = os.path.isdir(os.path.expanduser(base))
    path = os.path.expanduser(base)
    config = tf.AutoConfig.from_pretrained(path, local_files_only=True)
    vision = type(config) in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING
    dtype = torch.bfloat16 if _bf16(opts, device) else torch.float32
    kw: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    processor = None
    if vision:
        processor = tf.AutoProcessor.from_pretrained(path, local_files_only=True)
        tokenizer = processor.tokenizer
        model = tf.AutoModelForImageTextToText.from_pretrained(path, **kw)
    else:
        tokenizer = tf.AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = tf.AutoModelForCausalLM.from_pretrained(path, **kw)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if local:
        from bench.ids import file_content_hash

        revision = "sha256:" + file_content_hash(path)
    else:
        revision = str(getattr(config, "_commit_hash", None) or "unknown")
    return Loaded(model, tokenizer, processor, vision, revision)


def _bf16(opts: TrainOptions, device: str) -> bool:
    return opts.precision == "bf16" or (opts.precision == "auto" and device.startswith("cuda"))


def with_adapter(model: Any, opts: TrainOptions) -> Any:
    """LoRA adapters on ``opts.lora_targets`` (those the model has), or the model itself for ``full``."""
    if opts.adapter == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    import re

    from peft import LoraConfig, get_peft_model

    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    targets = [t for t in opts.lora_targets if t in names]
    if not targets:
        from bench.errors import UsageError

        raise UsageError(f"the model has none of the LoRA targets {list(opts.lora_targets)}", field="lora_targets")
    if opts.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    # The vision tower stays frozen (paper B L1364; its code freezes it in every mode): adapters go on
    # the language model's projections only, whose names may also occur in the tower (Qwen2.5-VL's MLP).
    pattern = r"^(?!.*(visual|vision_tower|vision_model)).*\.(" + "|".join(map(re.escape, targets)) + r")$"
    return get_peft_model(model, LoraConfig(r=opts.lora_r, lora_alpha=opts.lora_alpha, lora_dropout=opts.lora_dropout,
                                            target_modules=pattern, task_type="CAUSAL_LM"))


def lr_lambda(opts: TrainOptions, total: int) -> Callable[[int], float]:
    """Linear warmup, then cosine or linear decay to 0 (or constant) over ``total`` steps."""
    warm = opts.warmup_steps(total)

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / max(1, warm)
        if opts.schedule == "constant":
            return 1.0
        frac = (step - warm) / max(1, total - warm)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac))) if opts.schedule == "cosine" else max(0.0, 1.0 - frac)

    return f


# -- the losses -----------------------------------------------------------------------------------------
def weighted_loss(model: Any, rows: Sequence[Encoded], weights: Sequence[float], norm: float, opts: TrainOptions,
                  pad_id: int, device: Any = "cpu") -> Any:
    """``Σ w_i ℓ_i / norm`` over ``rows`` (one micro-batch; ``norm`` is the batch's normaliser)."""
    import torch

    batch = collate(rows, pad_id, pad_to=opts.pad_to, max_length=opts.max_length,
                    loss_on_padding=opts.loss_on_padding).to(device)
    nll = sequence_nll(model, batch, opts.token_reduction)
    w = torch.tensor(list(weights), dtype=nll.dtype, device=nll.device)
    return (w * nll).sum() / norm


def pair_logps(model: Any, chosen: Sequence[Encoded], rejected: Sequence[Encoded], opts: TrainOptions, pad_id: int,
               device: Any = "cpu") -> tuple[Any, Any]:
    """Log-probabilities of chosen and rejected sequences: the sum over target tokens, or (``dpo_logp=mean``)
    the mean over every labelled token."""
    batch = collate([*chosen, *rejected], pad_id, pad_to=opts.pad_to, max_length=opts.max_length).to(device)
    lp = -sequence_nll(model, batch, "sum" if opts.dpo_logp == "sum" else "mean")
    return lp[: len(chosen)], lp[len(chosen):]


def dpo_loss(pol_c: Any, pol_r: Any, ref_c: Any, ref_r: Any, beta: float) -> tuple[Any, Any]:
    """Per-pair DPO loss ``-log σ(β Δ)`` and the margins ``β Δ`` (preference accuracy: margin > 0)."""
    import torch

    margins = beta * ((pol_c - ref_c) - (pol_r - ref_r))
    return -torch.nn.functional.logsigmoid(margins), margins


# -- data ------------------------------------------------------------------------------------------------
@dataclass
class Prepared:
    """What the loop iterates over: weighted rows, or pairs with their reference log-probabilities."""

    rows: list[Encoded] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    pairs: list[tuple[Encoded, Encoded]] = field(default_factory=list)
    ref: list[tuple[float, float]] = field(default_factory=list)
    sw_rewards: list[float] = field(default_factory=list)  # sw_scope=batch: z is computed per batch
    normaliser: str = "count"
    eps: float = 0.0
    counts: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pairs) if self.pairs else len(self.rows)


def _encoder(lm: Loaded, opts: TrainOptions, description: bool) -> Callable[[TrainRecord, TrainRecord], Encoded | None]:
    def enc(rec: TrainRecord, input_of: TrainRecord) -> Encoded | None:
        image = None
        if opts.modality == "vision":
            from bench.images import load_image

            if not input_of.input.image_path:
                return None
            image = load_image(input_of.input.image_path)
        msgs = planner_messages(input_of.input, modality=opts.modality, description=description, image=image)
        conv = hf_conversation(msgs, lm.vision)
        text = target_text(rec.plan, target=opts.target, reasoning_order=opts.reasoning_order)
        return encode(lm.tokenizer, conv, text, processor=lm.processor if lm.vision else None,
                      mask_prompt=opts.mask_prompt, max_length=opts.max_length, truncation=opts.truncation)

    return enc


def prepare(lm: Loaded, records: Sequence[TrainRecord], opts: TrainOptions, *, description: bool = True,
            stats_records: Sequence[TrainRecord] | None = None) -> Prepared:
    """Filter, weigh and encode ``records`` for ``opts.method``; truncated targets are dropped and counted."""
    enc = _encoder(lm, opts, description)
    if opts.method == "dpo":
        pairs, counts = dpo_pairs(records, opts, seed=opts.seed)
        out = Prepared(counts=counts)
        truncated = 0
        for p in pairs:
            c, r = enc(p.chosen, p.input_of), enc(p.rejected, p.input_of)
            if c is None or r is None:
                truncated += 1
                continue
            out.pairs.append((c, r))
            out.keys.append(f"{p.chosen.key}>{p.rejected.key}")
        out.counts["dropped_truncated"] = truncated
        return out
    sel = select(records, opts, stats_records)
    out = Prepared(normaliser=sel.normaliser, eps=sel.eps, counts=dict(sel.counts))
    truncated = cut = 0
    for rec, w in zip(sel.records, sel.weights, strict=True):
        e = enc(rec, rec)
        if e is None:
            truncated += 1
            continue
        cut += int(e.truncated)
        out.rows.append(e)
        out.weights.append(float(w))
        out.keys.append(rec.key)
        out.sw_rewards.append(float(rec.reward) if rec.reward is not None else 0.0)
    out.counts.update(dropped_truncated=truncated, cut_truncated=cut, trained=len(out.rows))
    return out


# -- the loop --------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    out_dir: str
    steps: int
    history: list[dict[str, Any]]
    counts: dict[str, Any]
    seconds: float
    model: Any = field(default=None, repr=False)  # the trained model (peft-wrapped for LoRA)


def _epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    import torch

    g = torch.Generator().manual_seed(derive_seed(seed, "epoch", str(epoch)) % (2**63))
    return torch.randperm(n, generator=g).tolist()


def fingerprint(opts: TrainOptions, prepared: Prepared, base_revision: str) -> str:
    """What a checkpoint must match to be resumed: options (not the checkpoint cadence), data, base."""
    o = {k: v for k, v in opts.to_dict().items() if k not in ("checkpoint_every", "explicit")}
    return content_hash({"options": o, "keys": prepared.keys, "weights": prepared.weights, "base": base_revision})


class Trainer:
    """Runs one training into ``out_dir`` (``checkpoints/`` inside), resuming from its last checkpoint.

    ``callback(step, metrics)`` is called after every optimizer step, before that step's checkpoint
    (if it is one); tests use it to interrupt a run, benchmarks to time steps.
    """

    def __init__(self, lm: Loaded, prepared: Prepared, opts: TrainOptions, out_dir: str | os.PathLike, *,
                 callback: Callable[[int, dict[str, Any]], None] | None = None, show_progress: bool | None = None,
                 restart: bool = False) -> None:
        self.lm, self.data, self.opts = lm, prepared, opts
        self.out = Path(out_dir)
        self.callback = callback
        self.show_progress = show_progress
        self.restart = restart

    def run(self) -> TrainResult:
        import torch
        from accelerate import Accelerator

        from bench.errors import UsageError
        from bench.progress import progress

        opts, data = self.opts, self.data
        if len(data) == 0:
            raise UsageError(f"method {opts.method}: no training data left after filtering ({data.counts})")
        t0 = time.perf_counter()
        acc = Accelerator(mixed_precision="bf16" if _bf16(opts, "cuda" if torch.cuda.is_available() else "cpu")
                          else "no")
        torch.manual_seed(derive_seed(opts.seed, "init") % (2**63))
        model = with_adapter(self.lm.model, opts)
        ref = self._reference(model, acc.device) if opts.method == "dpo" else []
        params = [p for p in model.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=opts.lr, betas=opts.betas, weight_decay=opts.weight_decay)
        per_epoch = math.ceil(len(data) / opts.batch_size)
        total = opts.epochs * per_epoch if opts.max_steps is None else min(opts.max_steps, opts.epochs * per_epoch)
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_lambda(opts, total))
        model, optim = acc.prepare(model, optim)
        fp = fingerprint(opts, data, self.lm.revision)
        ck_dir = self.out / "checkpoints"
        if self.restart and ck_dir.exists():
            for p in ck_dir.iterdir():
                p.unlink()
        state = ckpt.latest(ck_dir, fp)
        step, history, counters = 0, [], {"skipped_batches": 0}
        if state is not None:
            acc.unwrap_model(model).load_state_dict(state["weights"], strict=False)
            optim.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            ckpt.set_rng_state(state["rng"])
            step, history, counters = int(state["step"]), list(state["history"]), dict(state["counters"])
            log.info("resuming %s from step %d of %d", self.out, step, total)
        else:
            torch.manual_seed(derive_seed(opts.seed, "train", str(acc.process_index)) % (2**63))
        model.train()
        bar = progress(total, f"train {opts.method}", self.show_progress if acc.is_main_process else False)
        bar.update(step)
        order: tuple[int, list[int]] | None = None
        try:
            while step < total:
                epoch, b = divmod(step, per_epoch)
                if order is None or order[0] != epoch:
                    order = (epoch, _epoch_order(len(data), opts.seed, epoch))
                idx = order[1][b * opts.batch_size:(b + 1) * opts.batch_size]
                metrics = self._step(model, optim, acc, idx, ref, counters)
                with warnings.catch_warnings():  # a skipped batch still advances the schedule, on purpose
                    warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
                    sched.step()
                step += 1
                metrics.update(step=step, epoch=epoch, lr=sched.get_last_lr()[0])
                history.append(metrics)
                bar.update(1)
                if "loss" in metrics:
                    bar.set_postfix(loss=f"{metrics['loss']:.4g}")
                if self.callback is not None:
                    self.callback(step, metrics)
                if acc.is_main_process and (step % opts.checkpoint_every == 0 or step == total):
                    ckpt.save(ck_dir, step, {"fingerprint": fp, "step": step, "history": history,
                                             "counters": counters, "rng": ckpt.rng_state(),
                                             "weights": _trainable_state(acc.unwrap_model(model)),
                                             "optimizer": optim.state_dict(), "scheduler": sched.state_dict()})
        finally:
            bar.close()
        return TrainResult(str(self.out), step, history, {**data.counts, **counters}, time.perf_counter() - t0,
                           acc.unwrap_model(model))

    # -- one optimizer step --------------------------------------------------------------------------
    def _step(self, model: Any, optim: Any, acc: Any, idx: list[int], ref: list[tuple[float, float]],
              counters: dict[str, Any]) -> dict[str, Any]:
        import torch

        opts, data = self.opts, self.data
        pad = self.lm.tokenizer.pad_token_id
        if opts.method != "dpo" and opts.normalise_over == "batch":  # less padding; the batch's sums are unchanged
            idx = sorted(idx, key=lambda i: len(data.rows[i].input_ids))
        micros = [idx[i:i + opts.micro_batch] for i in range(0, len(idx), opts.micro_batch)]
        mine = micros[acc.process_index::acc.num_processes]
        weights = {i: data.weights[i] for i in idx} if opts.method != "dpo" else {}
        if opts.method == "sw" and opts.sw_scope == "batch":
            recs = [_Reward(data.sw_rewards[i]) for i in idx]
            weights = dict(zip(idx, sw_weights(recs, opts), strict=True))  # type: ignore[arg-type]
        norm: float | None = float(len(idx))
        if opts.method != "dpo" and opts.normalise_over == "batch":
            norm = normaliser([weights[i] for i in idx], data.normaliser, data.eps)
        if norm is None:
            counters["skipped_batches"] += 1
            return {"skipped": True}
        total_loss, margins = 0.0, []
        for k, mb in enumerate(mine):
            sync = k == len(mine) - 1
            ctx = acc.no_sync(model) if not sync and acc.num_processes > 1 else _null()
            with ctx, acc.autocast():
                if opts.method == "dpo":
                    pc, pr = pair_logps(model, [data.pairs[i][0] for i in mb], [data.pairs[i][1] for i in mb],
                                        opts, pad, acc.device)
                    rc = torch.tensor([ref[i][0] for i in mb], device=pc.device)
                    rr = torch.tensor([ref[i][1] for i in mb], device=pc.device)
                    per, m = dpo_loss(pc, pr, rc, rr, opts.dpo_beta)
                    loss = per.sum() / norm
                    margins += m.detach().float().cpu().tolist()
                else:
                    w = [weights[i] for i in mb]
                    n = norm if opts.normalise_over == "batch" else normaliser(w, data.normaliser, data.eps)
                    if n is None:  # a micro-batch of zero weights under per-micro normalisation adds nothing
                        continue
                    loss = weighted_loss(model, [data.rows[i] for i in mb], w, n, opts, pad, acc.device)
                    if opts.normalise_over == "micro":
                        loss = loss / len(micros)
                loss = loss * acc.num_processes  # DDP averages gradients over processes
            acc.backward(loss)
            total_loss += float(loss.detach()) / acc.num_processes
        if opts.grad_clip:
            acc.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], opts.grad_clip)
        optim.step()
        optim.zero_grad(set_to_none=True)
        out: dict[str, Any] = {"loss": total_loss}
        if margins:
            out["pref_accuracy"] = sum(m > 0 for m in margins) / len(margins)
            out["margin"] = sum(margins) / len(margins)
        return out

    def _reference(self, model: Any, device: Any) -> list[tuple[float, float]]:
        """Reference log-probabilities of every pair: the base (adapters off), computed once."""
        import torch

        opts, data = self.opts, self.data
        model.to(device)
        model.eval()
        out: list[tuple[float, float]] = []
        off = model.disable_adapter() if hasattr(model, "disable_adapter") else _null()
        with torch.no_grad(), off:
            for i in range(0, len(data.pairs), opts.micro_batch):
                chunk = data.pairs[i:i + opts.micro_batch]
                with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16,
                                    enabled=_bf16(opts, str(device))):
                    c, r = pair_logps(model, [p[0] for p in chunk], [p[1] for p in chunk], opts,
                                      self.lm.tokenizer.pad_token_id, device)
                out += list(zip(c.float().tolist(), r.float().tolist(), strict=True))
        model.train()
        return out


@dataclass(frozen=True)
class _Reward:
    reward: float
    group: str = ""


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _trainable_state(model: Any) -> dict[str, Any]:
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k in names}


def validation_nll(lm: Loaded, model: Any, records: Sequence[TrainRecord], opts: TrainOptions,
                   description: bool = True) -> float:
    """Mean per-trajectory target NLL on ``records`` (the code's eval loss, with masking as trained)."""
    import torch

    enc = _encoder(lm, opts, description)
    rows = [e for e in (enc(r, r) for r in records) if e is not None]
    if not rows:
        return float("nan")
    device = next(model.parameters()).device
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(rows), opts.micro_batch):
            b = collate(rows[i:i + opts.micro_batch], lm.tokenizer.pad_token_id, pad_to="longest").to(device)
            total += float(sequence_nll(model, b, opts.token_reduction).sum())
    model.train()
    return total / len(rows)


def save_history(out_dir: str | os.PathLike, history: Sequence[dict[str, Any]]) -> None:
    """``metrics.jsonl``: one line per optimizer step (a non-finite number is written as ``null``)."""
    from bench.images import atomic_write

    def clean(v: Any) -> Any:
        return None if isinstance(v, float) and not math.isfinite(v) else v

    text = "".join(json.dumps({k: clean(v) for k, v in h.items()}) + "\n" for h in history)
    atomic_write(Path(out_dir) / "metrics.jsonl", text.encode("utf-8"))
