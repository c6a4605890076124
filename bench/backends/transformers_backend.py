"""A local chat model through Hugging Face ``transformers``: the same chat interface as the HTTP family.

Why it looks like this:

* **One model per process, loaded lazily.** Nothing is imported or loaded until the first
  ``chat_many``; the loaded model sits in a small process-wide cache keyed by (model, revision,
  device, dtype, attention implementation), so every judge and planner that names the same model
  shares one copy, and a backend object stays cheap to build, pickle and ship to a worker.
* **Vision-language first.** A model whose config maps to ``AutoModelForImageTextToText`` (the
  Qwen-VL families, Idefics3, LLaVA, Gemma 3, ...) is loaded with ``AutoProcessor``, and each
  request's messages, images in place, go through the processor's own chat template
  (``sanitize_control_tokens`` on, so a goal that contains ``<|im_end|>`` cannot end a turn). Any
  other model is loaded as ``AutoModelForCausalLM`` + ``AutoTokenizer``; a request with images
  to such a model comes back as an error response.
* **Generation settings** come from the request (budget, temperature, top-p, seed); the model's
  own ``generation_config`` still supplies its end-of-sequence ids and any repetition penalty
  its authors set, as a serving engine would apply them.
* **Batched, order kept.** Requests are sorted by their token budget and prompt size, cut into
  batches of ``max_batch``, left-padded and generated together; the responses are put back in
  request order. A batch that fails (out of memory, a processor error) is retried one request at
  a time, so one bad request costs only its own response, never an exception.
* **Sampling that does not depend on the batch.** Temperature 0 is greedy. Otherwise each row is
  sampled by the Gumbel-max trick with its *own* generator, seeded by ``request.seed`` or, when
  that is ``None``, by a hash of the request (``n_index`` included, so draw 2 differs from draw
  1): the distribution is softmax(logits / T) restricted to the ``top_p`` nucleus, exactly what
  multinomial sampling draws, but a request's tokens are the same alone or in any batch.
* **Log-probabilities** (``logprobs=True``) are of the model's own next-token distribution
  (temperature 1, before top-p), as vLLM reports them by default, with the ``top_logprobs``
  best alternatives per generated token; the end-of-sequence token is not listed.
* **JSON.** A local model cannot be constrained by ``response_format``: the schema (or "a JSON
  object") is added to the last user turn as an instruction, ``format_used`` is ``text``, and
  callers parse with :meth:`ChatResponse.json` as for any server.

``spec()`` is ``{kind, model, revision, dtype}``: ``revision`` is the one asked for, or for a
local folder the SHA-256 of its files (so a changed checkpoint is a new identity); the device,
the batch size and ``download`` are transport. A hub id is read from the local Hugging Face cache
only, unless ``download=true``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bench.errors import BackendError
from bench.jsonio import canonical_json

from .base import (
    BackendBase,
    ChatRequest,
    ChatResponse,
    ImagePart,
    TextPart,
    TokenLogprob,
    TopLogprob,
    Usage,
    check_requests,
    raw_hash,
)

logger = logging.getLogger(__name__)

DTYPES = ("auto", "bfloat16", "float16", "float32")
DEVICES = ("auto", "cpu", "cuda")
ENDPOINT_HOST = "local"

# --------------------------------------------------------------------------------------------
# Process-wide caches: loaded models, and content hashes of local model folders
# --------------------------------------------------------------------------------------------

_MODELS: dict[tuple[Any, ...], _Loaded] = {}
_MODELS_LOCK = threading.Lock()
_PATH_HASHES: dict[tuple[Any, ...], str] = {}


def clear_model_cache() -> None:
    """Forget every loaded model (frees its memory once no backend call holds it)."""
    with _MODELS_LOCK:
        _MODELS.clear()


def _local_revision(path: str) -> str:
    """``sha256:<hex>`` of a local model folder, memoised on its files' names, sizes and mtimes."""
    full = os.path.abspath(path)
    key: list[Any] = [full]
    for root, dirs, files in os.walk(full):
        dirs.sort()
        for f in sorted(files):
            st = os.stat(os.path.join(root, f))
            key.append((os.path.relpath(os.path.join(root, f), full), st.st_size, st.st_mtime_ns))
    if tuple(key) not in _PATH_HASHES:
        from bench.ids import file_content_hash

        _PATH_HASHES[tuple(key)] = "sha256:" + file_content_hash(full)
    return _PATH_HASHES[tuple(key)]


