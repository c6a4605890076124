"""CLIP scores of the edited result through ``open_clip``: against the goal, the source, and the edit's direction.

Three scores, all cosines in [-1, 1] between L2-normalised CLIP embeddings:

* ``clip_text`` — result image vs the goal text: does the result look like what was asked?
  (Paper B's "CLIP score", reported raw, e.g. 0.319, with ``openai`` ViT-B/32.)
* ``clip_image`` — result image vs source image: how much of the source's content survives.
* ``clip_dir`` — CLIP directional similarity (Gal et al. 2021; InstructPix2Pix's CLIP-D):
  ``cos(E_img(result) − E_img(source), E_txt(target) − E_txt(description))``, only where the
  sample has a ``description`` of its source (otherwise the score is absent, with the reason in
  ``na``). The target text is, by default (``direction_target=description+goal``), the
  description followed by the goal: the source's content is in both texts and cancels in the
  difference, leaving the change the goal asks for, in caption-like words on both sides.
  ``direction_target=goal`` uses the goal alone. When the result's embedding equals the
  source's (no visible edit), the image direction is zero and the score is absent, never 0.

Texts longer than the model's context (77 tokens for CLIP) are truncated by its tokenizer.

**Sizes.** Each image, source and result alike, goes through the model's own preprocessing:
for CLIP, shortest side resized to the input size (bicubic, antialiased) and a centre crop, so
sizes need not match and the borders of non-square images are cropped. It runs on the device,
batched over images of equal size; it matches open_clip's PIL pipeline to within about 1/255
per pixel. Models whose preprocessing is not resize-and-crop or squash fall back to open_clip's
own transform, image by image.

**Weights.** ``model`` is an open_clip architecture name (``ViT-B-32``, default), a local folder
in open_clip's hub layout (``open_clip_config.json`` + weights; ``local-dir:PATH`` or just the
path; ``pretrained`` is then ignored) or ``hf-hub:org/repo``. ``pretrained`` is a tag
(``openai``, default: OpenAI's ViT-B/32, paper B's, loaded with QuickGELU as the tag requires)
or a checkpoint file. A tag is looked up in the local Hugging Face cache only; ``download=true``
lets open_clip fetch what is missing. Nothing usable is a :class:`~bench.errors.JudgeError`
saying how to supply weights.
The tokenizer is open_clip's own for the model (its BPE vocabulary ships in the package).
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
    MODELS,
    LearnedJudge,
    autocast,
    chunks,
    group_by_size,
    is_local_path,
    model_input,
    path_identity,
    tensor_batch,
)

log = logging.getLogger(__name__)

SCORES = ("clip_text", "clip_image", "clip_dir")
DIRECTION_TARGETS = ("description+goal", "goal")
_CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt")


@dataclass
class LoadedClip:
    """An open_clip model with its tokenizer and preprocessing settings."""

    model: Any
    tokenizer: Any
    preprocess: Any  # open_clip's PIL transform: the fallback path
    size: int | None  # square input size, or None when only the fallback applies
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize_mode: str
    interpolation: str


def open_clip_name(model: str) -> tuple[str, bool]:
    """The name open_clip is given and whether it is a local folder."""
    if model.startswith("local-dir:"):
        return model, True
    if os.path.isdir(os.path.expanduser(model)):
        return "local-dir:" + os.path.abspath(os.path.expanduser(model)), True
    return model, False


def cached_tag_file(name: str, tag: str) -> str | None:
    """The local file of an open_clip pretrained tag, if it is in the Hugging Face cache (no network)."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(name, tag) or {}
    hub = cfg.get("hf_hub", "")
    if not hub:
        return cfg.get("file") if cfg.get("file") and os.path.isfile(cfg["file"]) else None
    from huggingface_hub import try_to_load_from_cache

    repo, fname = os.path.split(hub)  # 'org/name/' -> ('org/name', ''): open_clip's default file names
    names = [fname] if fname else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
    if fname.endswith((".bin", ".pth")):
        names.insert(0, fname[:-4] + ".safetensors")
    for candidate in names:
        found = try_to_load_from_cache(repo, candidate)
        if isinstance(found, str) and os.path.isfile(found):
            return found
    return None


