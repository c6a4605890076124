"""Metric judges: SSIM and PSNR of the edited result against the source image.

Both measure **preservation** — how much of the source survives the edit — not whether the goal
was achieved: an editing system that returns the source untouched gets the best possible score.
Read them next to a goal judge, never alone.

Conventions shared by both judges (and by the function forms :func:`ssim` and :func:`psnr`):

* **Size alignment.** When the result's size differs from the source's, the result is resized to
  the source's size with Lanczos resampling (Pillow ``Image.LANCZOS``) before comparison; the
  aspect ratio is *not* preserved, so a crop or an outpainting counts as distortion. Every such
  judgement says so in its ``rationale``.
* **Channels.** ``channel="rgb"`` (default) computes the metric on the three 8-bit channels —
  SSIM as the mean of the per-channel SSIMs, PSNR from the MSE over all channels —
  exactly as ``skimage.metrics`` does with ``channel_axis=-1``. ``channel="luma"`` computes it on
  unrounded float luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601), which ignores
  pure chroma changes.
* **SSIM** is Wang et al. (2004) with an 11-tap Gaussian window (sigma 1.5, truncated at 3.5
  sigma), population covariances, K1 = 0.01, K2 = 0.03, data range 255, reflected borders and a
  5-pixel border left out of the mean: the numbers of ``skimage.metrics.structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)``. Images whose
  short side is under 11 px have no SSIM; the score is absent and explained in ``na``.
* **PSNR** is ``10 log10(255² / MSE)``, as ``skimage.metrics.peak_signal_noise_ratio``. Identical
  images have MSE 0 and PSNR +inf, which no JSON mean can hold. It is stored as ``cap_db``
  (default 100 dB) and every finite value above the cap is clipped to it, so the stored score is
  monotone in the true PSNR, the best result keeps the best score, and a system that changes
  nothing is not dropped from the mean (dropping it would flatter exactly the systems that edit
  the most). The ``rationale`` states when a value was capped. ``ScoreSpec.max`` is the cap.
* **Batching.** :meth:`judge` aligns every pair, groups pairs of equal size, stacks them into
  ``(N, H, W, C)`` float64 arrays and computes each group in one vectorised pass (Gaussian moments
  with ``scipy.ndimage.gaussian_filter`` and sigma 0 on the batch and channel axes), in chunks
  that bound memory. The result is bitwise the same as judging the items one at a time.
* **Failures are never zeros.** An item whose trajectory did not finish ``ok`` or has no final
  image gets a judgement with ``status="unscored"``, no score and the reason in ``na``.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image
from scipy import ndimage

from bench.model import Judgement, ScoreSpec
from bench.protocols import Component, JudgeInfo, JudgeItem

log = logging.getLogger(__name__)

Channel = Literal["rgb", "luma"]
CHANNELS: tuple[str, ...] = ("rgb", "luma")
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601

DATA_RANGE = 255.0
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # with sigma 1.5: an 11-tap window, as in Wang et al. (2004) and skimage
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_WINDOW = 2 * int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5) + 1  # 11
PSNR_CAP_DB = 100.0

# Elements (N*H*W*C) per vectorised chunk: ~32 MB per float64 array; SSIM holds about ten of them.
_MAX_CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------- alignment


@dataclass(frozen=True)
class AlignedPair:
    """Source and result as ``(H, W, 3)`` uint8 arrays of one size.

    ``resized_from`` is the result's original ``(width, height)`` when it had to be resized to the
    source's size, else ``None``.
    """

    source: np.ndarray
    result: np.ndarray
    resized_from: tuple[int, int] | None = None

    def note(self) -> str:
        """The sentence a judgement's rationale carries about alignment ('' when none was needed)."""
        if self.resized_from is None:
            return ""
        w, h = self.resized_from
        sh, sw = self.source.shape[:2]
        return f"The result ({w}x{h}) was resized to the source's {sw}x{sh} with Lanczos before comparison."


def align(source: Image.Image, result: Image.Image) -> AlignedPair:
    """Bring ``result`` to ``source``'s size (Lanczos) and both to RGB uint8 arrays."""
    src = source.convert("RGB") if source.mode != "RGB" else source
    res = result.convert("RGB") if result.mode != "RGB" else result
    resized_from = None
    if res.size != src.size:
        resized_from = res.size
        res = res.resize(src.size, Image.LANCZOS)
    return AlignedPair(np.asarray(src, dtype=np.uint8), np.asarray(res, dtype=np.uint8), resized_from)


def to_planes(images: np.ndarray, channel: Channel) -> np.ndarray:
    """uint8 ``(..., H, W, 3)`` to float64 planes ``(..., H, W, C)``: C = 3 for rgb, 1 for luma."""
    x = np.asarray(images, dtype=np.float64)
    if channel == "rgb":
        return x
    if channel == "luma":
        return (x @ LUMA_WEIGHTS)[..., None]
    raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")


