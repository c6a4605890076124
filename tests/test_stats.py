"""bench.stats against independent references (scipy, statsmodels) and hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from bench import stats as S


def _normal(seed: int, n: int, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, n)


# ----------------------------------------------------------------------------- bootstrap_mean


def test_bootstrap_mean_excludes_and_counts_nan():
    r = S.bootstrap_mean([1.0, np.nan, 3.0, np.nan, 5.0], n_resamples=500, seed=1)
    assert (r.mean, r.n, r.n_missing) == (3.0, 3, 2)
    assert 1.0 <= r.low <= r.mean <= r.high <= 5.0


def test_bootstrap_mean_degenerate_sizes():
    empty = S.bootstrap_mean([], seed=0)
    assert math.isnan(empty.mean) and math.isnan(empty.low) and (empty.n, empty.n_missing) == (0, 0)
    all_nan = S.bootstrap_mean([np.nan, np.nan])
    assert math.isnan(all_nan.mean) and (all_nan.n, all_nan.n_missing) == (0, 2)
    one = S.bootstrap_mean([np.nan, 4.0])
    assert (one.mean, one.low, one.high, one.n, one.n_missing) == (4.0, 4.0, 4.0, 1, 1)
    same = S.bootstrap_mean([2.5] * 7)
    assert same.low == same.high == same.mean == 2.5


def test_bootstrap_mean_matches_scipy_percentile_interval():
    x = _normal(3, 300)
    ours = S.bootstrap_mean(x, n_resamples=4000, seed=0)
    ref = sps.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", random_state=0)
    assert ours.mean == pytest.approx(x.mean())
    assert ours.low == pytest.approx(ref.confidence_interval.low, abs=0.02)
    assert ours.high == pytest.approx(ref.confidence_interval.high, abs=0.02)


def test_bootstrap_mean_is_deterministic_and_seed_sensitive():
    x = _normal(0, 50)
    assert S.bootstrap_mean(x, seed=7) == S.bootstrap_mean(x, seed=7)
    assert S.bootstrap_mean(x, seed=np.random.default_rng(7)) == S.bootstrap_mean(x, seed=7)
    assert S.bootstrap_mean(x, seed=7).low != S.bootstrap_mean(x, seed=8).low


def test_blocked_resampling_gives_the_same_answer(monkeypatch):
    x = _normal(5, 40)
    whole = S.bootstrap_mean(x, n_resamples=300, seed=2)
    monkeypatch.setattr(S, "_CHUNK", 100)  # forces many small blocks
    assert S.bootstrap_mean(x, n_resamples=300, seed=2) == whole


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="infinite"):
        S.bootstrap_mean([1.0, np.inf])
    with pytest.raises(ValueError, match="confidence"):
        S.bootstrap_mean([1.0, 2.0], confidence=1.0)
    with pytest.raises(ValueError, match="n_resamples"):
        S.bootstrap_mean([1.0, 2.0], n_resamples=0)
    with pytest.raises(TypeError, match="seed"):
        S.bootstrap_mean([1.0, 2.0], seed=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one-dimensional"):
        S.bootstrap_mean(np.ones((2, 2)))


# ----------------------------------------------------------------------------- bootstrap_statistic


def test_bootstrap_statistic_over_rows_with_nan_policy():
    data = np.column_stack([_normal(1, 80), _normal(2, 80)])
    data[[3, 9], 1] = np.nan

    def corr(rows: np.ndarray) -> float:
        return float(np.corrcoef(rows[:, 0], rows[:, 1])[0, 1])

    r = S.bootstrap_statistic(data, corr, n_resamples=300, seed=0)
    assert (r.n, r.n_missing) == (78, 2)
    keep = ~np.isnan(data).any(axis=1)
    assert r.value == pytest.approx(corr(data[keep]))
    assert r.low <= r.value <= r.high
    kept = S.bootstrap_statistic(
        data, lambda rows: float(np.isnan(rows).sum()), n_resamples=5, nan_policy="keep"
    )
    assert (kept.n, kept.n_missing, kept.value) == (80, 0, 2.0)


def test_bootstrap_statistic_counts_undefined_resamples_and_takes_frames():
    data = np.array([0.0] * 3 + [1.0])
    r = S.bootstrap_statistic(data, lambda x: 1.0 / x.sum() if x.sum() else float("nan"), n_resamples=400)
    assert 0 < r.n_undefined < 400  # resamples that miss the single 1.0
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan]})
    f = S.bootstrap_statistic(frame, lambda d: float(d["a"].median()), n_resamples=50)
    assert (f.value, f.n, f.n_missing) == (2.0, 3, 1)
    empty = S.bootstrap_statistic(np.array([]), np.mean)
    assert empty.n == 0 and math.isnan(empty.value)


# ----------------------------------------------------------------------------- paired tests


def test_permutation_test_tiny_exact_case_by_hand():
    # d = (1, 2, 3): the 8 sign patterns give sums ±6, ±4, ±2, 0, 0; |sum| >= 6 twice -> p = 2/8.
    r = S.paired_permutation_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert (r.diff, r.p_value, r.n_permutations, r.exact) == (2.0, 0.25, 8, True)
    # zero differences cannot flip and must not change the exact p-value
    z = S.paired_permutation_test([1.0, 2.0, 3.0, 5.0], [0.0, 0.0, 0.0, 5.0])
    assert z.p_value == 0.25 and z.n == 4


def test_permutation_test_matches_scipy_exact_and_monte_carlo():
    a, b = _normal(10, 12), _normal(11, 12, 0.4)
    ours = S.paired_permutation_test(a, b)
    ref = sps.permutation_test(
        (a, b), lambda x, y: np.mean(x - y), permutation_type="samples", n_resamples=np.inf
    )
    assert ours.exact and ours.p_value == pytest.approx(ref.pvalue)
    a, b = _normal(12, 16), _normal(13, 16, 0.3)
    mc = S.paired_permutation_test(a, b, n_resamples=20000, seed=0)
    ref = sps.permutation_test(
        (a, b), lambda x, y: np.mean(x - y), permutation_type="samples", n_resamples=np.inf
    )
    assert not mc.exact and mc.p_value == pytest.approx(ref.pvalue, abs=0.01)


def test_paired_tests_drop_and_count_nan_pairs():
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    b = np.array([0.0, np.nan, 1.0, 3.0, 4.5])
    pb = S.paired_bootstrap(a, b, n_resamples=300)
    assert (pb.n, pb.n_missing) == (3, 2)
    assert pb.diff == pytest.approx((1 + 1 + 0.5) / 3)
    assert pb.mean_a == pytest.approx(10 / 3) and pb.mean_b == pytest.approx(7.5 / 3)
    pt = S.paired_permutation_test(a, b)
    assert (pt.n, pt.n_missing) == (3, 2)


def test_paired_degenerate_cases():
    same = S.paired_permutation_test([1.0, 2.0], [1.0, 2.0])
    assert same.p_value == 1.0 and same.diff == 0.0
    sb = S.paired_bootstrap([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert sb.p_value == 1.0 and sb.low == sb.high == 0.0
    shift = S.paired_bootstrap([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], n_resamples=99)
    assert shift.diff == shift.low == shift.high == 1.0 and shift.p_value == 0.01
    none = S.paired_permutation_test([np.nan], [1.0])
    assert none.n == 0 and none.n_missing == 1 and math.isnan(none.p_value)
    with pytest.raises(ValueError, match="aligned"):
        S.paired_bootstrap([1.0, 2.0], [1.0])


def test_paired_bootstrap_detects_a_real_difference_and_is_deterministic():
    a = _normal(20, 200, 0.5)
    b = a - 0.5 + _normal(21, 200) * 0.2
    r = S.paired_bootstrap(a, b, n_resamples=1000, seed=3)
    assert r.low > 0 and r.p_value < 0.01
    assert r == S.paired_bootstrap(a, b, n_resamples=1000, seed=3)


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.2, 0.005]
    assert S.holm_adjust(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert np.isnan(S.holm_adjust([0.01, np.nan])[1])


# ----------------------------------------------------------------------------- significance ranks


def test_significance_ranks_separate_systems_and_show_ties():
    base = _normal(30, 120)
    scores = {
        "best": base + 1.0,
        "twin": base + 1.0 + _normal(31, 120) * 0.01,  # indistinguishable from best
        "mid": base,
        "low": base - 1.0,
    }
    r = S.significance_ranks(scores, n_resamples=2000, seed=0)
    ranks = {x.system: x.rank for x in r.ranks}
    assert ranks == {"best": 1, "twin": 1, "mid": 3, "low": 4}
    by = {x.system: x for x in r.ranks}
    assert by["best"].tied_with == ("twin",) and by["mid"].better_than == ("low",)
    assert r.p_values.loc["best", "low"] < 0.05 and r.p_values.loc["best", "twin"] >= 0.05
    assert list(r.as_frame()["system"][:2]) in (["best", "twin"], ["twin", "best"])


def test_significance_ranks_direction_single_and_errors():
    base = _normal(40, 60)
    r = S.significance_ranks({"a": base, "b": base + 2.0}, higher_is_better=False, n_resamples=500)
    assert [(x.system, x.rank) for x in r.ranks] == [("a", 1), ("b", 2)]
    solo = S.significance_ranks({"only": [1.0, np.nan, 3.0]})
    assert solo.ranks[0].rank == 1 and solo.ranks[0].n_missing == 1
    equal = S.significance_ranks({"a": [1.0, 1.0], "b": [1.0, 1.0]})
    assert [x.rank for x in equal.ranks] == [1, 1]
    boot = S.significance_ranks({"a": base, "b": base + 2.0}, test="bootstrap", n_resamples=500)
    assert [(x.system, x.rank) for x in boot.ranks] == [("b", 1), ("a", 2)]
    with pytest.raises(ValueError, match="test must be"):
        S.significance_ranks({"a": base}, test="t")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no systems"):
        S.significance_ranks({})
    with pytest.raises(ValueError, match="no scored sample"):
        S.significance_ranks({"a": [1.0], "b": [np.nan]})
    with pytest.raises(ValueError, match="aligned"):
        S.significance_ranks({"a": [1.0, 2.0], "b": [1.0]})


def test_rank_is_one_plus_number_significantly_better_even_when_not_transitive():
    # A beats C, but neither A-B nor B-C is significant: A=1, B=1, C=2 (B and C still "tied").
    base = _normal(50, 40)
    noise = _normal(51, 40)
    scores = {"A": base + 0.5, "B": base + 0.25 + noise * 1.2, "C": base}
    r = S.significance_ranks(scores, correction="none", n_resamples=4000, seed=1)
    by = {x.system: x for x in r.ranks}
    assert by["A"].better_than == ("C",)
    assert by["B"].better_than == () and "C" in by["B"].tied_with
    assert (by["A"].rank, by["B"].rank, by["C"].rank) == (1, 1, 2)


# ----------------------------------------------------------------------------- rank stability


def test_rank_stability_separated_and_identical_systems():
    base = _normal(60, 100)
    scores = {"a": base + 3.0, "b": base.copy(), "c": base.copy(), "d": base - 3.0}
    r = S.rank_stability(scores, n_resamples=300, seed=0)
    by = {x.system: x for x in r.systems}
    assert by["a"].expected_rank == 1.0 and by["d"].expected_rank == 4.0
    assert by["b"].rank == by["c"].rank == 2.5 and by["b"].expected_rank == 2.5
    assert r.swap_probability.loc["a", "d"] == 0.0
    assert r.swap_probability.loc["b", "c"] == 0.5 and r.prob_better.loc["b", "c"] == 0.5
    pb = r.prob_better.to_numpy()
    assert np.allclose(pb + pb.T, 1.0 - np.eye(4))
    assert np.allclose(r.swap_probability, r.swap_probability.T)


def test_rank_stability_close_systems_swap_and_draws_axis():
    base = _normal(70, 60)
    close = {"a": base + 0.05 + _normal(71, 60) * 0.5, "b": base + _normal(72, 60) * 0.5}
    r = S.rank_stability(close, n_resamples=500, seed=2)
    assert 0.05 < r.swap_probability.loc["a", "b"] <= 0.5
    again = S.rank_stability(close, n_resamples=500, seed=2)
    assert again.systems == r.systems and again.swap_probability.equals(r.swap_probability)
    draws = {k: np.column_stack([v, v + 0.1, np.full(60, np.nan)]) for k, v in close.items()}
    draws["c"] = base - 5.0  # 1-D: one draw
    d = S.rank_stability(draws, n_resamples=200, seed=0, higher_is_better=True)
    by = {x.system: x for x in d.systems}
    assert by["c"].rank == 3.0 and by["c"].expected_rank == 3.0
    assert by["a"].mean == pytest.approx(np.mean(close["a"] + 0.05))
    with pytest.raises(ValueError, match="n_draws"):
        S.rank_stability({"a": np.ones((3, 2, 2))})
    lower = S.rank_stability({"x": [1.0, 2.0], "y": [3.0, 4.0]}, n_resamples=50, higher_is_better=False)
    assert lower.systems[0].system == "x"


# ----------------------------------------------------------------------------- group_means


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(80)
    df = pd.DataFrame(
        {
            "system": rng.choice(["s1", "s2", "s3"], 90),
            "suite": rng.choice(["x", "y"], 90),
            "score": rng.normal(size=90),
        }
    )
    df.loc[[1, 5, 8], "score"] = np.nan
    return df


def test_group_means_per_group_values_and_counts():
    df = _frame()
    g = S.group_means(df, ["system", "suite"], "score", n_resamples=200, seed=4)
    assert list(g.columns) == ["system", "suite", "mean", "low", "high", "n", "n_missing"]
    for _, row in g.iterrows():
        part = df[(df.system == row.system) & (df.suite == row.suite)]["score"]
        assert row["mean"] == pytest.approx(part.mean())
        assert (row["n"], row["n_missing"]) == (part.notna().sum(), part.isna().sum())
        assert row["low"] <= row["mean"] <= row["high"]
    assert g["n_missing"].sum() == 3
    overall = S.group_means(df, [], "score", n_resamples=200)
    assert len(overall) == 1 and overall["n"].iloc[0] == 87


def test_group_means_groups_are_independent_and_nan_keys_kept():
    df = _frame()
    full = S.group_means(df, ["system"], "score", n_resamples=200, seed=9)
    part = S.group_means(df[df.system != "s1"], ["system"], "score", n_resamples=200, seed=9)
    pd.testing.assert_frame_equal(full[full.system != "s1"].reset_index(drop=True), part)
    df.loc[0, "suite"] = None
    g = S.group_means(df, ["suite"], "score", n_resamples=50)
    assert g["suite"].isna().sum() == 1 and g["n"].sum() + g["n_missing"].sum() == 90


def test_group_means_errors_and_empty():
    df = _frame()
    with pytest.raises(ValueError, match="no column"):
        S.group_means(df, ["nope"], "score")
    with pytest.raises(ValueError, match="not numeric"):
        S.group_means(df, ["system"], "suite")
    empty = S.group_means(df.iloc[:0], ["system"], "score")
    assert empty.empty and list(empty.columns)[-2:] == ["n", "n_missing"]
    flags = pd.DataFrame({"g": ["a", "a", "b"], "ok": [True, False, None]})
    out = S.group_means(flags, ["g"], "ok", n_resamples=20)
    assert list(out["mean"][:1]) == [0.5] and list(out["n_missing"]) == [0, 1]


# ----------------------------------------------------------------------------- Bradley-Terry, Elo


def test_bradley_terry_three_player_hand_worked_mle():
    # Strengths p = (4, 2, 1) make these win counts exactly their expectations, so they are the MLE:
    # A-B 2:1 (=3*4/6), B-C 2:1 (=3*2/3), A-C 4:1 (=5*4/5). Centred log strengths: log 2 * (1, 0, -1).
    comps = (
        [("A", "B")] * 2 + [("B", "A")] + [("B", "C")] * 2 + [("C", "B")] + [("A", "C")] * 4 + [("C", "A")]
    )
    r = S.bradley_terry(comps, n_resamples=200, seed=0)
    assert r.converged
    assert [p.player for p in r.players] == ["A", "B", "C"]
    assert r.strengths["A"] == pytest.approx(math.log(2), abs=1e-8)
    assert r.strengths["B"] == pytest.approx(0.0, abs=1e-8)
    assert r.win_probability("A", "C") == pytest.approx(0.8)
    assert 0 <= r.n_degenerate < 200
    assert all(p.low <= p.strength <= p.high for p in r.players)


def test_bradley_terry_ties_are_half_wins():
    # A wins once, one tie, B wins once: level.
    r = S.bradley_terry([("A", "B"), ("A", "B", 0.5), ("B", "A")], n_resamples=10)
    assert r.strengths["A"] == pytest.approx(0.0, abs=1e-9)
    r = S.bradley_terry([("A", "B", 1.0), ("A", "B", 0.5), ("B", "A", 0.5), ("B", "A", 0.0)], n_resamples=10)
    # A: 1 + 0.5 + 0.5 + 1 = 3 of 4 -> odds 3
    assert r.strengths["A"] - r.strengths["B"] == pytest.approx(math.log(3), abs=1e-8)
    tied = S.bradley_terry([("A", "B", 0.5), ("B", "C", 0.5)], n_resamples=10)
    assert all(abs(s) < 1e-12 for s in tied.strengths.values())


def test_bradley_terry_matches_statsmodels_logit():
    import statsmodels.api as sm

    rng = np.random.default_rng(90)
    true = {"p0": 1.0, "p1": 0.3, "p2": -0.2, "p3": -1.1}
    names = list(true)
    comps, rows, y = [], [], []
    for _ in range(400):
        a, b = rng.choice(4, 2, replace=False)
        win = rng.random() < 1 / (1 + math.exp(-(true[names[a]] - true[names[b]])))
        comps.append((names[a], names[b], 1.0 if win else 0.0))
        x = np.zeros(4)
        x[a], x[b] = 1.0, -1.0
        rows.append(x[:3])  # gauge: p3 = 0
        y.append(float(win))
    fit = sm.Logit(np.array(y), np.array(rows)).fit(disp=0, tol=1e-12)
    ref = np.append(fit.params, 0.0)
    ref -= ref.mean()
    r = S.bradley_terry(comps, n_resamples=100, seed=0)
    assert [r.strengths[n] for n in names] == pytest.approx(ref, abs=1e-6)
    assert r == S.bradley_terry(comps, n_resamples=100, seed=0)


def test_bradley_terry_degenerate_inputs():
    with pytest.raises(ValueError, match="does not exist"):
        S.bradley_terry([("A", "B"), ("A", "B")])
    reg = S.bradley_terry([("A", "B"), ("A", "B")], prior=1.0, n_resamples=20)
    # prior 1: one virtual tie -> A scores 2.5 of 3 -> odds 5
    assert reg.strengths["A"] - reg.strengths["B"] == pytest.approx(math.log(5), abs=1e-8)
    with pytest.raises(ValueError, match="no comparisons"):
        S.bradley_terry([])
    with pytest.raises(ValueError, match="itself"):
        S.bradley_terry([("A", "A")])
    with pytest.raises(ValueError, match="outcome"):
        S.bradley_terry([("A", "B", 2.0)])


def test_elo_hand_computed_and_order_bootstrap():
    # Both start at 1000 (expected 0.5): A wins +16; then B (984) beats A (1016): expected_B =
    # 1 / (1 + 10 ** (32 / 400)), B gains 32 * (1 - expected_B).
    r = S.elo([("A", "B"), ("B", "A")], n_resamples=50, seed=0)
    gain = 32 * (1 - 1 / (1 + 10 ** (32 / 400)))
    by = {p.player: p for p in r.players}
    assert by["B"].rating == pytest.approx(984 + gain) and by["A"].rating == pytest.approx(1016 - gain)
    comps = [("A", "B")] * 6 + [("B", "A")] * 2 + [("B", "C")] * 6 + [("A", "C", 0.5)] * 2
    e = S.elo(comps, n_resamples=200, seed=1)
    assert [p.player for p in e.players] == ["A", "B", "C"]
    assert sum(p.mean for p in e.players) == pytest.approx(3000.0)
    assert all(p.low <= p.mean <= p.high for p in e.players)
    assert e == S.elo(comps, n_resamples=200, seed=1)
    with pytest.raises(ValueError):
        S.elo([])
