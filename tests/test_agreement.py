"""judges.agreement against scikit-learn, statsmodels, krippendorff, scipy and hand-worked cases."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from bench.stats import group_means
from judges import agreement as A


def _ratings(seed: int = 0, n: int = 120, raters: int = 3, missing: float = 0.0) -> np.ndarray:
    """Ordinal 0/1/2 ratings that agree more than chance, optionally with holes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    cols = [np.clip(truth + rng.integers(-1, 2, n) * (rng.random(n) < 0.4), 0, 2) for _ in range(raters)]
    m = np.column_stack(cols).astype(float)
    m[rng.random(m.shape) < missing] = np.nan
    return m


# ----------------------------------------------------------------------------- inputs


def test_encode_labels_and_ratings_matrix():
    assert A.encode_labels(["pass", "Partial", " fail ", "undecidable", None]).tolist()[:3] == [2.0, 1.0, 0.0]
    assert np.isnan(A.encode_labels(["undecidable", None, float("nan")])).all()
    with pytest.raises(ValueError, match="unknown rating label"):
        A.encode_labels(["great"])
    long = pd.DataFrame(
        {
            "sample": ["s1", "s1", "s2", "s3"],
            "annotator": ["x", "y", "x", "y"],
            "value": ["pass", "fail", "partial", "undecidable"],
        }
    )
    m = A.ratings_matrix(long)
    assert m.loc["s1"].tolist() == [2.0, 0.0] and np.isnan(m.loc["s2", "y"]) and np.isnan(m.loc["s3", "y"])
    with pytest.raises(ValueError, match="duplicate"):
        A.ratings_matrix(pd.concat([long, long.iloc[:1]]))


# ----------------------------------------------------------------------------- agreement rates


def test_agreement_rates_paper_b_definitions_by_hand():
    ratings = pd.DataFrame(
        [
            ["pass", "pass", "pass"],  # exact
            ["pass", "partial", "pass"],  # adjacent (differ by one level)
            ["pass", "fail", "partial"],  # complete (pass vs fail present)
            ["fail", "fail", None],  # exact, two ratings
            ["fail", None, "undecidable"],  # one rating: excluded
        ]
    )
    r = A.agreement_rates(ratings, n_resamples=200, seed=0)
    assert (r.exact.value, r.adjacent.value, r.complete.value) == (0.5, 0.25, 0.25)
    assert r.exact.n == 4 and r.exact.n_excluded == 1 and "fewer than two" in r.exact.note
    assert r.exact.low <= 0.5 <= r.exact.high
    m = _ratings(1)
    rates = A.agreement_rates(m, n_resamples=50)
    assert rates.exact.value + rates.adjacent.value + rates.complete.value == pytest.approx(1.0)


def test_agreement_rates_degenerate():
    one = A.agreement_rates(np.array([[2.0], [1.0]]))
    assert math.isnan(one.exact.value) and "no sample has two" in one.exact.note
    with pytest.raises(ValueError, match="integer"):
        A.agreement_rates(np.array([[0.5, 1.0]]))
    same = A.agreement_rates(np.full((5, 3), 2.0), n_resamples=50)
    assert (same.exact.value, same.exact.low, same.complete.value) == (1.0, 1.0, 0.0)


# ----------------------------------------------------------------------------- Cohen


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(weights):
    m = _ratings(2)
    ours = A.cohen_kappa(m[:, 0], m[:, 1], weights=weights, n_resamples=300, seed=0)
    assert ours.value == pytest.approx(cohen_kappa_score(m[:, 0], m[:, 1], weights=weights), abs=1e-12)
    assert ours.low <= ours.value <= ours.high and ours.n == 120
    # an unused category changes weighted kappa through positions, exactly as sklearn's labels=
    x, y = np.array([0, 0, 1, 3, 3, 1]), np.array([0, 1, 1, 3, 1, 1])
    ref = cohen_kappa_score(x, y, weights=weights, labels=[0, 1, 2, 3])
    got = A.cohen_kappa(x, y, weights=weights, categories=[0, 1, 2, 3], n_resamples=0)
    assert got.value == pytest.approx(ref, abs=1e-12) and math.isnan(got.low)


