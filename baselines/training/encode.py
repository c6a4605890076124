"""Records -> token ids with prompt-masked labels, batches padded to their longest row, per-trajectory NLL.

The prompt is encoded the way the ``transformers`` backend encodes a request at inference
(``apply_chat_template(..., add_generation_prompt=True)``) and the target (:func:`records.target_text`
plus the end-of-turn token) is tokenised on its own and appended, so the model is trained on exactly
the ids it will be asked to continue. Labels are ``-100`` on the prompt when ``mask_prompt``.

A sequence longer than ``max_length`` is cut from the end (``truncation=cut``, paper B L1065 and its
code), which removes target tokens, or refused and counted (``truncation=drop``, the default).

Batches are padded on the right (paper B L1066) to the longest row (``pad_to=longest``) or to
``max_length`` (paper B's code pads every sample to 2,048). With ``loss_on_padding`` (the code's
``labels = input_ids``) pad positions are labelled with the pad id and carry loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

IGNORE = -100
#: Processor outputs with one value per prompt token (extended with 0 over the target, padded with 0).
TOKEN_LEVEL = ("mm_token_type_ids", "token_type_ids")


@dataclass
class Encoded:
    """One sequence: ids, labels (``-100`` where no loss), and the vision inputs when there are any."""

    input_ids: list[int]
    labels: list[int]
    prompt_len: int
    truncated: bool = False
    vision: dict[str, Any] = field(default_factory=dict)  # pixel_values, image_grid_thw (tensors)
    token_level: dict[str, list[int]] = field(default_factory=dict)  # mm_token_type_ids...


def encode(tokenizer: Any, conversation: list[dict[str, Any]], target: str, *, processor: Any = None,
           mask_prompt: bool = True, max_length: int = 2048, truncation: str = "drop") -> Encoded | None:
    """One (prompt, target) pair -> :class:`Encoded`; ``None`` when it is too long and ``truncation=drop``.

    ``processor`` (a vision model's ``AutoProcessor``) encodes prompts with images; otherwise the
    tokenizer's chat template is used.
    """
    vision: dict[str, Any] = {}
    token_level: dict[str, list[int]] = {}
    if processor is not None:
        enc = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True,
                                            return_dict=True, return_tensors="pt")
        prompt = enc["input_ids"][0].tolist()
        vision = {k: v for k, v in enc.items() if k not in ("input_ids", "attention_mask", *TOKEN_LEVEL)}
        token_level = {k: enc[k][0].tolist() for k in TOKEN_LEVEL if k in enc}
    else:
        enc = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True, return_dict=True)
        prompt = list(enc["input_ids"])
    tgt = tokenizer(target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = prompt + tgt
    labels = ([IGNORE] * len(prompt) if mask_prompt else list(prompt)) + tgt
    token_level = {k: v + [0] * len(tgt) for k, v in token_level.items()}
    truncated = len(ids) > max_length
    if truncated:
        if truncation == "drop" or len(prompt) >= max_length:
            return None
        ids, labels = ids[:max_length], labels[:max_length]
        token_level = {k: v[:max_length] for k, v in token_level.items()}
    return Encoded(ids, labels, len(prompt), truncated, vision, token_level)


@dataclass
class Batch:
    """Padded tensors for one micro-batch (rows in the order given)."""

    input_ids: Any
    attention_mask: Any
    labels: Any
    keep_from: int  # first position whose logits are needed (the earliest labelled position - 1)
    vision: dict[str, Any] = field(default_factory=dict)

    def to(self, device: Any) -> Batch:
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.labels.to(device),
                     self.keep_from, {k: v.to(device) for k, v in self.vision.items()})


def collate(rows: Sequence[Encoded], pad_id: int, *, pad_to: str = "longest", max_length: int = 2048,
            loss_on_padding: bool = False) -> Batch:
    """Right-pad ``rows`` into one :class:`Batch`."""
    import torch

    width = max(len(r.input_ids) for r in rows) if pad_to == "longest" else max_length
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), pad_id if loss_on_padding else IGNORE, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(r.labels)
    first = min((next((j for j, v in enumerate(r.labels) if v != IGNORE), len(r.labels)) for r in rows), default=1)
    if loss_on_padding:
        first = min(first, min(len(r.input_ids) for r in rows))
    vision: dict[str, Any] = {}
    if rows and rows[0].vision:
        for key in rows[0].vision:
            vision[key] = torch.cat([r.vision[key] for r in rows], dim=0)
    for key in rows[0].token_level if rows else ():
        t = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            t[i, : len(r.token_level[key])] = torch.tensor(r.token_level[key])
        vision[key] = t
    return Batch(ids, mask, labels, max(0, first - 1), vision)


def sequence_nll(model: Any, batch: Batch, reduction: str = "sum") -> Any:
    """Per-row NLL over labelled tokens: ``-Σ log p`` (``sum``, paper B L1095) or its mean over the
    row's labelled tokens (``mean``, the code). Returns a float32 tensor of shape ``[rows]``.

    Only the logits of positions that predict a label are computed (``logits_to_keep``), which spares
    the language-model head most of a masked prompt.
    """
    import torch

    width = batch.input_ids.shape[1]
    keep = width - batch.keep_from
    kwargs: dict[str, Any] = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask, **batch.vision}
    try:
        out = model(**kwargs, logits_to_keep=keep, use_cache=False)
    except TypeError:  # a model without logits_to_keep
        out = model(**kwargs, use_cache=False)
        keep = width
    logits = out.logits[:, -keep:, :]
    # logits[:, j] predicts the token at position width - keep + j + 1
    targets = batch.labels[:, width - keep + 1:]
    logits = logits[:, : targets.shape[1], :].float()
    tok_lp = -torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                ignore_index=IGNORE, reduction="none").view(targets.shape)
    labelled = (targets != IGNORE).float()
    total = -(tok_lp * labelled).sum(dim=1)
    if reduction == "mean":
        return total / labelled.sum(dim=1).clamp(min=1.0)
    return total