def load_clip(model: str, pretrained: str | None, device: str, download: bool = False) -> LoadedClip:
    """Build an open_clip model with its weights, never reaching the network unless ``download``."""
    import open_clip

    name, local = open_clip_name(model)
    how = (
        "Give pretrained=PATH (an open_clip checkpoint file), or model=FOLDER holding open_clip_config.json and "
        "its weights (the layout of a hub repo such as laion/CLIP-ViT-B-32-laion2B-s34B-b79K), fill the Hugging "
        "Face cache (HF_HOME) on a machine with network access, or pass download=true there."
    )
    kwargs: dict[str, Any] = {}
    weights: str | None = None
    if local:
        folder = name[len("local-dir:") :]
        if not os.path.isdir(folder) or not any(f.endswith(_CHECKPOINT_SUFFIXES) for f in os.listdir(folder)):
            raise JudgeError(
                f"clip: model folder {folder!r} holds no weights file ({', '.join(_CHECKPOINT_SUFFIXES)}). "
                + how,
                field="model",
            )
    elif name.startswith("hf-hub:"):
        if not download:
            raise JudgeError(
                f"clip: model={model!r} would be fetched from the Hugging Face hub; pass download=true, or "
                "download the repo and give model=FOLDER.",
                field="model",
            )
    elif not pretrained:
        raise JudgeError(
            f"clip: model={model!r} needs weights: pretrained=TAG or pretrained=PATH. " + how,
            field="pretrained",
        )
    elif os.path.isfile(os.path.expanduser(pretrained)):
        weights = os.path.expanduser(pretrained)
    else:
        tag_cfg = open_clip.get_pretrained_cfg(name, pretrained)
        if not tag_cfg:
            known = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
            raise JudgeError(
                f"clip: pretrained={pretrained!r} is neither a file nor a tag of {name} (tags: {known})",
                field="pretrained",
            )
        # A tag's own settings, so a cached file loads exactly as the tag would (QuickGELU for openai).
        kwargs = {
            "force_quick_gelu": bool(tag_cfg.get("quick_gelu", False)),
            "image_mean": tag_cfg.get("mean"),
            "image_std": tag_cfg.get("std"),
            "image_interpolation": tag_cfg.get("interpolation"),
            "image_resize_mode": tag_cfg.get("resize_mode"),
        }
        weights = cached_tag_file(name, pretrained)
        if weights is None:
            if not download:
                raise JudgeError(
                    f"clip: the weights of {name}/{pretrained} are not in the local Hugging Face cache. "
                    + how,
                    field="pretrained",
                )
            weights = pretrained  # let open_clip fetch the tag
    try:
        net, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=weights, device=device, **kwargs
        )
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as err:
        raise JudgeError(
            f"clip: cannot load {model!r} (pretrained={pretrained!r}): {type(err).__name__}: {err}. " + how,
            field="pretrained",
        ) from err
    net.eval().requires_grad_(False)
    cfg = open_clip.get_model_preprocess_cfg(net)
    size = cfg.get("size", 224)
    if isinstance(size, (tuple, list)):
        size = int(size[0]) if len(set(size)) == 1 else None
    mode = cfg.get("resize_mode", "shortest")
    interp = cfg.get("interpolation", "bicubic")
    if mode not in ("shortest", "squash") or interp not in ("bicubic", "bilinear"):
        size = None
    return LoadedClip(
        net,
        tokenizer,
        preprocess,
        size,
        tuple(cfg.get("mean", (0.48145466, 0.4578275, 0.40821073))),
        tuple(cfg.get("std", (0.26862954, 0.26130258, 0.27577711))),
        mode,
        interp,
    )


