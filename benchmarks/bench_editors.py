"""Editor cost: editbench's ``instruct-edit`` tool against the raw diffusers pipeline, in one run.

It builds ONE pipeline architecture from config with seeded random weights (throughput does not
depend on the weights' values), writes it with ``save_pretrained`` and lets the tool load it
through the real ``from_pretrained(path)``, as a user's checkpoint would be. Then, on the same
images, the same weights and the same settings, it times:

* ``raw``  -- ``StableDiffusionInstructPix2PixPipeline.__call__`` on PIL images, batch 1 and batch
  ``--batch`` (one generator per image): the library's own figure;
* ``tool`` -- ``InstructEdit.apply`` one image at a time, and ``InstructEdit.apply_many`` on
  ``--batch`` images (one pipeline call): what editbench adds on top (validation, sizing,
  seeding, locking, conversion).

It prints seconds per edit, the batching gain (batch 1 / batch N) and the harness ratio (tool /
raw: 1.0 = editbench costs nothing), peak accelerator memory, and whether the tool's images are
pixel-identical to the raw pipeline's for the same seeds. With ``--device cuda`` the architecture
is the anchor's (``shared/anchors/gpu_anchors.py``, ``ip2p_sd15_class_512``): SD1.5 UNet (860M,
8 input channels) + SD VAE + CLIP ViT-L/14 text encoder, fp16, 512 px, 20 steps, 3-way guidance;
the anchor's hand-written loop reached 0.74 s/edit at batch 1 and 0.22 at batch 8 on an H100.
``--tiny`` runs the same code with the tiny test pipeline on the CPU in seconds.

    python -m benchmarks.bench_editors --device cuda            # real-size, on the GPU
    python -m benchmarks.bench_editors --tiny                   # tiny configs, CPU

Needs torch, diffusers and transformers. ``--json PATH`` (default ``$OUT/bench_editors.json``
when ``$OUT`` is set) writes the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

#: The anchor's figures (H100 80GB HBM3, torch 2.11, hand-written UNet loop without text encoder,
#: scheduler or image conversion): ``/work/shared/anchors/h100.json``, ``ip2p_sd15_class_512``.
ANCHOR = {"s_per_edit_b1": 0.739, "s_per_edit_b8": 0.216, "peak_gib": 5.8}


def real_ip2p_pipeline(device: str, dtype: Any) -> Any:
    """An InstructPix2Pix-class pipeline at Stable Diffusion 1.5 size, random weights, built on ``device``."""
    import torch
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline

    from tests.tiny_models import clip_tokenizer

    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # the networks are built in the target dtype, on the device (as the anchor)
    try:
        unet, vae, text = _real_networks(device)
    finally:
        torch.set_default_dtype(previous)
    return StableDiffusionInstructPix2PixPipeline(
        vae=vae, text_encoder=text, tokenizer=clip_tokenizer(), unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def _real_networks(device: str) -> tuple[Any, Any, Any]:
    """SD1.5's UNet with InstructPix2Pix's 8 input channels, SD's VAE, CLIP ViT-L/14's text tower."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from tests.tiny_models import clip_ids

    with torch.device(device):
        unet = UNet2DConditionModel(
            sample_size=64, in_channels=8, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3, cross_attention_dim=768, attention_head_dim=8,
        )
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
            latent_channels=4, sample_size=512, scaling_factor=0.18215,
        )
        # The byte-level test tokenizer's ids all fall inside CLIP's 49,408-token vocabulary.
        text = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                            num_attention_heads=12, max_position_embeddings=77, projection_dim=768,
                                            hidden_act="quick_gelu", **{**clip_ids(), "vocab_size": 49408}))
    return unet.eval(), vae.eval(), text.eval()


