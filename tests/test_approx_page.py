"""The approximations page of the leaderboard (leaderboard/approximations.py).

A tiny real run gets an ``approximations.json`` written by
:func:`baselines.explore.approximations.write` (the writer ``editbench approximations`` uses) from
a report of the documented shape: two suites, one undefined statistic, an adaptive-allocation
comparison, executed sequences for the scatter, and markup in a judge name. The site must show
every figure with its interval on ``approximations.html``, link it from the navigation, carry the
same numbers in ``data/leaderboard.json``, and drop the page when no run has a report.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from baselines.explore.approximations import write
from bench.runner import RunOptions, execute
from bench.spec import parse_spec
from leaderboard.approximations import ROWS, load, render_fragment, write_fragment
from leaderboard.site import build_site
from suites.folder import load_suite
from tests.browser import CHROMIUM, Browser
from tests.fakes.components import make_tiny_suite

XSS = "<script>alert(1)</script>"


def _stat(value: float | None, low: float | None, high: float | None, n: int, clusters: int) -> dict:
    return {"value": value, "low": low, "high": high, "n": n, "clusters": clusters, "undefined": 0}


def _blocks(shift: float = 0.0) -> dict:
    return {
        "additive": {
            "spearman": _stat(0.6734 + shift, 0.5823, 0.7701, 144, 36),
            "kendall": _stat(0.5672, 0.4935, 0.6546, 144, 36),
            "spearman_sequential": _stat(0.6751, 0.5830, 0.7704, 144, 36),
            "spearman_within": _stat(None, None, None, 144, 36),  # undefined: "n/a", never 0
        },
        "original_vs_sequential": {
            "spearman": _stat(0.9741, 0.9432, 1.0, 259, 36),
            "kendall": _stat(0.9512, 0.9104, 0.9902, 259, 36),
            "equal_fraction": _stat(0.8803, 0.8301, 0.9250, 259, 36),
            "mean_abs_diff": _stat(0.0412, 0.0251, 0.0603, 259, 36),
        },
        "undone": {
            "fraction": _stat(0.1250, 0.0714, 0.1852, 96, 30),
            "effective_steps": 96,
            "undone_steps": 12,
            "steps": 459,
        },
    }


REPORT = {
    "format": "editbench.approximations",
    "version": 1,
    "created": "2026-01-02T03:04:05+00:00",
    "run": "train",
    "policy": {"path": "policies/learned", "meta": {}},
    "subtask_judges": [f"attributes.79dce17ecd2c{XSS}"],
    "final_judges": ["attributes.79dce17ecd2c"],
    "final_score": None,
    "effect_threshold": 0.5,
    "alternatives": 3,
    "seed": 0,
    "bootstrap": {"n_resamples": 1000, "confidence": 0.95, "cluster": "sample"},
    "samples": 36,
    "sequences": 144,
    "steps": 459,
    **_blocks(),
    "by_suite": {"styling-simple@1": _blocks(0.1), "styling-complex@1": _blocks(-0.1)},
    "allocation": {
        "method": "ucb",
        "budget": None,
        "counts": {"full_rollouts": 3644928, "per_subtask": 3372},
        "comparison": {
            "compared": 281,
            "accuracy": 1.0,
            "same_arm": 0.98,
            "judge_calls": 382,
            "exhaustive_judge_calls": 1405,
            "judge_call_ratio": 0.2719,
            "tool_calls": 522,
            "exhaustive_tool_calls": 3372,
            "distinct_judge_calls": 341,
            "exhaustive_distinct_judge_calls": 867,
        },
    },
    "points": {
        "sequences": [
            {"suite": "s@1", "sample": f"x{i}", "sum_original": float(i % 4), "final": 0.2 * (i % 5)}
            for i in range(12)
        ],
        "steps": [],
    },
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("approx")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        make_tiny_suite(root / "suite", n=3)
        a = execute(
            str(root / "runs"),
            [load_suite(root / "suite")],
            [parse_spec("fake-brighten")],
            [parse_spec("fake-diff")],
            RunOptions(executor="inline"),
            name="with-report",
        )
        b = execute(
            str(root / "runs"),
            [load_suite(root / "suite")],
            [parse_spec("fake-brighten:factor=1.1")],
            [parse_spec("fake-diff")],
            RunOptions(executor="inline"),
            name="without-report",
        )
    write(a.run_dir, REPORT)
    return Path(a.run_dir), Path(b.run_dir)


@pytest.fixture(scope="module")
def site(runs, tmp_path_factory) -> Path:
    return build_site(list(runs), tmp_path_factory.mktemp("approx-site") / "site").parent


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def _stat_row(page: str, key: str) -> str:
    return _text(re.search(rf'<tr data-stat="{re.escape(key)}">.*?</tr>', page, re.S).group(0))


def test_the_site_has_an_approximations_page_with_every_figure_and_interval(site):
    page = (site / "approximations.html").read_text(encoding="utf-8")
    assert 'href="approximations.html"' in (site / "index.html").read_text(encoding="utf-8")
    section = re.search(
        r'<section class="panel approx"[^>]*data-run="with-report".*?</section>', page, re.S
    ).group(0)
    assert 'data-run="without-report"' not in page
    overall = section.split("<h3>")[0]  # the run's own table comes before the per-suite ones
    for block, key, group, label in ROWS:
        stat = REPORT[block][key]
        row = _stat_row(overall, f"{block}.{key}")
        assert group in row and label in row and f" {stat['n']} {stat['clusters']}" in f" {row} "
        if stat["value"] is None:
            assert "n/a" in row and "[" not in row
        else:
            assert f"{stat['value']:.3f} [{stat['low']:.3f}, {stat['high']:.3f}]" in row
    assert "12 of 96 effective steps undone (459 steps executed)" in _text(overall)
    assert "36 held-out samples, 144 sequences" in _text(overall) and "1000 resamples" in _text(overall)
    # per suite, when the run holds more than one
    assert [_text(h) for h in re.findall(r"<h3>(.*?)</h3>", section)][:2] == [
        "styling-complex@1",
        "styling-simple@1",
    ]
    assert "0.773 [0.582, 0.770]" in _text(section) and "0.573 [0.582, 0.770]" in _text(section)
    # the scatter of approximation (a) and the adaptive allocation
    assert section.count('class="dot approx-dot"') == 12
    assert "choice accuracy vs exhaustive 100.0%" in _text(section) and "3,644,928" in section
    # markup from the report is text, never markup
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_data_file_carries_the_same_figures(site):
    doc = json.loads((site / "data" / "leaderboard.json").read_text(encoding="utf-8"))
    [a] = doc["approximations"]
    assert a["run"] == "with-report" and a["samples"] == 36 and a["policy"] == "policies/learned"
    got = {(s["block"], s["statistic"]): s for s in a["statistics"]}
    for block, key, _, _ in ROWS:
        want = REPORT[block][key]
        assert {k: got[(block, key)][k] for k in ("value", "low", "high", "n", "clusters")} == {
            k: want[k] for k in ("value", "low", "high", "n", "clusters")
        }
    assert a["undone"] == {"undone_steps": 12, "effective_steps": 96, "steps": 459}
    assert set(a["by_suite"]) == {"styling-simple@1", "styling-complex@1"}
    assert a["allocation"] == REPORT["allocation"]


def test_no_report_no_page_and_a_rebuild_removes_it(runs, tmp_path):
    with_report, without = runs
    out = tmp_path / "site"
    build_site([with_report], out)
    assert (out / "approximations.html").exists()
    index = build_site([without], out)
    assert not (out / "approximations.html").exists()
    assert "approximations.html" not in index.read_text(encoding="utf-8")
    assert json.loads((out / "data" / "leaderboard.json").read_text())["approximations"] == []


def test_the_fragment_renders_the_same_figures_and_the_old_module_reexports_it(runs, tmp_path):
    from baselines.explore import report as old

    with_report, without = runs
    frag = render_fragment(load(with_report), "with-report")
    assert frag.startswith("<style>") and "<section" in frag and "<script" not in frag
    assert "0.673 [0.582, 0.770]" in _text(frag) and XSS not in frag
    assert old.render_fragment(load(with_report)) == render_fragment(load(with_report), "train")
    assert old.load(with_report) == load(with_report) and old.load(without) is None
    path = write_fragment(with_report, tmp_path / "frag.html")
    assert path.read_text(encoding="utf-8").strip() == frag.strip()
    assert write_fragment(without) is None


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless chromium not installed (apt-get install chromium)")
def test_the_page_renders_in_the_browser(site):
    with Browser(width=1280, height=900) as b:
        b.open((site / "approximations.html").resolve().as_uri())
        b.wait_for("document.querySelector('table.approx-table') !== null")
        shown = b.eval(
            "[...document.querySelectorAll('tr[data-stat=\"additive.spearman\"] .approx-value')]"
            ".filter(e => e.offsetWidth > 0).map(e => e.innerText)"
        )
        assert shown[0] == "0.673"
        assert b.eval("document.querySelectorAll('svg.chart circle').length") == 12
        b.pump(0.2)
        assert not b.errors and not b.dialogs, b.errors
