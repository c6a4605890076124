"""Agreement statistics: between human annotators, and between a judge and humans.

Definitions follow paper B (Appendix J; reading notes §3.3-3.4) where it gives them and say so
where it is silent. Every statistic returns an :class:`Agreement` — the value, a bootstrap interval
over *samples* (from :mod:`bench.stats`), how many samples it used and excluded, and a ``note``
that explains any NaN. Nothing here raises on a degenerate but well-formed input (one rater,
constant ratings, a single system): the answer is NaN with the reason in ``note``. Malformed input
(unknown label, misaligned arrays) raises ``ValueError``.

Ratings are a matrix with one row per sample and one column per annotator (a ``DataFrame`` or an
array), NaN where an annotator did not rate a sample. Labels ``pass/partial/fail`` are coded on the
ordinal scale ``fail=0 < partial=1 < pass=2``; ``undecidable`` is missing. Numeric ratings pass
through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from bench.stats import SeedLike, bootstrap_mean, bootstrap_statistic, group_means

LEVELS: dict[str, int] = {"fail": 0, "partial": 1, "pass": 2}
_MISSING = {"", "undecidable", "na", "n/a", "none", "null"}
NAN = float("nan")


@dataclass(frozen=True)
class Agreement:
    """An agreement statistic.

    ``low``/``high``: percentile bootstrap interval over samples (NaN when ``n_resamples=0`` or the
    value is undefined — ``note`` says which). ``n``: samples used; ``n_excluded``: samples left out
    (too few ratings, undefined correlation). ``chance``: the value expected from a random judge,
    where one is defined (winner, top-2 and pairwise accuracy).
    """

    value: float
    low: float = NAN
    high: float = NAN
    n: int = 0
    n_excluded: int = 0
    note: str = ""
    chance: float | None = None


# ----------------------------------------------------------------------------- inputs


def _code(v: Any) -> float:
    if isinstance(v, str):
        key = v.strip().lower()
        if key in LEVELS:
            return float(LEVELS[key])
        if key in _MISSING:
            return NAN
        raise ValueError(f"unknown rating label {v!r}; expected one of {sorted(LEVELS)} or 'undecidable'")
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return NAN
    return float(v)


def encode_labels(values: Any) -> np.ndarray:
    """Labels to floats: ``fail/partial/pass`` -> 0/1/2, ``undecidable``/None/NaN -> NaN."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(float)
    out = np.empty(arr.shape, dtype=float)
    for idx, v in np.ndenumerate(arr):
        out[idx] = _code(v)
    return out


def ratings_matrix(
    labels: pd.DataFrame, *, unit: str = "sample", rater: str = "annotator", value: str = "value"
) -> pd.DataFrame:
    """Long labels (one row per unit and rater) to the ``units x raters`` matrix, coded."""
    missing = [c for c in (unit, rater, value) if c not in labels.columns]
    if missing:
        raise ValueError(f"ratings_matrix: no column(s) {missing}; columns are {list(labels.columns)}")
    dup = labels.duplicated([unit, rater])
    if dup.any():
        first = labels.loc[dup, [unit, rater]].iloc[0].tolist()
        raise ValueError(f"ratings_matrix: {int(dup.sum())} duplicate (unit, rater) rows, e.g. {first}")
    coded = labels.assign(_code=encode_labels(labels[value].to_numpy()))
    return coded.pivot(index=unit, columns=rater, values="_code")


def _matrix(ratings: Any) -> np.ndarray:
    m = encode_labels(ratings.to_numpy() if isinstance(ratings, pd.DataFrame) else ratings)
    if m.ndim != 2:
        raise ValueError(f"ratings must be a (samples x raters) matrix, got shape {m.shape}")
    if np.isinf(m).any():
        raise ValueError("ratings contain an infinite value")
    return m


def _ci(
    data: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    value: float,
    n_resamples: int,
    confidence: float,
    seed: SeedLike,
) -> tuple[float, float, str]:
    """Bootstrap interval of ``statistic`` over the rows of ``data`` and a note on undefined resamples."""
    if n_resamples == 0 or not np.isfinite(value):
        return NAN, NAN, ""
    r = bootstrap_statistic(
        data, statistic, n_resamples=n_resamples, confidence=confidence, seed=seed, nan_policy="keep"
    )
    note = (
        f"{r.n_undefined} of {n_resamples} resamples undefined, left out of the interval"
        if r.n_undefined
        else ""
    )
    return r.low, r.high, note


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


