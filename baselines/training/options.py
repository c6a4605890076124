"""Every choice a trainer makes, named, with paper B's value, its public code's value and where each is said.

Paper B (``../shared/seeds/003_…``, read in ``READING.md`` §1, §2, §6) leaves many choices blank or
states two values; its public code runs others (READING §6.6). Each such choice is an option here:

- ``preset="paper"`` (the default) takes the paper's stated value, or the code's where the paper
  lost it (learning rates, DPO cut-offs), or editbench's where both are silent (what to do with a
  truncated target, a batch whose weights are all zero, σ = 0);
- ``preset="code"`` takes what ``anonbot90-blip/imageagent_anon`` actually runs (§6.1, §6.6): no
  loss masking, token-mean losses, RW's 0.5 floor, SW ÷ Σz with dataset statistics that include
  the test set, DPO pairs across inputs with a length-normalised log-probability, τ_R = 3.0.

Explicit options override the preset. :meth:`TrainOptions.to_dict` is written into ``train.json``
beside the trained weights, with :data:`PROVENANCE`, so a model always says how it was made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.errors import UsageError

METHODS: tuple[str, ...] = ("s", "r", "rw", "sw", "dpo")
PRESETS: tuple[str, ...] = ("paper", "code")

#: option -> (paper's value or "paper-silent", code's value, where). Shown by ``editbench train --help``.
PROVENANCE: dict[str, tuple[str, str, str]] = {
    "target": ("plan (E.1.1: actions and reasoning)", "plan+instruction (the whole action_plan.json)",
               "B L1003-1017; conflict L29, L2235; code §6.5"),
    "reasoning_order": ("before (L35)", "after (action_id first, §6.5)", "B L35 vs L1401"),
    "mask_prompt": ("true (implied by the conditioning)", "false (labels = input_ids)", "§1.2; code §6.1"),
    "token_reduction": ("sum (L1095 loss_i = -log_probs[i].sum())", "mean over labelled tokens", "B L1095; code §6.1"),
    "loss_on_padding": ("false (paper-silent)", "true (pads carry loss)", "code planner_dataset_text_only.py L162"),
    "pad_to": ("longest (paper-silent; right padding L1066)", "max_length", "B L1066; code §6.1"),
    "max_length": ("2048 (L1059; 1024 for text L1375)", "2048", "B L1059 vs L1375"),
    "truncation": ("drop (editbench: a truncated target is refused and counted)", "cut (truncation=True)",
                   "B L1065 truncates from the end"),
    "s_min_reward": ("none (§4.1 ignores rewards; F.6 L1809 filters 'catastrophic failures')", "none", "B L49, L1809"),
    "tau_r": ("3.5 (L1767; L51 implies 4.0)", "3.0 (keep r >= 3.0)", "B L1767; code generate_rl_trajectory.sh"),
    "rw_weight": ("linear: max(r - 3, 0) (L1098)", "step: >=4.5 2.0, >=4.0 1.5, >=3.5 1.0, else 0.5",
                  "B L1084-1101; code planner_dataset_rw_text.py"),
    "normalise_over": ("batch (the minibatch's sums, L1101)", "micro (per-GPU micro-batch)", "code weighted_trainer.py"),
    "sw_scope": ("dataset (L57, L1121; conflict L58 same-input rollouts)", "dataset", "B L57-58, L1812"),
    "sw_stats": ("train (paper-silent)", "all (test trajectories included)", "code trajectory_utils.py L355-416"),
    "z_clip": ("none (paper-silent)", "none", "B E.2.4"),
    "sw_normaliser": ("batch_size (L1124)", "weight_sum (÷ Σz + 1e-8)", "B L1124; code weighted_trainer.py L95"),
    "dpo_beta": ("0.1 (I.2 L2255; F.5 L1763 says 0.5)", "0.1", "B L1763 vs L2255"),
    "dpo_chosen_min": ("4.0 (stripped; code's value)", "4.0", "B L1813 stripped; code generate_dpo_pairs.py"),
    "dpo_rejected_max": ("3.5 (tiers L699-703: poor and very poor rejected)", "3.5", "B L697-705"),
    "dpo_rejected_min": ("none (paper-silent)", "2.5", "code generate_dpo_pairs.py L78-99"),
    "dpo_min_gap": ("0.5 (L1813)", "1.0", "B L1813; code"),
    "dpo_pairing": ("same_input (L1145, L2291)", "any (cycled across inputs; the chosen's input for both)",
                    "B L1145; code generate_dpo_pairs.py"),
    "dpo_logp": ("sum over target tokens (standard DPO; paper-silent)", "mean over all non-pad tokens",
                 "code dpo_trainer.py L63-83"),
    "lr": ("stripped everywhere (L1043, L1308, L1759, L2243): the code's", "S, R, DPO 2e-6; RW, SW 2e-5",
           "code configs_*/*.yaml"),
    "schedule": ("cosine with linear warmup (L1043, L2244)", "linear decay (HF default)", "B L1043; code §6.1"),
    "warmup": ("100 steps (I.2 L2245; 500 L1043; 10% L1308)", "100 steps", "B L1043, L1308, L2245"),
    "epochs": ("3 (E.5.1 L1317; I.2: RW/DPO 2)", "3", "B L1317 vs L2253-2254"),
    "batch_size": ("64 effective (4 x 8 GPUs x 2)", "64", "B L1046, L2249-2252"),
    "micro_batch": ("4 per GPU (RW: 8, L1114; DPO: 1, L1199)", "4 (vision and DPO: 1)", "B L1046; code configs"),
    "weight_decay": ("0.01 (L2248)", "0.01", "B L2246-2248"),
    "grad_clip": ("1.0 (L1054)", "1.0", "B L1054"),
    "lora_r": ("16 (I.2; F.5 L1761 says 64)", "16", "B L2240 vs L1761"),
    "lora_alpha": ("32", "32", "B L2241"),
    "lora_dropout": ("0.05", "0.05", "B L2242"),
    "lora_targets": ("q,k,v,o (E.5.2; E.1.3 says q,k)", "q,k,v,o,gate,up,down", "B L1033 vs L1350; code configs"),
}

_CODE_LR = {"s": 2e-6, "r": 2e-6, "dpo": 2e-6, "rw": 2e-5, "sw": 2e-5}
_CHOICES: dict[str, tuple[str, ...]] = {
    "target": ("plan", "plan+instruction"),
    "reasoning_order": ("before", "after"),
    "token_reduction": ("sum", "mean"),
    "pad_to": ("longest", "max_length"),
    "truncation": ("drop", "cut"),
    "rw_weight": ("linear", "step"),
    "normalise_over": ("batch", "micro"),
    "sw_scope": ("dataset", "group", "batch"),
    "sw_stats": ("train", "all"),
    "sw_normaliser": ("batch_size", "weight_sum"),
    "dpo_pairing": ("same_input", "any"),
    "dpo_logp": ("sum", "mean"),
    "schedule": ("cosine", "linear", "constant"),
    "adapter": ("lora", "full"),
    "modality": ("text", "vision"),
    "precision": ("auto", "bf16", "fp32"),
}


@dataclass(frozen=True)
class TrainOptions:
    """One training run's options. Build with :meth:`resolve`; every field is recorded in ``train.json``.

    Fields not in :data:`PROVENANCE` are editbench's own: ``adapter`` (``lora`` through peft, or
    ``full`` fine-tuning for a model trained from a tiny config), ``modality`` (``text``: goal,
    context and the textual analysis; ``vision``: the image too), ``seed``, checkpointing, and the
    precision (``auto``: bf16 on CUDA, fp32 on CPU).
    """

    method: str = "s"
    preset: str = "paper"
    target: str = "plan"
    reasoning_order: str = "before"
    mask_prompt: bool = True
    token_reduction: str = "sum"
    loss_on_padding: bool = False
    pad_to: str = "longest"
    max_length: int = 2048
    truncation: str = "drop"
    s_min_reward: float | None = None
    tau_r: float = 3.5
    rw_weight: str = "linear"
    normalise_over: str = "batch"
    sw_scope: str = "dataset"
    sw_stats: str = "train"
    z_clip: float | None = None
    sw_normaliser: str = "batch_size"
    dpo_beta: float = 0.1
    dpo_chosen_min: float = 4.0
    dpo_rejected_max: float = 3.5
    dpo_rejected_min: float | None = None
    dpo_min_gap: float = 0.5
    dpo_pairing: str = "same_input"
    dpo_logp: str = "sum"
    lr: float = 2e-6
    schedule: str = "cosine"
    warmup: float = 100
    epochs: int = 3
    batch_size: int = 64
    micro_batch: int = 4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    adapter: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    modality: str = "text"
    precision: str = "auto"
    gradient_checkpointing: bool = False
    seed: int = 0
    checkpoint_every: int = 50
    max_steps: int | None = None
    explicit: tuple[str, ...] = field(default=(), compare=False)

    # -- building -----------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, method: str, preset: str = "paper", **overrides: Any) -> TrainOptions:
        """The options of ``method`` under ``preset``, then ``overrides`` (``None`` values are ignored).

        >>> TrainOptions.resolve("rw").lr, TrainOptions.resolve("rw", preset="code").rw_weight
        (2e-05, 'step')
        """
        method = str(method).lower()
        if method not in METHODS:
            raise UsageError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}", field="method")
        if preset not in PRESETS:
            raise UsageError(f"unknown preset {preset!r}; choose paper or code", field="preset")
        base: dict[str, Any] = {"method": method, "preset": preset, "lr": _CODE_LR[method]}
        if preset == "code":
            base.update(target="plan+instruction", reasoning_order="after", mask_prompt=False, token_reduction="mean",
                        loss_on_padding=True, pad_to="max_length", truncation="cut", tau_r=3.0, rw_weight="step",
                        normalise_over="micro", sw_stats="all", sw_normaliser="weight_sum", dpo_rejected_min=2.5,
                        dpo_min_gap=1.0, dpo_pairing="any", dpo_logp="mean", schedule="linear",
                        lora_targets=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"))
        names = {f.name for f in dataclasses.fields(cls)}
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(given) - names)
        if unknown:
            raise UsageError(f"unknown training option(s) {', '.join(unknown)}", field="options")
        for key in ("lora_targets", "betas"):
            if isinstance(given.get(key), str):
                given[key] = tuple(s.strip() for s in given[key].split(",") if s.strip())
        if "betas" in given:
            given["betas"] = tuple(float(b) for b in given["betas"])
        opts = cls(**{**base, **given, "explicit": tuple(sorted(given))})
        opts.check()
        return opts

    def check(self) -> None:
        """Raise :class:`UsageError` naming the first option with an impossible value."""
        for key, allowed in _CHOICES.items():
            if getattr(self, key) not in allowed:
                raise UsageError(f"option {key} must be one of {', '.join(allowed)}, not {getattr(self, key)!r}",
                                 field=key)
        positive = ("lr", "epochs", "batch_size", "micro_batch", "max_length", "lora_r", "checkpoint_every")
        for key in positive:
            if not float(getattr(self, key)) > 0:
                raise UsageError(f"option {key} must be > 0, got {getattr(self, key)!r}", field=key)
        if self.batch_size % self.micro_batch:
            raise UsageError(f"batch_size ({self.batch_size}) must be a multiple of micro_batch ({self.micro_batch})",
                             field="batch_size")
        if self.dpo_beta <= 0:
            raise UsageError("dpo_beta must be > 0", field="dpo_beta")
        if self.z_clip is not None and self.z_clip <= 0:
            raise UsageError("z_clip must be > 0 (or null for none)", field="z_clip")
        if not 0 <= self.lora_dropout < 1:
            raise UsageError("lora_dropout must lie in [0, 1)", field="lora_dropout")
        if self.warmup < 0:
            raise UsageError("warmup must be >= 0 (steps, or a fraction of the steps when < 1)", field="warmup")

    def replace(self, **changes: Any) -> TrainOptions:
        opts = dataclasses.replace(self, **changes, explicit=tuple(sorted({*self.explicit, *changes})))
        opts.check()
        return opts

    # -- reading -------------------------------------------------------------------------------------
    @property
    def grad_accum(self) -> int:
        """Micro-batches per optimizer step on one process (``batch_size / micro_batch``)."""
        return self.batch_size // self.micro_batch

    def warmup_steps(self, total: int) -> int:
        return int(round(self.warmup * total)) if 0 < self.warmup < 1 else int(self.warmup)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        out["lora_targets"] = list(self.lora_targets)
        out["explicit"] = list(self.explicit)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainOptions:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        for key in ("betas", "lora_targets", "explicit"):
            if key in kw:
                kw[key] = tuple(kw[key])
        return cls(**kw)


def options_help() -> str:
    """The provenance table as text, for ``editbench train --help``."""
    lines = [f"{'option':<16} {'paper (default)':<58} code (preset=code)"]
    for key, (paper, code, _where) in PROVENANCE.items():
        lines.append(f"{key:<16} {paper:<58} {code}")
    return "\n".join(lines)
