"""Statistics shared by ``report``, the leaderboard and calibration — defined once, here.

Contract for every function in this module:

* **Seeded and deterministic.** ``seed`` is an ``int`` or a :class:`numpy.random.Generator`; the same
  inputs and the same int seed give the same output, run after run.
* **NaN-aware.** A NaN is a missing score (an unscored sample, a judge failure), never a 0: it is
  excluded from every statistic and *counted* (``n_missing``). Infinite values are an error.
* **Small frozen dataclasses** are returned, never bare tuples.
* **Degenerate input** (empty, one system, all values equal) gives a defined answer or a
  ``ValueError`` that says what is wrong.

Intervals are percentile bootstrap intervals; p-values are two-sided. Only numpy, scipy and pandas
are used, so ``bench`` stays light to import.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

# scipy.stats and scipy.sparse.csgraph are imported inside the functions that need them: at module
# level they would add most of a second to every ``import bench.stats``.

log = logging.getLogger(__name__)

SeedLike: TypeAlias = int | np.random.Generator
_MAX_EXACT_BITS = 20  # exact sign-flip enumeration up to 2**20 patterns
_CHUNK = 4_000_000  # elements per resampling block: bounds memory, independent of the caller


# ----------------------------------------------------------------------------- helpers


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return ``seed`` itself if it is a Generator, else a fresh PCG64 generator seeded with it."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int or numpy.random.Generator, got {type(seed).__name__}")


def base_seed(seed: SeedLike) -> int:
    """An int seed: ``seed`` itself, or one number drawn from a Generator (advancing it once)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    as_generator(seed)  # validates the type
    return int(seed)


def child_generator(seed: SeedLike, *key: Hashable) -> np.random.Generator:
    """A generator derived from ``seed`` and a stable key (group or pair names).

    Results for one group then do not depend on which other groups exist or in which order they
    are processed: adding a system to a leaderboard leaves the other systems' intervals unchanged.
    """
    base = base_seed(seed)
    digest = hashlib.sha256(json.dumps([str(k) for k in key]).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([int(base) % 2**63, *words]))


