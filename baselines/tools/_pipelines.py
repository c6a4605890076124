"""Diffusers pipelines loaded once per process, and what the diffusers tools share around them.

A pipeline is the expensive part of an editor tool (seconds to minutes to load, gigabytes of
memory), and several tool objects (one per spec, per worker thread) may want the same one. So
pipelines live in one process-wide cache keyed by what was loaded and where: ``(pipeline class,
model, revision, dtype, device, offload)``. Every tool object and thread in the process shares one
copy; :data:`PIPELINES` counts the loads so tests can check that a pipeline loaded once.

Conventions, shared with the learned-metric judges:

* ``device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``. A transport setting: left out of a
  tool's id (``bench.ids.TRANSPORT_KEYS``). The tools resolve ``auto`` to the run's device when
  that is CUDA, else CUDA when available, else the CPU.
* ``dtype``: ``auto`` (the pipeline family's half precision on CUDA, float32 on CPU, where half
  precision is slow or unsupported), ``float32``, ``float16`` or ``bfloat16``.
* Weights are never fetched unless asked: a hub id is resolved to its snapshot in the local
  Hugging Face cache without a network request (:func:`resolve_source`), and a miss is a
  :class:`~bench.errors.ToolError` saying how to supply the weights (a local folder written by
  ``save_pretrained`` or a hub snapshot). ``download=true`` lets the library fetch what is
  missing; it is a transport setting (same weights, same outputs).
* A local folder enters a tool's id by the SHA-256 of its content, never by where it lives; a hub
  model by its id and revision (pin ``revision=`` for an id that cannot drift).
* Diffusers pipelines keep per-call state in their schedulers, so two threads must not run the
  same pipeline at once: every cached pipeline comes with a lock its callers hold while calling it.

:data:`EDITORS` and :data:`INPAINTERS` describe how each supported pipeline class is driven
(defaults, call arguments, size factor, whether it batches). torch and diffusers are imported
inside functions only.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.errors import ToolError

log = logging.getLogger(__name__)

DTYPES: tuple[str, ...] = ("auto", "float32", "float16", "bfloat16")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class PipelineKey:
    """What identifies a loaded pipeline in the process-wide cache."""

    cls_name: str
    model: str
    revision: str | None
    dtype: str  # resolved: float32 | float16 | bfloat16
    device: str  # resolved: cpu | cuda | cuda:N
    offload: bool = False


@dataclass
class LoadedPipeline:
    """A pipeline, the lock to hold while calling it, and where its weights came from."""

    pipe: Any
    lock: threading.Lock
    source: str  # the folder or hub id it was loaded from


class PipelineCache:
    """``get(key, loader)`` loads each key once per process; ``loads`` counts loads per key.

    Loading holds the cache lock, so two threads asking for the same pipeline wait for one load.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[PipelineKey, LoadedPipeline] = {}
        self.loads: Counter[PipelineKey] = Counter()

    def get(self, key: PipelineKey, loader: Any) -> LoadedPipeline:
        with self._lock:
            if key not in self._items:
                self._items[key] = loader()
                self.loads[key] += 1
            return self._items[key]

    def clear(self) -> None:
        """Forget every loaded pipeline (tests, or to free accelerator memory); keeps the counts."""
        with self._lock:
            self._items.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


#: The process's pipelines.
PIPELINES = PipelineCache()


def clear_pipelines() -> None:
    """Drop every cached pipeline (and free CUDA memory when torch is loaded)."""
    PIPELINES.clear()
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- device and dtype


def check_device(device: Any, who: str) -> str:
    """Validate a ``device`` option (without resolving it: construction must not import torch)."""
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ToolError(f"{who}: device must be auto, cpu, cuda or cuda:N, got {device!r}", field="device")
    return device


def check_dtype(dtype: Any, who: str) -> str:
    if dtype not in DTYPES:
        raise ToolError(f"{who}: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", field="dtype")
    return str(dtype)


