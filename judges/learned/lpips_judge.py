"""LPIPS (Zhang et al., 2018) of the edited result to the source, through the ``lpips`` package.

Like SSIM and PSNR it measures **preservation** (a perceptual distance; an unchanged image scores
0), not goal success. Paper B reports it with the AlexNet backbone (``net=alex``, the default).

* **Weights.** LPIPS is a torchvision backbone (AlexNet or VGG16, ImageNet weights) plus learned
  linear heads. The heads ship inside the ``lpips`` package; the backbone would download from
  download.pytorch.org, which the judge does only when asked. It looks for it, in order, at
  ``weights=PATH`` — a torchvision state dict (``alexnet-owt-7be5be79.pth`` /
  ``vgg16-397923af.pth``, or any file with its ``features.*`` tensors), a full LPIPS state dict, or
  a folder holding the torchvision file — and then in torch's hub cache
  (``$TORCH_HOME/hub/checkpoints``, where torchvision would have put it). Finding none is a
  :class:`~bench.errors.JudgeError` that says where to get the file, unless ``download=true``
  lets the judge fetch it into that cache.
* **Sizes.** A result of another size is resized to the source's size with Lanczos (aspect not
  kept, as the SSIM judge does); pairs are compared at the source's resolution. Pixels are
  mapped to [-1, 1] exactly as ``lpips.im2tensor`` does. A source whose short side is under the
  backbone's minimum (31 px for AlexNet, 16 for VGG) gets ``unscored`` with that reason.
* **Batching.** Pairs of equal size are stacked and run together in chunks of ``batch_size``;
  with ``dtype=float32`` the result equals a per-pair loop to float rounding.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from bench.errors import JudgeError
from bench.model import Judgement, ScoreSpec
from bench.protocols import JudgeItem

from ._runtime import (
    MODELS,
    LearnedJudge,
    align_to_source,
    autocast,
    chunks,
    group_by_size,
    path_identity,
    tensor_batch,
    unscored,
)

log = logging.getLogger(__name__)

NETS: dict[str, str] = {  # backbone -> the torchvision checkpoint lpips would download
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
}
URLS = {net: f"https://download.pytorch.org/models/{fname}" for net, fname in NETS.items()}
MIN_SIDE = {"alex": 31, "vgg": 16}  # below this the backbone's last pooling layer has nothing to pool
SCORE = "lpips"


def backbone_file(net: str, weights: str | None, download: bool = False) -> str:
    """The file the backbone (or the whole LPIPS network) is loaded from; JudgeError when none exists."""
    fname = NETS[net]
    if weights is not None:
        path = os.path.expanduser(weights)
        if os.path.isfile(path):
            return path
        for candidate in (os.path.join(path, fname), os.path.join(path, "checkpoints", fname)):
            if os.path.isfile(candidate):
                return candidate
        raise JudgeError(
            f"lpips: weights={weights!r} is neither a file nor a folder holding {fname}. Give the torchvision "
            f"checkpoint ({URLS[net]}), a state dict with its features.* tensors, or a full LPIPS state dict.",
            field="weights",
        )
    import torch

    cached = os.path.join(torch.hub.get_dir(), "checkpoints", fname)
    if os.path.isfile(cached):
        return cached
    if download:
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            torch.hub.download_url_to_file(URLS[net], cached, progress=False)
            return cached
        except Exception as err:
            raise JudgeError(
                f"lpips: downloading {URLS[net]} failed: {type(err).__name__}: {err}", field="weights"
            ) from err
    raise JudgeError(
        f"lpips (net={net}) needs torchvision's ImageNet {'AlexNet' if net == 'alex' else 'VGG16'} weights, which "
        f"are not in torch's hub cache. Fetch {URLS[net]} (or pass download=true on a machine with network access) "
        f"and either pass weights=PATH (the file, or a folder holding it) or place it at {cached}.",
        field="weights",
    )


def load_lpips(net: str, path: str, device: str) -> Any:
    """An ``lpips.LPIPS`` network with its backbone (or everything) loaded from ``path``, in eval mode."""
    import lpips
    import torch

    with warnings.catch_warnings():  # torchvision's 'pretrained is deprecated' from inside lpips
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise JudgeError(
            f"lpips: cannot read weights {path!r}: {type(err).__name__}: {err}", field="weights"
        ) from err
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise JudgeError(f"lpips: {path!r} does not hold a state dict", field="weights")
    if any(k.startswith("lin0.") for k in state):  # a whole LPIPS network
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise JudgeError(
                f"lpips: {path!r} is not an LPIPS-{net} state dict: {err}", field="weights"
            ) from err
    else:  # a torchvision backbone: features.<i>.* lives in lpips as net.slice<k>.<i>.*
        mapped: dict[str, Any] = {}
        for name in model.net.state_dict():
            _, idx, leaf = name.split(".")
            key = f"features.{idx}.{leaf}"
            if key not in state:
                raise JudgeError(
                    f"lpips: {path!r} is not a torchvision {net} backbone (no {key})", field="weights"
                )
            mapped[name] = state[key]
        model.net.load_state_dict(mapped, strict=True)
    return model.eval().requires_grad_(False).to(device)


class LPIPSJudge(LearnedJudge):
    """LPIPS perceptual distance of the result to the source (lower = closer): preservation, not goal success.

    Options: ``net`` = ``alex`` (default, paper B's) or ``vgg``; ``weights`` = a local backbone or
    LPIPS checkpoint (default: torch's hub cache); ``download``, ``device``, ``dtype``, ``batch_size`` (see
    :mod:`judges.learned._runtime`). A result of another size is resized to the source's size
    with Lanczos first.
    """

    name = "lpips"
    version = "1"
    description = (
        "LPIPS perceptual distance (Zhang et al. 2018) of the result to the source image. Measures how "
        "much of the source is preserved, not whether the goal was achieved; an unchanged image scores 0."
    )
    PATH_OPTIONS = ("weights",)

    def __init__(
        self,
        net: str = "alex",
        weights: str | None = None,
        device: str = "auto",
        dtype: str = "float32",
        batch_size: int = 32,
        download: bool = False,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size, download=download)
        if net not in NETS:
            raise ValueError(f"net must be one of {', '.join(NETS)}, got {net!r}")
        self.net = net
        self.weights = weights

    def models(self) -> tuple[str, ...]:
        return (f"lpips-{self.net}",)

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                name=SCORE,
                min=0.0,
                max=None,
                higher_is_better=False,
                display="{:.3f}",
                description=f"LPIPS-{self.net} distance to the source; preservation, not goal success. "
                "0 = unchanged.",
            )
        ]

    def network(self, device: str) -> Any:
        """The loaded network (process-wide cache)."""
        path = backbone_file(self.net, self.weights, self.download)
        return MODELS.get(
            ("lpips", self.net, path_identity(path), device), lambda: load_lpips(self.net, path, device)
        )

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order; equal-size pairs are computed together."""
        import torch

        out, ok = self.split(items, [SCORE])
        if not ok:
            return [j for j in out if j is not None]
        device, dtype = self.runtime()
        model = self.network(device)
        pairs: dict[int, tuple[Any, Any, str]] = {}
        for i in ok:
            if min(items[i].source.size) < MIN_SIDE[self.net]:
                w, h = items[i].source.size
                why = f"image {w}x{h} is smaller than LPIPS-{self.net}'s {MIN_SIDE[self.net]}-px minimum"
                out[i] = unscored(items[i], [SCORE], why)
                continue
            pairs[i] = align_to_source(items[i].source, items[i].final)
        pending: list[tuple[list[int], Any]] = []  # results stay on the device until every chunk is launched
        for idxs in group_by_size({i: p[0] for i, p in pairs.items()}).values():
            for chunk in chunks(idxs, self.batch_size):
                # [-1, 1] as lpips.im2tensor maps pixels
                x0 = tensor_batch([pairs[i][0] for i in chunk], device).float().div_(127.5).sub_(1.0)
                x1 = tensor_batch([pairs[i][1] for i in chunk], device).float().div_(127.5).sub_(1.0)
                with torch.inference_mode(), autocast(device, dtype):
                    pending.append((chunk, model(x0, x1).float().flatten()))
        for chunk, d in pending:
            for i, v in zip(chunk, d.tolist(), strict=True):
                it = items[i]
                text = f"LPIPS-{self.net} {v:.4f} to the source. {pairs[i][2]}".strip()
                out[i] = Judgement(
                    suite=it.suite,
                    sample_id=it.sample.id,
                    system_id=it.trajectory.system_id,
                    judge_id="",
                    scores={SCORE: float(v)},
                    rationale=text,
                )
        return [j for j in out if j is not None]
