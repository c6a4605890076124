"""FID and KID of a system's results against the suite's sources, through ``torchmetrics`` (set scope).

Both compare two *distributions* of image features, so they are judged once per (suite, system):
the "real" set is the source images of the samples the system has a result for, the "fake" set
is its results. A system that returns every source unchanged scores FID 0 (and a slightly
negative KID, see below); what a low score rewards is results whose statistics stay close to the
sources' (realism, and preservation at the set level), not goal success. Read them next to a
goal judge.

* ``fid`` — Fréchet distance between Gaussians fitted to the two feature sets (Heusel et al.
  2017), computed by ``torchmetrics.image.FrechetInceptionDistance`` in float64. With fewer
  images than feature dimensions (2048 for Inception) the covariances are rank-deficient and
  FID is biased upward: compare systems only on the same suite and sample count.
* ``kid`` / ``kid_std`` — Kernel Inception Distance (Bińkowski et al. 2018), the unbiased
  squared MMD with the cubic polynomial kernel, by ``torchmetrics.image.KernelInceptionDistance``:
  mean and spread over ``subsets`` random subsets of ``subset_size`` (lowered to the set size
  when the set is smaller; the subsets are drawn from a fixed ``seed``, so a re-run gives the
  same number). Unbiased, hence better than FID on small sets; it can be negative, and for a set
  compared with itself it *is* negative (the within-set terms leave out self-pairs, the
  cross-set term cannot).

**Features.** ``features=inception`` (default): the ``dims``-d features (2048, the pool layer,
by default; 64, 192 or 768 for earlier layers, as pytorch-fid's ``--dims``) of the TF-FID
InceptionV3 that torchmetrics takes from ``torch-fidelity`` (the network pytorch-fid uses;
paper B's FID). It needs ``torch-fidelity`` and its weights file
(``weights-inception-2015-12-05-6726825d.pth``), found at ``feature_extractor_weights_path`` or
in torch's hub cache (``download=true`` fetches it there); missing weights are a
:class:`~bench.errors.JudgeError` saying where to get them. ``features=dinov2``: the CLS token of
a DINOv2 model (``model``: hub id or local folder; FD-DINOv2 of Stein et al. 2023), through
torchmetrics' custom-extractor path.

**Sizes.** Images are fed at their own size, grouped by size: Inception resizes every image to
299x299 itself (TF-compatible bilinear), DINOv2 to ``size``² (antialiased bicubic, whole frame).
Sources and results need not match in size.

A set with fewer than two results gets ``unscored`` (a covariance needs two points), never 0.
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
    autocast,
    chunks,
    group_by_size,
    is_local_path,
    path_identity,
    tensor_batch,
)
from .dino_judge import dino_tokens, load_dino

log = logging.getLogger(__name__)

FEATURES = ("inception", "dinov2")
INCEPTION_DIMS = (64, 192, 768, 2048)
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{INCEPTION_FILE}"
DEFAULT_DINO = "facebook/dinov2-base"


def inception_weights(path: str | None, download: bool = False) -> str:
    """The InceptionV3 weights file to load; JudgeError when torch-fidelity or the file is missing."""
    try:
        import torch_fidelity  # noqa: F401
    except ImportError as err:
        raise JudgeError(
            "fid/kid with features=inception need torch-fidelity (pip install torch-fidelity, or "
            "editbench[metrics]); features=dinov2 works without it",
            field="features",
        ) from err
    if path is not None:
        full = os.path.expanduser(path)
        if os.path.isdir(full) and os.path.isfile(os.path.join(full, INCEPTION_FILE)):
            return os.path.join(full, INCEPTION_FILE)
        if os.path.isfile(full):
            return full
        raise JudgeError(
            f"fid/kid: feature_extractor_weights_path={path!r} is not a file (nor a folder holding "
            f"{INCEPTION_FILE})",
            field="feature_extractor_weights_path",
        )
    import torch

    cached = os.path.join(torch.hub.get_dir(), "checkpoints", INCEPTION_FILE)
    if os.path.isfile(cached):
        return cached
    if download:
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            torch.hub.download_url_to_file(INCEPTION_URL, cached, progress=False)
            return cached
        except Exception as err:
            raise JudgeError(
                f"fid/kid: downloading {INCEPTION_URL} failed: {type(err).__name__}: {err}",
                field="feature_extractor_weights_path",
            ) from err
    raise JudgeError(
        f"fid/kid need the FID InceptionV3 weights ({INCEPTION_FILE}), which are not in torch's hub cache. Fetch "
        f"{INCEPTION_URL} (or pass download=true on a machine with network access) and pass "
        f"feature_extractor_weights_path=PATH, or place it at {cached}. (features=dinov2 with a local DINOv2 folder "
        "needs no Inception weights.)",
        field="feature_extractor_weights_path",
    )


def _make_extractor(inner: Any, num_features: int, dtype: Any, dino: Any = None, size: int = 224) -> Any:
    """Wrap a feature network as the ``nn.Module`` torchmetrics takes: uint8 ``(N,3,H,W)`` -> float64 ``(N, F)``."""
    import torch

    class Extractor(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner
            self.num_features = num_features  # tells torchmetrics the width, so it runs no dummy image

        def forward(self, x: Any) -> Any:
            with torch.no_grad(), autocast(str(x.device), dtype):
                if dino is not None:
                    return dino_tokens(dino, x, size, dtype)[:, 0].double()
                return self.inner(x).reshape(x.shape[0], -1).double()

    return Extractor().eval()


def load_inception(path: str, dims: int, device: str) -> Any:
    from torchmetrics.image.fid import NoTrainInceptionV3

    try:
        net = NoTrainInceptionV3(
            name="inception-v3-compat", features_list=[str(dims)], feature_extractor_weights_path=path
        )
    except Exception as err:
        raise JudgeError(
            f"fid/kid: cannot load InceptionV3 weights {path!r}: {type(err).__name__}: {err}",
            field="feature_extractor_weights_path",
        ) from err
    return net.to(device)


class _SetJudge(LearnedJudge):
    """Shared: feature extractor choice and loading, validation, feeding both sets through a metric."""

    scope = "set"
    PATH_OPTIONS = ("feature_extractor_weights_path", "model")
    SCORES: tuple[str, ...] = ()

    def __init__(
        self,
        features: str = "inception",
        feature_extractor_weights_path: str | None = None,
        dims: int = 2048,
        model: str | None = None,
        size: int = 224,
        device: str = "auto",
        dtype: str = "float32",
        batch_size: int = 32,
        download: bool = False,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size, download=download)
        if features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
        if dims not in INCEPTION_DIMS:
            raise ValueError(f"dims must be one of {', '.join(map(str, INCEPTION_DIMS))}, got {dims!r}")
        if features == "inception" and model is not None:
            raise ValueError("model= names a DINOv2 model: it needs features=dinov2")
        if features == "dinov2" and feature_extractor_weights_path is not None:
            raise ValueError("feature_extractor_weights_path= is for features=inception")
        self.features = features
        self.feature_extractor_weights_path = feature_extractor_weights_path
        self.dims = int(dims)
        self.model = model if model is not None or features == "inception" else DEFAULT_DINO
        self.size = size

    def models(self) -> tuple[str, ...]:
        return ("inception-v3-fid",) if self.features == "inception" else (str(self.model),)

    def extractor(self, device: str, dtype: Any) -> Any:
        """The torchmetrics-ready feature extractor (cached per process with its network)."""
        if self.features == "inception":
            path = inception_weights(self.feature_extractor_weights_path, self.download)
            net = MODELS.get(
                ("inception-fid", path_identity(path), self.dims, device),
                lambda: load_inception(path, self.dims, device),
            )
            return _make_extractor(net, self.dims, dtype)
        model = str(self.model)
        what = path_identity(model) if is_local_path(model) else model
        dino = MODELS.get(("dino", what, device), lambda: load_dino(model, None, device, self.download))
        if self.size % dino.patch_size:
            raise JudgeError(
                f"{self.name}: size={self.size} is not a multiple of the patch size {dino.patch_size}",
                field="size",
            )
        return _make_extractor(
            dino.model, int(dino.model.config.hidden_size), dtype, dino=dino, size=self.size
        )

    def feed(self, metric: Any, items: list[JudgeItem], device: str) -> None:
        """Sources as the real set, results as the fake set, in equal-size batches."""
        for real, images in ((True, [it.source for it in items]), (False, [it.final for it in items])):
            for idxs in group_by_size(dict(enumerate(images))).values():
                for chunk in chunks(idxs, self.batch_size):
                    metric.update(tensor_batch([images[i] for i in chunk], device), real=real)

    def _set_judgement(self, items: list[JudgeItem], **fields: Any) -> Judgement:
        first = items[0]
        return Judgement(
            suite=first.suite,
            sample_id="*",
            system_id=first.trajectory.system_id,
            judge_id="",
            scope="set",
            **fields,
        )

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """ONE judgement for the whole set (the runner's set scope)."""
        if not items:
            raise ValueError(f"{self.name}: a set judge needs at least one item")
        usable = [it for it in items if it.trajectory.status == "ok" and it.final is not None]
        if len(usable) < 2:
            why = f"{len(usable)} result(s) in the set; {self.name} needs at least 2"
            return [
                self._set_judgement(
                    items,
                    na={s: why for s in self.SCORES},
                    rationale={"text": why},
                    status="unscored",
                    error=why,
                )
            ]
        device, dtype = self.runtime()
        scores, text = self.compute(usable, device, dtype)
        skipped = len(items) - len(usable)
        rationale = {
            "text": text,
            "features": self.features,
            "n_real": len(usable),
            "n_fake": len(usable),
            "skipped_without_result": skipped,
        }
        return [self._set_judgement(items, scores=scores, rationale=rationale)]

    def compute(self, items: list[JudgeItem], device: str, dtype: Any) -> tuple[dict[str, float], str]:
        raise NotImplementedError


class FIDJudge(_SetJudge):
    """Fréchet distance (FID) of a system's results to the suite's sources (lower = closer), per set.

    Options: ``features`` (``inception``, default, or ``dinov2``), ``feature_extractor_weights_path``
    (Inception weights; default torch's hub cache), ``dims`` (Inception layer: 2048 default),
    ``model`` (the DINOv2 for ``features=dinov2``),
    ``size`` (DINOv2 input side), ``download``, ``device``, ``dtype``, ``batch_size``. Images keep their size;
    the feature network resizes them (Inception to 299², DINOv2 to ``size``²).
    """

    name = "fid"
    version = "1"
    description = (
        "Fréchet distance between feature statistics of a system's results and of the suite's sources "
        "(set-level realism and preservation; 0 = same statistics)."
    )
    SCORES = ("fid",)

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                "fid",
                0.0,
                None,
                False,
                "{:.2f}",
                f"FID ({self.features} features) of the system's results to the suite's sources, per set. "
                "Biased upward on small sets: compare on equal suites and sizes.",
            )
        ]

    def compute(self, items: list[JudgeItem], device: str, dtype: Any) -> tuple[dict[str, float], str]:
        from torchmetrics.image.fid import FrechetInceptionDistance

        metric = FrechetInceptionDistance(feature=self.extractor(device, dtype), reset_real_features=True).to(
            device
        )
        self.feed(metric, items, device)
        value = float(metric.compute())
        return {
            "fid": value
        }, f"FID {value:.3f} over {len(items)} results vs their sources ({self.features} features)."


