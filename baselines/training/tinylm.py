"""Small planners from a config: a tokenizer trained in code on the data, and a random-weight causal LM.

What the CPU testbed and the tests train. Nothing is downloaded: the tokenizer is a byte-level BPE
trained here on the training texts (whole rendered conversations: system prompt, request and plan).
Its pre-tokenizer (``split="words"``) keeps ``key=value`` and ``key -> value`` items whole and cuts
the rest into words and the runs of spaces and punctuation between them. An item of the request
(``season -> winter``) is then one token in the prompt and in the plan, so a small model plans by
copying tokens rather than by looking values up (which a half-million-parameter model trained for
minutes does not learn), and a value (``winter``) is the same token wherever it stands; runs of
JSON punctuation (``", "``) stay single pieces.
``split="none"`` lets merges cross everything (shorter sequences, but each value fused with its
neighbours, which a small model learns far more slowly). The model is a Llama-architecture decoder built from a small config
with seeded random weights (Llama, because ``AutoTokenizer`` then keeps the tokenizer as saved; for
a Qwen2 config it would substitute Qwen2's pre-tokenizer). Both are saved with ``save_pretrained``
into one folder, with a Qwen-style chat template, so the trainer, the ``transformers`` backend and
a user load them exactly as they would a downloaded checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

SPECIAL_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass(frozen=True)
class TinyConfig:
    """The decoder's size. The default (~0.5 M parameters with a 2,000-token vocabulary) learns the
    testbed's structured plans on a CPU in minutes."""

    hidden: int = 96
    layers: int = 3
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 256
    max_positions: int = 1024
    vocab_size: int = 2000
    split: str = "words"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


WORDS = r"\w+ -> \w+|\w+=\w+|\w+|\W+"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2000, split: str = "words") -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``texts`` (every byte is in its
    alphabet, so no text is ever unknown), with the chat template and ``<|im_end|>`` as EOS."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    if split == "words":
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(WORDS), behavior="isolated"),
                                                     byte_level])
    elif split == "none":
        tok.pre_tokenizer = byte_level
    else:
        raise ValueError(f"split must be 'words' or 'none', not {split!r}")
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=int(vocab_size), special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
                                  max_token_length=32)
    tok.train_from_iterator(list(texts), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token=None, unk_token=None, chat_template=CHAT_TEMPLATE,
                                   model_max_length=1 << 20)


def tiny_model(tokenizer: Any, config: TinyConfig = TinyConfig()) -> Any:
    """A random-weight ``LlamaForCausalLM`` sized by ``config`` for ``tokenizer`` (seeded)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=config.hidden, intermediate_size=config.intermediate,
        num_hidden_layers=config.layers, num_attention_heads=config.heads, num_key_value_heads=config.kv_heads,
        max_position_embeddings=config.max_positions, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
        use_cache=True,
    )
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(cfg)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_tiny_base(folder: str | os.PathLike, texts: Iterable[str], config: TinyConfig = TinyConfig()) -> str:
    """Train a tokenizer on ``texts``, build the model, save both into ``folder``; returns the folder."""
    import json

    tok = train_tokenizer(texts, config.vocab_size, config.split)
    model = tiny_model(tok, config)
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    cfg_path = os.path.join(folder, "tokenizer_config.json")
    with open(cfg_path, encoding="utf-8") as fh:
        tok_cfg = json.load(fh)
    tok_cfg["tokenizer_class"] = "TokenizersBackend"  # load exactly this tokenizer.json, whatever the model
    with open(cfg_path, "w", encoding="utf-8") as fh:
        json.dump(tok_cfg, fh, indent=1)
    with open(os.path.join(folder, "tiny_config.json"), "w", encoding="utf-8") as fh:
        json.dump(config.to_dict(), fh, indent=1)
    return folder