# ----------------------------------------------------------------------------- between annotators


@dataclass(frozen=True)
class AgreementRates:
    """Paper B J.3 categories over samples with two or more ratings; on a 3-level scale they sum to 1."""

    exact: Agreement
    adjacent: Agreement
    complete: Agreement


def agreement_rates(
    ratings: Any, *, n_resamples: int = 2000, confidence: float = 0.95, seed: SeedLike = 0
) -> AgreementRates:
    """Exact / adjacent / complete-disagreement rates (paper B, Appendix J.3).

    For each sample rated by at least two annotators, the spread ``max - min`` of its ordinal
    ratings decides: 0 -> *exact* (all annotators give the same rating), 1 -> *adjacent* (they
    differ by one level: pass/partial or partial/fail), 2 or more -> *complete disagreement* (pass
    vs fail). With three annotators rating pass, partial, fail the sample counts as complete.
    Ratings must be integer levels (fail=0, partial=1, pass=2). Samples with fewer than two
    ratings are excluded and counted.
    """
    m = _matrix(ratings)
    valid = m[~np.isnan(m)]
    if np.any(valid != np.round(valid)):
        raise ValueError("agreement_rates needs integer ordinal levels (fail=0, partial=1, pass=2)")
    count = (~np.isnan(m)).sum(axis=1)
    keep = count >= 2
    n_excluded = int((~keep).sum())
    if not keep.any():
        empty = Agreement(NAN, n=0, n_excluded=n_excluded, note="no sample has two or more ratings")
        return AgreementRates(empty, empty, empty)
    rows = m[keep]
    spread = np.nanmax(rows, axis=1) - np.nanmin(rows, axis=1)
    out = []
    for indicator in (spread == 0, spread == 1, spread >= 2):
        r = bootstrap_mean(
            indicator.astype(float), n_resamples=max(n_resamples, 1), confidence=confidence, seed=seed
        )
        low, high = (r.low, r.high) if n_resamples else (NAN, NAN)
        note = "" if n_excluded == 0 else f"{n_excluded} samples with fewer than two ratings excluded"
        out.append(Agreement(r.mean, low, high, r.n, n_excluded, note))
    return AgreementRates(*out)


def _weights(k: int, weights: str | None) -> np.ndarray:
    i, j = np.indices((k, k))
    if weights is None:
        return (i != j).astype(float)
    if weights == "linear":
        return np.abs(i - j).astype(float)
    if weights == "quadratic":
        return ((i - j) ** 2).astype(float)
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


