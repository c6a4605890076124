"""Learned-metric throughput: editbench's batched judges against the raw libraries, in one run.

For each metric (LPIPS, CLIP, DINOv2, FID) this builds one network with seeded random weights
(throughput does not depend on the weights' values), saves it where the judge loads it through
its real loading path, and times three things on the same images and the same weights:

* ``loop``  — a per-item loop calling the library directly, batch 1, float32, with the library's
  own preprocessing (``lpips.im2tensor``, open_clip's transform, ...): what a script without
  batching does;
* ``raw``   — the library batched on tensors already on the device, in the judge's dtype: the
  ceiling, measured as ``/work/shared/anchors/gpu_anchors.py`` measures it;
* ``judge`` — ``Judge.judge(items)`` from PIL images to ``Judgement`` records, batched.

It prints items/s (an item is one source/result pair: LPIPS compares them, CLIP and DINO embed
both, FID feeds the source to the real set and the result to the fake one) and the ratios
judge/loop (what batching buys) and judge/raw (what the harness costs: 1.0 = nothing).

    python -m benchmarks.bench_learned_metrics                 # CPU: small models, small images
    python -m benchmarks.bench_learned_metrics --device cuda   # real-size architectures (the anchors')

``--arch full`` / ``--arch small`` overrides the choice; ``--json PATH`` writes the figures.
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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from bench.model import ImageRef, Sample, Trajectory
from bench.protocols import JudgeItem


@dataclass
class Case:
    """One benchmark line: the judge, its items, and the two raw-library baselines."""

    name: str
    judge: Any
    items: list[JudgeItem]
    loop: Callable[[list[JudgeItem]], Any]  # per item, batch 1
    raw: Callable[[], Any]  # batched on device tensors; processes ``raw_items`` items per call
    raw_items: int
    notes: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- helpers


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str, repeat: int = 3, warm: int = 1) -> float:
    """Seconds of the fastest of ``repeat`` calls, after ``warm`` untimed ones (robust to a busy machine)."""
    for _ in range(warm):
        fn()
    best = float("inf")
    for _ in range(repeat):
        sync(device)
        t = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best


def make_items(n: int, size: int, seed: int = 0) -> list[JudgeItem]:
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
        sample = Sample(
            id=f"s{k}", image=ImageRef(id=f"{k:064x}"), goal="make it look like a snowy winter evening"
        )
        traj = Trajectory(suite="bench@1", sample_id=f"s{k}", system_id="sys.bench", final=f"{k:064x}")
        items.append(
            JudgeItem(
                suite="bench@1",
                sample=sample,
                source=Image.fromarray(a),
                final=Image.fromarray(b),
                trajectory=traj,
            )
        )
    return items


def autocast(device: str, dtype: Any) -> Any:
    import contextlib

    return (
        contextlib.nullcontext()
        if dtype == torch.float32
        else torch.autocast(device.split(":")[0], dtype=dtype)
    )


DT = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

# ----------------------------------------------------------------------------- cases


def lpips_case(net: str, device: str, full: bool, tmp: str, n: int, batch: int, dtype: str) -> Case:
    import lpips
    import torchvision

    from judges.learned.lpips_judge import LPIPSJudge

    torch.manual_seed(0)
    tv = torchvision.models.alexnet(weights=None) if net == "alex" else torchvision.models.vgg16(weights=None)
    path = os.path.join(tmp, f"{net}-features.pth")
    torch.save({k: v for k, v in tv.state_dict().items() if k.startswith("features.")}, path)
    import lpips.pretrained_networks as pn

    orig = getattr(pn.tv, "alexnet" if net == "alex" else "vgg16")
    setattr(
        pn.tv, "alexnet" if net == "alex" else "vgg16", lambda *a, **k: tv
    )  # lpips builds on these weights
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = lpips.LPIPS(net=net, pretrained=True, pnet_rand=False, verbose=False).eval().to(device)
    finally:
        setattr(pn.tv, "alexnet" if net == "alex" else "vgg16", orig)
    size = 512 if full else 128
    items = make_items(n, size)
    judge = LPIPSJudge(net=net, weights=path, device=device, dtype=dtype, batch_size=batch)

    def loop(its: list[JudgeItem]) -> None:
        with torch.no_grad():
            for it in its:
                ref(
                    lpips.im2tensor(np.asarray(it.source)).to(device),
                    lpips.im2tensor(np.asarray(it.final)).to(device),
                )

    xa = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    xb = torch.rand(batch, 3, size, size, device=device) * 2 - 1

    def raw() -> None:
        with torch.no_grad(), autocast(device, DT[dtype]):
            ref(xa, xb)

    return Case(f"lpips-{net} {size}px", judge, items, loop, raw, batch, {"dtype": dtype})


def clip_case(arch: str, device: str, full: bool, tmp: str, n: int, batch: int, dtype: str) -> Case:
    import open_clip

    from judges.learned.clip_judge import CLIPJudge

    folder = os.path.join(tmp, f"clip-{arch}")
    os.makedirs(folder, exist_ok=True)
    cfg = (
        open_clip.get_model_config(arch)
        if full
        else {
            "embed_dim": 64,
            "vision_cfg": {"image_size": 64, "layers": 2, "width": 128, "patch_size": 16},
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
        }
    )
    with open(os.path.join(folder, "open_clip_config.json"), "w") as fh:
        json.dump({"model_cfg": cfg, "preprocess_cfg": {}}, fh)
    torch.manual_seed(0)
    ref, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + folder)
    torch.save(ref.state_dict(), os.path.join(folder, "open_clip_pytorch_model.bin"))
    ref = ref.eval().to(device)
    tok = open_clip.get_tokenizer("local-dir:" + folder)
    size = int(cfg["vision_cfg"]["image_size"])
    items = make_items(n, size)
    judge = CLIPJudge(model=folder, device=device, dtype=dtype, batch_size=batch)

    def loop(its: list[JudgeItem]) -> None:
        with torch.no_grad():
            for it in its:
                a = ref.encode_image(preprocess(it.final)[None].to(device))
                b = ref.encode_image(preprocess(it.source)[None].to(device))
                t = ref.encode_text(tok([it.sample.goal]).to(device))
                torch.nn.functional.cosine_similarity(a, t), torch.nn.functional.cosine_similarity(a, b)

    x = torch.rand(2 * batch, 3, size, size, device=device)
    t = tok(["make it look like a snowy winter evening"]).to(device)

    def raw() -> None:  # both images of ``batch`` items, and the goal text
        with torch.no_grad(), autocast(device, DT[dtype]):
            ref.encode_image(x), ref.encode_text(t)

    return Case(
        f"clip {arch if full else 'small'} {size}px", judge, items, loop, raw, batch, {"dtype": dtype}
    )


def dino_case(device: str, full: bool, tmp: str, n: int, batch: int, dtype: str) -> Case:
    from transformers import Dinov2Config, Dinov2Model

    from judges.learned.dino_judge import DINOJudge

    cfg = (
        Dinov2Config(hidden_size=768, num_hidden_layers=12, num_attention_heads=12)
        if full
        else Dinov2Config(
            hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, patch_size=14
        )
    )
    torch.manual_seed(0)
    folder = os.path.join(tmp, "dino")
    Dinov2Model(cfg).save_pretrained(folder)
    ref = Dinov2Model.from_pretrained(folder).eval().to(device)
    size = 224 if full else 112
    items = make_items(n, size)
    judge = DINOJudge(model=folder, size=size, device=device, dtype=dtype, batch_size=2 * batch)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

    def prep(im: Image.Image) -> Any:
        x = torch.from_numpy(np.array(im)).permute(2, 0, 1)[None].to(device).float() / 255
        return (x - mean) / std

    def loop(its: list[JudgeItem]) -> None:
        with torch.no_grad():
            for it in its:
                a = ref(pixel_values=prep(it.source)).last_hidden_state
                b = ref(pixel_values=prep(it.final)).last_hidden_state
                torch.nn.functional.cosine_similarity(a, b, dim=-1).mean()

    x = torch.rand(2 * batch, 3, size, size, device=device)

    def raw() -> None:
        with torch.no_grad(), autocast(device, DT[dtype]):
            ref(pixel_values=x)

    return Case(
        f"dinov2 {'base' if full else 'small'} {size}px", judge, items, loop, raw, batch, {"dtype": dtype}
    )


def inception_file(tmp: str) -> str:
    """torch-fidelity's FID InceptionV3 with seeded random weights, saved as its weights file."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    real_load, real_sd = fe.load_state_dict_from_url, fe.FeatureExtractorInceptionV3.load_state_dict
    fe.load_state_dict_from_url = lambda *a, **k: None
    fe.FeatureExtractorInceptionV3.load_state_dict = lambda self, sd, *a, **k: None
    try:
        torch.manual_seed(0)
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    finally:
        fe.load_state_dict_from_url, fe.FeatureExtractorInceptionV3.load_state_dict = real_load, real_sd
    path = os.path.join(tmp, fe.URL_INCEPTION_V3.rsplit("/", 1)[-1])
    torch.save(net.state_dict(), path)
    return path


