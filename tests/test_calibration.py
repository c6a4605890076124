"""judges.calibration on a small synthetic run, against hand-worked values and reference libraries;
and the ``annotate`` / ``calibrate`` commands."""

from __future__ import annotations

import json
import math

import krippendorff
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from bench.cli_labels import annotate_cmd, calibrate_cmd
from bench.errors import UsageError
from bench.labels import HumanLabel, load_labels, validate_labels
from bench.results import load_results
from bench.runner import RunOptions, execute
from bench.spec import parse_spec
from bench.store import RunStore
from judges.calibration import calibrate, format_report, write_report
from suites.folder import load_suite
from tests.fakes.components import make_tiny_suite

SYSTEMS = ["fake-brighten", "fake-brighten:factor=0.7", "fake-brighten:factor=0.4"]
R = 100  # bootstrap resamples: enough to exercise the intervals, fast


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """4 samples x 3 systems judged by fake-diff; ``order[s]`` = systems best-first by the judge."""
    root = tmp_path_factory.mktemp("cal-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        make_tiny_suite(root / "suite", n=4)
        s = execute(str(root / "runs"), [load_suite(root / "suite")], [parse_spec(x) for x in SYSTEMS],
                    [parse_spec("fake-diff")], RunOptions(executor="inline"))
    res = load_results([s.run_dir])
    order = {}
    for sample in ("s0", "s1", "s2", "s3"):
        diffs = {j.system_id: j.scores["diff"] for j in res.judgements.values() if j.sample_id == sample}
        order[sample] = sorted(diffs, key=diffs.get)  # lower diff = closer to the source = "better"
    for st in res.stores:
        st.close()
    # The hand-worked values below assume one system order on every sample (true for these fakes).
    assert len({tuple(o) for o in order.values()}) == 1
    return s.run_dir, order


def _labels(tmp_path, run_dir, labels, name="labels.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(lab.to_dict()) + "\n" for lab in labels))
    res = load_results([run_dir])
    return validate_labels(load_labels([p]), res), res


def _rank(who, sample, ranking, candidates):
    return HumanLabel(who, "tiny@1", sample, ranking=tuple(ranking), dimension="ranking",
                      candidates=tuple(candidates), task="rank")


def _rate(who, sample, system, value, dim="overall"):
    return HumanLabel(who, "tiny@1", sample, system_id=system, dimension=dim, value=value)


# Overall ratings of the three systems (judge's best first) per sample.
ALICE = {s: ("pass", "partial", "fail") for s in ("s0", "s1", "s2", "s3")}
BOB = {"s0": ("pass", "partial", "fail"), "s1": ("pass", "pass", "partial"),
       "s2": ("partial", "partial", "fail"), "s3": ("fail", "partial", "pass")}


def _study(order):
    """Rankings: alice agrees with the judge on s0-s2 and reverses it on s3; bob agrees on s0-s2 and
    on s3 ranks only a winner (the judge's best). Plus the ALICE / BOB overall ratings."""
    labels = []
    for s, o in order.items():
        labels.append(_rank("alice", s, o if s != "s3" else o[::-1], o))
        labels.append(_rank("bob", s, o if s != "s3" else o[:1], o))
        for who, table in (("alice", ALICE), ("bob", BOB)):
            labels += [_rate(who, s, sys, v) for sys, v in zip(o, table[s], strict=True)]
    return labels


def _get(df, **where):
    for k, v in where.items():
        df = df[df[k] == v]
    assert len(df) == 1, where
    return df.iloc[0]


def test_judge_against_human_rankings_hand_worked(tmp_path, run):
    run_dir, order = run
    labels, res = _labels(tmp_path, run_dir, _study(order))
    rep = calibrate(labels, res, n_resamples=R)
    j = rep.judges[rep.judges["source"] == "rankings"]
    # s3, bob: top-1 of 3, the others tied at 2.5: rho = 1.5/sqrt(2*1.5), tau-b = 2/sqrt(3*2).
    rho_bob, tau_bob = 1.5 / math.sqrt(3.0), 2 / math.sqrt(6.0)
    expect = {
        "spearman": (3 + (-1 + rho_bob) / 2) / 4,
        "kendall": (3 + (-1 + tau_bob) / 2) / 4,
        "winner_accuracy": (3 + 0.5) / 4,  # s3: alice's last is the judge's best; bob's winner is
        "top2_accuracy": (3 + 0.5) / 4,
        "pairwise_accuracy": (3 + 0.5) / 4,
    }
    for stat, value in expect.items():
        row = _get(j, statistic=stat)
        assert row["value"] == pytest.approx(value, abs=1e-12), stat
        assert row["low"] <= row["value"] <= row["high"] and row["n"] == 4
    assert _get(j, statistic="winner_accuracy")["chance"] == pytest.approx(1 / 3)
    # Mean places over samples (annotators averaged first): 1.25, 2.0625, 2.6875 -> the judge's order.
    assert _get(j, statistic="system_spearman")["value"] == pytest.approx(1.0)
    assert _get(j, statistic="system_kendall")["value"] == pytest.approx(1.0)
    # Ratings as an order (pass > partial > fail, ties averaged): bob's s1 and s2 tie two systems.
    r = rep.judges[rep.judges["source"] == "ratings"]
    assert _get(r, statistic="spearman")["value"] == pytest.approx((1 + 2 * (1 + rho_bob) / 2 + 0) / 4)
    assert _get(r, statistic="winner_accuracy")["value"] == pytest.approx((3 + 0.5) / 4)
    # One judge score: it is the best, and the ranking table says so.
    assert list(rep.best["source"]) == ["rankings", "ratings"] and set(rep.best["rank"]) == {1}


def test_between_annotators_hand_worked_and_against_libraries(tmp_path, run):
    run_dir, order = run
    labels, res = _labels(tmp_path, run_dir, _study(order))
    rep = calibrate(labels, res, n_resamples=R)
    b = rep.between[(rep.between["task"] == "rate") & (rep.between["dimension"] == "overall")]
    # 12 results: 7 same rating, 3 one level apart, 2 pass-vs-fail (counted from ALICE and BOB).
    assert _get(b, statistic="exact")["value"] == pytest.approx(7 / 12)
    assert _get(b, statistic="adjacent")["value"] == pytest.approx(3 / 12)
    assert _get(b, statistic="complete")["value"] == pytest.approx(2 / 12)
    code = {"fail": 0, "partial": 1, "pass": 2}
    a = [code[ALICE[s][i]] for s in sorted(order) for i in range(3)]
    c = [code[BOB[s][i]] for s in sorted(order) for i in range(3)]
    assert _get(b, statistic="cohen_linear")["value"] == pytest.approx(cohen_kappa_score(a, c, weights="linear"))
    table, _ = aggregate_raters(np.column_stack([a, c]))
    assert _get(b, statistic="fleiss_kappa")["value"] == pytest.approx(sm_fleiss(table, method="fleiss"))
    for level in ("nominal", "ordinal"):
        ref = krippendorff.alpha(reliability_data=np.array([a, c], float), level_of_measurement=level)
        assert _get(b, statistic=f"alpha_{level}")["value"] == pytest.approx(ref)
    pair = _get(rep.pairs, dimension="overall")
    assert {pair["annotator_a"], pair["annotator_b"]} == {"alice", "bob"}
    # Rankings between annotators: the winner differs only on s3 -> 3 of 4 samples agree.
    assert _get(rep.rankings, statistic="winner_exact")["value"] == pytest.approx(0.75)
    assert set(rep.rankings["statistic"]) >= {"winner_fleiss_kappa", "places_alpha_ordinal", "ceiling_spearman"}


def test_pass_rates_and_wins_hand_worked(tmp_path, run):
    run_dir, order = run
    labels, res = _labels(tmp_path, run_dir, _study(order))
    rep = calibrate(labels, res, n_resamples=R)
    pr = rep.pass_rates[(rep.pass_rates["task"] == "rate") & (rep.pass_rates["dimension"] == "overall")]
    assert _get(pr, by="all")["pass"] == pytest.approx(8 / 24)
    assert _get(pr, by="annotator", group="alice")["pass"] == pytest.approx(4 / 12)
    assert _get(pr, by="annotator", group="bob")["fail"] == pytest.approx(3 / 12)
    best = order["s0"][0]
    best_name = res.display(best)
    assert _get(pr, by="system", group=best_name)["pass"] == pytest.approx(6 / 8)
    assert _get(pr, by="suite", group="tiny@1")["n"] == 24
    w = rep.wins.set_index("system_id")
    assert w.loc[best, "wins"] == 7 and w.loc[best, "rankings"] == 8 and w.loc[best, "win_rate"] == pytest.approx(7 / 8)
    assert w.loc[order["s0"][1], "wins"] == 0 and w.loc[order["s0"][2], "wins"] == 1


def test_write_report_stores_files_and_a_stage(tmp_path, run):
    run_dir, order = run
    labels, res = _labels(tmp_path, run_dir, _study(order))
    rep = calibrate(labels, res, n_resamples=R)
    written = write_report(rep, res, started="2024-01-01T00:00:00+00:00")
    jid = next(iter(res.judges))
    names = {p.name for p in written}
    assert names == {f"{jid}.json", "humans.json", "summary.json"}

    def strict(text):  # NaN/Infinity are not JSON: the report must never contain them
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))

    doc = strict((res.stores[0].root / "calibration" / f"{jid}.json").read_text())
    assert doc["headline"]["source"] == "rankings" and doc["headline"]["rank"] == 1
    assert doc["headline"]["spearman"] == pytest.approx(_get(rep.judges, source="rankings", statistic="spearman")["value"])
    assert {r["statistic"] for r in doc["rows"]} >= {"spearman", "winner_accuracy", "system_spearman"}
    summary = strict((res.stores[0].root / "calibration" / "summary.json").read_text())
    assert summary["best"][0]["members"] == f"{jid}:diff" and summary["labels"][0]["n"] == len(labels)
    strict((res.stores[0].root / "calibration" / "humans.json").read_text())
    stage = RunStore.open(run_dir).stages()[-1]
    assert stage["stage"] == "calibrate" and stage["judges"] == [jid] and stage["annotators"] == ["alice", "bob"]
    for st in res.stores:
        st.close()