# ----------------------------------------------------------------------------- batched metrics


def ssim_batch(x: np.ndarray, y: np.ndarray, *, data_range: float = DATA_RANGE) -> np.ndarray:
    """Mean SSIM per image of two float64 stacks ``(N, H, W, C)``; returns shape ``(N,)``.

    The channel mean of per-channel SSIMs equals the mean over the cropped ``(H, W, C)`` map
    because every channel has the same number of pixels.
    """
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ssim_batch needs two equal (N, H, W, C) stacks, got {x.shape} and {y.shape}")
    if min(x.shape[1:3]) < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} px, got {x.shape[2]}x{x.shape[1]}"
        )
    sigma = (0.0, SSIM_SIGMA, SSIM_SIGMA, 0.0)  # sigma 0: no smoothing across images or channels

    def blur(a: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(a, sigma, mode="reflect", truncate=SSIM_TRUNCATE)

    ux, uy = blur(x), blur(y)
    vx = blur(x * x) - ux * ux
    vy = blur(y * y) - uy * uy
    vxy = blur(x * y) - ux * uy
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (SSIM_WINDOW - 1) // 2
    return s[:, pad:-pad, pad:-pad, :].mean(axis=(1, 2, 3), dtype=np.float64)


def psnr_batch(x: np.ndarray, y: np.ndarray, *, data_range: float = DATA_RANGE) -> np.ndarray:
    """PSNR in dB per image of two stacks ``(N, H, W, C)``; ``+inf`` where the images are identical."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"psnr_batch needs two equal (N, H, W, C) stacks, got {x.shape} and {y.shape}")
    mse = np.mean((x - y) ** 2, axis=(1, 2, 3), dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10((data_range**2) / mse)


def ssim(source: Image.Image, result: Image.Image, *, channel: Channel = "rgb") -> float:
    """SSIM of ``result`` against ``source`` (aligned as the module docstring says).

    >>> img = Image.new("RGB", (32, 32), (120, 30, 200))
    >>> ssim(img, img)
    1.0
    """
    pair = align(source, result)
    return float(ssim_batch(to_planes(pair.source[None], channel), to_planes(pair.result[None], channel))[0])


def psnr(source: Image.Image, result: Image.Image, *, channel: Channel = "rgb") -> float:
    """PSNR (dB) of ``result`` against ``source``, uncapped: ``inf`` for identical images.

    >>> a = Image.new("RGB", (8, 8), (0, 0, 0)); b = Image.new("RGB", (8, 8), (255, 255, 255))
    >>> psnr(a, b)
    0.0
    """
    pair = align(source, result)
    return float(psnr_batch(to_planes(pair.source[None], channel), to_planes(pair.result[None], channel))[0])


# ----------------------------------------------------------------------------- judges


def _unscored(item: JudgeItem, score: str, reason: str) -> Judgement:
    return Judgement(
        suite=item.suite,
        sample_id=item.sample.id,
        system_id=item.trajectory.system_id,
        judge_id="",
        na={score: reason},
        rationale=reason,
        status="unscored",
        error=reason,
    )


class _PairMetricJudge(Component):
    """Shared machinery of the source-vs-result metric judges: validation, alignment, batching."""

    scope = "sample"
    score_name = ""
    description = ""

    def __init__(self, channel: Channel = "rgb", batch_size: int = 16) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.channel: Channel = channel
        self.batch_size = batch_size  # a transport setting: not part of the judge's id

    def info(self) -> JudgeInfo:
        return JudgeInfo(description=self.description, kind="metric")

    def _compute(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _min_side(self) -> int:
        return 1

    def _finish(self, item: JudgeItem, value: float, pair: AlignedPair) -> Judgement:
        raise NotImplementedError

    def _method(self) -> str:
        return "per RGB channel" if self.channel == "rgb" else "on BT.601 luminance"

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order; equal-size pairs are computed together (see module doc)."""
        out: list[Judgement | None] = [None] * len(items)
        pairs: dict[int, AlignedPair] = {}
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, item in enumerate(items):
            traj = item.trajectory
            if traj.status != "ok":
                out[i] = _unscored(
                    item, self.score_name, f"trajectory {traj.status}: {traj.error or 'no error given'}"
                )
                continue
            if item.final is None:
                out[i] = _unscored(item, self.score_name, "no final image")
                continue
            pair = align(item.source, item.final)
            h, w = pair.source.shape[:2]
            if min(h, w) < self._min_side():
                out[i] = _unscored(
                    item,
                    self.score_name,
                    f"image {w}x{h} is smaller than the {self._min_side()}-px {self.name} window",
                )
                continue
            pairs[i] = pair
            by_shape[pair.source.shape].append(i)
        for shape, idxs in by_shape.items():
            per_image = int(np.prod(shape[:2])) * (3 if self.channel == "rgb" else 1)
            step = max(1, min(self.batch_size, _MAX_CHUNK_ELEMENTS // per_image))
            for start in range(0, len(idxs), step):
                chunk = idxs[start : start + step]
                x = to_planes(np.stack([pairs[i].source for i in chunk]), self.channel)
                y = to_planes(np.stack([pairs[i].result for i in chunk]), self.channel)
                values = self._compute(x, y)
                for i, v in zip(chunk, values, strict=True):
                    out[i] = self._finish(items[i], float(v), pairs[i])
        log.debug("%s: judged %d items in %d size groups", self.name, len(items), len(by_shape))
        return [j for j in out if j is not None]


class SSIMJudge(_PairMetricJudge):
    """Structural similarity (SSIM) of the result to the source: preservation, not goal success.

    Options: ``channel`` = ``rgb`` (mean of per-channel SSIM, default) or ``luma`` (BT.601
    luminance); ``batch_size`` (pairs computed together; does not change results or the id).
    A result of another size is resized to the source's size with Lanczos first.
    """

    name = "ssim"
    version = "1"
    score_name = "ssim"
    description = (
        "Structural similarity (SSIM, Gaussian 11-px window) of the result to the source image. "
        "Measures how much of the source is preserved, not whether the goal was achieved; "
        "an unchanged image scores 1."
    )

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                name=self.score_name,
                min=-1.0,
                max=1.0,
                higher_is_better=True,
                display="{:.3f}",
                description=f"SSIM to the source ({self.channel}); preservation, not goal success. 1 = unchanged.",
            )
        ]

    def _min_side(self) -> int:
        return SSIM_WINDOW

    def _compute(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return ssim_batch(x, y)

    def _finish(self, item: JudgeItem, value: float, pair: AlignedPair) -> Judgement:
        text = f"SSIM {value:.4f} to the source, {self._method()} (Gaussian window, sigma 1.5)."
        note = pair.note()
        return Judgement(
            suite=item.suite,
            sample_id=item.sample.id,
            system_id=item.trajectory.system_id,
            judge_id="",
            scores={self.score_name: value},
            rationale=f"{text} {note}".strip(),
        )


class PSNRJudge(_PairMetricJudge):
    """Peak signal-to-noise ratio (dB) of the result to the source: preservation, not goal success.

    Options: ``channel`` = ``rgb`` (MSE over all channels, default) or ``luma``; ``cap_db``: the
    value stored for identical images (PSNR +inf) and the ceiling for every value (default 100);
    ``batch_size`` (does not change results or the id). A result of another size is resized to the
    source's size with Lanczos first.
    """

    name = "psnr"
    version = "1"
    score_name = "psnr"
    description = (
        "Peak signal-to-noise ratio (dB) of the result to the source image. Measures how much of "
        "the source is preserved, not whether the goal was achieved; identical images are stored "
        "as the cap (100 dB by default)."
    )

    def __init__(self, channel: Channel = "rgb", cap_db: float = PSNR_CAP_DB, batch_size: int = 16) -> None:
        super().__init__(channel=channel, batch_size=batch_size)
        if (
            isinstance(cap_db, bool)
            or not isinstance(cap_db, (int, float))
            or not math.isfinite(cap_db)
            or cap_db <= 0
        ):
            raise ValueError(f"cap_db must be a positive finite number, got {cap_db!r}")
        self.cap_db = float(cap_db)

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                name=self.score_name,
                min=0.0,
                max=self.cap_db,
                higher_is_better=True,
                display="{:.2f}",
                description=(
                    f"PSNR in dB to the source ({self.channel}); preservation, not goal success. "
                    f"Identical images (+inf) are stored as {self.cap_db:g}, and values are clipped to it."
                ),
            )
        ]

    def _compute(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return psnr_batch(x, y)

    def _finish(self, item: JudgeItem, value: float, pair: AlignedPair) -> Judgement:
        if math.isinf(value):
            stored = self.cap_db
            text = f"Identical to the source: PSNR is +inf, stored as the cap of {self.cap_db:g} dB."
        elif value > self.cap_db:
            stored = self.cap_db
            text = f"PSNR {value:.2f} dB to the source, {self._method()}; clipped to the cap of {self.cap_db:g} dB."
        else:
            stored = value
            text = f"PSNR {value:.2f} dB to the source, {self._method()}."
        note = pair.note()
        return Judgement(
            suite=item.suite,
            sample_id=item.sample.id,
            system_id=item.trajectory.system_id,
            judge_id="",
            scores={self.score_name: stored},
            rationale=f"{text} {note}".strip(),
        )