class CLIPJudge(LearnedJudge):
    """CLIP cosines of the result: to the goal text, to the source image, and the edit's direction (CLIP-D).

    Options: ``model`` (``ViT-B-32``, a local open_clip folder or ``hf-hub:...``), ``pretrained``
    (``openai`` or a checkpoint file), ``direction_target`` (``description+goal`` or ``goal``),
    ``download``, ``device``, ``dtype``, ``batch_size``. Each image is preprocessed by the model's own rule
    (resize the short side, centre crop), so source and result sizes need not match.
    """

    name = "clip"
    version = "1"
    description = (
        "CLIP cosine similarities of the result: to the goal text (clip_text), to the source image "
        "(clip_image), and the directional similarity of the edit to the text change (clip_dir)."
    )
    PATH_OPTIONS = ("model", "pretrained")

    def __init__(
        self,
        model: str = "ViT-B-32",
        pretrained: str | None = "openai",
        direction_target: str = "description+goal",
        device: str = "auto",
        dtype: str = "float32",
        batch_size: int = 64,
        download: bool = False,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size, download=download)
        if direction_target not in DIRECTION_TARGETS:
            raise ValueError(
                f"direction_target must be one of {', '.join(DIRECTION_TARGETS)}, got {direction_target!r}"
            )
        self.model = model
        self.pretrained = pretrained
        self.direction_target = direction_target

    def models(self) -> tuple[str, ...]:
        return (f"open_clip:{self.model}" + (f"/{self.pretrained}" if self.pretrained else ""),)

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                "clip_text",
                -1.0,
                1.0,
                True,
                "{:.3f}",
                "CLIP cosine of the result image and the goal text: goal adherence as CLIP sees it.",
            ),
            ScoreSpec(
                "clip_image",
                -1.0,
                1.0,
                True,
                "{:.3f}",
                "CLIP cosine of the result and source images: how much of the source's content survives.",
            ),
            ScoreSpec(
                "clip_dir",
                -1.0,
                1.0,
                True,
                "{:.3f}",
                f"CLIP directional similarity: image change vs text change ({self.direction_target} minus "
                "the source description). Absent where the sample has no description.",
            ),
        ]

    # --- the network ---------------------------------------------------------------------------

    def network(self, device: str) -> LoadedClip:
        name, local = open_clip_name(self.model)
        what = path_identity(name[len("local-dir:") :]) if local else name
        weights = (
            None
            if local
            else (path_identity(self.pretrained) if is_local_path(self.pretrained) else self.pretrained)
        )
        return MODELS.get(
            ("open_clip", what, weights, device),
            lambda: load_clip(self.model, self.pretrained, device, self.download),
        )

    def embed_images(self, clip: LoadedClip, images: list[Any], device: str, dtype: Any) -> Any:
        """L2-normalised image embeddings ``(N, D)`` in float32, batched over equal sizes."""
        import torch
        import torch.nn.functional as F

        out: list[Any] = [None] * len(images)
        if clip.size is None:  # the library's own transform, image by image
            for chunk in chunks(range(len(images)), self.batch_size):
                x = torch.stack([clip.preprocess(images[i]) for i in chunk]).to(device)
                with torch.inference_mode(), autocast(device, dtype):
                    e = clip.model.encode_image(x)
                for i, v in zip(chunk, F.normalize(e.float(), dim=-1), strict=True):
                    out[i] = v
            return torch.stack(out)
        crop = clip.resize_mode == "shortest"
        for idxs in group_by_size(dict(enumerate(images))).values():
            for chunk in chunks(idxs, self.batch_size):
                x = tensor_batch([images[i] for i in chunk], device)
                x = model_input(x, clip.size, clip.mean, clip.std, crop=crop, mode=clip.interpolation)
                with torch.inference_mode(), autocast(device, dtype):
                    e = clip.model.encode_image(x)
                for i, v in zip(chunk, F.normalize(e.float(), dim=-1), strict=True):
                    out[i] = v
        return torch.stack(out)

    def embed_texts(self, clip: LoadedClip, texts: list[str], device: str, dtype: Any) -> Any:
        """L2-normalised text embeddings ``(N, D)`` in float32."""
        import torch
        import torch.nn.functional as F

        parts = []
        for chunk in chunks(range(len(texts)), self.batch_size):
            tokens = clip.tokenizer([texts[i] for i in chunk]).to(device)
            with torch.inference_mode(), autocast(device, dtype):
                parts.append(F.normalize(clip.model.encode_text(tokens).float(), dim=-1))
        return torch.cat(parts)

    def target_text(self, item: JudgeItem) -> str:
        if self.direction_target == "goal":
            return item.sample.goal
        return f"{(item.sample.description or '').strip()} {item.sample.goal.strip()}".strip()

    # --- judging -------------------------------------------------------------------------------

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order; all images and texts of the batch are embedded together."""
        import torch

        out, ok = self.split(items, SCORES)
        if not ok:
            return [j for j in out if j is not None]
        device, dtype = self.runtime()
        clip = self.network(device)
        images: list[Any] = []
        slot: dict[int, int] = {}  # id(PIL image) -> row: a source shared by several items is embedded once
        texts: dict[str, int] = {}

        def image_row(img: Any) -> int:
            if id(img) not in slot:
                slot[id(img)] = len(images)
                images.append(img)
            return slot[id(img)]

        def text_row(t: str) -> int:
            return texts.setdefault(t, len(texts))

        rows = {}
        for i in ok:
            s = items[i].sample
            rows[i] = (
                image_row(items[i].final),
                image_row(items[i].source),
                text_row(s.goal),
                text_row(s.description) if s.description else None,
                text_row(self.target_text(items[i])) if s.description else None,
            )
        e_img = self.embed_images(clip, images, device, dtype)
        e_txt = self.embed_texts(clip, list(texts), device, dtype)
        # Every cosine at once on the device, one transfer back (no per-item synchronisation).
        res, src, goal = (torch.tensor([rows[i][k] for i in ok], device=e_img.device) for k in range(3))
        with_desc = [i for i in ok if rows[i][3] is not None]
        cos_text = (e_img[res] * e_txt[goal]).sum(-1).tolist()
        cos_image = (e_img[res] * e_img[src]).sum(-1).tolist()
        direction: dict[int, tuple[float, float, float]] = {}
        if with_desc:
            pick = {k: torch.tensor([rows[i][k] for i in with_desc], device=e_img.device) for k in range(5)}
            d_img = e_img[pick[0]] - e_img[pick[1]]
            d_txt = e_txt[pick[4]] - e_txt[pick[3]]
            n_img, n_txt = d_img.norm(dim=-1), d_txt.norm(dim=-1)
            cos = (d_img * d_txt).sum(-1) / (n_img * n_txt).clamp_min(1e-12)
            direction = dict(
                zip(with_desc, zip(cos.tolist(), n_img.tolist(), n_txt.tolist(), strict=True), strict=True)
            )
        for k, i in enumerate(ok):
            scores = {"clip_text": cos_text[k], "clip_image": cos_image[k]}
            na: dict[str, str] = {}
            if i not in direction:
                na["clip_dir"] = "the sample has no description of its source"
            elif direction[i][1] < 1e-6:
                na["clip_dir"] = "the result's CLIP embedding equals the source's: the edit has no direction"
            elif direction[i][2] < 1e-6:
                na["clip_dir"] = "the target text embeds like the description: the text has no direction"
            else:
                scores["clip_dir"] = direction[i][0]
            text = ", ".join(f"{name} {v:.4f}" for name, v in scores.items())
            it = items[i]
            out[i] = Judgement(
                suite=it.suite,
                sample_id=it.sample.id,
                system_id=it.trajectory.system_id,
                judge_id="",
                scores=scores,
                na=na,
                rationale=f"CLIP {self.model}: {text}.",
            )
        return [j for j in out if j is not None]
