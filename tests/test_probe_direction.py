"""Which position a pairwise judge favours when its verdict flips (judges/probes/bias.py ``direction``).

A scripted pairwise judge (the real ``pairwise`` rubric judge on the scripted backend) answers a
fixed list of winners; it records ``first_position`` per draw — the share of its two orders'
verdicts that went to the result shown first, :func:`judges.probes.bias.first_position` — which
the direction needs (a subclass that drops it stands for judges that do not record it). A judge that always answers "A" favours the first position in every
flip, one that always answers "B" the second, one that alternates "A A" and "B B" neither. The
figure then travels to the leaderboard's Judges section and ``data/leaderboard.json``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.components import Built
from bench.ids import image_id
from bench.model import ImageRef, Sample, Trajectory
from bench.protocols import JudgeItem
from bench.runner import RunOptions, execute
from bench.spec import ComponentSpec, parse_spec
from bench.store import RunStore
from judges.probes.bias import first_position, position_bias
from judges.vlm.base import DrawScores
from judges.vlm.pairwise import PairwiseJudge
from leaderboard.site import build_site
from suites.folder import load_suite
from tests.fakes.components import make_tiny_suite


class UnpositionedPairwise(PairwiseJudge):
    """A pairwise judge that does not record ``first_position`` (as stores judged before it existed)."""

    name = "pairwise-unpositioned"

    def score_draw(self, item, draws) -> DrawScores:
        out = super().score_draw(item, draws)
        return DrawScores(scores={k: v for k, v in out.scores.items() if k != "first_position"}, na=out.na)


def _item(sample: Sample, system: str, seed: int, other: JudgeItem | None = None) -> JudgeItem:
    rng = np.random.default_rng(seed)
    src = Image.fromarray(np.full((16, 24, 3), 120, np.uint8))
    out = Image.fromarray(rng.integers(0, 255, (16, 24, 3), dtype=np.uint8))
    s = sample.replace(image=ImageRef(id=image_id(src)))
    t = Trajectory(suite="t@1", sample_id=s.id, system_id=system, final=image_id(out))
    return JudgeItem(suite="t@1", sample=s, source=src, final=out, trajectory=t, other=other)


def _items(n: int) -> list[JudgeItem]:
    samples = [Sample(id=f"s{i}", image=ImageRef(id=""), goal="make it pop") for i in range(n)]
    return [_item(s, "sysA", 10 + i, other=_item(s, "sysB", 50 + i)) for i, s in enumerate(samples)]


def _judge(winners: list[str], cls: type[PairwiseJudge] = PairwiseJudge, **opts) -> Built:
    script = [json.dumps({"reasoning": "x", "winner": w}) for w in winners]
    obj = cls(backend="scripted", script=script, cache=False, **opts)
    return Built(kind="judges", spec=ComponentSpec(cls.name, {}), obj=obj, id=f"{cls.name}.000000000000")


def _record(winners: list[str], n: int = 8, cls: type[PairwiseJudge] = PairwiseJudge, **opts) -> dict:
    b = _judge(winners, cls, **opts)
    js = [j.replace(judge_id=b.id) for j in b.obj.judge(_items(n))]
    return position_bias(b, js)


def test_first_position_reads_raw_verdicts():
    assert first_position(1, 1) == 1.0 and first_position(0, 0) == 0.0
    assert first_position(1, 0) == 0.5 and first_position(0.5, 0.5) == 0.5  # mirrored or tied: no lean
    assert first_position(1, 0.5) == 0.75 and first_position(0.5, 0) == 0.25  # a tie against A / against B


def test_a_judge_that_always_answers_a_prefers_the_first_position():
    rec = _record(["A"])
    assert rec["rate"]["value"] == 1.0  # every verdict flipped with the order
    d = rec["direction"]
    assert d["status"] == "ok" and d["prefers"] == "first" and d["first_won"] == 8 and d["pairs"] == 8
    assert d["first"] == {"value": 1.0, "low": 1.0, "high": 1.0, "n": 8}


def test_a_judge_that_always_answers_b_prefers_the_second_position():
    d = _record(["B"], samples=2, temperature=0.7)["direction"]
    assert (
        d["prefers"] == "second" and d["first"]["value"] == 0.0 and d["first"]["n"] == 16
    )  # two draws a pair


def test_mixed_flips_prefer_neither_and_consistent_verdicts_do_not_lean():
    # pairs alternate: "A" in both orders (a flip to the first position), then "B" in both (to the second)
    d = _record(["A", "A", "B", "B"], n=12)["direction"]
    assert d["status"] == "ok" and d["first"]["value"] == 0.5 and d["prefers"] == "neither"
    assert d["first"]["low"] < 0.5 < d["first"]["high"]
    # "A" then "B": the same result wins both orders, no flip, so no direction to read
    rec = _record(["A", "B"], n=4)
    assert rec["rate"]["value"] == 0.0 and rec["direction"]["status"] == "n/a"
    assert "no flipped verdict" in rec["direction"]["reason"]


def test_a_judge_without_first_position_has_no_direction():
    rec = _record(["A"], cls=UnpositionedPairwise)
    assert rec["status"] == "ok" and rec["rate"]["value"] == 1.0
    assert rec["direction"]["status"] == "n/a" and "first_position" in rec["direction"]["reason"]


@pytest.fixture(scope="module")
def site_with_bias(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("direction")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        mp.setenv("EDITBENCH_PROGRESS", "0")
        make_tiny_suite(root / "suite", n=3)
        summary = execute(
            str(root / "runs"),
            [load_suite(root / "suite")],
            [parse_spec("fake-brighten")],
            [parse_spec("fake-diff")],
            RunOptions(executor="inline"),
        )
    rec = _record(["A", "A", "A", "B"], n=10)  # pairs 1 and 3 of every 4 flip, to the first position
    with RunStore.open(summary.run_dir) as store:
        store.append("probes", rec)
    return build_site([summary.run_dir], root / "site").parent, rec


def test_the_judges_section_and_the_data_file_show_the_direction(site_with_bias):
    site, rec = site_with_bias
    d = rec["direction"]
    assert d["prefers"] == "first" and d["first"]["value"] == 1.0 and d["first"]["n"] == 5
    page = (site / "index.html").read_text(encoding="utf-8")
    row = re.search(rf'<tr data-judge="{re.escape(rec["judge_id"])}".*?</tr>', page, re.S).group(0)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)))
    assert "prefers first: first 100% [100%, 100%]" in text and "n=5 flips" in text
    assert f"{rec['rate']['value']:.0%}" in text and 'data-prefers="first"' in row
    doc = json.loads((site / "data" / "leaderboard.json").read_text())
    j = next(x for x in doc["trust"]["judges"] if x["judge_id"] == rec["judge_id"])
    pb = j["position_bias"]
    assert pb["rate"]["value"] == rec["rate"]["value"] and pb["direction"]["first"] == d["first"]
    assert pb["direction"]["prefers"] == "first" and pb["direction"]["text"] in text
