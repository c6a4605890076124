"""Trust figures in ``data/leaderboard.json`` and ``trust.csv`` (leaderboard/export_trust.py).

The probed run of ``tests/test_leaderboard_trust.py`` (a flagged, drifting constant judge; a
pixel-difference judge; a system trained on the constant judge's rewards) plus one position-bias
record with a direction, as ``editbench probe`` writes it for a pairwise judge. Every trust figure
the pages show must be in the JSON, and the JSON's numbers must be the page's numbers.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from bench.store import RunStore
from leaderboard.site import build_site
from leaderboard.trust import read_trust
from tests.test_leaderboard_trust import _judge_ids, _system_ids, probed_run  # noqa: F401  (a fixture)


@pytest.fixture(scope="module")
def built(probed_run, tmp_path_factory) -> tuple[Path, dict, Path]:  # noqa: F811
    ids = _judge_ids(probed_run)
    with RunStore.open(probed_run) as store:
        store.append(
            "probes",
            {
                "kind": "position_bias",
                "judge_id": ids["fake-diff"],
                "status": "ok",
                "rate": {"value": 0.3, "low": 0.15, "high": 0.45, "n": 20},
                "direction": {
                    "status": "ok",
                    "first": {"value": 0.8333, "low": 0.6, "high": 1.0, "n": 6},
                    "prefers": "first",
                },
            },
        )
    site = build_site([probed_run], tmp_path_factory.mktemp("export-trust") / "site").parent
    doc = json.loads((site / "data" / "leaderboard.json").read_text(encoding="utf-8"))
    return site, doc, probed_run


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def _row(page: str, judge_id: str) -> str:
    return _text(re.search(rf'<tr data-judge="{re.escape(judge_id)}".*?</tr>', page, re.S).group(0))


def test_every_judge_trust_figure_is_in_the_json_with_the_page_numbers(built):
    site, doc, run = built
    ids = _judge_ids(run)
    page = (site / "index.html").read_text(encoding="utf-8")
    with RunStore.open(run) as store:
        index = read_trust([store])
    trust = doc["trust"]
    assert trust["probed"] and set(trust["definitions"]) >= {
        "controls",
        "drift",
        "position_preference",
        "guard",
    }
    by_id = {j["judge_id"]: j for j in trust["judges"]}
    assert set(by_id) == set(ids.values())
    for jid, j in by_id.items():
        t = index.get(jid)
        row = _row(page, jid)
        c = j["controls"]
        assert c["status"] == t.control_status and c["flagged"] == t.flagged
        assert c["accuracy"] == {
            "value": t.accuracy.value,
            "low": t.accuracy.low,
            "high": t.accuracy.high,
            "n": t.accuracy.n,
        }
        assert c["accuracy_text"] in row and c["gap_text"] in row
        assert j["drift"]["status"] == t.drift_status and j["drift"]["label"] in row
        assert j["pinning"]["label"] in row and j["pinning"]["warnings"] == list(t.pinning_warnings)
        assert j["position_bias"]["rate_text"] in row and j["position_bias"]["direction"]["text"] in row
    const, diff = by_id[ids["trust-constant"]], by_id[ids["fake-diff"]]
    assert const["controls"]["flagged"] and "FLAGGED" in _row(page, ids["trust-constant"])
    assert const["controls"]["accuracy"]["value"] == 0 and const["controls"]["accuracy"]["n"] > 0
    assert const["drift"]["drifted"] and const["drift"]["shift"] == "+0.2 on overall (tolerance ±0.1)"
    assert not diff["controls"]["flagged"] and diff["drift"]["status"] == "ok"
    pb = diff["position_bias"]
    assert (
        pb["rate"] == {"value": 0.3, "low": 0.15, "high": 0.45, "n": 20}
        and pb["rate_text"] == "30% [15%, 45%]"
    )
    assert pb["direction"]["first"] == {"value": 0.8333, "low": 0.6, "high": 1.0, "n": 6}
    assert pb["direction"]["text"] == "prefers first: first 83% [60%, 100%]"
    assert const["position_bias"]["status"] == "n/a" and const["position_bias"]["rate"]["value"] is None


def test_in_sample_pairs_guard_and_tracks_are_in_the_json(built):
    site, doc, run = built
    ids = _judge_ids(run)
    trained = next(s for s in _system_ids(run) if s.startswith("trust-trained"))
    trust = doc["trust"]
    assert trust["in_sample"] == [{"system_id": trained, "judge_id": ids["trust-constant"]}]
    assert trust["held_out"] == {trained: [ids["fake-diff"]]} and trust["undeclared_reward_judge"] == []
    const = next(j for j in trust["judges"] if j["judge_id"] == ids["trust-constant"])
    assert const["in_sample_for"] == [trained]
    [g] = trust["guard"]
    assert g["substituted"] and g["ranked_by"]["judge_id"] == ids["fake-diff"] and g["in_sample"] == [trained]
    assert g["sentence"] in _text((site / "index.html").read_text(encoding="utf-8"))
    assert trust["tracks"] == [
        {"track": "edit-only", "systems": [s["system_id"] for s in doc["overview"]], "n": 2}
    ]
    row = next(r for r in doc["overview"] if r["system_id"] == trained)
    assert (
        row["chosen_by"] == "held-out"
        and row["in_sample_text"] == "in-sample 0.700 on overall (judge trust-constant)"
    )
    assert not row["in_sample"] and not row["judge_flagged"]  # ranked by the held-out, unflagged judge


def test_rank_stability_in_the_json_is_what_the_page_shows(built):
    site, doc, _ = built
    page = (site / "index.html").read_text(encoding="utf-8")
    table = re.search(r'<table class="overview sortable".*?</table>', page, re.S).group(0)
    for r in doc["overview"]:
        row = re.search(
            rf'<tr data-track="[^"]*" data-system="{re.escape(r["system_id"])}".*?</tr>', table, re.S
        )
        erank = _text(re.search(r'<td class="num erank".*?</td>', row.group(0), re.S).group(0))
        assert f"{r['expected_rank']:.1f}" in erank
        assert f"{r['rank_low']:g}" in erank and f"{r['rank_high']:g}" in erank
    swaps = re.findall(r'<td class="lv\d[^"]*" title="([^"]*)">([^<]*)</td>', page)
    assert len(swaps) == len(doc["swap"]) == 2
    for title, text in swaps:
        a, b = html.unescape(title).split(": the observed order")[0].split(" vs ")
        p = next(s["swap_probability"] for s in doc["swap"] if (s["system_a"], s["system_b"]) == (a, b))
        assert text == ("<1%" if 0 < p < 0.01 else f"{100 * p:.0f}%")
    [suite] = doc["suites"]
    assert f"{suite['unsettled_pairs']} unsettled pair" in _text(page)


def test_trust_csv_holds_the_same_figures(built):
    site, doc, _ = built
    with open(site / "data" / "trust.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["judge_id"] for r in rows] == [j["judge_id"] for j in doc["trust"]["judges"]]
    assert list(rows[0]) == doc["files"]["trust.csv"] and all(r["schema_version"] == "1" for r in rows)
    for r, j in zip(rows, doc["trust"]["judges"], strict=True):
        assert r["flagged"] == str(j["controls"]["flagged"])
        acc = j["controls"]["accuracy"]["value"]
        assert (r["control_accuracy"] == "") if acc is None else float(r["control_accuracy"]) == acc
        first = j["position_bias"]["direction"]["first"]["value"]
        assert (
            (r["first_position_share"] == "") if first is None else float(r["first_position_share"]) == first
        )
        assert r["drift_status"] == j["drift"]["status"] and r["prefers"] == (
            j["position_bias"]["direction"]["prefers"] or ""
        )