def fid_case(device: str, full: bool, tmp: str, n: int, batch: int, dtype: str) -> Case:
    from torchmetrics.image.fid import FrechetInceptionDistance

    from judges.learned.fid_judge import FIDJudge

    path = inception_file(tmp)
    dims = 2048 if full else 64  # 64: the network stops after its first block (a CPU-sized run)
    size = 299 if full else 128
    items = make_items(n, size)
    judge = FIDJudge(
        feature_extractor_weights_path=path, dims=dims, device=device, dtype="float32", batch_size=batch
    )
    ref = FrechetInceptionDistance(feature=dims, feature_extractor_weights_path=path).to(device)

    def loop(its: list[JudgeItem]) -> None:
        ref.reset()
        for it in its:
            ref.update(torch.from_numpy(np.array(it.source)).permute(2, 0, 1)[None].to(device), real=True)
            ref.update(torch.from_numpy(np.array(it.final)).permute(2, 0, 1)[None].to(device), real=False)
        ref.compute()

    x = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)

    def raw() -> None:  # features of ``batch`` items (both sets); the per-set compute is excluded
        ref.update(x, real=True)
        ref.update(x, real=False)

    return Case(
        f"fid inception-{dims} {size}px", judge, items, loop, raw, batch, {"dtype": "float32", "dims": dims}
    )


