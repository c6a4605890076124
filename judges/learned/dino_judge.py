"""DINOv2 structure similarity of the edited result to the source, through ``transformers``.

Self-supervised DINOv2 features encode layout and object identity more than colour or texture,
so a restyle that keeps the scene scores high and a result that moved, lost or replaced objects
scores low. Two cosines, both in [-1, 1] (higher = closer to the source):

* ``dino_cls`` — between the final-layer (layer-normed) CLS tokens: global semantic identity,
  as the DINO score of DreamBooth-style evaluations.
* ``dino_patch`` — the mean over patch positions of the cosine between the source's and the
  result's patch tokens at the *same* position: spatial structure. Register tokens (DINOv2 with
  registers) are skipped.

**Sizes.** A result of another size is first resized to the source's size with Lanczos (aspect
not kept, as the SSIM judge does), so patch positions correspond; then both images are resized
to ``size`` x ``size`` (default 224; a multiple of the patch size) with antialiased bicubic
interpolation on the device — the whole frame, no crop, so edits at the borders count — and
standardised with ImageNet's mean and std, as DINOv2 was trained.

**Weights.** ``model`` is a hub id (``facebook/dinov2-base``, default; usable only when already in
the local Hugging Face cache unless ``download=true``) with an optional ``revision``, or a local
folder saved with ``save_pretrained``. It is loaded with ``AutoModel`` (``Dinov2Model`` for
DINOv2 checkpoints). Nothing loadable is a :class:`~bench.errors.JudgeError`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from bench.errors import JudgeError
from bench.model import Judgement, ScoreSpec
from bench.protocols import JudgeItem

from ._runtime import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MODELS,
    LearnedJudge,
    align_to_source,
    autocast,
    chunks,
    group_by_size,
    is_local_path,
    model_input,
    path_identity,
    tensor_batch,
)

log = logging.getLogger(__name__)

SCORES = ("dino_cls", "dino_patch")


@dataclass
class LoadedDino:
    model: Any
    patch_size: int
    skip: int  # leading tokens that are not patches: CLS and registers


def load_dino(model: str, revision: str | None, device: str, download: bool = False) -> LoadedDino:
    """A DINOv2 backbone in eval mode; JudgeError saying how to supply weights when it cannot load."""
    from transformers import AutoModel

    path = os.path.expanduser(model)
    local = os.path.isdir(path)
    try:
        # adapter_kwargs: transformers looks for a PEFT adapter without honouring local_files_only.
        offline = {} if download else {"local_files_only": True, "adapter_kwargs": {"local_files_only": True}}
        net = AutoModel.from_pretrained(
            path if local else model, revision=None if local else revision, **offline
        )
    except Exception as err:
        raise JudgeError(
            f"dino: cannot load {model!r}{'@' + revision if revision and not local else ''}: {type(err).__name__}: "
            f"{str(err).rstrip('.')}. Give model=FOLDER (a DINOv2 checkpoint saved with save_pretrained, e.g. a download of "
            "facebook/dinov2-base), fill the Hugging Face cache (HF_HOME) on a machine with network access, or "
            "pass download=true there.",
            field="model",
        ) from err
    cfg = net.config
    if not hasattr(cfg, "patch_size"):
        raise JudgeError(
            f"dino: {model!r} is a {type(net).__name__}, not a ViT backbone with patch tokens", field="model"
        )
    skip = 1 + int(getattr(cfg, "num_register_tokens", 0) or 0)
    return LoadedDino(net.eval().requires_grad_(False).to(device), int(cfg.patch_size), skip)


def dino_tokens(dino: LoadedDino, x_uint8: Any, size: int, dtype: Any) -> Any:
    """``(N, 3, H, W)`` uint8 on the device -> final-layer tokens ``(N, T, D)`` in float32."""
    import torch

    x = model_input(x_uint8, size, IMAGENET_MEAN, IMAGENET_STD)
    with torch.inference_mode(), autocast(str(x.device), dtype):
        return dino.model(pixel_values=x).last_hidden_state.float()


class DINOJudge(LearnedJudge):
    """DINOv2 similarity of the result to the source: CLS (semantic) and per-patch (structure) cosines.

    Options: ``model`` (hub id or local folder; default ``facebook/dinov2-base``), ``revision``,
    ``size`` (input side, default 224), ``device``, ``dtype``, ``batch_size``. A result of another
    size is resized to the source's size with Lanczos first; both are then resized to ``size``².
    """

    name = "dino"
    version = "1"
    description = (
        "DINOv2 similarity of the result to the source image: cosine of CLS tokens (dino_cls) and mean "
        "cosine of patch tokens at the same positions (dino_patch, structure preservation)."
    )
    PATH_OPTIONS = ("model",)

    def __init__(
        self,
        model: str = "facebook/dinov2-base",
        revision: str | None = None,
        size: int = 224,
        device: str = "auto",
        dtype: str = "float32",
        batch_size: int = 32,
        download: bool = False,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size, download=download)
        if isinstance(size, bool) or not isinstance(size, int) or size < 14:
            raise ValueError(f"size must be an integer >= 14, got {size!r}")
        self.model = model
        self.revision = revision
        self.size = size

    def models(self) -> tuple[str, ...]:
        return (self.model,)

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                "dino_cls",
                -1.0,
                1.0,
                True,
                "{:.3f}",
                "DINOv2 CLS-token cosine of result and source: semantic identity preserved.",
            ),
            ScoreSpec(
                "dino_patch",
                -1.0,
                1.0,
                True,
                "{:.3f}",
                "Mean DINOv2 patch-token cosine at the same positions: spatial structure preserved.",
            ),
        ]

    def network(self, device: str) -> LoadedDino:
        what = path_identity(self.model) if is_local_path(self.model) else (self.model, self.revision)
        dino = MODELS.get(
            ("dino", what, device), lambda: load_dino(self.model, self.revision, device, self.download)
        )
        if self.size % dino.patch_size:
            raise JudgeError(
                f"dino: size={self.size} is not a multiple of the model's patch size {dino.patch_size}",
                field="size",
            )
        return dino

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order; sources and results of equal size run in one forward pass."""
        import torch.nn.functional as F

        out, ok = self.split(items, SCORES)
        if not ok:
            return [j for j in out if j is not None]
        device, dtype = self.runtime()
        dino = self.network(device)
        pairs = {i: align_to_source(items[i].source, items[i].final) for i in ok}
        step = max(1, self.batch_size // 2)  # each pair is two images
        pending: list[tuple[list[int], Any, Any]] = []  # results stay on the device until all chunks run
        for idxs in group_by_size({i: p[0] for i, p in pairs.items()}).values():
            for chunk in chunks(idxs, step):
                x = tensor_batch([pairs[i][0] for i in chunk] + [pairs[i][1] for i in chunk], device)
                tok = dino_tokens(dino, x, self.size, dtype)
                a, b = tok[: len(chunk)], tok[len(chunk) :]
                cls = F.cosine_similarity(a[:, 0], b[:, 0], dim=-1)
                patch = F.cosine_similarity(a[:, dino.skip :], b[:, dino.skip :], dim=-1).mean(dim=1)
                pending.append((chunk, cls, patch))
        for chunk, cls, patch in pending:
            for i, c, p in zip(chunk, cls.tolist(), patch.tolist(), strict=True):
                it = items[i]
                text = (
                    f"DINOv2 cosine to the source: CLS {c:.4f}, patch {p:.4f} at {self.size}px. {pairs[i][2]}"
                )
                out[i] = Judgement(
                    suite=it.suite,
                    sample_id=it.sample.id,
                    system_id=it.trajectory.system_id,
                    judge_id="",
                    scores={"dino_cls": float(c), "dino_patch": float(p)},
                    rationale=text.strip(),
                )
        return [j for j in out if j is not None]