@dataclass
class _Loaded:
    """A model ready to generate, with what encodes its prompts."""

    model: Any
    processor: Any  # an AutoProcessor (vision) or an AutoTokenizer (text only)
    tokenizer: Any
    vision: bool
    device: str
    dtype: str
    resolved: str
    eos_ids: frozenset[int]
    lock: threading.Lock = field(default_factory=threading.Lock)


# --------------------------------------------------------------------------------------------
# Sampling that is independent of the batch
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RowSampling:
    temperature: float
    top_p: float | None
    seed: int


class _GumbelSampler:
    """A logits processor that turns greedy decoding into per-row seeded sampling.

    ``generate`` runs greedy (argmax); for each sampled row this adds Gumbel noise drawn from the
    row's own generator to ``log softmax(logits / T)`` masked to the top-p nucleus, so the argmax
    is a draw from that distribution (the Gumbel-max trick). Greedy rows are left untouched.
    """

    def __init__(self, rows: Sequence[_RowSampling | None]) -> None:
        self.rows = list(rows)
        self._gens: dict[int, Any] = {}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for i, row in enumerate(self.rows):
            if row is None:
                continue
            gen = self._gens.get(i)
            if gen is None:
                gen = torch.Generator(device=scores.device)
                gen.manual_seed(row.seed)
                self._gens[i] = gen
            logits = scores[i].float() / row.temperature
            if row.top_p is not None and row.top_p < 1.0:
                probs = torch.softmax(logits, dim=-1)
                sorted_p, order = torch.sort(probs, descending=True)
                before = torch.cumsum(sorted_p, dim=-1) - sorted_p  # mass strictly above each token
                drop = before >= row.top_p
                drop[0] = False  # the most likely token always stays
                logits = logits.clone()
                logits[order[drop]] = float("-inf")
            u = torch.rand(logits.shape, generator=gen, device=scores.device).clamp_(1e-20, 1.0 - 1e-7)
            scores[i] = (torch.log_softmax(logits, dim=-1) - torch.log(-torch.log(u))).to(scores.dtype)
        return scores