def test_cohen_kappa_labels_missing_and_degenerate():
    a = ["pass", "pass", "fail", "partial", "undecidable", "pass"]
    b = ["pass", "fail", "fail", "partial", "pass", None]
    r = A.cohen_kappa(a, b, n_resamples=100)
    ref = cohen_kappa_score([2, 2, 0, 1], [2, 0, 0, 1])
    assert r.value == pytest.approx(ref) and (r.n, r.n_excluded) == (4, 2) and "2 samples" in r.note
    const = A.cohen_kappa(["pass"] * 5, ["pass"] * 5)
    assert math.isnan(const.value) and "undefined" in const.note and const.n == 5
    none = A.cohen_kappa(["pass", None], [None, "fail"])
    assert math.isnan(none.value) and none.n == 0 and "no sample rated by both" in none.note
    with pytest.raises(ValueError, match="same samples"):
        A.cohen_kappa([1, 2], [1])
    assert A.cohen_kappa(a, b, seed=5) == A.cohen_kappa(a, b, seed=5)


# ----------------------------------------------------------------------------- Fleiss


def test_fleiss_kappa_matches_statsmodels():
    m = _ratings(3, raters=4)
    ours = A.fleiss_kappa(m, n_resamples=300, seed=0)
    assert ours.value == pytest.approx(sm_fleiss(aggregate_raters(m)[0]), abs=1e-12)
    assert ours.low <= ours.value <= ours.high and ours.note == ""


def test_fleiss_kappa_varying_raters_by_hand_and_degenerate():
    # unit 1: (2,2,2) P=1; unit 2: (2,1) P=0; unit 3: (0,0,0,1) P=(3*2)/(4*3)=0.5; unit 4: one rating, excluded.
    m = np.array([[2, 2, 2, np.nan], [2, 1, np.nan, np.nan], [0, 0, 0, 1], [1, np.nan, np.nan, np.nan]])
    r = A.fleiss_kappa(m, n_resamples=50)
    p_bar = (1 + 0 + 0.5) / 3
    p = np.array([3, 2, 4]) / 9  # category shares of 0, 1, 2 over the 9 kept ratings
    expected = (p_bar - (p**2).sum()) / (1 - (p**2).sum())
    assert r.value == pytest.approx(expected) and (r.n, r.n_excluded) == (3, 1)
    assert "generalised" in r.note
    one = A.fleiss_kappa(np.array([[1.0], [2.0]]))
    assert math.isnan(one.value) and "one annotator" in one.note
    same = A.fleiss_kappa(np.full((4, 3), 1.0))
    assert math.isnan(same.value) and "same category" in same.note


# ----------------------------------------------------------------------------- Krippendorff


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_alpha_matches_package_with_missing(level):
    m = _ratings(4, n=80, raters=4, missing=0.3)
    ours = A.krippendorff_alpha(m, level=level, n_resamples=200, seed=0)
    ref = krippendorff.alpha(reliability_data=m.T, level_of_measurement=level)
    assert ours.value == pytest.approx(ref, abs=1e-10)
    assert ours.low <= ours.value <= ours.high
    singles = int(((~np.isnan(m)).sum(axis=1) < 2).sum())
    assert ours.n_excluded == singles and ours.n == 80 - singles


def test_krippendorff_alpha_on_krippendorffs_own_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units.
    nan = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    for level, published in (("nominal", 0.743), ("interval", 0.849)):
        got = A.krippendorff_alpha(data.T, level=level, n_resamples=0).value
        assert got == pytest.approx(published, abs=5e-4)
        assert got == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def test_krippendorff_alpha_degenerate():
    same = A.krippendorff_alpha(np.full((6, 2), 2.0))
    assert math.isnan(same.value) and "same value" in same.note
    one = A.krippendorff_alpha(np.array([[1.0], [2.0]]))
    assert math.isnan(one.value) and one.n == 0 and "two or more" in one.note
    with pytest.raises(ValueError, match="level"):
        A.krippendorff_alpha(np.ones((2, 2)), level="ratio")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- correlations