def test_degenerate_one_annotator_constant_ratings_single_system(tmp_path, run):
    run_dir, order = run
    # One annotator: agreement between annotators is undefined and said so, never a crash.
    only = [lab for lab in _study(order) if lab.annotator == "alice"]
    labels, res = _labels(tmp_path, run_dir, only)
    rep = calibrate(labels, res, n_resamples=R)
    assert rep.between["value"].isna().all() and (rep.between["note"] != "").all()
    assert any("one annotator" in n for n in rep.notes)
    assert _get(rep.judges, source="rankings", statistic="spearman")["value"] == pytest.approx(0.5)
    text = format_report(rep)
    assert "*1" in text and "no sample has two or more ratings" in text
    # Constant ratings: exact agreement 1, kappa and alpha undefined with the reason.
    const = [_rate(w, s, sys, "pass") for w in ("alice", "bob") for s in order for sys in order[s]]
    labels, res = _labels(tmp_path, run_dir, const, "const.jsonl")
    rep = calibrate(labels, res, n_resamples=R)
    b = rep.between
    assert _get(b, statistic="exact")["value"] == 1.0
    for stat in ("fleiss_kappa", "alpha_nominal", "cohen_linear"):
        row = _get(b, statistic=stat)
        assert math.isnan(row["value"]) and row["note"], stat
    # Ratings that tie every system give no order: per-sample correlations undefined, explained.
    spear = _get(rep.judges, source="ratings", statistic="spearman")
    assert math.isnan(spear["value"]) and "undefined" in spear["note"]
    # A single system per sample: nothing to rank against, so no judge comparison at all.
    single = [_rate("alice", s, order[s][0], "pass") for s in order]
    single.append(_rank("alice", "s0", order["s0"][:1], order["s0"][:1]))
    labels, res = _labels(tmp_path, run_dir, single, "single.jsonl")
    rep = calibrate(labels, res, n_resamples=R)
    assert set(rep.judges["source"]) == {"rankings"} and rep.judges["value"].isna().all()
    assert "fewer than two" in _get(rep.judges, statistic="spearman")["note"]
    assert rep.best["spearman"].isna().all()
    json.dumps(rep.to_dict(), allow_nan=False)
    format_report(rep)


