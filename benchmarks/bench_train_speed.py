"""How fast editbench's trainer runs LoRA steps of paper B's planner class, against the anchors.

Paper B's public code pads every sample to 2,048 tokens and puts loss on all of them (READING §6.1);
``../shared/anchors/h100-train.json`` measured what that costs on the lent H100 (Qwen3-8B class:
2.44 samples/s padded to 2,048; 7.28 samples/s on 640-token samples). This script runs
``baselines.training``'s own trainer (the real loop: accelerate, bf16 autocast, LoRA through peft,
collation, masked per-trajectory loss with ``logits_to_keep``) on a real-size architecture built
from its config with random weights (throughput does not depend on the weights' values), in two
ways on the same model:

- ``editbench``: realistic plan samples (prompt 380-520 tokens, target 130-250, mean ~640), padded to
  each micro-batch's longest row, prompt masked (``preset=paper``);
- ``padded-2048``: the same samples padded to 2,048 with loss on every token (``preset=code``).

It reports samples/s, tokens/s and peak GPU memory for both, and the ratios to the anchors
(the issue's target: at least 2.5x paper B's padded figure at realistic lengths).

On the device (a GPU session):   python -m benchmarks.bench_train_speed --model qwen3-8b-class --json $OUT/train_speed.json
On a CPU (checks the script):   python -m benchmarks.bench_train_speed --tiny
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

SIZES: dict[str, dict[str, int]] = {  # as ../shared/anchors/gpu_train_anchors.py
    "qwen3-4b-class": dict(hidden_size=2560, intermediate_size=9728, num_hidden_layers=36, num_attention_heads=32,
                           num_key_value_heads=8, head_dim=128),
    "qwen3-8b-class": dict(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36, num_attention_heads=32,
                           num_key_value_heads=8, head_dim=128),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=16),
}
ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "anchors" / "h100-train.json"
LORA_ALL = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"


class _Tok:
    """What the trainer needs of a tokenizer here: the pad id."""

    pad_token_id = 0
    eos_token_id = 1


def _model(name: str, device: str, bf16: bool) -> Any:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    vocab = 151936 if name != "tiny" else 512
    cfg = Qwen3Config(vocab_size=vocab, max_position_embeddings=4096, tie_word_embeddings=False, **SIZES[name])
    torch.set_default_dtype(torch.bfloat16 if bf16 else torch.float32)
    try:
        with torch.device(device):
            model = Qwen3ForCausalLM(cfg)
    finally:
        torch.set_default_dtype(torch.float32)
    model.config.use_cache = False
    return model, vocab


def _rows(n: int, vocab: int, prompt: tuple[int, int], target: tuple[int, int], seed: int, mask_prompt: bool) -> list[Any]:
    from baselines.training.encode import IGNORE, Encoded

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        p, t = rng.randint(*prompt), rng.randint(*target)
        ids = [rng.randrange(2, vocab) for _ in range(p + t)]
        labels = ([IGNORE] * p if mask_prompt else ids[:p]) + ids[p:]
        out.append(Encoded(ids, labels, p))
    return out


def measure(name: str, mode: str, a: argparse.Namespace) -> dict[str, Any]:
    """Samples/s of ``steps`` optimizer steps (after ``warmup``) of the trainer in ``mode``."""
    import torch

    from baselines.training.options import TrainOptions
    from baselines.training.trainer import Loaded, Prepared, Trainer

    cuda = torch.cuda.is_available() and not a.tiny
    device = "cuda" if cuda else "cpu"
    scale = 1 if not a.tiny else 16  # --tiny: lengths / 16 (2048 -> 128)
    max_len = 2048 // scale
    prompt = (380 // scale, 520 // scale)
    target = (130 // scale, 250 // scale)
    preset = "paper" if mode == "editbench" else "code"
    n = a.batch * (a.steps + a.warmup)
    kw: dict[str, Any] = dict(batch_size=a.batch, micro_batch=a.batch, epochs=1, max_steps=a.steps + a.warmup,
                              lr=2e-5, warmup=0, checkpoint_every=10**9, lora_targets=LORA_ALL, lora_r=16,
                              lora_alpha=32, lora_dropout=0.05, gradient_checkpointing=cuda, max_length=max_len,
                              precision="bf16" if cuda else "fp32", truncation="cut")
    opts = TrainOptions.resolve("s", preset, **kw)
    model, vocab = _model(name, device, bf16=cuda)
    rows = _rows(n, vocab, prompt, target, a.seed, mask_prompt=opts.mask_prompt)
    data = Prepared(rows=rows, weights=[1.0] * n, keys=[str(i) for i in range(n)], normaliser="count")
    stamps: list[float] = []

    def tick(step: int, metrics: dict[str, Any]) -> None:
        if cuda:
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())

    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    out_dir = Path(a.scratch) / f"{name}-{mode}"
    res = Trainer(Loaded(model, _Tok(), None, False, "random"), data, opts, out_dir, callback=tick,
                  show_progress=False, restart=True).run()
    timed = stamps[a.warmup:]
    dt = (timed[-1] - stamps[a.warmup - 1]) / len(timed) if a.warmup else (timed[-1] - timed[0]) / max(1, len(timed) - 1)
    # rows are taken in the trainer's shuffled order: count the tokens of the batches actually timed
    tokens = sum(len(r.input_ids) for r in rows) / n * a.batch
    padded = (max_len if mode == "padded-2048" else None)
    out = {"model": name, "mode": mode, "device": torch.cuda.get_device_name(0) if cuda else "cpu",
           "batch": a.batch, "s_per_step": round(dt, 4), "samples_s": round(a.batch / dt, 3),
           "real_tokens_s": round(tokens / dt), "padded_to": padded or "longest in the micro-batch",
           "mean_tokens_per_sample": round(tokens / a.batch, 1), "final_loss": res.history[-1].get("loss"),
           "trainable_m": round(sum(p.numel() for p in res.model.parameters() if p.requires_grad) / 1e6, 1),
           "params_b": round(sum(p.numel() for p in res.model.parameters()) / 1e9, 2)}
    if cuda:
        out["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    del model, res
    if cuda:
        torch.cuda.empty_cache()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", choices=[k for k in SIZES if k != "tiny"],
                   help="Repeatable (default: qwen3-8b-class).")
    p.add_argument("--tiny", action="store_true", help="A tiny config on the CPU, lengths / 16: checks the script.")
    p.add_argument("--batch", type=int, default=4, help="Samples per optimizer step (the anchors use 4).")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="Write the results here.")
    p.add_argument("--scratch", default=os.environ.get("TMPDIR", "/tmp") + "/editbench-train-speed")
    a = p.parse_args(argv)
    models = ["tiny"] if a.tiny else (a.model or ["qwen3-8b-class"])
    anchors = json.loads(ANCHORS.read_text()) if ANCHORS.exists() else {}
    results: dict[str, Any] = {"anchors_file": str(ANCHORS) if anchors else None, "runs": []}
    for name in models:
        got = {mode: measure(name, mode, a) for mode in ("padded-2048", "editbench")}
        row: dict[str, Any] = {"model": name, **{f"{m}": g for m, g in got.items()}}
        ours, padded = got["editbench"]["samples_s"], got["padded-2048"]["samples_s"]
        row["editbench_vs_own_padded"] = round(ours / padded, 2)
        anchor = anchors.get(name)
        if anchor and not a.tiny:
            row["anchor_padded_2048_samples_s"] = anchor["seq2048_samples_s"]
            row["anchor_640_samples_s"] = anchor["seq640_samples_s"]
            row["editbench_vs_anchor_padded"] = round(ours / anchor["seq2048_samples_s"], 2)
            row["editbench_vs_anchor_640"] = round(ours / anchor["seq640_samples_s"], 2)
            row["padded_vs_anchor_padded"] = round(padded / anchor["seq2048_samples_s"], 2)
        results["runs"].append(row)
        print(json.dumps(row, indent=1), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    ok = all(math.isfinite(r["editbench"]["samples_s"]) for r in results["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