def resolve_device(device: str, who: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; CUDA asked for but absent is a ToolError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ToolError(f"{who}: device={device!r}, but CUDA is not available here; use device=cpu or auto",
                        field="device")
    return device


def resolve_dtype(dtype: str, device: str, half: str) -> str:
    """The dtype name a pipeline runs in: ``auto`` is ``half`` on CUDA and float32 elsewhere."""
    if dtype == "auto":
        return half if device.startswith("cuda") else "float32"
    return dtype


def torch_dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


# ----------------------------------------------------------------------------- weights and identity


_HASHES: dict[tuple[Any, ...], str] = {}


def looks_like_path(model: str) -> bool:
    """A model string meant as a folder: it exists, or starts like a path (``/``, ``.``, ``~``)."""
    expanded = os.path.expanduser(model)
    return os.path.exists(expanded) or model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model


def _tree_signature(path: str) -> tuple[Any, ...]:
    """(relative path, size, mtime) of every file under ``path``: cheap, and changes with any file."""
    if os.path.isfile(path):
        st = os.stat(path)
        return ((os.path.basename(path), st.st_size, st.st_mtime_ns),)
    rows = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            st = os.stat(full)
            rows.append((os.path.relpath(full, path), st.st_size, st.st_mtime_ns))
    return tuple(rows)


def path_identity(path: str) -> str:
    """``sha256:<hex>`` of a local file or folder's content, memoised on every file's size and mtime.

    Hashing a multi-gigabyte checkpoint takes seconds; it happens once per process per folder state.
    """
    from bench.ids import file_content_hash

    full = os.path.abspath(os.path.expanduser(path))
    key = (full, _tree_signature(full))
    if key not in _HASHES:
        _HASHES[key] = "sha256:" + file_content_hash(full)
    return _HASHES[key]


def weights_identity(model: str, revision: str | None) -> str:
    """What a tool's id says about its weights: a content hash for a folder, else ``hub:id@revision``."""
    if os.path.exists(os.path.expanduser(model)):
        return path_identity(model)
    return f"hub:{model}@{revision or 'unpinned'}"


# ----------------------------------------------------------------------------- loading


def pipeline_class(cls_name: str, supported: tuple[str, ...], who: str) -> Any:
    """The diffusers class named ``cls_name``; a ToolError when unsupported or not installed."""
    if cls_name not in supported:
        raise ToolError(f"{who}: pipeline {cls_name!r} is not supported; supported: {', '.join(supported)}",
                        field="pipeline")
    try:
        import diffusers
    except ImportError as err:
        raise ToolError(f"{who}: needs diffusers (pip install 'editbench[diffusers]'): {err}") from err
    cls = getattr(diffusers, cls_name, None)
    if cls is None:
        raise ToolError(f"{who}: the installed diffusers {diffusers.__version__} has no {cls_name}; upgrade diffusers",
                        field="pipeline")
    return cls


def no_weights_message(who: str, what: str, model: str, revision: str | None, err: BaseException) -> str:
    at = f"@{revision}" if revision else ""
    return (
        f"{who}: cannot load {what} weights from {model!r}{at}: {type(err).__name__}: {str(err).rstrip('. ')}. "
        f"editbench never downloads weights unless asked. Give model=FOLDER (a {what} checkpoint written by "
        f"save_pretrained, or a snapshot of {model!r} copied from a machine with network access), fill the "
        "Hugging Face cache (HF_HOME) there, or pass download=true to let the library fetch it."
    )


def resolve_source(model: str, revision: str | None, *, download: bool, who: str, what: str) -> tuple[str, str | None]:
    """Where to load ``model`` from: ``(folder, None)`` for a local folder or a cached hub snapshot,
    ``(hub id, revision)`` only when ``download`` allows fetching.

    A hub id is resolved to its snapshot in the local Hugging Face cache first, without any network
    request (the libraries' own ``local_files_only`` still probes the hub for optional files, such
    as adapters, with retries that take tens of seconds offline). A miss is a :class:`ToolError`
    saying how to supply the weights.
    """
    expanded = os.path.expanduser(model)
    if os.path.isdir(expanded):
        return expanded, None
    if looks_like_path(model):
        raise ToolError(f"{who}: model folder {model!r} does not exist; give model=FOLDER written by "
                        f"save_pretrained, or a hub id", field="model")
    if download:
        return model, revision
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(model, revision=revision, local_files_only=True), None
    except Exception as err:  # LocalEntryNotFoundError, a malformed repo id, no huggingface_hub
        raise ToolError(no_weights_message(who, what, model, revision, err), field="model") from err


def load_pipeline(
    cls_name: str,
    supported: tuple[str, ...],
    model: str,
    *,
    revision: str | None,
    device: str,
    dtype: str,
    download: bool,
    offload: bool,
    who: str,
) -> LoadedPipeline:
    """The cached pipeline for these settings, loading it on first use (``device``/``dtype`` resolved)."""
    key = PipelineKey(cls_name, model, revision, dtype, device, offload)

    def loader() -> LoadedPipeline:
        cls = pipeline_class(cls_name, supported, who)
        source, rev = resolve_source(model, revision, download=download, who=who, what=cls_name)
        # Recent diffusers name the argument ``dtype`` and deprecate ``torch_dtype``; older ones know only the latter.
        from diffusers.pipelines import pipeline_utils

        dtype_kw = "dtype" if hasattr(pipeline_utils, "_resolve_dtype") else "torch_dtype"
        try:
            pipe = cls.from_pretrained(source, revision=rev, local_files_only=not download,
                                       **{dtype_kw: torch_dtype(dtype)})
        except Exception as err:  # diffusers raises OSError, ValueError... for missing or mismatched files
            raise ToolError(no_weights_message(who, cls_name, model, revision, err), field="model") from err
        if offload and device.startswith("cuda"):
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        log.info("%s: loaded %s from %s (%s, %s)", who, cls_name, source, device, dtype)
        return LoadedPipeline(pipe=pipe, lock=threading.Lock(), source=source)

    return PIPELINES.get(key, loader)


# ----------------------------------------------------------------------------- pipeline families


@dataclass
class Batch:
    """One pipeline call's inputs, at the working size (images, and masks for inpainting, resized)."""

    prompts: list[str]
    negatives: list[str]
    images: list[Any]
    masks: list[Any] | None
    size: tuple[int, int]  # (width, height)
    values: dict[str, Any]  # the validated params shared by the batch (steps, guidance...)
    generators: list[Any]


@dataclass(frozen=True)
class PipelineFamily:
    """How editbench drives one diffusers pipeline class.

    ``defaults`` are the model card's settings; ``params`` the schema properties this family adds
    to its tool's common ones; ``call(pipe, batch)`` the keyword arguments of one pipeline call;
    ``factor(pipe)`` the multiple working sizes are rounded to; ``batched`` whether several images
    go into one call (only where the pipeline takes lists and batching pays: not for the 12-20B
    transformers, which are compute-bound); ``per_item`` the params that may differ inside a batch.
    """

    cls_name: str
    default_model: str
    half: str
    defaults: dict[str, Any]
    call: Any
    factor: Any
    batched: bool
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompt_key: str = "instruction"
    needs_mask: bool = False
    per_item: frozenset[str] = frozenset({"instruction", "prompt", "negative_prompt", "seed"})


def _vae_factor(pipe: Any) -> int:
    return int(pipe.vae_scale_factor)


def _packed_factor(pipe: Any) -> int:
    """FLUX and Qwen-Image pack 2x2 latent patches: sizes are multiples of twice the VAE's scale."""
    return int(pipe.vae_scale_factor) * 2


def _call_ip2p(pipe: Any, b: Batch) -> dict[str, Any]:
    v = b.values
    return {"prompt": b.prompts, "image": b.images, "negative_prompt": b.negatives,
            "num_inference_steps": v["steps"], "guidance_scale": v["guidance_scale"],
            "image_guidance_scale": v["image_guidance_scale"], "generator": b.generators, "output_type": "pil"}


def _call_kontext(pipe: Any, b: Batch) -> dict[str, Any]:
    v, (w, h) = b.values, b.size
    return {"image": b.images[0], "prompt": b.prompts[0], "height": h, "width": w, "max_area": w * h,
            "num_inference_steps": v["steps"], "guidance_scale": v["guidance_scale"],
            "_auto_resize": v["auto_resize"], "generator": b.generators[0], "output_type": "pil"}


def _call_qwen(pipe: Any, b: Batch, *, listed: bool = False) -> dict[str, Any]:
    v, (w, h) = b.values, b.size
    # Qwen-Image-Edit's guidance is true classifier-free guidance: it needs a negative prompt, and a
    # blank one is what the model card uses.
    return {"image": [b.images[0]] if listed else b.images[0], "prompt": b.prompts[0],
            "negative_prompt": b.negatives[0] or " ", "true_cfg_scale": v["guidance_scale"], "height": h, "width": w,
            "num_inference_steps": v["steps"], "generator": b.generators[0], "output_type": "pil"}


def _call_qwen_plus(pipe: Any, b: Batch) -> dict[str, Any]:
    return _call_qwen(pipe, b, listed=True)


def _call_sd_inpaint(pipe: Any, b: Batch) -> dict[str, Any]:
    v, (w, h) = b.values, b.size
    return {"prompt": b.prompts, "image": b.images, "mask_image": b.masks, "height": h, "width": w,
            "negative_prompt": b.negatives, "num_inference_steps": v["steps"], "guidance_scale": v["guidance_scale"],
            "strength": v["strength"], "generator": b.generators, "output_type": "pil"}


_NEGATIVE_PROP = {"negative_prompt": {"type": "string", "maxLength": 1000, "default": "",
                                      "description": "What the result should not show"}}

#: Instruction editors, by pipeline class name (``instruct-edit``'s ``pipeline=`` option).
EDITORS: dict[str, PipelineFamily] = {
    "StableDiffusionInstructPix2PixPipeline": PipelineFamily(
        "StableDiffusionInstructPix2PixPipeline", "timbrooks/instruct-pix2pix", "float16",
        {"steps": 20, "guidance_scale": 7.5, "image_guidance_scale": 1.5}, _call_ip2p, _vae_factor, batched=True,
        params={**_NEGATIVE_PROP,
                "image_guidance_scale": {"type": "number", "minimum": 1.0, "maximum": 10.0,
                                         "description": "How closely the result keeps to the input image"}},
    ),
    "FluxKontextPipeline": PipelineFamily(
        "FluxKontextPipeline", "black-forest-labs/FLUX.1-Kontext-dev", "bfloat16",
        {"steps": 28, "guidance_scale": 2.5}, _call_kontext, _packed_factor, batched=False,
        params={"auto_resize": {"type": "boolean", "default": True,
                                "description": "Feed the input at Kontext's nearest training resolution"}},
    ),
    "QwenImageEditPipeline": PipelineFamily(
        "QwenImageEditPipeline", "Qwen/Qwen-Image-Edit", "bfloat16",
        {"steps": 50, "guidance_scale": 4.0}, _call_qwen, _packed_factor, batched=False, params=dict(_NEGATIVE_PROP),
    ),
    "QwenImageEditPlusPipeline": PipelineFamily(
        "QwenImageEditPlusPipeline", "Qwen/Qwen-Image-Edit-2509", "bfloat16",
        {"steps": 40, "guidance_scale": 4.0}, _call_qwen_plus, _packed_factor, batched=False,
        params=dict(_NEGATIVE_PROP),
    ),
}

#: Inpainters, by pipeline class name (``inpaint``'s ``pipeline=`` option).
INPAINTERS: dict[str, PipelineFamily] = {
    "StableDiffusionInpaintPipeline": PipelineFamily(
        "StableDiffusionInpaintPipeline", "stable-diffusion-v1-5/stable-diffusion-inpainting", "float16",
        {"steps": 30, "guidance_scale": 7.5, "strength": 1.0}, _call_sd_inpaint, _vae_factor, batched=True,
        prompt_key="prompt", needs_mask=True,
    ),
}