# ----------------------------------------------------------------------------- main


def run(case: Case, device: str, loop_n: int, repeat: int) -> dict[str, Any]:
    n = len(case.items)
    loop_items = case.items[:loop_n]
    t_loop = timed(lambda: case.loop(loop_items), device, repeat=repeat) / len(loop_items)
    t_raw = timed(case.raw, device, repeat=2 * repeat, warm=2) / case.raw_items
    t_judge = timed(lambda: case.judge.judge(case.items), device, repeat=repeat) / n
    out = {
        "case": case.name,
        "items": n,
        "loop_items_s": 1 / t_loop,
        "raw_items_s": 1 / t_raw,
        "judge_items_s": 1 / t_judge,
        "judge_vs_loop": t_loop / t_judge,
        "judge_vs_raw": t_raw / t_judge,
        **case.notes,
    }
    print(
        f"{case.name:28s} {out['loop_items_s']:10.1f} {out['raw_items_s']:10.1f} {out['judge_items_s']:10.1f} "
        f"{out['judge_vs_loop']:9.2f}x {out['judge_vs_raw']:9.2f}",
        flush=True,
    )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--arch", choices=("small", "full"), default=None, help="default: full on CUDA, small on CPU"
    )
    p.add_argument("--metrics", default="lpips,clip,dino,fid")
    p.add_argument(
        "--n", type=int, default=None, help="items per judge call (default 256 on CUDA, 32 on CPU)"
    )
    p.add_argument("--loop-n", type=int, default=None, help="items in the per-item loop (default min(n, 64))")
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions; the fastest counts")
    p.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (1 is steadier on a shared machine)"
    )
    p.add_argument(
        "--json",
        default=os.path.join(os.environ["OUT"], "learned_metrics.json") if os.environ.get("OUT") else None,
    )
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    logging.basicConfig(level=logging.WARNING)
    cuda = a.device.startswith("cuda")
    full = (a.arch or ("full" if cuda else "small")) == "full"
    n = a.n or (256 if cuda else 32)
    loop_n = a.loop_n or min(n, 64)
    half = "float16" if cuda else "float32"
    bf16 = "bfloat16" if cuda else "float32"
    wanted = set(a.metrics.split(","))
    results: list[dict[str, Any]] = []
    print(
        f"device={a.device} ({torch.cuda.get_device_name(0) if cuda else 'cpu'}), arch={'full' if full else 'small'}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, n={n}, loop n={loop_n}"
    )
    print(
        f"{'case':28s} {'loop it/s':>10s} {'raw it/s':>10s} {'judge it/s':>10s} {'vs loop':>10s} {'vs raw':>9s}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        builders: list[tuple[str, Callable[[], Case]]] = [
            (
                "lpips",
                lambda: lpips_case(
                    "alex", a.device, full, tmp, n if cuda else min(n, 32), 64 if cuda else 16, half
                ),
            ),
            (
                "lpips",
                lambda: lpips_case(
                    "vgg", a.device, full, tmp, n // 2 if cuda else 8, 64 if cuda else 8, half
                ),
            ),
            ("clip", lambda: clip_case("ViT-B-32", a.device, full, tmp, n, 128 if cuda else 32, bf16)),
            ("clip", lambda: clip_case("ViT-L-14", a.device, True, tmp, n, 128, bf16) if full else None),
            ("dino", lambda: dino_case(a.device, full, tmp, n, 128 if cuda else 16, bf16)),
            ("fid", lambda: fid_case(a.device, full, tmp, n if cuda else 16, 64 if cuda else 16, "float32")),
        ]
        for metric, build in builders:
            if metric not in wanted:
                continue
            try:
                case = build()
                if case is not None:
                    results.append(run(case, a.device, loop_n, a.repeat))
            except Exception as err:  # one failing case must not hide the others
                logging.exception("%s failed", metric)
                results.append({"case": metric, "error": f"{type(err).__name__}: {err}"})
            if cuda:
                torch.cuda.empty_cache()
    print(
        "loop: per item, batch 1, fp32, the library's own preprocessing. raw: the library batched on device "
        "tensors (the anchors' method). judge: editbench from PIL images to Judgements. "
        "vs loop = judge/loop; vs raw = judge/raw (1.0 = the harness costs nothing)."
    )
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"device": a.device, "full": full, "n": n, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