def request_seed(req: ChatRequest) -> int:
    """The request's seed, or a 63-bit one derived from everything about it (``n_index`` included)."""
    if req.seed is not None:
        return int(req.seed) & ((1 << 63) - 1)
    digest = hashlib.sha256(canonical_json(req.key_material()).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _format_hint(req: ChatRequest) -> str | None:
    fmt = req.response_format or {}
    if fmt.get("type") == "json_schema":
        schema = fmt["json_schema"].get("schema", {})
        return (
            "Reply with a single JSON object and nothing else. It must be valid against this JSON schema: "
            + json.dumps(schema, sort_keys=True)
        )
    if fmt.get("type") == "json_object":
        return "Reply with a single JSON object and nothing else."
    return None


def _pil(part: ImagePart) -> Image.Image:
    img = part.image if part.image is not None else Image.open(io.BytesIO(part.png_bytes()))
    return img if img.mode == "RGB" else img.convert("RGB")


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------


class TransformersBackend(BackendBase):
    """A local transformers model (vision-language or text-only) behind the chat interface.

    Args:
        model: a hub id (``Qwen/Qwen2.5-VL-7B-Instruct``) or a local folder saved with
            ``save_pretrained`` (model, processor or tokenizer, chat template).
        revision: the hub revision to load (pin a commit for reproducible runs); ignored for
            a local folder, whose identity is its content hash.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda`` (``cuda:1`` works too).
        dtype: ``auto`` (bfloat16 on CUDA, float16 on GPUs without it, float32 on CPU), ``bfloat16``,
            ``float16``, ``float32``.
        max_batch: the most requests generated together (transport: not in the spec).
        max_new_tokens: the budget of a request whose ``max_tokens`` is ``None``.
        attn_implementation: passed to ``from_pretrained`` (``sdpa``, ``flash_attention_2``...).
        download: let ``from_pretrained`` fetch a hub model that is not in the local Hugging Face
            cache (default: the cache only, so an offline worker fails fast with a clear error).

    >>> b = TransformersBackend("Qwen/Qwen2-VL-2B-Instruct", revision="abc123", dtype="bfloat16")
    >>> b.spec()
    {'kind': 'transformers', 'model': 'Qwen/Qwen2-VL-2B-Instruct', 'revision': 'abc123', 'dtype': 'bfloat16'}
    """

    name = "transformers"
    version = "1"

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_batch: int = 8,
        max_new_tokens: int = 512,
        attn_implementation: str | None = None,
        download: bool = False,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError("TransformersBackend: model must be a hub id or a local folder")
        if dtype not in DTYPES:
            raise ValueError(f"TransformersBackend: dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        if device.split(":")[0] not in DEVICES:
            raise ValueError(
                f"TransformersBackend: device must be one of {', '.join(DEVICES)}, not {device!r}"
            )
        if int(max_batch) < 1 or int(max_new_tokens) < 1:
            raise ValueError("TransformersBackend: max_batch and max_new_tokens must be >= 1")
        self.model = model
        self.revision = revision
        self.device = device
        self.dtype = dtype
        self.max_batch = int(max_batch)
        self.max_new_tokens = int(max_new_tokens)
        self.attn_implementation = attn_implementation
        self.download = bool(download)
        self.is_local = os.path.isdir(os.path.expanduser(model))

    # --- identity --------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        revision = _local_revision(os.path.expanduser(self.model)) if self.is_local else self.revision
        return {"kind": "transformers", "model": self.model, "revision": revision, "dtype": self.dtype}

    # --- loading ---------------------------------------------------------------------------

    def _resolve(self) -> tuple[str, str]:
        import torch

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(
                f"transformers backend {self.model!r}: device {device!r} asked for, but CUDA is not available"
            )
        dtype = self.dtype
        if dtype == "auto":  # bfloat16 on a GPU that has it (float16 on older ones), float32 on CPU
            if device.startswith("cuda"):
                dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
            else:
                dtype = "float32"
        return device, dtype

    def _loaded(self) -> _Loaded:
        device, dtype = self._resolve()
        path = os.path.expanduser(self.model)
        key = (
            os.path.abspath(path) if self.is_local else self.model,
            None if self.is_local else self.revision,
            device,
            dtype,
            self.attn_implementation,
        )
        with _MODELS_LOCK:  # loads are rare and slow: one at a time is fine and avoids double loads
            hit = _MODELS.get(key)
            if hit is None:
                hit = self._load(path, device, dtype)
                _MODELS[key] = hit
            return hit

    def _load(self, path: str, device: str, dtype: str) -> _Loaded:
        import torch
        import transformers as tf
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING

        t0 = time.perf_counter()
        revision = None if self.is_local else self.revision
        hub: dict[str, Any] = {"revision": revision, "local_files_only": not self.download}
        where = f"transformers backend {self.model!r}" + (f"@{revision}" if revision else "")
        try:
            config = tf.AutoConfig.from_pretrained(path, **hub)
        except Exception as err:
            raise BackendError(
                f"{where}: cannot load its config ({type(err).__name__}: {err}). Give a local folder saved "
                "with save_pretrained, a hub id already in the local Hugging Face cache, or download=true "
                "on a machine with network access."
            ) from err
        vision = type(config) in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING
        kwargs: dict[str, Any] = {**hub, "dtype": getattr(torch, dtype), "device_map": {"": device}}
        if not self.download:  # transformers looks for a PEFT adapter without honouring local_files_only
            kwargs["adapter_kwargs"] = {"local_files_only": True}
        if self.attn_implementation:
            kwargs["attn_implementation"] = self.attn_implementation
        try:
            if vision:
                processor = tf.AutoProcessor.from_pretrained(path, **hub)
                tokenizer = processor.tokenizer
                model = tf.AutoModelForImageTextToText.from_pretrained(path, **kwargs)
            else:
                processor = tokenizer = tf.AutoTokenizer.from_pretrained(path, **hub)
                model = tf.AutoModelForCausalLM.from_pretrained(path, **kwargs)
        except Exception as err:
            raise BackendError(
                f"{where}: cannot load model or processor ({type(err).__name__}: {err})"
            ) from err
        model.eval()
        tokenizer.padding_side = "left"  # batched generation continues every row from its last token
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        eos = model.generation_config.eos_token_id
        eos_ids = frozenset([eos] if isinstance(eos, int) else (eos or []))
        if tokenizer.eos_token_id is not None:
            eos_ids = eos_ids | {tokenizer.eos_token_id}
        if self.is_local:
            resolved = f"{self.model}@{_local_revision(path)[:19]}"
        else:
            resolved = f"{self.model}@{getattr(config, '_commit_hash', None) or revision or 'main'}"
        kind = "vision" if vision else "text"
        logger.info(
            "loaded %s (%s, %s, %s) in %.1fs", resolved, kind, device, dtype, time.perf_counter() - t0
        )
        return _Loaded(model, processor, tokenizer, vision, device, dtype, resolved, eos_ids)

    # --- the public call -------------------------------------------------------------------

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """Generate every reply, batched; one response per request, in request order."""
        reqs = check_requests(requests)
        if not reqs:
            return []
        try:
            lm = self._loaded()
        except Exception as err:  # no model, no GPU, no weights: every request says why
            logger.error("%s", err)
            msg = err.message if isinstance(err, BackendError) else f"{type(err).__name__}: {err}"
            return [ChatResponse.failure(msg, endpoint_host=ENDPOINT_HOST, attempts=0) for _ in reqs]
        out: list[ChatResponse | None] = [None] * len(reqs)
        convs: dict[int, list[dict[str, Any]]] = {}
        for i, r in enumerate(reqs):
            try:
                convs[i] = self._conversation(r, lm.vision)
            except ValueError as err:
                out[i] = ChatResponse.failure(str(err), endpoint_host=ENDPOINT_HOST, attempts=0)
        budget = {i: reqs[i].max_tokens or self.max_new_tokens for i in convs}
        size = {
            i: sum(
                len(p.text) if isinstance(p, TextPart) else 4096 for m in reqs[i].messages for p in m.content
            )
            for i in convs
        }
        order = sorted(convs, key=lambda i: (budget[i], size[i]))
        with lm.lock:
            for start in range(0, len(order), self.max_batch):
                idx = order[start : start + self.max_batch]
                for i, resp in zip(
                    idx,
                    self._batch_or_singles(lm, [reqs[i] for i in idx], [convs[i] for i in idx]),
                    strict=True,
                ):
                    out[i] = resp
        return [r for r in out if r is not None]

    # --- building prompts ------------------------------------------------------------------

    @staticmethod
    def _conversation(req: ChatRequest, vision: bool) -> list[dict[str, Any]]:
        """The request as the chat-template format: content parts for vision models, strings otherwise."""
        msgs: list[dict[str, Any]] = []
        for m in req.messages:
            if vision:
                parts: list[dict[str, Any]] = [
                    {"type": "text", "text": p.text}
                    if isinstance(p, TextPart)
                    else {"type": "image", "image": _pil(p)}
                    for p in m.content
                ]
                msgs.append({"role": m.role, "content": parts})
            else:
                if any(isinstance(p, ImagePart) for p in m.content):
                    raise ValueError(
                        "this model is text-only (no image-text-to-text class); the request has images"
                    )
                msgs.append({"role": m.role, "content": m.text()})
        hint = _format_hint(req)
        if hint is not None:
            last = msgs[-1]
            if last["role"] != "user":
                msgs.append({"role": "user", "content": [{"type": "text", "text": hint}] if vision else hint})
            elif vision:
                last["content"] = [*last["content"], {"type": "text", "text": "\n\n" + hint}]
            else:
                last["content"] = last["content"] + "\n\n" + hint
        return msgs

    def _encode(self, lm: _Loaded, convs: list[list[dict[str, Any]]]) -> Any:
        import inspect

        common: dict[str, Any] = dict(
            add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )
        encoder = lm.processor.apply_chat_template
        if "sanitize_control_tokens" in inspect.signature(encoder).parameters:  # transformers >= 5
            common["sanitize_control_tokens"] = True  # a '<|im_end|>' in a goal stays text
        if lm.vision:
            enc = encoder(convs, processor_kwargs={"padding": True}, **common)
        else:
            if not getattr(lm.tokenizer, "chat_template", None):
                raise ValueError("the tokenizer has no chat template")
            enc = encoder(convs, padding=True, **common)
        return enc.to(lm.model.device)

    # --- generating ------------------------------------------------------------------------

    def _batch_or_singles(
        self, lm: _Loaded, reqs: list[ChatRequest], convs: list[list[dict[str, Any]]]
    ) -> list[ChatResponse]:
        try:
            return self._generate(lm, reqs, convs)
        except Exception as err:
            if len(reqs) == 1:
                logger.warning(
                    "transformers backend %s: request failed: %s: %s", self.model, type(err).__name__, err
                )
                return [ChatResponse.failure(f"{type(err).__name__}: {err}", endpoint_host=ENDPOINT_HOST)]
            logger.warning(
                "transformers backend %s: batch of %d failed (%s: %s); retrying one by one",
                self.model,
                len(reqs),
                type(err).__name__,
                err,
            )
            _free_memory()
            return [self._batch_or_singles(lm, [r], [c])[0] for r, c in zip(reqs, convs, strict=True)]

    def _generate(
        self, lm: _Loaded, reqs: list[ChatRequest], convs: list[list[dict[str, Any]]]
    ) -> list[ChatResponse]:
        import torch
        from transformers import LogitsProcessorList

        t0 = time.perf_counter()
        enc = self._encode(lm, convs)
        budgets = [r.max_tokens or self.max_new_tokens for r in reqs]
        rows = [
            None if r.temperature <= 0 else _RowSampling(float(r.temperature), r.top_p, request_seed(r))
            for r in reqs
        ]
        want_lp = any(r.logprobs for r in reqs)
        gen_cfg = copy.deepcopy(lm.model.generation_config)
        for k in ("temperature", "top_p", "top_k", "min_p", "typical_p"):
            setattr(gen_cfg, k, None)
        gen_cfg.do_sample = False
        gen_cfg.num_beams = 1
        gen_cfg.max_length = None
        gen_cfg.max_new_tokens = max(budgets)
        gen_cfg.return_dict_in_generate = True
        gen_cfg.output_logits = want_lp
        if gen_cfg.pad_token_id is None:
            gen_cfg.pad_token_id = lm.tokenizer.pad_token_id
        procs = LogitsProcessorList([_GumbelSampler(rows)]) if any(rows) else None
        with torch.inference_mode():
            out = lm.model.generate(**enc, generation_config=gen_cfg, logits_processor=procs)
        prompt_len = enc["input_ids"].shape[1]
        seqs = out.sequences[:, prompt_len:].tolist()
        tokens_in = enc["attention_mask"].sum(dim=1).tolist()
        share = (time.perf_counter() - t0) / len(reqs)
        return [
            self._response(
                lm, r, seqs[i][: budgets[i]], i, int(tokens_in[i]), out.logits if want_lp else None, share
            )
            for i, r in enumerate(reqs)
        ]

    def _response(
        self,
        lm: _Loaded,
        req: ChatRequest,
        gen: list[int],
        row: int,
        tokens_in: int,
        logits: Any,
        seconds: float,
    ) -> ChatResponse:
        stop = next((k for k, t in enumerate(gen) if t in lm.eos_ids), None)
        tokens = gen if stop is None else gen[:stop]
        finish = "length" if stop is None else "stop"
        text = lm.tokenizer.decode(tokens, skip_special_tokens=True)
        lps = (
            self._logprobs(lm, tokens, row, logits, req.top_logprobs)
            if req.logprobs and logits is not None
            else None
        )
        raw = json.dumps(
            {"text": text, "token_ids": tokens, "finish_reason": finish, "model": lm.resolved},
            ensure_ascii=False,
        )
        return ChatResponse(
            text=text,
            status="ok",
            model_resolved=lm.resolved,
            endpoint_host=ENDPOINT_HOST,
            finish_reason=finish,
            logprobs=lps,
            usage=Usage(tokens_in=tokens_in, tokens_out=len(tokens) + (stop is not None)),
            seconds=seconds,
            dollars=None,
            raw_id=raw_hash(raw),
            raw=raw,
            attempts=1,
            format_used="text",
        )

    @staticmethod
    def _logprobs(
        lm: _Loaded, tokens: list[int], row: int, logits: Any, top: int
    ) -> tuple[TokenLogprob, ...]:
        import torch

        if not tokens:
            return ()
        lp = torch.log_softmax(torch.stack([logits[t][row] for t in range(len(tokens))]).float(), dim=-1)
        ids = torch.tensor(tokens, device=lp.device)
        chosen = lp.gather(1, ids[:, None])[:, 0].tolist()
        alts: list[list[tuple[int, float]]] = [[] for _ in tokens]
        if top > 0:
            vals, idx = lp.topk(min(top, lp.shape[-1]), dim=-1)
            alts = [list(zip(i, v, strict=True)) for i, v in zip(idx.tolist(), vals.tolist(), strict=True)]
        dec = lm.tokenizer.decode
        return tuple(
            TokenLogprob(dec([t]), float(c), tuple(TopLogprob(dec([a]), float(v)) for a, v in alt))
            for t, c, alt in zip(tokens, chosen, alts, strict=True)
        )


def _free_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # best effort
        pass