def images(n: int, size: int) -> list[Image.Image]:
    """Deterministic test images: a sky-to-ground gradient with a block and noise, one seed each."""
    out = []
    for i in range(n):
        rng = np.random.default_rng(i)
        y = np.linspace(0, 1, size)[:, None, None]
        img = np.broadcast_to(np.array([0.35, 0.6, 0.95]) * (1 - y) + np.array([0.25, 0.55, 0.22]) * y,
                              (size, size, 3)).copy()
        img[size // 3: size // 2, size // 4: size // 2] = (0.8, 0.2, 0.15)
        img += rng.normal(0, 0.03, img.shape)
        out.append(Image.fromarray(np.clip(np.rint(img * 255), 0, 255).astype(np.uint8), "RGB"))
    return out


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str, repeats: int) -> tuple[float, Any]:
    """Fastest of ``repeats`` runs of ``fn`` (after one warm-up run), and the last result."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        result = fn()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return best, result


def peak_gib(device: str) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.startswith("cuda") else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    import diffusers
    import torch

    from baselines.tools.diffusers_tools import InstructEdit
    from bench.context import ToolContext
    from bench.images import ImageStore

    device = args.device
    dtype_name = "float16" if device.startswith("cuda") else "float32"
    dtype = {"float16": torch.float16, "float32": torch.float32}[dtype_name]
    info: dict[str, Any] = {"device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
                            "torch": torch.__version__, "diffusers": diffusers.__version__, "tiny": args.tiny,
                            "size": args.size, "steps": args.steps, "batch": args.batch, "dtype": dtype_name}
    with tempfile.TemporaryDirectory(prefix="bench-editors-") as tmp:
        t0 = time.perf_counter()
        if args.tiny:
            from tests.tiny_models import ip2p_pipeline

            pipe = ip2p_pipeline()
        else:
            pipe = real_ip2p_pipeline(device, dtype)
        info["unet_mparams"] = round(sum(p.numel() for p in pipe.unet.parameters()) / 1e6, 1)
        folder = os.path.join(tmp, "ip2p")
        pipe.save_pretrained(folder)
        del pipe
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        info["build_and_save_s"] = round(time.perf_counter() - t0, 1)

        tool = InstructEdit(model=folder, device=device, dtype=dtype_name, batch_size=args.batch)
        t0 = time.perf_counter()
        loaded = tool.loaded(device)
        info["load_s"] = round(time.perf_counter() - t0, 1)
        ctx = ToolContext(images=ImageStore(os.path.join(tmp, "images")), seed=0, device=device)
        imgs = images(args.batch, args.size)
        params = [{"instruction": f"make it winter {i}", "steps": args.steps, "seed": i} for i in range(args.batch)]
        values = tool.validate(params[0])

        def raw(n: int) -> list[Image.Image]:
            gens = [torch.Generator("cpu").manual_seed(p["seed"]) for p in params[:n]]
            with torch.inference_mode():
                return loaded.pipe(prompt=[p["instruction"] for p in params[:n]], image=imgs[:n],
                                   negative_prompt=[""] * n, num_inference_steps=args.steps,
                                   guidance_scale=values["guidance_scale"],
                                   image_guidance_scale=values["image_guidance_scale"], generator=gens,
                                   output_type="pil").images

        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        rows: dict[str, float] = {}
        rows["raw_b1"], raw1 = timed(lambda: raw(1), device, args.repeats)
        rows["tool_b1"], tool1 = timed(lambda: [tool.apply(imgs[0], params[0], None, ctx)], device, args.repeats)
        rows["raw_bN"], rawN = timed(lambda: raw(args.batch), device, max(1, args.repeats - 1))
        rows["tool_bN"], toolN = timed(lambda: tool.apply_many(imgs, params, [None] * args.batch, ctx), device,
                                       max(1, args.repeats - 1))
        info["peak_gib"] = peak_gib(device)
        per_edit = {k: v / (1 if k.endswith("b1") else args.batch) for k, v in rows.items()}
        info["s_per_edit"] = {k: round(v, 4) for k, v in per_edit.items()}
        info["batching_gain"] = {"raw": round(per_edit["raw_b1"] / per_edit["raw_bN"], 2),
                                 "tool": round(per_edit["tool_b1"] / per_edit["tool_bN"], 2)}
        info["harness_ratio_tool_over_raw"] = {"b1": round(per_edit["tool_b1"] / per_edit["raw_b1"], 3),
                                               "bN": round(per_edit["tool_bN"] / per_edit["raw_bN"], 3)}

        def same(a: list[Image.Image], b: list[Image.Image]) -> bool:
            return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b, strict=True))

        info["tool_equals_raw"] = {"b1": same(raw1, tool1), "bN": same(rawN, toolN)}
        if not args.tiny and device.startswith("cuda"):
            info["anchor"] = ANCHOR
            info["raw_over_anchor"] = {"b1": round(per_edit["raw_b1"] / ANCHOR["s_per_edit_b1"], 2),
                                       "b8": round(per_edit["raw_bN"] / ANCHOR["s_per_edit_b8"], 2)}
    return info


def report(info: dict[str, Any]) -> str:
    s, n = info["s_per_edit"], info["batch"]
    lines = [
        f"instruct-edit (InstructPix2Pix class, UNet {info['unet_mparams']}M params, {info['size']} px, "
        f"{info['steps']} steps, {info['dtype']}) on {info['device']}; torch {info['torch']}, "
        f"diffusers {info['diffusers']}",
        f"  build+save {info['build_and_save_s']} s, load through from_pretrained {info['load_s']} s",
        f"  {'':8} {'batch 1 s/edit':>15} {f'batch {n} s/edit':>15} {'gain':>6}",
        f"  {'raw':8} {s['raw_b1']:>15.4f} {s['raw_bN']:>15.4f} {info['batching_gain']['raw']:>5}x",
        f"  {'tool':8} {s['tool_b1']:>15.4f} {s['tool_bN']:>15.4f} {info['batching_gain']['tool']:>5}x",
        f"  tool/raw: batch 1 {info['harness_ratio_tool_over_raw']['b1']}, batch {n} "
        f"{info['harness_ratio_tool_over_raw']['bN']}; tool images identical to raw: {info['tool_equals_raw']}",
        f"  peak memory: {info['peak_gib']} GiB" if info["peak_gib"] is not None else "  peak memory: n/a (CPU)",
    ]
    if "anchor" in info:
        a = info["anchor"]
        lines.append(f"  anchor (hand loop, H100): {a['s_per_edit_b1']} / {a['s_per_edit_b8']} s/edit, "
                     f"peak {a['peak_gib']} GiB; raw/anchor {info['raw_over_anchor']}")
    return "\n".join(lines)


def main() -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--tiny", action="store_true", help="tiny test pipeline (CPU, seconds) instead of SD1.5 size")
    p.add_argument("--size", type=int, default=None, help="image side in pixels (default 512; tiny: 32)")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default 20; tiny: 4)")
    p.add_argument("--batch", type=int, default=8, help="images per batched call")
    p.add_argument("--repeats", type=int, default=3, help="timed repetitions; the fastest counts")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (tiny: 1 is fastest)")
    p.add_argument("--json", default=os.path.join(os.environ["OUT"], "bench_editors.json") if os.environ.get("OUT")
                   else None)
    a = p.parse_args()
    a.size = a.size or (32 if a.tiny else 512)
    a.steps = a.steps or (4 if a.tiny else 20)
    if a.threads or a.tiny:
        torch.set_num_threads(a.threads or 1)
    if not a.tiny and not a.device.startswith("cuda"):
        p.error("the real-size pipeline needs --device cuda; use --tiny on a CPU")
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    info = run(a)
    print(report(info))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(info, fh, indent=1)


if __name__ == "__main__":
    main()
