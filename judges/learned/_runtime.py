"""What every learned-metric judge shares: device and dtype, one model cache per process, batching,
image tensors, local-path identities and failure statuses.

Conventions (each judge's docstring adds its own alignment rule):

* ``device``: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``. A transport setting:
  it is left out of the judge's id (``bench.ids.TRANSPORT_KEYS``), like ``batch_size``.
* ``dtype``: ``float32`` (default: the same numbers on every machine, up to float rounding),
  ``bfloat16`` or ``float16`` (the network runs under ``torch.autocast``; several times faster
  on a GPU, scores move in the third decimal), or ``auto`` (bfloat16 on CUDA, float32 on CPU).
  ``dtype`` changes numbers, so it is part of the id.
* Weights are never fetched unless asked: a model named by a hub id or tag is looked up in the
  local caches (Hugging Face's, torch hub's), and a miss is a :class:`bench.errors.JudgeError`
  saying how to supply the weights. ``download=true`` lets the wrapped library fetch what is
  missing (a transport setting: not in the id, since the same weights give the same numbers).
* Models load lazily, on the first ``judge`` call, into a process-wide cache keyed by what was
  loaded and where; every judge object and worker thread in the process shares one copy.
* A local path given as weights or model is part of the id by its content (SHA-256 of the file
  or folder), not by where it happens to be.
* Failures are statuses, never zeros: a trajectory without a result gets ``unscored`` with the
  reason in ``na``; weights that cannot be found raise :class:`bench.errors.JudgeError` saying how
  to supply them (the runner records ``error`` for the batch).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from bench.errors import JudgeError
from bench.model import Judgement
from bench.protocols import Component, JudgeInfo, JudgeItem

log = logging.getLogger(__name__)

DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16", "auto")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

T = TypeVar("T")

# ----------------------------------------------------------------------------- device and dtype


def resolve_device(device: str, who: str) -> str:
    """``auto`` -> ``cuda`` when available else ``cpu``; asking for CUDA without one is a JudgeError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise JudgeError(f"{who}: device={device!r}, but CUDA is not available here; use device=cpu or auto")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """The torch dtype the network runs in (``auto``: bfloat16 on CUDA, float16 where it lacks bf16, else float32)."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]


def autocast(device: str, dtype: Any) -> contextlib.AbstractContextManager[Any]:
    """``torch.autocast`` for half dtypes, nothing for float32."""
    import torch

    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=dtype)


# ----------------------------------------------------------------------------- the model cache


class ModelCache:
    """Process-wide cache of loaded networks: ``get(key, loader)`` loads once per key.

    Loading holds the lock, so two threads asking for the same model wait for one load.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], loader: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._items:
                self._items[key] = loader()
            return self._items[key]  # type: ignore[no-any-return]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


MODELS = ModelCache()


def clear_model_cache() -> None:
    """Forget every loaded metric network (tests, or to free GPU memory)."""
    MODELS.clear()


# ----------------------------------------------------------------------------- local paths


_HASHES: dict[tuple[Any, ...], str] = {}


def is_local_path(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and os.path.exists(os.path.expanduser(value))


def stat_signature(full: str) -> tuple[Any, ...]:
    """What changes when a file or any file in a folder changes: (name, size, mtime) of each."""
    if not os.path.isdir(full):
        st = os.stat(full)
        return ((full, st.st_size, st.st_mtime_ns),)
    out = []
    for root, dirs, files in os.walk(full):
        dirs.sort()
        for f in sorted(files):
            st = os.stat(os.path.join(root, f))
            out.append((os.path.relpath(os.path.join(root, f), full), st.st_size, st.st_mtime_ns))
    return (full, *out)


def path_identity(path: str) -> str:
    """``sha256:<hex>`` of a local file or folder's content, memoised on its files' sizes and mtimes."""
    from bench.ids import file_content_hash

    full = os.path.abspath(os.path.expanduser(path))
    key = stat_signature(full)
    if key not in _HASHES:
        _HASHES[key] = "sha256:" + file_content_hash(full)
    return _HASHES[key]


# ----------------------------------------------------------------------------- images and batches


def to_uint8(img: Image.Image) -> np.ndarray:
    """An RGB image as a ``(H, W, 3)`` uint8 array."""
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8)


def align_to_source(source: Image.Image, result: Image.Image) -> tuple[Image.Image, Image.Image, str]:
    """Resize ``result`` to ``source``'s size with Lanczos (aspect not kept), as the SSIM judge does.

    Returns both images in RGB and the sentence a rationale carries ('' when no resize was needed).
    """
    src = source if source.mode == "RGB" else source.convert("RGB")
    res = result if result.mode == "RGB" else result.convert("RGB")
    if res.size == src.size:
        return src, res, ""
    note = (
        f"The result ({res.width}x{res.height}) was resized to the source's {src.width}x{src.height} "
        "with Lanczos before comparison."
    )
    return src, res.resize(src.size, Image.LANCZOS), note


def tensor_batch(images: Sequence[Image.Image], device: str) -> Any:
    """Equal-size PIL images -> a ``(N, 3, H, W)`` uint8 tensor on ``device`` (pinned, asynchronous copy).

    Converting per chunk, just before its forward pass, lets the CPU prepare the next chunk while
    the GPU computes this one.
    """
    import torch

    x = torch.from_numpy(np.stack([to_uint8(im) for im in images])).permute(0, 3, 1, 2)
    if device != "cpu":
        x = x.pin_memory().to(device, non_blocking=True)
    return x