def _check_ci(n_resamples: int, confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")


def _as_float_1d(values: Any, name: str = "values") -> np.ndarray:
    x = np.atleast_1d(np.asarray(values, dtype=float))
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError(f"{name} contains an infinite value; use NaN for a missing score")
    return x


def _interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    reps = replicates[np.isfinite(replicates)]
    if reps.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return float(low), float(high)


def _resampled_means(x: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_resamples`` with-replacement resamples of ``x`` (1-D, no NaN), in blocks."""
    n = x.size
    out = np.empty(n_resamples)
    block = max(1, _CHUNK // n)
    for start in range(0, n_resamples, block):
        stop = min(n_resamples, start + block)
        out[start:stop] = x[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Logistic function without overflow for large |x| (tanh form)."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    """Mean over non-NaN entries; NaN (silently) where there are none."""
    valid = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, x, 0.0).sum(axis=axis) / valid.sum(axis=axis)


# ----------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class MeanCI:
    """A mean with its percentile bootstrap interval over ``n`` non-missing values.

    ``n == 0``: mean, low and high are NaN. ``n == 1``: low == high == mean (no spread to resample).
    """

    mean: float
    low: float
    high: float
    n: int
    n_missing: int


@dataclass(frozen=True)
class StatisticCI:
    """A statistic with its bootstrap interval. ``n_undefined`` counts resamples whose statistic
    was not finite (e.g. a kappa on a resample where every rating is equal); they are left out of
    the interval, so a large count means the interval should not be trusted."""

    value: float
    low: float
    high: float
    n: int
    n_missing: int
    n_undefined: int


def bootstrap_mean(
    values: Any, *, n_resamples: int = 2000, confidence: float = 0.95, seed: SeedLike = 0
) -> MeanCI:
    """Mean of the non-NaN ``values`` with a percentile bootstrap interval.

    >>> r = bootstrap_mean([1.0, 2.0, float("nan"), 3.0], seed=0)
    >>> (r.mean, r.n, r.n_missing)
    (2.0, 3, 1)
    """
    _check_ci(n_resamples, confidence)
    x = _as_float_1d(values)
    missing = np.isnan(x)
    x = x[~missing]
    n, n_missing = int(x.size), int(missing.sum())
    if n == 0:
        return MeanCI(float("nan"), float("nan"), float("nan"), 0, n_missing)
    mean = float(x.mean())
    if n == 1 or np.all(x == x[0]):
        return MeanCI(mean, mean, mean, n, n_missing)
    low, high = _interval(_resampled_means(x, n_resamples, as_generator(seed)), confidence)
    return MeanCI(mean, low, high, n, n_missing)


def bootstrap_statistic(
    data: np.ndarray | pd.DataFrame,
    statistic: Callable[[Any], float],
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
    nan_policy: Literal["omit", "keep"] = "omit",
) -> StatisticCI:
    """Bootstrap any statistic over the *rows* of ``data`` (axis 0: the samples).

    ``statistic`` receives an array (or DataFrame) of resampled rows and returns a float.
    ``nan_policy="omit"`` drops rows with a NaN in any column first (counted in ``n_missing``);
    ``"keep"`` hands NaN rows to the statistic, for statistics that handle missing values
    themselves (Krippendorff's alpha).
    """
    _check_ci(n_resamples, confidence)
    if nan_policy not in ("omit", "keep"):
        raise ValueError(f"nan_policy must be 'omit' or 'keep', got {nan_policy!r}")
    is_frame = isinstance(data, pd.DataFrame)
    arr = data if is_frame else np.asarray(data)
    if arr.ndim == 0:
        raise ValueError("data must have at least one dimension (rows are the samples)")
    n_missing = 0
    if len(arr) == 0:
        return StatisticCI(float("nan"), float("nan"), float("nan"), 0, 0, 0)
    if nan_policy == "omit":
        mask = np.asarray(pd.isna(arr)).reshape(len(arr), -1).any(axis=1)
        n_missing = int(mask.sum())
        arr = arr[~mask]
    n = len(arr)
    if n == 0:
        return StatisticCI(float("nan"), float("nan"), float("nan"), 0, n_missing, 0)
    take = (lambda idx: arr.iloc[idx]) if is_frame else (lambda idx: arr[idx])
    value = float(statistic(arr))
    rng = as_generator(seed)
    reps = np.array([float(statistic(take(rng.integers(0, n, size=n)))) for _ in range(n_resamples)])
    n_undefined = int((~np.isfinite(reps)).sum())
    if n_undefined:
        log.debug("bootstrap_statistic: %d of %d resamples undefined", n_undefined, n_resamples)
    low, high = _interval(reps, confidence) if np.isfinite(value) else (float("nan"), float("nan"))
    return StatisticCI(value, low, high, n, n_missing, n_undefined)


# ----------------------------------------------------------------------------- paired tests


@dataclass(frozen=True)
class PairedDifference:
    """Two systems on the same samples: means, ``diff = mean_a - mean_b``, its interval, p-value."""

    mean_a: float
    mean_b: float
    diff: float
    low: float
    high: float
    p_value: float
    n: int
    n_missing: int


@dataclass(frozen=True)
class PermutationTest:
    """Paired sign-flip permutation test of ``mean(a - b) == 0``; ``exact`` when all sign
    patterns were enumerated (``n_permutations`` of them), else Monte Carlo."""

    diff: float
    p_value: float
    n: int
    n_missing: int
    n_permutations: int
    exact: bool


def _pairs(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, int]:
    x, y = _as_float_1d(a, "a"), _as_float_1d(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a and b must be aligned on the same samples, got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep], int((~keep).sum())


def paired_bootstrap(
    a: Any, b: Any, *, n_resamples: int = 2000, confidence: float = 0.95, seed: SeedLike = 0
) -> PairedDifference:
    """Paired bootstrap of the mean difference between two systems' scores on the same samples.

    Pairs with a NaN on either side are dropped (``n_missing``). The p-value is the centred
    bootstrap test: ``(1 + #{|d* - d| >= |d|}) / (B + 1)``, with ``d*`` the resampled mean
    differences — the null distribution is the bootstrap distribution shifted to mean zero.
    """
    _check_ci(n_resamples, confidence)
    x, y, n_missing = _pairs(a, b)
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return PairedDifference(nan, nan, nan, nan, nan, nan, 0, n_missing)
    d = x - y
    diff = float(d.mean())
    if np.all(d == d[0]):
        p = 1.0 if diff == 0 else 1.0 / (n_resamples + 1)
        return PairedDifference(float(x.mean()), float(y.mean()), diff, diff, diff, p, n, n_missing)
    reps = _resampled_means(d, n_resamples, as_generator(seed))
    low, high = _interval(reps, confidence)
    extreme = np.abs(reps - diff) >= abs(diff) - 1e-12 * np.abs(d).sum()
    p = float((1 + extreme.sum()) / (n_resamples + 1))
    return PairedDifference(float(x.mean()), float(y.mean()), diff, low, high, p, n, n_missing)


def paired_permutation_test(
    a: Any, b: Any, *, n_resamples: int = 10000, seed: SeedLike = 0
) -> PermutationTest:
    """Two-sided paired permutation (sign-flip) test for two systems on the same samples.

    Under the null hypothesis the two scores of a sample are exchangeable, so each difference's
    sign is a coin flip. The p-value is ``P(|sum(s * d)| >= |sum(d)|)``. When ``2**m`` (``m`` =
    non-zero differences; zeros cannot flip) is at most ``n_resamples`` every pattern is
    enumerated and the p-value is exact; otherwise ``(1 + hits) / (B + 1)`` over random flips.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    x, y, n_missing = _pairs(a, b)
    n = int(x.size)
    if n == 0:
        return PermutationTest(float("nan"), float("nan"), 0, n_missing, 0, False)
    d = x - y
    diff = float(d.mean())
    nz = d[d != 0]
    m = nz.size
    if m == 0:
        return PermutationTest(diff, 1.0, n, n_missing, 1, True)
    observed = abs(nz.sum()) - 1e-9 * np.abs(nz).sum()  # tolerance: equal sums must count as ties
    if m <= _MAX_EXACT_BITS and 2**m <= n_resamples:
        codes = np.arange(2**m)[:, None] >> np.arange(m)[None, :] & 1
        sums = (2 * codes - 1) @ nz
        return PermutationTest(diff, float(np.mean(np.abs(sums) >= observed)), n, n_missing, 2**m, True)
    rng = as_generator(seed)
    hits, block = 0, max(1, _CHUNK // m)
    for start in range(0, n_resamples, block):
        size = min(n_resamples, start + block) - start
        signs = rng.integers(0, 2, size=(size, m)) * 2 - 1
        hits += int((np.abs(signs @ nz) >= observed).sum())
    return PermutationTest(diff, (1 + hits) / (n_resamples + 1), n, n_missing, n_resamples, False)


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order]) if m else np.array([])
    out[order] = np.minimum(adjusted, 1.0)
    return out


# ----------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class SystemRank:
    """One system's place: ``rank = 1 + number of systems significantly better``; ``tied_with``
    lists the systems it is not significantly different from (ties are shown as ties)."""

    system: str
    mean: float
    rank: int
    n: int
    n_missing: int
    better_than: tuple[str, ...]
    tied_with: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare fields, not the whole object
class SignificanceRanking:
    """Ranks (best first) and the pairwise p-values they were derived from (after correction)."""

    ranks: tuple[SystemRank, ...]
    p_values: pd.DataFrame
    alpha: float
    test: str
    correction: str

    def as_frame(self) -> pd.DataFrame:
        """One row per system: system, mean, rank, n, n_missing, better_than, tied_with."""
        return pd.DataFrame([r.__dict__ for r in self.ranks])


def _score_matrix(scores: Mapping[str, Any]) -> tuple[list[str], list[np.ndarray]]:
    if not scores:
        raise ValueError("no systems to rank")
    names = list(scores)
    arrays = [np.asarray(scores[s], dtype=float) for s in names]
    n = {a.shape[0] if a.ndim else -1 for a in arrays}
    if len(n) != 1 or -1 in n:
        raise ValueError(f"scores must be arrays aligned on the same samples; lengths {sorted(n)}")
    for s, a in zip(names, arrays, strict=True):
        if np.isinf(a).any():
            raise ValueError(f"system {s!r}: infinite score; use NaN for a missing score")
        if np.isnan(a).all():
            raise ValueError(f"system {s!r} has no scored sample; leave it out of the ranking")
    return names, arrays


def significance_ranks(
    scores: Mapping[str, Any],
    *,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    test: Literal["permutation", "bootstrap"] = "permutation",
    correction: Literal["holm", "none"] = "holm",
    n_resamples: int = 10000,
    seed: SeedLike = 0,
) -> SignificanceRanking:
    """Rank systems so that differences that are not significant show as ties.

    Procedure: every pair of systems is compared on the samples both scored (NaN on either side is
    dropped) with a paired two-sided test (``paired_permutation_test`` or ``paired_bootstrap``),
    seeded per pair so results do not depend on the other systems. The p-values are
    Holm-corrected across all pairs (``correction="holm"``, the default) or left raw. System *i*
    is significantly better than *j* when the corrected p < ``alpha`` and *i*'s paired mean is
    better. Then ``rank(i) = 1 + #{j significantly better than i}``. Significance is not
    transitive, so two systems can differ in rank without being significantly different from each
    other; ``tied_with`` says exactly which pairs are indistinguishable. A single system is rank 1.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if correction not in ("holm", "none"):
        raise ValueError(f"correction must be 'holm' or 'none', got {correction!r}")
    if test not in ("permutation", "bootstrap"):
        raise ValueError(f"test must be 'permutation' or 'bootstrap', got {test!r}")
    names, arrays = _score_matrix(scores)
    if any(a.ndim != 1 for a in arrays):
        raise ValueError("significance_ranks takes one score per sample (average draws first)")
    k = len(names)
    sign = 1.0 if higher_is_better else -1.0
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    raw, better = [], []
    base = base_seed(seed)
    for i, j in pairs:
        rng = child_generator(base, names[i], names[j])
        if test == "permutation":
            r = paired_permutation_test(arrays[i], arrays[j], n_resamples=n_resamples, seed=rng)
            p, d = r.p_value, r.diff
        else:
            rb = paired_bootstrap(arrays[i], arrays[j], n_resamples=n_resamples, seed=rng)
            p, d = rb.p_value, rb.diff
        raw.append(p)
        better.append(sign * d)
    adjusted = holm_adjust(raw) if correction == "holm" else np.asarray(raw, dtype=float)
    pmat = pd.DataFrame(np.eye(k) * np.nan, index=names, columns=names)
    wins: dict[int, list[int]] = {i: [] for i in range(k)}
    ties: dict[int, list[int]] = {i: [] for i in range(k)}
    for (i, j), p, b in zip(pairs, adjusted, better, strict=True):
        pmat.iloc[i, j] = pmat.iloc[j, i] = p
        if np.isfinite(p) and p < alpha and b != 0:
            (wins[i] if b > 0 else wins[j]).append(j if b > 0 else i)
        else:
            ties[i].append(j)
            ties[j].append(i)
    beaten_by = {i: sum(i in wins[j] for j in range(k)) for i in range(k)}
    rows = []
    for i, s in enumerate(names):
        a = arrays[i]
        rows.append(
            SystemRank(
                system=s,
                mean=float(np.nanmean(a)),
                rank=1 + beaten_by[i],
                n=int((~np.isnan(a)).sum()),
                n_missing=int(np.isnan(a).sum()),
                better_than=tuple(names[j] for j in sorted(wins[i])),
                tied_with=tuple(names[j] for j in sorted(ties[i])),
            )
        )
    rows.sort(key=lambda r: (r.rank, -sign * r.mean, r.system))
    return SignificanceRanking(tuple(rows), pmat, alpha, test, correction)


@dataclass(frozen=True)
class SystemStability:
    """Observed mean and rank (1 = best, ties averaged) with the bootstrap rank distribution."""

    system: str
    mean: float
    rank: float
    expected_rank: float
    rank_low: float
    rank_high: float


@dataclass(frozen=True, eq=False)  # holds DataFrames: compare fields, not the whole object
class RankStability:
    """``prob_better[i][j]`` = P*(i beats j) + ½ P*(tie) over bootstrap resamples of samples;
    ``swap_probability[i][j]`` = probability that the observed order of i and j flips (for an
    observed tie: the probability of the rarer order). Diagonals are 0."""

    systems: tuple[SystemStability, ...]
    prob_better: pd.DataFrame
    swap_probability: pd.DataFrame
    n_samples: int
    n_resamples: int


def rank_stability(
    scores_by_system: Mapping[str, Any],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
    higher_is_better: bool = True,
) -> RankStability:
    """How stable is the leaderboard order under resampling of the samples?

    Each array is aligned on the same samples: shape ``(n_samples,)`` or ``(n_samples, n_draws)``
    when a judge scored each sample several times (a 1-D array counts as one draw; shorter draw
    axes are NaN-padded). A resample draws samples with replacement — the *same* samples for every
    system, keeping the pairing — and, with draws, draws with replacement within each sample, so
    judge noise enters the intervals too. A system's score is the mean over its non-NaN samples of
    its per-sample draw mean; a system with no valid sample in a resample ranks last there.
    """
    from scipy.stats import rankdata

    _check_ci(n_resamples, confidence)
    names, arrays = _score_matrix(scores_by_system)
    if any(a.ndim > 2 for a in arrays):
        raise ValueError("scores must be (n_samples,) or (n_samples, n_draws)")
    n = arrays[0].shape[0]
    d = max(a.shape[1] if a.ndim == 2 else 1 for a in arrays)
    cube = np.full((n, len(names), d), np.nan)
    for j, a in enumerate(arrays):
        a2 = a.reshape(n, -1)
        cube[:, j, : a2.shape[1]] = a2
    sign = 1.0 if higher_is_better else -1.0
    point = _nanmean(_nanmean(cube, axis=2), axis=0)
    rng = as_generator(seed)
    k = len(names)
    ranks = np.empty((n_resamples, k))
    better = np.zeros((k, k))
    block = max(1, _CHUNK // cube.size)
    for start in range(0, n_resamples, block):
        size = min(n_resamples, start + block) - start
        picked = cube[rng.integers(0, n, size=(size, n))]  # (size, n, k, d)
        if d > 1:
            picked = np.take_along_axis(picked, rng.integers(0, d, size=picked.shape), axis=3)
        means = _nanmean(_nanmean(picked, axis=3), axis=1)
        good = np.where(np.isnan(means), -np.inf, sign * means)
        ranks[start : start + size] = rankdata(-good, method="average", axis=1)
        diff = good[:, :, None] - good[:, None, :]
        tied = (diff == 0) | np.isnan(diff)  # NaN: both systems unscored in this resample
        better += (diff > 0).sum(axis=0) + 0.5 * tied.sum(axis=0)
    prob = better / n_resamples
    np.fill_diagonal(prob, 0.0)
    observed = sign * point
    swap = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            if i != j:
                hi, lo = (i, j) if observed[i] >= observed[j] else (j, i)
                swap[i, j] = prob[lo, hi] if observed[i] != observed[j] else min(prob[i, j], prob[j, i])
    obs_rank = rankdata(-observed, method="average")
    tail = (1.0 - confidence) / 2.0
    lows, highs = np.quantile(ranks, [tail, 1.0 - tail], axis=0)
    rows = [
        SystemStability(
            s, float(point[j]), float(obs_rank[j]), float(ranks[:, j].mean()), float(lows[j]), float(highs[j])
        )
        for j, s in enumerate(names)
    ]
    rows.sort(key=lambda r: (r.rank, r.system))
    prob_df = pd.DataFrame(prob, index=names, columns=names)
    swap_df = pd.DataFrame(swap, index=names, columns=names)
    return RankStability(tuple(rows), prob_df, swap_df, n, n_resamples)


# ----------------------------------------------------------------------------- grouping


GROUP_COLUMNS = ("mean", "low", "high", "n", "n_missing")


def group_means(
    df: pd.DataFrame,
    by: Sequence[str],
    value: str,
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> pd.DataFrame:
    """Mean of ``value`` with a bootstrap interval per group of ``by`` — the one grouping function.

    Every breakdown (by suite, system, score, tag, criterion kind, annotator) goes through here so
    they share NaN handling and intervals. Returns one row per group, sorted by key, with the
    ``by`` columns then ``mean, low, high, n, n_missing``. ``by=[]`` gives a single overall row.
    Rows whose key is NaN form their own group (nothing vanishes silently). Each group is seeded
    from ``(seed, key)``, so a group's interval does not depend on the other groups.
    """
    by = list(by)
    absent = [c for c in [*by, value] if c not in df.columns]
    if absent:
        raise ValueError(f"group_means: no column(s) {absent}; columns are {list(df.columns)}")
    try:
        values = pd.to_numeric(df[value], errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"group_means: column {value!r} is not numeric: {exc}") from exc
    if np.isinf(values.to_numpy()).any():
        raise ValueError(f"group_means: column {value!r} has an infinite value; use NaN")
    base = base_seed(seed)
    rows: list[dict[str, Any]] = []
    if not by:
        groups: Any = [((), values)]
    else:
        groups = values.groupby([df[c] for c in by], dropna=False, sort=True, observed=True)
    for key, vals in groups:
        key = key if isinstance(key, tuple) else (key,)
        r = bootstrap_mean(
            vals.to_numpy(), n_resamples=n_resamples, confidence=confidence, seed=child_generator(base, *key)
        )
        rows.append({**dict(zip(by, key, strict=True)), **r.__dict__})
    out = pd.DataFrame(rows, columns=[*by, *GROUP_COLUMNS])
    return out.astype({"n": int, "n_missing": int})


# ----------------------------------------------------------------------------- paired comparisons


Comparison: TypeAlias = tuple[str, str] | tuple[str, str, float]


def _parse_comparisons(
    comparisons: Sequence[Comparison],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Players (sorted) and, per comparison, index of a, index of b and a's score in [0, 1]."""
    if len(comparisons) == 0:
        raise ValueError("no comparisons")
    a_names, b_names, score = [], [], []
    for t, c in enumerate(comparisons):
        if len(c) == 2:
            a, b, s = c[0], c[1], 1.0
        elif len(c) == 3:
            a, b, s = c[0], c[1], float(c[2])  # type: ignore[misc]
        else:
            raise ValueError(f"comparison {t}: expected (winner, loser) or (a, b, outcome), got {c!r}")
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"comparison {t}: outcome must be in [0, 1] (1, 0.5 or 0), got {s}")
        if a == b:
            raise ValueError(f"comparison {t}: {a!r} compared with itself")
        a_names.append(str(a))
        b_names.append(str(b))
        score.append(s)
    players = sorted(set(a_names) | set(b_names))
    index = {p: i for i, p in enumerate(players)}
    ai = np.array([index[p] for p in a_names])
    bi = np.array([index[p] for p in b_names])
    return players, ai, bi, np.array(score)


def _bt_fit(
    k: int, ai: np.ndarray, bi: np.ndarray, s: np.ndarray, prior: float, max_iter: int, tol: float
) -> tuple[np.ndarray, int, bool] | None:
    """Newton's method on the Bradley-Terry log-likelihood; None when the MLE does not exist."""
    from scipy.sparse.csgraph import connected_components

    w = np.zeros((k, k))
    np.add.at(w, (ai, bi), s)
    np.add.at(w, (bi, ai), 1.0 - s)
    if prior > 0:
        w += (prior / 2.0) * (1.0 - np.eye(k))
    # The MLE exists iff every group of players both won and lost against the rest.
    n_comp, _ = connected_components(w > 0, directed=True, connection="strong")
    if n_comp > 1:
        return None
    games = w + w.T
    wins = w.sum(axis=1)
    theta = np.zeros(k)

    def loglik(t: np.ndarray) -> float:
        return float(-(w * np.logaddexp(0.0, -(t[:, None] - t[None, :]))).sum())

    current = loglik(theta)
    threshold = tol * max(1.0, games.sum())
    for it in range(1, max_iter + 1):
        p = _sigmoid(theta[:, None] - theta[None, :])
        grad = wins - (games * p).sum(axis=1)
        if np.abs(grad).max() < threshold:
            return theta - theta.mean(), it - 1, True
        h = games * p * (1.0 - p)
        info = np.diag(h.sum(axis=1)) - h  # negative Hessian; singular along the all-ones vector
        step = np.zeros(k)
        step[:-1] = np.linalg.solve(info[:-1, :-1], grad[:-1])  # gauge: last player's step is 0
        for _ in range(60):  # backtracking keeps every step an ascent step
            trial = loglik(theta + step)
            if trial >= current - 1e-12 * abs(current):
                break
            step /= 2.0
        theta, current = theta + step, trial
    return theta - theta.mean(), max_iter, False


@dataclass(frozen=True)
class PlayerStrength:
    """A player's centred log-strength (``P(a beats b) = sigmoid(sa - sb)``) and its interval."""

    player: str
    strength: float
    low: float
    high: float
    wins: float
    games: int


@dataclass(frozen=True)
class BradleyTerryResult:
    """Players strongest first. ``n_degenerate`` resamples had no MLE and were left out."""

    players: tuple[PlayerStrength, ...]
    n_comparisons: int
    n_resamples: int
    n_degenerate: int
    iterations: int
    converged: bool
    prior: float

    @property
    def strengths(self) -> dict[str, float]:
        return {p.player: p.strength for p in self.players}

    def win_probability(self, a: str, b: str) -> float:
        """Model probability that ``a`` beats ``b`` (a tie counts as half a win)."""
        s = self.strengths
        return float(_sigmoid(s[a] - s[b]))


def bradley_terry(
    comparisons: Sequence[Comparison],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
    prior: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> BradleyTerryResult:
    """Bradley-Terry strengths by maximum likelihood, with bootstrap intervals over comparisons.

    ``comparisons`` holds ``(winner, loser)`` pairs or ``(a, b, outcome)`` with ``outcome`` a's
    score: 1 win, 0.5 tie (half a win each), 0 loss. Strengths are natural-log scale and centred
    (mean 0). The MLE exists only if no group of players always beats (or always loses to) the
    rest; otherwise this raises ``ValueError`` — pass ``prior > 0`` to add ``prior`` virtual tied
    games between every pair, which shrinks strengths towards 0 and always has a solution.
    Resamples without an MLE are left out of the intervals and counted in ``n_degenerate``.
    """
    _check_ci(n_resamples, confidence)
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    players, ai, bi, s = _parse_comparisons(comparisons)
    k = len(players)
    fit = _bt_fit(k, ai, bi, s, prior, max_iter, tol)
    if fit is None:
        wins = np.bincount(ai, s, k) + np.bincount(bi, 1 - s, k)
        games = np.bincount(ai, minlength=k) + np.bincount(bi, minlength=k)
        never = [p for p, w, g in zip(players, wins, games, strict=True) if w in (0, g)]
        raise ValueError(
            "Bradley-Terry MLE does not exist: some players always win or always lose against the "
            f"rest (e.g. {never or 'a subgroup'}); pass prior > 0 to regularise"
        )
    theta, iterations, converged = fit
    if not converged:
        log.warning("bradley_terry: Newton did not converge in %d iterations", max_iter)
    rng = as_generator(seed)
    m = len(s)
    reps = np.full((n_resamples, k), np.nan)
    for r in range(n_resamples):
        idx = rng.integers(0, m, size=m)
        f = _bt_fit(k, ai[idx], bi[idx], s[idx], prior, max_iter, tol)
        if f is not None:
            # (with prior == 0 a player absent from the resample makes the fit degenerate)
            reps[r] = f[0]
    n_degenerate = int(np.isnan(reps).all(axis=1).sum())
    wins = np.bincount(ai, s, k) + np.bincount(bi, 1 - s, k)
    games = np.bincount(ai, minlength=k) + np.bincount(bi, minlength=k)
    rows = []
    for j, p in enumerate(players):
        low, high = _interval(reps[:, j], confidence)
        rows.append(PlayerStrength(p, float(theta[j]), low, high, float(wins[j]), int(games[j])))
    rows.sort(key=lambda r: (-r.strength, r.player))
    return BradleyTerryResult(tuple(rows), m, n_resamples, n_degenerate, iterations, converged, prior)


@dataclass(frozen=True)
class PlayerRating:
    """Elo ``rating`` after the comparisons in the given order; ``mean``, ``low``, ``high`` over
    random orderings (Elo depends on order; the spread shows how much)."""

    player: str
    rating: float
    mean: float
    low: float
    high: float
    games: int


@dataclass(frozen=True)
class EloResult:
    players: tuple[PlayerRating, ...]
    n_comparisons: int
    n_resamples: int
    k_factor: float


def elo(
    comparisons: Sequence[Comparison],
    *,
    k_factor: float = 32.0,
    initial: float = 1000.0,
    scale: float = 400.0,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> EloResult:
    """Online Elo ratings, with intervals from ``n_resamples`` random orderings of the comparisons.

    Each comparison moves both ratings by ``k_factor * (score - expected)`` with
    ``expected = 1 / (1 + 10 ** ((r_b - r_a) / scale))``; ties score 0.5. Players are sorted by
    mean rating over orderings (best first).
    """
    _check_ci(n_resamples, confidence)
    players, ai, bi, s = _parse_comparisons(comparisons)
    k, m = len(players), len(s)
    rng = as_generator(seed)

    def play(orders: np.ndarray) -> np.ndarray:
        ratings = np.full((len(orders), k), float(initial))
        rows = np.arange(len(orders))
        for t in range(m):
            c = orders[:, t]
            a, b = ai[c], bi[c]
            expected = 1.0 / (1.0 + 10.0 ** ((ratings[rows, b] - ratings[rows, a]) / scale))
            delta = k_factor * (s[c] - expected)
            ratings[rows, a] += delta
            ratings[rows, b] -= delta
        return ratings

    given = play(np.arange(m)[None, :])[0]
    block = max(1, _CHUNK // (4 * m))
    shuffled = np.vstack(
        [
            play(np.argsort(rng.random((min(n_resamples, start + block) - start, m)), axis=1))
            for start in range(0, n_resamples, block)
        ]
    )
    games = np.bincount(ai, minlength=k) + np.bincount(bi, minlength=k)
    out = []
    for j, p in enumerate(players):
        low, high = _interval(shuffled[:, j], confidence)
        out.append(PlayerRating(p, float(given[j]), float(shuffled[:, j].mean()), low, high, int(games[j])))
    out.sort(key=lambda r: (-r.mean, r.player))
    return EloResult(tuple(out), m, n_resamples, k_factor)