class KIDJudge(_SetJudge):
    """Kernel distance (KID, unbiased MMD²) of a system's results to the suite's sources, per set (lower = closer).

    Options as :class:`FIDJudge`, plus ``subsets`` (default 100), ``subset_size`` (default 1000,
    lowered to the set size), ``degree``/``gamma``/``coef`` of the polynomial kernel and ``seed``
    (the subsets' draw).
    """

    name = "kid"
    version = "1"
    description = (
        "Kernel Inception Distance (unbiased squared MMD, cubic kernel) between a system's results and "
        "the suite's sources, per set; reliable on small sets, can be slightly negative."
    )
    SCORES = ("kid", "kid_std")

    def __init__(
        self,
        features: str = "inception",
        feature_extractor_weights_path: str | None = None,
        dims: int = 2048,
        model: str | None = None,
        size: int = 224,
        subsets: int = 100,
        subset_size: int = 1000,
        degree: int = 3,
        gamma: float | None = None,
        coef: float = 1.0,
        seed: int = 0,
        device: str = "auto",
        dtype: str = "float32",
        batch_size: int = 32,
        download: bool = False,
    ) -> None:
        super().__init__(
            features=features,
            feature_extractor_weights_path=feature_extractor_weights_path,
            dims=dims,
            model=model,
            size=size,
            device=device,
            dtype=dtype,
            batch_size=batch_size,
            download=download,
        )
        if subsets < 1 or subset_size < 2:
            raise ValueError(f"subsets must be >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
        self.subsets = int(subsets)
        self.subset_size = int(subset_size)
        self.degree = int(degree)
        self.gamma = gamma
        self.coef = float(coef)
        self.seed = int(seed)

    def score_specs(self) -> list[ScoreSpec]:
        return [
            ScoreSpec(
                "kid",
                None,
                None,
                False,
                "{:.4f}",
                f"KID ({self.features} features), mean over subsets, of the results to the sources, per set.",
            ),
            ScoreSpec("kid_std", 0.0, None, False, "{:.4f}", "Standard deviation of KID over the subsets."),
        ]

    def compute(self, items: list[JudgeItem], device: str, dtype: Any) -> tuple[dict[str, float], str]:
        import torch
        from torchmetrics.image.kid import KernelInceptionDistance

        size = min(self.subset_size, len(items))
        with warnings.catch_warnings():  # "KID will save all extracted features": that is the point
            warnings.simplefilter("ignore", UserWarning)
            metric = KernelInceptionDistance(
                feature=self.extractor(device, dtype),
                subsets=self.subsets,
                subset_size=size,
                degree=self.degree,
                gamma=self.gamma,
                coef=self.coef,
                reset_real_features=True,
            ).to(device)
        self.feed(metric, items, device)
        with torch.random.fork_rng(devices=[]):  # torchmetrics draws subsets from the global CPU generator
            torch.manual_seed(self.seed)
            mean, std = metric.compute()
        note = "" if size == self.subset_size else f" (subset size lowered to the set's {size})"
        return (
            {"kid": float(mean), "kid_std": float(std)},
            f"KID {float(mean):.5f} ± {float(std):.5f} over {self.subsets} subsets of {size}{note}, "
            f"{len(items)} results vs their sources ({self.features} features).",
        )