def resize_square(x: Any, size: int, mode: str = "bicubic") -> Any:
    """``(N, 3, H, W)`` float -> ``(N, 3, size, size)``, antialiased (aspect not kept)."""
    import torch.nn.functional as F

    if tuple(x.shape[-2:]) == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode=mode, antialias=True, align_corners=False)


def resize_shortest_center_crop(x: Any, size: int, mode: str = "bicubic") -> Any:
    """``(N, 3, H, W)`` float -> shortest side to ``size`` (antialiased), centre crop ``size``².

    CLIP's own preprocessing (``Resize(size)`` + ``CenterCrop(size)``), done on the device; it
    matches PIL's bicubic to within about 1/255 per pixel.
    """
    import torch.nn.functional as F

    h, w = int(x.shape[-2]), int(x.shape[-1])
    if (h, w) != (size, size):
        # torchvision's Resize(int): the short side becomes ``size``, the long one int(size * long / short)
        nh, nw = (size, int(size * w / h)) if h <= w else (int(size * h / w), size)
        if (nh, nw) != (h, w):
            x = F.interpolate(x, size=(nh, nw), mode=mode, antialias=True, align_corners=False)
        top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))  # CenterCrop's offsets
        x = x[..., top : top + size, left : left + size]
    return x


def model_input(
    x_uint8: Any,
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    crop: bool = False,
    mode: str = "bicubic",
) -> Any:
    """``(N, 3, H, W)`` uint8 -> resized (square, or short side + centre crop) and standardised float32.

    Pixels stay on the 0..255 scale until one fused step ``x / (255 std) - mean / std`` (one
    ``addcmul`` that also converts uint8 to float); a resize overshoot (bicubic) is clipped to
    0..255 first, as an 8-bit image would be.
    """
    import torch

    x = x_uint8
    if tuple(x.shape[-2:]) != (size, size):
        x = (resize_shortest_center_crop if crop else resize_square)(x.float(), size, mode).clamp(0.0, 255.0)
    inv = torch.tensor([1.0 / (255.0 * v) for v in std], device=x.device).view(1, -1, 1, 1)
    bias = torch.tensor([-m / v for m, v in zip(mean, std, strict=True)], device=x.device).view(1, -1, 1, 1)
    return torch.addcmul(bias, x, inv)


def chunks(idxs: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(idxs), size):
        yield list(idxs[start : start + size])


def group_by_size(images: dict[int, Image.Image]) -> dict[tuple[int, int], list[int]]:
    """Indices grouped by image size (first-seen order), so each group stacks into one batch."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, im in images.items():
        groups.setdefault(im.size, []).append(i)
    return groups


# ----------------------------------------------------------------------------- judgements


def item_problem(item: JudgeItem) -> str | None:
    """Why an item cannot be scored (a failed trajectory, no final image), or ``None``."""
    traj = item.trajectory
    if traj.status != "ok":
        return f"trajectory {traj.status}: {traj.error or 'no error given'}"
    if item.final is None:
        return "no final image"
    return None


def unscored(item: JudgeItem, scores: Sequence[str], reason: str) -> Judgement:
    return Judgement(
        suite=item.suite,
        sample_id=item.sample.id,
        system_id=item.trajectory.system_id,
        judge_id="",
        na={s: reason for s in scores},
        rationale=reason,
        status="unscored",
        error=reason,
    )


class LearnedJudge(Component):
    """Base of the learned-metric judges: option checks, lazy device resolution, path identities.

    Subclasses set ``name``, ``description``, ``PATH_OPTIONS`` (constructor options that may name
    a local file or folder) and implement ``score_specs`` and ``judge``.
    """

    scope = "sample"
    description = ""
    PATH_OPTIONS: tuple[str, ...] = ()

    def __init__(
        self, *, device: str = "auto", dtype: str = "float32", batch_size: int = 32, download: bool = False
    ) -> None:
        if not isinstance(device, str) or device.split(":")[0] not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.device = device  # transport: not in the id
        self.dtype = dtype
        self.batch_size = batch_size  # transport: not in the id
        self.download = bool(download)  # transport: not in the id

    def config(self) -> dict[str, Any]:
        """Constructor options (``download`` left out), every local path replaced by its content's SHA-256."""
        cfg = super().config()
        cfg.pop("download", None)
        for key in self.PATH_OPTIONS:
            if is_local_path(cfg.get(key)):
                cfg[key] = path_identity(cfg[key])
        return cfg

    def info(self) -> JudgeInfo:
        return JudgeInfo(description=self.description, kind="metric", models=self.models())

    def models(self) -> tuple[str, ...]:
        return ()

    def runtime(self) -> tuple[str, Any]:
        """The resolved ``(device, torch dtype)`` for this call."""
        device = resolve_device(self.device, self.name)
        return device, resolve_dtype(self.dtype, device)

    def split(
        self, items: list[JudgeItem], scores: Sequence[str]
    ) -> tuple[list[Judgement | None], list[int]]:
        """Judgements for the items that cannot be scored, and the indices of those that can."""
        out: list[Judgement | None] = [None] * len(items)
        ok: list[int] = []
        for i, item in enumerate(items):
            why = item_problem(item)
            if why is None:
                ok.append(i)
            else:
                out[i] = unscored(item, scores, why)
        return out, ok