def _cohen_from_pairs(pairs: np.ndarray, cats: np.ndarray, w: np.ndarray) -> float:
    k = cats.size
    observed = np.zeros((k, k))
    np.add.at(observed, (np.searchsorted(cats, pairs[:, 0]), np.searchsorted(cats, pairs[:, 1])), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    denominator = (w * expected).sum()
    return NAN if denominator == 0 else float(1.0 - (w * observed).sum() / denominator)


def cohen_kappa(
    a: Any,
    b: Any,
    *,
    weights: Literal["linear", "quadratic"] | None = None,
    categories: Sequence[Any] | None = None,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> Agreement:
    """Cohen's kappa between two annotators, unweighted or with linear / quadratic weights.

    Samples missing either rating are excluded and counted. Weights use category *positions*
    (``categories``, default the sorted union of observed values), as scikit-learn does. When
    both annotators give every sample one and the same category, chance agreement is 1 and kappa
    is undefined: NaN, with that reason in ``note``.
    """
    x = encode_labels(a).ravel()
    y = encode_labels(b).ravel()
    if x.shape != y.shape:
        raise ValueError(f"cohen_kappa: a and b must rate the same samples, got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    n, n_excluded = int(keep.sum()), int((~keep).sum())
    if n == 0:
        return Agreement(NAN, n=0, n_excluded=n_excluded, note="no sample rated by both annotators")
    pairs = np.column_stack([x[keep], y[keep]])
    cats = np.unique(pairs) if categories is None else np.sort(encode_labels(list(categories)))
    if not np.isin(pairs, cats).all():
        raise ValueError(f"cohen_kappa: ratings outside categories {cats.tolist()}")
    w = _weights(cats.size, weights)

    def stat(p: np.ndarray) -> float:
        return _cohen_from_pairs(p, cats, w)

    value = stat(pairs)
    if not np.isfinite(value):
        return Agreement(
            NAN,
            n=n,
            n_excluded=n_excluded,
            note=_join(
                "both annotators gave every sample the same single category: agreement is perfect but "
                "chance agreement is 1, so kappa is undefined",
                _excluded(n_excluded),
            ),
        )
    low, high, note = _ci(pairs, stat, value, n_resamples, confidence, seed)
    return Agreement(value, low, high, n, n_excluded, _join(note, _excluded(n_excluded)))


def _excluded(k: int, why: str = "missing a rating", noun: str = "samples") -> str:
    return f"{k} {noun} {why} excluded" if k else ""


def _count_table(m: np.ndarray, categories: Sequence[Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """``units x values`` counts of each value per unit, over the sorted value domain."""
    observed = m[~np.isnan(m)]
    cats = np.unique(observed) if categories is None else np.sort(encode_labels(list(categories)))
    if not np.isin(observed, cats).all():
        raise ValueError(f"ratings outside categories {cats.tolist()}")
    table = np.stack([(m == c).sum(axis=1) for c in cats], axis=1).astype(float)
    return table, cats


def _fleiss_from_counts(t: np.ndarray) -> float:
    m = t.sum(axis=1)
    p_unit = (t * (t - 1)).sum(axis=1) / (m * (m - 1))
    p_cat = t.sum(axis=0) / m.sum()
    p_e = float((p_cat**2).sum())
    return NAN if p_e >= 1.0 else float((p_unit.mean() - p_e) / (1.0 - p_e))


def fleiss_kappa(
    ratings: Any,
    *,
    categories: Sequence[Any] | None = None,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> Agreement:
    """Fleiss' kappa for several annotators (nominal categories).

    Samples with fewer than two ratings are excluded and counted. When the number of ratings per
    sample varies, the per-sample agreement uses its own count ``m_i`` —
    ``P_i = sum_j n_ij (n_ij - 1) / (m_i (m_i - 1))`` and ``p_j = sum_i n_ij / sum_i m_i`` — which is
    Fleiss' formula exactly when every sample has the same number of ratings.
    """
    m = _matrix(ratings)
    counts = (~np.isnan(m)).sum(axis=1)
    keep = counts >= 2
    n, n_excluded = int(keep.sum()), int((~keep).sum())
    if n == 0:
        why = "only one annotator" if m.shape[1] < 2 else "no sample has two or more ratings"
        return Agreement(
            NAN, n=0, n_excluded=n_excluded, note=f"Fleiss' kappa needs two ratings per sample: {why}"
        )
    table, _ = _count_table(m[keep], categories)
    value = _fleiss_from_counts(table)
    excluded = _excluded(n_excluded, "with fewer than two ratings")
    varying = "ratings per sample vary; generalised Fleiss form" if len(set(counts[keep])) > 1 else ""
    if not np.isfinite(value):
        return Agreement(
            NAN,
            n=n,
            n_excluded=n_excluded,
            note=_join("every rating is the same category: chance agreement is 1, kappa undefined", excluded),
        )
    low, high, note = _ci(table, _fleiss_from_counts, value, n_resamples, confidence, seed)
    return Agreement(value, low, high, n, n_excluded, _join(note, varying, excluded))


def _alpha_from_counts(t: np.ndarray, cats: np.ndarray, level: str) -> float:
    m = t.sum(axis=1)
    coincidence = (t / (m - 1)[:, None]).T @ t - np.diag((t / (m - 1)[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    total = n_c.sum()
    if level == "nominal":
        delta = 1.0 - np.eye(cats.size)
    elif level == "interval":
        delta = (cats[:, None] - cats[None, :]) ** 2
    else:  # ordinal: squared rank distance from the marginal frequencies between two values
        cum, idx = np.cumsum(n_c), np.arange(cats.size)
        lo, hi = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
        between = cum[hi] - cum[lo] + n_c[lo]
        delta = (between - (n_c[lo] + n_c[hi]) / 2.0) ** 2
    disagreement_expected = (np.outer(n_c, n_c) * delta).sum()
    if total <= 1 or disagreement_expected == 0:
        return NAN
    return float(1.0 - (total - 1.0) * (coincidence * delta).sum() / disagreement_expected)


def krippendorff_alpha(
    ratings: Any,
    *,
    level: Literal["nominal", "ordinal", "interval"] = "nominal",
    categories: Sequence[Any] | None = None,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> Agreement:
    """Krippendorff's alpha (nominal, ordinal or interval), missing ratings allowed.

    Built from the coincidence matrix: each sample with ``m >= 2`` ratings adds ``1 / (m - 1)`` for
    every ordered pair of its ratings; ``alpha = 1 - D_observed / D_expected``. Samples with fewer
    than two ratings are not pairable: excluded and counted. The bootstrap resamples samples.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"level must be 'nominal', 'ordinal' or 'interval', got {level!r}")
    m = _matrix(ratings)
    keep = (~np.isnan(m)).sum(axis=1) >= 2
    n, n_excluded = int(keep.sum()), int((~keep).sum())
    excluded = _excluded(n_excluded, "with fewer than two ratings")
    if n == 0:
        return Agreement(
            NAN, n=0, n_excluded=n_excluded, note="no sample has two or more ratings (pairable values)"
        )
    table, cats = _count_table(m[keep], categories)

    def stat(t: np.ndarray) -> float:
        return _alpha_from_counts(t, cats, level)

    value = stat(table)
    if not np.isfinite(value):
        return Agreement(
            NAN,
            n=n,
            n_excluded=n_excluded,
            note=_join(
                "every rating has the same value: no expected disagreement, alpha undefined", excluded
            ),
        )
    low, high, note = _ci(table, stat, value, n_resamples, confidence, seed)
    return Agreement(value, low, high, n, n_excluded, _join(note, excluded))


# ----------------------------------------------------------------------------- judge vs humans


def spearman_rho(x: Any, y: Any) -> float:
    """Spearman's rho (average ranks for ties); NaN when either side is constant."""
    rx, ry = rankdata(np.asarray(x, float)), rankdata(np.asarray(y, float))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt((rx**2).sum() * (ry**2).sum())
    return NAN if den == 0 else float((rx * ry).sum() / den)


def kendall_tau(x: Any, y: Any) -> float:
    """Kendall's tau-b (tie-corrected); NaN when either side is constant."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    i, j = np.triu_indices(x.size, k=1)
    dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    den = np.sqrt(float((dx != 0).sum()) * float((dy != 0).sum()))
    return NAN if den == 0 else float((dx * dy).sum() / den)


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare fields, not the whole object
class JudgeHumanAgreement:
    """Paper B Table 14's statistics, plus pairwise accuracy; ``per_sample`` holds each sample's
    values (mean over its annotators) for drill-down."""

    spearman: Agreement
    kendall: Agreement
    winner_accuracy: Agreement
    top2_accuracy: Agreement
    pairwise_accuracy: Agreement
    per_sample: pd.DataFrame


def _unit_metrics(score: np.ndarray, rank: np.ndarray) -> dict[str, float]:
    """One (sample, annotator): judge scores (higher better, NaN = unscored) vs human ranks (1 = best).

    Correlations and pairwise accuracy use the scored systems. Winner (top-2) accuracy is undefined
    when the judge left the human's winner (a top-2 system) unscored: that is a missing score, not
    a miss. A tie at the judge's top is broken at random, so the credit is the expected hit rate.
    """
    scored = ~np.isnan(score)
    out = dict.fromkeys(
        [
            "spearman",
            "kendall",
            "winner_accuracy",
            "top2_accuracy",
            "winner_chance",
            "top2_chance",
            "pairwise_accuracy",
        ],
        NAN,
    )
    if scored.sum() < 2:
        return out
    x, r = score[scored], rank[scored]
    out["spearman"], out["kendall"] = spearman_rho(x, -r), kendall_tau(x, -r)
    top = x == x.max()
    for name, wanted in (("winner", rank == rank.min()), ("top2", rank <= 2)):
        if not (wanted & ~scored).any():
            out[f"{name}_accuracy"] = float((top & wanted[scored]).sum() / top.sum())
            out[f"{name}_chance"] = float(wanted[scored].mean())
    i, j = np.triu_indices(x.size, k=1)
    ordered = r[i] != r[j]
    if ordered.any():
        agree = np.sign(x[i] - x[j]) * np.sign(r[j] - r[i])
        out["pairwise_accuracy"] = float(((agree[ordered] + 1) / 2).mean())
    return out


def judge_vs_humans(
    judge_scores: pd.DataFrame,
    human_ranks: pd.DataFrame,
    *,
    unranked: Literal["tie_last", "drop"] = "tie_last",
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> JudgeHumanAgreement:
    """How well a judge's per-sample scores reproduce human rankings (paper B, J.5.3, Table 14).

    ``judge_scores``: index sample, one column per system, higher is better (NaN: unscored).
    ``human_ranks``: index sample, or a MultiIndex whose first level is the sample and second the
    annotator; one column per system; 1 = best; NaN = not ranked (top-3 of 6). With
    ``unranked="tie_last"`` the unranked systems share the mean of the remaining ranks (B is silent;
    reading notes §3.4); ``"drop"`` leaves them out. Systems the judge did not score are left out.

    Per (sample, annotator): Spearman and Kendall (tau-b) between judge scores and the reversed
    human ranks; *winner accuracy* = the judge's top system is the human's first place; *top-2
    accuracy* = the judge's top system is in the human's top two (B L2461); *pairwise accuracy* =
    share of human-ordered pairs the judge orders the same way (a judge tie is half). Judge ties
    at the top count as a random pick. A sample's value is the mean over its annotators; each
    statistic is the mean over samples, with a bootstrap interval over samples. Samples where a
    statistic is undefined (constant scores or ranks, fewer than two systems) are excluded and
    counted. ``chance`` reports a random judge's expected value.
    """
    if unranked not in ("tie_last", "drop"):
        raise ValueError(f"unranked must be 'tie_last' or 'drop', got {unranked!r}")
    systems = [s for s in human_ranks.columns if s in judge_scores.columns]
    if not systems:
        raise ValueError("judge_scores and human_ranks share no system column")
    if not judge_scores.index.is_unique:
        raise ValueError("judge_scores must have one row per sample (its index repeats)")
    if human_ranks.empty:
        raise ValueError("human_ranks holds no ranking")
    samples = human_ranks.index.get_level_values(0)
    unknown = ~samples.isin(judge_scores.index)
    if unknown.any():
        raise ValueError(f"human_ranks has samples the judge did not score, e.g. {samples[unknown][0]!r}")
    judged = judge_scores.loc[samples, systems].to_numpy(dtype=float)
    ranks = human_ranks[systems].to_numpy(dtype=float)
    units = []
    positions = np.arange(1, len(systems) + 1, dtype=float)
    for s, score, rank in zip(samples, judged, ranks, strict=True):
        unranked_mask = np.isnan(rank)
        if unranked == "drop":
            score, rank = score[~unranked_mask], rank[~unranked_mask]
        elif unranked_mask.any():
            rest = np.setdiff1d(positions, rank[~unranked_mask])
            rank = np.where(unranked_mask, rest.mean() if rest.size else positions[-1], rank)
        units.append({"sample": s, **_unit_metrics(score, rank)})
    per_unit = pd.DataFrame(units)
    names = ["spearman", "kendall", "winner_accuracy", "top2_accuracy", "pairwise_accuracy"]
    per_sample = per_unit.groupby("sample", sort=False).mean()  # mean over annotators, NaN skipped
    n_total = len(per_sample)
    results = {}
    chance = {"winner_accuracy": "winner_chance", "top2_accuracy": "top2_chance"}
    for name in names:
        vals = per_sample[name].to_numpy(dtype=float)
        r = bootstrap_mean(vals, n_resamples=max(n_resamples, 1), confidence=confidence, seed=seed)
        low, high = (r.low, r.high) if n_resamples else (NAN, NAN)
        defined = ~np.isnan(vals)
        c = None
        if name in chance:
            c = float(per_sample.loc[defined, chance[name]].mean()) if defined.any() else None
        elif name == "pairwise_accuracy":
            c = 0.5
        why = {
            "spearman": "constant judge scores or human ranks, or fewer than two scored systems",
            "winner_accuracy": "fewer than two scored systems, or the human's winner unscored",
            "top2_accuracy": "fewer than two scored systems, or a human top-two system unscored",
            "pairwise_accuracy": "fewer than two scored systems, or no pair the human ordered",
        }.get(name, "constant judge scores or human ranks, or fewer than two scored systems")
        note = _excluded(r.n_missing, f"undefined ({why})")
        if r.n == 0:
            note = f"undefined on every one of {n_total} samples ({why})"
        results[name] = Agreement(r.mean, low, high, r.n, r.n_missing, note, c)
    return JudgeHumanAgreement(**results, per_sample=per_sample)


def system_rank_correlation(
    a: Mapping[str, float] | Sequence[str],
    b: Mapping[str, float] | Sequence[str],
    *,
    method: Literal["spearman", "kendall"] = "spearman",
    higher_is_better: bool | tuple[bool, bool] = True,
) -> Agreement:
    """Rank correlation of two leaderboard orderings over the systems both contain.

    Each side is a mapping ``system -> score`` or a sequence of systems, best first.
    ``higher_is_better`` gives the direction of a mapping's scores, one flag for both sides or a
    pair ``(a, b)`` (e.g. a judge score against a human mean rank). Systems in only one side
    (or with a NaN score) are excluded and counted. No interval: one ordering per side holds no sampling
    information (use ``bench.stats.rank_stability`` on per-sample scores for that).
    """
    if method not in ("spearman", "kendall"):
        raise ValueError(f"method must be 'spearman' or 'kendall', got {method!r}")

    directions = higher_is_better if isinstance(higher_is_better, tuple) else (higher_is_better,) * 2

    def scores(side: Mapping[str, float] | Sequence[str], higher: bool) -> dict[str, float]:
        if isinstance(side, Mapping):
            sign = 1.0 if higher else -1.0
            return {str(k): sign * float(v) for k, v in side.items() if not np.isnan(float(v))}
        if len(set(side)) != len(side):
            raise ValueError("an ordering lists a system twice")
        return {str(s): -float(i) for i, s in enumerate(side)}

    sa, sb = scores(a, directions[0]), scores(b, directions[1])
    common = sorted(set(sa) & set(sb))
    n_excluded = len(set(sa) ^ set(sb))
    no_ci = "no interval: a single ordering per side"
    if len(common) < 2:
        return Agreement(
            NAN,
            n=len(common),
            n_excluded=n_excluded,
            note=f"needs two or more shared systems, got {len(common)}",
        )
    x, y = [sa[s] for s in common], [sb[s] for s in common]
    value = spearman_rho(x, y) if method == "spearman" else kendall_tau(x, y)
    if not np.isfinite(value):
        return Agreement(
            NAN,
            n=len(common),
            n_excluded=n_excluded,
            note="one ordering gives every shared system the same score: correlation undefined",
        )
    return Agreement(
        value,
        n=len(common),
        n_excluded=n_excluded,
        note=_join(no_ci, _excluded(n_excluded, "in only one ordering", "systems")),
    )


# ----------------------------------------------------------------------------- pass rates


def pass_rates(
    labels: pd.DataFrame,
    by: Sequence[str],
    *,
    value: str = "value",
    levels: Sequence[str] = ("pass", "partial", "fail"),
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> pd.DataFrame:
    """Share of each rating level per group (paper B Tables 11-13, Fig. 26), via ``group_means``.

    ``labels`` is long (one rating a row) with a ``value`` column of ``pass/partial/fail`` labels
    (or their codes); ``undecidable`` and missing ratings are excluded and counted (``n_missing``).
    Group by ``["suite"]`` for Table 12, ``["system"]`` for Table 13, ``["annotator"]`` for Fig. 26,
    ``[]`` for Table 11. Columns: the ``by`` columns, ``n``, ``n_missing``, then ``<level>``,
    ``<level>_low``, ``<level>_high`` for each level.
    """
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise ValueError(f"pass_rates: unknown level(s) {unknown}; levels are {sorted(LEVELS)}")
    if value not in labels.columns:
        raise ValueError(f"pass_rates: no column {value!r}; columns are {list(labels.columns)}")
    codes = encode_labels(labels[value].to_numpy())
    out: pd.DataFrame | None = None
    for level in levels:
        indicator = np.where(np.isnan(codes), np.nan, (codes == LEVELS[level]).astype(float))
        frame = labels[list(by)].assign(_ind=indicator)
        # Each group is seeded by its key, so every level resamples the same ratings.
        g = group_means(frame, by, "_ind", n_resamples=max(n_resamples, 1), confidence=confidence, seed=seed)
        if n_resamples == 0:
            g["low"] = g["high"] = np.nan
        g = g.rename(columns={"mean": level, "low": f"{level}_low", "high": f"{level}_high"})
        # group_means returns the same groups in the same order for every level.
        out = g if out is None else pd.concat([out, g[[level, f"{level}_low", f"{level}_high"]]], axis=1)
    assert out is not None
    return out[[*by, "n", "n_missing", *[c for lv in levels for c in (lv, f"{lv}_low", f"{lv}_high")]]]