def test_rank_correlations_match_scipy_with_ties():
    rng = np.random.default_rng(5)
    for _ in range(20):
        x, y = rng.integers(0, 4, 7).astype(float), rng.integers(0, 4, 7).astype(float)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        assert A.spearman_rho(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
        assert A.kendall_tau(x, y) == pytest.approx(sps.kendalltau(x, y).statistic)
    assert math.isnan(A.spearman_rho([1, 1, 1], [1, 2, 3])) and math.isnan(A.kendall_tau([1, 2], [3, 3]))


# ----------------------------------------------------------------------------- judge vs humans


def _study():
    systems = ["B", "S", "R", "RW", "SW", "D"]
    judge = pd.DataFrame(
        [[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], [1, 1, 1, 1, 1, 1]],
        index=["s1", "s2", "s3"],
        columns=systems,
        dtype=float,
    )
    idx = pd.MultiIndex.from_tuples(
        [("s1", "x"), ("s1", "y"), ("s2", "x"), ("s3", "x")], names=["sample", "annotator"]
    )
    nan = np.nan
    ranks = pd.DataFrame(
        [
            [nan, nan, nan, 3, 2, 1],  # agrees with the judge: D first
            [nan, nan, nan, 1, 2, 3],  # RW first: judge's D is not in the top 2
            [1, 2, 3, nan, nan, nan],  # agrees
            [1, 2, 3, nan, nan, nan],  # judge constant: correlations undefined
        ],
        index=idx,
        columns=systems,
    )
    return judge, ranks


def test_judge_vs_humans_by_hand_and_against_scipy():
    judge, ranks = _study()
    r = A.judge_vs_humans(judge, ranks, n_resamples=100, seed=0)
    # unranked systems share the mean of the remaining ranks: (4 + 5 + 6) / 3 = 5
    filled = ranks.fillna(5.0)
    rho = [sps.spearmanr(judge.loc[s], -filled.loc[(s, a)]).statistic for s, a in filled.index[:3]]
    tau = [sps.kendalltau(judge.loc[s], -filled.loc[(s, a)]).statistic for s, a in filled.index[:3]]
    assert r.spearman.value == pytest.approx(np.mean([(rho[0] + rho[1]) / 2, rho[2]]))
    assert r.kendall.value == pytest.approx(np.mean([(tau[0] + tau[1]) / 2, tau[2]]))
    assert (r.spearman.n, r.spearman.n_excluded) == (2, 1) and "constant" in r.spearman.note
    # s1: annotator x hit, y miss -> 0.5; s2: hit; s3: judge 6-way tie, winner among them -> 1/6
    assert r.winner_accuracy.value == pytest.approx((0.5 + 1.0 + 1 / 6) / 3)
    assert r.winner_accuracy.chance == pytest.approx(1 / 6)
    assert r.top2_accuracy.value == pytest.approx((0.5 + 1.0 + 2 / 6) / 3)
    assert r.top2_accuracy.chance == pytest.approx(2 / 6)
    assert r.pairwise_accuracy.chance == 0.5 and r.pairwise_accuracy.n == 3
    assert r.per_sample.loc["s3", "pairwise_accuracy"] == 0.5  # judge ties on every ordered pair
    assert r.per_sample.loc["s2", "pairwise_accuracy"] == 1.0
    again = A.judge_vs_humans(judge, ranks, n_resamples=100, seed=0)
    assert again.spearman == r.spearman and again.winner_accuracy == r.winner_accuracy


def test_judge_vs_humans_unranked_drop_unscored_winner_and_errors():
    judge, ranks = _study()
    dropped = A.judge_vs_humans(judge, ranks, unranked="drop", n_resamples=0)
    s2 = sps.spearmanr([6, 5, 4], [-1, -2, -3]).statistic
    assert dropped.per_sample.loc["s2", "spearman"] == pytest.approx(s2)
    assert math.isnan(dropped.spearman.low)
    unscored = judge.copy()
    unscored.loc["s2", "B"] = np.nan  # the human's winner on s2 has no judge score
    r = A.judge_vs_humans(unscored, ranks, n_resamples=0)
    assert math.isnan(r.per_sample.loc["s2", "winner_accuracy"])
    assert r.winner_accuracy.n == 2 and r.winner_accuracy.n_excluded == 1
    with pytest.raises(ValueError, match="did not score"):
        A.judge_vs_humans(judge.drop(index="s3"), ranks)
    with pytest.raises(ValueError, match="no ranking"):
        A.judge_vs_humans(judge, ranks.iloc[:0])
    with pytest.raises(ValueError, match="share no system"):
        A.judge_vs_humans(judge.rename(columns=str.lower), ranks)
    single = A.judge_vs_humans(judge[["B"]], ranks[["B"]], n_resamples=0)
    assert single.spearman.n == 0 and "undefined on every one" in single.spearman.note


def test_system_rank_correlation():
    a = {"B": 70.0, "S": 75.0, "R": 74.0, "SW": 80.0}
    b = ["SW", "S", "R", "B"]
    r = A.system_rank_correlation(a, b)
    assert r.value == pytest.approx(1.0) and r.n == 4 and "no interval" in r.note
    k = A.system_rank_correlation(a, ["SW", "R", "S", "B", "D"], method="kendall")
    ref = sps.kendalltau([70, 75, 74, 80], [-3, -2, -1, 0]).statistic
    assert k.value == pytest.approx(ref) and k.n_excluded == 1
    low = A.system_rank_correlation(
        a, {"B": 1.0, "S": 2.0, "R": 3.0, "SW": 4.0}, higher_is_better=(True, False)
    )
    assert low.value == pytest.approx(sps.spearmanr([70, 75, 74, 80], [-1, -2, -3, -4]).statistic)
    both = A.system_rank_correlation(a, {"B": 1.0, "S": 2.0, "R": 3.0, "SW": 4.0}, higher_is_better=False)
    assert both.value == pytest.approx(sps.spearmanr([70, 75, 74, 80], [1, 2, 3, 4]).statistic)
    few = A.system_rank_correlation(a, ["SW", "X"])
    assert math.isnan(few.value) and "two or more" in few.note
    flat = A.system_rank_correlation({"a": 1.0, "b": 1.0}, ["a", "b"])
    assert math.isnan(flat.value) and "undefined" in flat.note
    with pytest.raises(ValueError, match="twice"):
        A.system_rank_correlation(a, ["SW", "SW"])


# ----------------------------------------------------------------------------- pass rates


def test_pass_rates_by_group_via_group_means():
    labels = pd.DataFrame(
        {
            "suite": ["regular"] * 5 + ["complex"] * 4,
            "annotator": ["x", "y", "z", "x", "y", "x", "y", "z", "z"],
            "value": ["pass", "pass", "partial", "fail", "undecidable", "pass", "pass", "pass", "fail"],
        }
    )
    t = A.pass_rates(labels, ["suite"], n_resamples=200, seed=1)
    reg = t[t.suite == "regular"].iloc[0]
    assert (reg["n"], reg["n_missing"]) == (4, 1)
    assert (reg["pass"], reg["partial"], reg["fail"]) == (0.5, 0.25, 0.25)
    assert t[["pass", "partial", "fail"]].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    ind = (labels["value"] == "pass").astype(float).where(labels["value"] != "undecidable")
    ref = group_means(labels.assign(v=ind), ["suite"], "v", n_resamples=200, seed=1)
    assert t["pass_low"].tolist() == ref["low"].tolist() and t["pass_high"].tolist() == ref["high"].tolist()
    overall = A.pass_rates(labels, [], n_resamples=0)
    assert overall["pass"].iloc[0] == pytest.approx(5 / 8) and math.isnan(overall["pass_low"].iloc[0])
    per_annotator = A.pass_rates(labels, ["annotator"], levels=("pass",), n_resamples=50)
    assert list(per_annotator.columns) == ["annotator", "n", "n_missing", "pass", "pass_low", "pass_high"]
    with pytest.raises(ValueError, match="unknown level"):
        A.pass_rates(labels, ["suite"], levels=("good",))