def test_calibrate_and_annotate_commands(tmp_path, run):
    run_dir, order = run
    lab = tmp_path / "l.jsonl"
    lab.write_text("".join(json.dumps(x.to_dict()) + "\n" for x in _study(order)))
    cli = CliRunner()
    r = cli.invoke(calibrate_cmd, [str(lab), run_dir, "--resamples", "50", "--no-write"])  # label file as argument
    assert r.exit_code == 0, r.output
    assert "Judges against people (rankings)" in r.output and "fake-diff·diff" in r.output
    assert "Pass rates, rate/overall" in r.output and "Which judge agrees best" in r.output
    r = cli.invoke(calibrate_cmd, ["--labels", str(lab), run_dir, "--resamples", "0", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["n_labels"] == len(_study(order)) and doc["judges"][0]["low"] is None  # no intervals asked
    r = cli.invoke(calibrate_cmd, [run_dir])
    assert isinstance(r.exception, UsageError) and "no label file" in str(r.exception)
    bad = tmp_path / "bad.csv"
    bad.write_text("annotator,suite,sample_id,dimension,value,system_id\nalice,tiny@1,s9,overall,pass,x\n")
    r = cli.invoke(calibrate_cmd, ["--labels", str(bad), run_dir])
    assert "bad.csv:2" in str(r.exception) and "s9" in str(r.exception)

    out = tmp_path / "page"
    r = cli.invoke(annotate_cmd, [run_dir, "--out", str(out), "--limit", "2", "--mode", "rank", "--top", "2"])
    assert r.exit_code == 0, r.output
    meta_js = (out / "data-meta.js").read_text()
    meta = json.loads(meta_js[meta_js.index("{"):meta_js.rindex("}") + 1])["meta"]
    assert meta["n_samples"] == 2 and meta["top"] == 2 and meta["mode"] == "rank"
    html = (out / "index.html").read_text()
    assert '<script src="data-0000.js">' in html and "fetch(" not in (out / "annotate.js").read_text()
    data = (out / "data-0000.js").read_text()
    assert '"plan"' not in data  # rank mode shows images only: a plan's shape would give a system away
    for sysid in load_results([run_dir]).systems:  # blind: no system id or name anywhere on the page
        assert sysid not in data and "brighten" not in html


def test_page_shows_plans_in_rate_mode():
    from bench.model import Plan, Step, Subtask, Trajectory
    from leaderboard.annotate.page import _plan_view, _steps_view

    t = Trajectory("tiny@1", "s0", "sys", plan=Plan(reasoning="dark", instruction="brighten it", subtasks=(
        Subtask("1", "brighten", reasoning="too dark", action="exposure", tool="brightness", params={"factor": 1.3}),
        Subtask("2", "keep sky"))), steps=(Step("brightness", "a" * 64, error="boom"),))
    view = _plan_view(t)
    assert view["reasoning"] == "dark" and view["instruction"] == "brighten it"
    assert view["subtasks"][0] == {"text": "brighten", "reasoning": "too dark", "action": "exposure",
                                   "tool": "brightness", "params": '{"factor": 1.3}'}
    assert view["subtasks"][1]["params"] == "" and _steps_view(t) == [{"tool": "brightness", "instruction": None,
                                                                       "error": "boom"}]
    assert _plan_view(t.replace(plan=None)) is None


def test_which_judge_agrees_best_and_combinations(tmp_path, run):
    """Two judges with equal scores, except that the second leaves s3 unscored: on the rankings it
    agrees perfectly where it scored (s0-s2), so it ranks first; the first keeps s3's disagreement."""
    _, order = run
    make_tiny_suite(tmp_path / "suite", n=4)
    s = execute(str(tmp_path / "runs"), [load_suite(tmp_path / "suite")], [parse_spec(x) for x in SYSTEMS],
                [parse_spec("fake-diff"), parse_spec("fake-diff:unscored_on=s3")], RunOptions(executor="inline"))
    labels, res = _labels(tmp_path, s.run_dir, [lab for lab in _study(order) if lab.is_ranking])
    rep = calibrate(labels, res, n_resamples=R)
    full = next(j for j in res.judges if not res.judges[j]["args"].get("unscored_on"))
    partial = next(j for j in res.judges if j != full)
    best = rep.best[rep.best["source"] == "rankings"].set_index("members")
    assert best.loc[f"{partial}:diff", "rank"] == 1 and best.loc[f"{partial}:diff", "spearman"] == pytest.approx(1.0)
    assert best.loc[f"{partial}:diff", "n"] == 3
    assert best.loc[f"{full}:diff", "spearman"] == pytest.approx((3 + (-1 + 1.5 / math.sqrt(3)) / 2) / 4)
    combo = best.loc[f"{partial}:diff + {full}:diff"] if f"{partial}:diff + {full}:diff" in best.index \
        else best.loc[f"{full}:diff + {partial}:diff"]
    assert combo["spearman"] == pytest.approx(1.0) and combo["n"] == 3  # a member missing leaves the sample out
    assert best.loc[f"{full}:diff", "rank"] == 3 and any("optimistic" in n for n in rep.notes)
    spear = _get(rep.judges, judge_id=partial, statistic="spearman")
    assert spear["n_excluded"] == 1 and "excluded" in spear["note"]
    for st in res.stores:
        st.close()
