"""VLM judges (judges/vlm) against the real loopback chat server: scores, failures, cache, draws,
expectations from logprobs, both orders of pairwise, prompt snapshots, ids, and the CLI.

Prompt snapshots live in tests/snapshots/vlm_*.txt; regenerate them after a deliberate template
change with ``EDITBENCH_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_vlm_judges.py -k snapshot``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench import registry
from bench.backends.base import ChatResponse, ImagePart, TextPart, TokenLogprob, TopLogprob
from bench.backends.prices import PRICE_TABLE_VERSION
from bench.backends.scripted import ScriptedBackend
from bench.components import build_component
from bench.errors import UsageError
from bench.model import Criterion, ImageRef, Plan, Region, Sample, Subtask, Trajectory
from bench.protocols import JudgeItem
from bench.spec import parse_spec
from judges.vlm import (
    JUDGES,
    ChecklistJudge,
    ImageQualityJudge,
    PairwiseJudge,
    PlanQualityJudge,
    Rubric,
    StylingRewardJudge,
    VIEScoreJudge,
)
from judges.vlm.base import PROMPTS_DIR
from judges.vlm.expected import value_spans
from tests.fakes.chat_server import Call, ChatServer, Delay, Raw, Reply, Status, Truncated, rate_limited

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("EDITBENCH_UPDATE_SNAPSHOTS") == "1"
FAST = {"max_retries": 3, "backoff_base": 0.01, "timeout": 10}


# --- fixtures: a fixed sample, images and trajectories made by code ------------------------------


def _image(seed: int, size=(24, 16)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def make_sample(
    sid: str = "s0",
    goal: str = "make the street look like a rainy autumn evening",
    checklist: tuple[Criterion, ...] | None = None,
) -> Sample:
    if checklist is None:
        checklist = (
            Criterion("rain", "Rain or wet surfaces are visible", "goal", 2.0),
            Criterion("house", "The red house keeps its shape and position", "preserve", 1.0),
            Criterion("clean", "No visible artifacts or seams", "quality", 1.0),
        )
    return Sample(
        id=sid,
        image=ImageRef(id="", path=None),
        goal=goal,
        checklist=checklist,
        context={"season": "summer", "time_of_day": "noon", "weather": "clear"},
        preserve=("the red house",),
        description="A street with a red house at noon.",
        reference={"actions": ["season_cycle", "weather_conditions"]},
    )


PLAN = Plan(
    subtasks=(
        Subtask(
            "t1",
            "Turn the season to autumn",
            reasoning="Autumn leaves set the mood the goal asks for.",
            action="season_cycle",
            action_params={"target_season": "autumn_falling"},
        ),
        Subtask(
            "t2",
            "Add light rain",
            reasoning="Rain makes the evening wet.",
            action="weather_conditions",
            action_params={"weather_type": "rain"},
            tool="weather",
            params={"kind": "rain"},
            region=Region(kind="named", name="top"),
        ),
    ),
    instruction="Autumn street in light rain at dusk",
    reasoning="The goal combines a season and a weather change; both are global edits.",
)


def make_item(
    sid: str = "s0",
    system: str = "sysA",
    *,
    plan: Plan | None = PLAN,
    seed: int = 1,
    other: JudgeItem | None = None,
    sample: Sample | None = None,
) -> JudgeItem:
    sample = sample or make_sample(sid)
    src, out = _image(0), _image(seed)
    from bench.ids import image_id

    sample = sample.replace(image=ImageRef(id=image_id(src)))
    traj = Trajectory(suite="t@1", sample_id=sample.id, system_id=system, plan=plan, final=image_id(out))
    return JudgeItem(suite="t@1", sample=sample, source=src, final=out, trajectory=traj, other=other)


def judge_for(cls, url: str | None = None, **kw: Any):
    if url is not None:
        kw.setdefault("backend", "openai")
        kw.setdefault("base_url", url)
        kw.setdefault("model", "fake-model")
        for k, v in FAST.items():
            kw.setdefault(k, v)
    return cls(**kw)


# --- reply helpers ---------------------------------------------------------------------------------


def schema_of(call: Call) -> dict[str, Any]:
    return call.body["response_format"]["json_schema"]["schema"]


def schema_name(call: Call) -> str:
    return call.body["response_format"]["json_schema"]["name"]


def fill(schema: dict[str, Any], values: dict[str, Any] | None = None) -> str:
    """A reply valid against a rubric schema: ``values`` by criterion id, else mid-scale / first enum."""
    values = values or {}

    def default(vs: dict[str, Any]) -> Any:
        if "enum" in vs:
            return vs["enum"][0]
        return (vs.get("minimum", 0) + vs.get("maximum", 10)) // 2

    props = schema["properties"]
    if "reasoning" in props:  # flat
        out: dict[str, Any] = {"reasoning": "because"}
        for k, vs in props.items():
            if k != "reasoning":
                out[k] = values.get(k, default(vs))
        return json.dumps(out)
    out = {}
    for k, sub in props.items():
        key = next(p for p in sub["properties"] if p != "reasoning")
        out[k] = {"reasoning": f"about {k}", key: values.get(k, default(sub["properties"][key]))}
    return json.dumps(out)


def body_text(call: Call) -> str:
    return json.dumps(call.body)


def is_repair(call: Call) -> bool:
    return "could not be used" in call.prompt()


# --- scores, hand-computed ----------------------------------------------------------------------------


@pytest.fixture
def server():
    with ChatServer() as srv:
        yield srv


def test_checklist_scores_verdicts_and_rationale(server):
    server.handler = lambda c: Reply(
        fill(schema_of(c), {"rain": "pass", "house": "partial", "clean": "fail"})
    )
    j = judge_for(ChecklistJudge, server.url)
    [out] = j.judge([make_item()])
    assert out.status == "ok", out.error
    # pass = 1, partial = 0.5, fail = 0; weights 2, 1, 1
    assert out.scores["pass_rate"] == pytest.approx(0.5)
    assert out.scores["weighted_pass_rate"] == pytest.approx((2 * 1 + 0.5 + 0) / 4)
    assert out.scores["goal_pass_rate"] == 1.0 and out.scores["preserve_pass_rate"] == 0.5
    assert out.scores["quality_pass_rate"] == 0.0
    assert out.verdicts == {"rain": "pass", "house": "partial", "clean": "fail"}
    assert out.rationale["criteria"]["rain"] == "about rain"
    assert out.model_resolved == "fake-model" and out.endpoint_host == f"127.0.0.1:{server.port}"
    body = server.chat_calls()[0].body
    schema = schema_of(server.chat_calls()[0])
    assert set(schema["required"]) == {"rain", "house", "clean"}
    assert schema["properties"]["rain"]["properties"]["verdict"]["enum"] == ["pass", "partial", "fail"]
    assert len([p for p in body["messages"][-1]["content"] if p["type"] == "image_url"]) == 2


def test_checklist_missing_criterion_is_undecidable_not_zero(server):
    server.handler = lambda c: Reply(
        json.dumps(
            {"rain": {"reasoning": "wet", "verdict": "pass"}, "house": {"reasoning": "?", "verdict": "maybe"}}
        )
    )
    [out] = judge_for(ChecklistJudge, server.url).judge([make_item()])
    assert out.status == "ok"
    assert out.verdicts == {"rain": "pass", "house": "undecidable", "clean": "undecidable"}
    assert out.scores["pass_rate"] == 1.0  # over the decided criterion only
    assert "preserve_pass_rate" not in out.scores and "undecidable" in out.na["preserve_pass_rate"]
    assert "clean" in out.rationale["missing"] and "maybe" in out.rationale["missing"]["house"]


def test_checklist_without_checklist_is_na_without_request(server):
    item = make_item(sample=make_sample(checklist=()))
    [out] = judge_for(ChecklistJudge, server.url).judge([item])
    assert out.status == "ok" and out.scores == {} and "no checklist" in out.na["pass_rate"]
    assert server.chat_calls() == []


def test_styling_reward_paper_weights_and_mean(server):
    vals = {
        "goal_alignment": 5,
        "aesthetic_quality": 4,
        "spatial_consistency": 3,
        "technical_quality": 2,
        "temporal_consistency": 1,
        "creative_interpretation": 4,
    }
    server.handler = lambda c: Reply(fill(schema_of(c), vals))
    [w] = judge_for(StylingRewardJudge, server.url).judge([make_item()])
    assert w.status == "ok"
    assert w.scores["reward"] == pytest.approx(
        0.30 * 5 + 0.25 * 4 + 0.15 * 3 + 0.15 * 2 + 0.10 * 1 + 0.05 * 4
    )
    assert {k: w.scores[k] for k in vals} == {k: float(v) for k, v in vals.items()}
    [m] = judge_for(StylingRewardJudge, server.url, aggregate="mean").judge([make_item()])
    assert m.scores["reward"] == pytest.approx(19 / 6)
    sch = schema_of(server.chat_calls()[0])
    assert sch["properties"]["goal_alignment"]["properties"]["score"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
    }
    # B's reward sees base image, edited image and prompt: two images
    assert (
        len([p for p in server.chat_calls()[0].body["messages"][-1]["content"] if p["type"] == "image_url"])
        == 2
    )
    with pytest.raises(UsageError):
        StylingRewardJudge(backend="scripted", script=["{}"], aggregate="median")


def test_styling_reward_missing_criterion_makes_reward_na(server):
    server.handler = lambda c: Reply(json.dumps({"goal_alignment": {"reasoning": "ok", "score": 4}}))
    [out] = judge_for(StylingRewardJudge, server.url).judge([make_item()])
    assert out.status == "ok" and out.scores == {"goal_alignment": 4.0}
    assert "reward" not in out.scores and "aesthetic_quality" in out.na["reward"]


def test_styling_reward_code_variant_uses_overall_quality(server):
    server.handler = lambda c: Reply(fill(schema_of(c), {"overall_quality": 2, "final_image_quality": 5}))
    planned, planless = make_item("s0"), make_item("s1", plan=None)
    a, b = judge_for(StylingRewardJudge, server.url, variant="code").judge([planned, planless])
    assert a.scores["reward"] == 2.0 and len(a.scores) == 8
    assert (
        b.scores["reward"] == 2.0 and "action_plan_quality" in b.na and "no plan" in b.na["adherence_to_plan"]
    )
    keys = [set(schema_of(c)["required"]) for c in server.chat_calls()]
    assert {"final_image_quality", "adherence_to_prompt", "overall_quality"} in keys and len(
        keys[0] | keys[1]
    ) == 7


def test_image_quality_paper_with_and_without_plan(server):
    vals = {
        "instruction_following": 80,
        "visual_quality": 70,
        "semantic_accuracy": 60,
        "coherence": 90,
        "technical_execution": 50,
        "transformation_strength": 100,
    }
    server.handler = lambda c: Reply(fill(schema_of(c), vals))
    j = judge_for(ImageQualityJudge, server.url)
    planned, planless = j.judge([make_item("s0"), make_item("s1", plan=None)])
    assert planned.scores["overall"] == pytest.approx(75.0) and planned.scores["overall_shared"] == 75.0
    assert planless.scores == {"instruction_following": 80.0, "visual_quality": 70.0, "overall_shared": 75.0}
    assert "requires the action plan" in planless.na["coherence"] and "overall" in planless.na
    by_plan = {("Autumn street" in body_text(c)): c for c in server.chat_calls()}
    assert set(schema_of(by_plan[False])["required"]) == {"instruction_following", "visual_quality"}
    assert schema_of(by_plan[True])["properties"]["coherence"]["properties"]["score"]["maximum"] == 100
    assert by_plan[True].body["temperature"] == 0.3 and by_plan[True].body["top_p"] == 0.95


def test_image_quality_code_variant_overall_as_run(server):
    vals = {
        "instruction_following": 8,
        "visual_quality": 6,
        "transformation_strength": 7,
        "coherence": 7,
        "semantic_accuracy": 9,
        "technical_execution": 5,
        "overall_image_score": 7.5,
    }
    server.handler = lambda c: Reply(fill(schema_of(c), vals))
    [out] = judge_for(ImageQualityJudge, server.url, variant="code").judge([make_item()])
    assert out.scores["overall"] == 7.5 and out.scores["overall_x10"] == 75.0
    assert out.scores["overall_mean"] == pytest.approx(42 / 6)
    assert "Autumn street" not in body_text(server.chat_calls()[0])  # B's code never shows the plan


def test_plan_quality_groups_and_no_plan(server):
    vals = {
        "relevance": 90,
        "theme_style_focus": 80,
        "completeness": 70,
        "efficiency": 60,
        "correctness": 50,
        "reasoning_conciseness": 40,
        "reasoning_completeness": 30,
        "reasoning_specificity": 20,
    }
    server.handler = lambda c: Reply(fill(schema_of(c), vals))
    a, b = judge_for(PlanQualityJudge, server.url).judge([make_item("s0"), make_item("s1", plan=None)])
    assert a.scores["overall_action_quality"] == pytest.approx(70.0)
    assert a.scores["overall_reasoning_quality"] == pytest.approx(30.0)
    assert a.scores["overall"] == pytest.approx(55.0)
    assert b.status == "ok" and b.scores == {} and "no plan" in b.na["overall"]
    [call] = server.chat_calls()  # the planless item made no request
    assert "image_url" not in body_text(call)  # judged without image execution
    assert "season_cycle" in body_text(call) and "summer" in body_text(call)


def test_plan_quality_code_variant(server):
    server.handler = lambda c: Reply(
        fill(schema_of(c), {"overall_score": 6.5, "overall_action_quality": 7.25})
    )
    [out] = judge_for(PlanQualityJudge, server.url, variant="code").judge([make_item()])
    assert out.scores["overall"] == 6.5 and out.scores["overall_action_quality"] == 7.25
    text = body_text(server.chat_calls()[0])
    assert "REFERENCE PLAN" in text and "image_url" in text


def test_viescore_min_and_sqrt(server):
    def handler(c: Call) -> Reply:
        if schema_name(c) == "viescore-sc":
            return Reply(fill(schema_of(c), {"editing_success": 8, "overediting": 6}))
        return Reply(fill(schema_of(c), {"naturalness": 9, "artifacts": 4}))

    server.handler = handler
    [out] = judge_for(VIEScoreJudge, server.url).judge([make_item()])
    assert out.scores["sc"] == 6.0 and out.scores["pq"] == 4.0
    assert out.scores["overall"] == pytest.approx(math.sqrt(24))
    calls = {schema_name(c): c for c in server.chat_calls()}
    assert len(calls["viescore-pq"].images()) == 1  # PQ sees the result alone
    assert len(calls["viescore-sc"].images()) == 2


def _pair_handler(prefer_first_position: bool):
    """Replies by which image sits in position A: the item's result (seed 1) wins on merit, or the
    judge always says "A" (position bias)."""

    def handler(c: Call) -> Reply:
        urls = c.images()  # source, A, B
        if prefer_first_position:
            return Reply(json.dumps({"reasoning": "A looks nicer", "winner": "A"}))
        win = "A" if urls[1] == handler.mine else "B"
        return Reply(json.dumps({"reasoning": f"{win} is better", "winner": win}))

    return handler


def test_pairwise_both_orders_consistent_and_position_flip(server):
    other = make_item("s0", "sysB", seed=2)
    item = make_item("s0", "sysA", seed=1, other=other)
    server.handler = lambda c: Reply(json.dumps({"reasoning": "x", "winner": "tie"}))
    [tie] = judge_for(PairwiseJudge, server.url).judge([item])
    assert tie.scores == {"win": 0.5, "win_rate": 0.5, "position_consistent": 1.0, "first_position": 0.5}
    assert tie.versus == "sysB"
    calls = server.chat_calls()  # both orders: A and B swap places
    assert len(calls) == 2 and calls[0].images()[1:] == calls[1].images()[:0:-1]
    server.reset()
    mine_url = _data_url_of(item.final)
    h = _pair_handler(False)
    h.mine = mine_url
    server.handler = h
    [win] = judge_for(PairwiseJudge, server.url, cache=False).judge([item])
    assert win.scores == {"win": 1.0, "win_rate": 1.0, "position_consistent": 1.0, "first_position": 0.5}
    assert {c.images()[1] == mine_url for c in server.chat_calls()} == {True, False}  # both orders asked
    server.handler = _pair_handler(True)
    [flip] = judge_for(PairwiseJudge, server.url, cache=False).judge([item])
    assert flip.status == "ok" and flip.scores == {"win": 0.5, "win_rate": 0.5, "position_consistent": 0.0,
                                                  "first_position": 1.0}
    assert set(flip.rationale["asks"]) == {"ab", "ba"}
    # the competitor's view: swapping the pair gives 1 - win
    server.handler = h
    mirror = make_item("s0", "sysB", seed=2, other=make_item("s0", "sysA", seed=1))
    [lose] = judge_for(PairwiseJudge, server.url, cache=False).judge([mirror])
    assert lose.scores["win"] == 0.0 and lose.versus == "sysA"


def _data_url_of(img: Image.Image) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(ImagePart.from_pil(img).png_bytes()).decode()


def test_pairwise_identical_results_and_missing_other(server):
    a = make_item("s0", "sysA", seed=3)
    same = make_item("s0", "sysA2", seed=3, other=a)
    [tie] = judge_for(PairwiseJudge, server.url).judge([same])
    assert tie.scores["win"] == 0.5 and "identical" in tie.rationale and server.chat_calls() == []
    [bad] = judge_for(PairwiseJudge, server.url).judge([make_item()])
    assert bad.status == "error" and "other" in bad.error


# --- failures: visible, never zeros; order kept; nothing lost or duplicated ----------------------------


GOOD = {"rain": "pass", "house": "pass", "clean": "partial"}


def _failure_handler(c: Call):
    text = body_text(c)
    sid = re.search(r"GOAL-(\w+)", text).group(1)
    good = Reply(fill(schema_of(c), GOOD))
    if sid == "slow":
        return Delay(0.3, good)
    if sid == "ratelimited":
        return rate_limited(0.2) if c.seen == 0 else good
    if sid == "flaky500":
        return Status(500, "boom") if c.seen == 0 else good
    if sid == "down":
        return Status(503, "down for maintenance")
    if sid == "cutbody":
        return Truncated(fraction=0.4) if c.seen == 0 else good
    if sid == "badbody":
        return Raw(b'{"choices": [') if c.seen == 0 else good
    if sid == "fixable":
        return (
            good if is_repair(c) else Reply('{"rain": {"reasoning": "wet", "verdict": "pass"')
        )  # truncated JSON
    if sid == "hopeless":
        return Reply("I think it looks great!" if not is_repair(c) else "Still prose, sorry.")
    if sid == "refuse":
        return Reply(None, refusal="I can't help with that.")
    if sid == "filtered":
        return Reply("", finish_reason="content_filter")
    return good


def test_failure_modes_statuses_order_and_raw(server):
    sids = [
        "ok1",
        "slow",
        "ratelimited",
        "flaky500",
        "down",
        "cutbody",
        "badbody",
        "fixable",
        "hopeless",
        "refuse",
        "filtered",
        "ok2",
    ]
    items = [make_item(s, sample=make_sample(s, goal=f"GOAL-{s} make it rain")) for s in sids]
    server.handler = _failure_handler
    raw: dict[str, str] = {}

    def sink(text: str) -> str:
        import hashlib

        rid = hashlib.sha256(text.encode()).hexdigest()
        raw[rid] = text
        return rid

    judge = judge_for(ChecklistJudge, server.url, raw_sink=sink, max_retries=2, concurrency=8)
    out = judge.judge(items)
    assert [j.sample_id for j in out] == sids  # order kept, nothing lost or duplicated
    status = {j.sample_id: j.status for j in out}
    assert status == {
        "ok1": "ok",
        "slow": "ok",
        "ratelimited": "ok",
        "flaky500": "ok",
        "down": "error",
        "cutbody": "ok",
        "badbody": "ok",
        "fixable": "ok",
        "hopeless": "unscored",
        "refuse": "refused",
        "filtered": "refused",
        "ok2": "ok",
    }
    by = {j.sample_id: j for j in out}
    for j in out:
        if j.status == "ok":
            assert j.scores["pass_rate"] == pytest.approx(2.5 / 3), j.sample_id
        else:
            assert j.scores == {} and j.error, j.sample_id  # never zeros
    assert "HTTP 503" in by["down"].error and by["down"].raw == ()
    assert "I can't help" in by["refuse"].error
    # repaired: the first reply and the repair are both kept
    assert len(by["fixable"].raw) == 2 and by["fixable"].telemetry.calls == 2
    hopeless = by["hopeless"]
    assert "unparseable after one repair" in hopeless.error and len(hopeless.raw) == 2
    kept = [json.loads(raw[r])["choices"][0]["message"]["content"] for r in hopeless.raw]
    assert kept == ["I think it looks great!", "Still prose, sorry."]
    # the repair request carried the bad reply, the parse error and the instruction
    rep = next(c for c in server.chat_calls() if is_repair(c) and "GOAL-hopeless" in body_text(c))
    msgs = rep.body["messages"]
    assert msgs[-2] == {"role": "assistant", "content": "I think it looks great!"}
    assert "not JSON" in msgs[-1]["content"] and "valid JSON only" in msgs[-1]["content"]
    assert by["ratelimited"].telemetry.requests == 2 and by["down"].telemetry.requests == 3
    sent = [re.search(r"GOAL-(\w+)", body_text(c)).group(1) for c in server.chat_calls()]
    assert sent.count("ok1") == 1 and sent.count("down") == 3 and sent.count("hopeless") == 2


def test_repair_then_failure_keeps_hashes_without_sink(server):
    server.handler = lambda c: Reply("not json at all")
    [out] = judge_for(ChecklistJudge, server.url).judge([make_item()])
    assert out.status == "unscored" and len(out.raw) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", r) for r in out.raw)


def test_item_put_raw_wins_over_judge_sink(server):
    """The runner hands each item the run store's ``put_raw``; without it the judge's sink is used."""
    import dataclasses

    server.handler = lambda c: Reply(fill(schema_of(c), GOOD))
    judge = judge_for(ChecklistJudge, server.url, raw_sink=lambda t: "judge-sink")
    [plain] = judge.judge([make_item()])
    assert plain.raw == ("judge-sink",)
    if "put_raw" in JudgeItem.__dataclass_fields__:
        got: list[str] = []
        item = dataclasses.replace(make_item(), put_raw=lambda t: got.append(t) or "rid-1")
        [out] = judge.judge([item])
        assert out.raw == ("rid-1",) and "choices" in got[0]


# --- cache, telemetry ---------------------------------------------------------------------------------


def test_warm_cache_zero_requests_identical_judgements():
    items = [make_item(f"s{i}", seed=i + 1) for i in range(6)] + [make_item("s9", plan=None)]
    with ChatServer(handler=lambda c: Reply(fill(schema_of(c))), model="gpt-4o-mini-2024-07-18") as srv:
        for cls in (ChecklistJudge, StylingRewardJudge, ImageQualityJudge, PlanQualityJudge, VIEScoreJudge):
            srv.reset()
            first = judge_for(cls, srv.url, model="gpt-4o-mini").judge(items)
            assert all(j.status == "ok" for j in first) and srv.chat_calls()
            t = first[0].telemetry
            assert t.requests >= 1 and t.cached_requests == 0 and t.tokens_in > 0 and t.dollars > 0
            assert t.price_table == PRICE_TABLE_VERSION
            srv.reset()
            again = judge_for(cls, srv.url, model="gpt-4o-mini", concurrency=2, timeout=3).judge(items)
            assert srv.chat_calls() == [], cls.name
            assert all(a.same_result(b) for a, b in zip(first, again, strict=True)), cls.name
            assert all(j.telemetry.requests == 0 and j.telemetry.dollars == 0.0 for j in again)
            assert sum(j.telemetry.cached_requests for j in again) == sum(j.telemetry.calls for j in first)
            srv.reset()
            judge_for(cls, srv.url, model="gpt-4o-mini", cache=False).judge(items[:1])
            assert srv.chat_calls(), "cache=false must ask again"


@pytest.mark.parametrize("reject", ["json_schema", "json_object"])
def test_servers_without_structured_outputs(reject):
    reply = json.dumps({k: {"reasoning": "r", "verdict": v} for k, v in GOOD.items()})

    def handler(c: Call) -> Reply:
        fmt = (c.body.get("response_format") or {}).get("type")
        assert "JSON schema" in c.prompt()  # the schema travels in words once the server refuses it
        return Reply(reply if fmt == "json_object" else f"Here you go:\n```json\n{reply}\n```")

    with ChatServer(
        handler=handler, reject_json_schema=True, reject_json_object=reject == "json_object"
    ) as srv:
        [out] = judge_for(ChecklistJudge, srv.url).judge([make_item()])
    assert out.status == "ok" and out.verdicts == GOOD


def test_judge_pickles_and_judges_the_same(server):
    import pickle

    server.handler = lambda c: Reply(fill(schema_of(c), GOOD))
    judge = judge_for(ChecklistJudge, server.url)
    [a] = judge.judge([make_item()])
    clone = pickle.loads(pickle.dumps(judge))
    [b] = clone.judge([make_item()])
    assert a.same_result(b) and clone.identity_extra() == judge.identity_extra()
    assert len(server.chat_calls()) == 1  # the clone found the reply in the shared cache


def test_errors_are_not_cached_and_retry_fills_in(server):
    server.handler = lambda c: Status(400, "bad request") if c.seen == 0 else Reply(fill(schema_of(c), GOOD))
    [bad] = judge_for(ChecklistJudge, server.url).judge([make_item()])
    assert bad.status == "error"
    [good] = judge_for(ChecklistJudge, server.url).judge([make_item()])
    assert good.status == "ok"


# --- samples, expected ------------------------------------------------------------------------------------


def test_samples_records_draws_mean_and_spread(server):
    scores = [5, 3, 4]  # one per identical request, in arrival order
    server.handler = lambda c: Reply(fill(schema_of(c), {"goal_alignment": scores[c.seen % 3]}))
    [out] = judge_for(StylingRewardJudge, server.url, samples=3, temperature=0.7, concurrency=1).judge(
        [make_item()]
    )
    assert out.status == "ok"
    assert sorted(out.draws["goal_alignment"]) == [3.0, 4.0, 5.0] and len(out.draws["reward"]) == 3
    assert out.scores["goal_alignment"] == pytest.approx(4.0)
    assert out.scores["reward"] == pytest.approx(sum(out.draws["reward"]) / 3)
    assert out.rationale["spread"]["goal_alignment"] == pytest.approx(math.sqrt(2 / 3))
    assert len(server.chat_calls()) == 3 and all(c.body["temperature"] == 0.7 for c in server.chat_calls())
    # the three draws are three cache entries (n_index), so a re-run asks nothing
    server.reset()
    [again] = judge_for(StylingRewardJudge, server.url, samples=3, temperature=0.7).judge([make_item()])
    assert server.chat_calls() == [] and again.same_result(out)


def test_samples_one_failed_draw_fails_the_judgement(server):
    server.handler = lambda c: Status(503, "x") if c.seen == 1 else Reply(fill(schema_of(c)))
    [out] = judge_for(
        ChecklistJudge, server.url, samples=3, temperature=1.0, max_retries=0, concurrency=1
    ).judge([make_item()])
    assert out.status == "error" and "draw" in out.error and out.scores == {}


def _tokens(text: str, alts: dict[str, list[tuple[str, float]]]) -> list[tuple[str, float, list]]:
    """Tokenise ``text`` (words, numbers, spaces, punctuation); tokens in ``alts`` get those alternatives."""
    toks = re.findall(r"[A-Za-z_]+|\d+|\s+|.", text)
    assert "".join(toks) == text
    return [
        (
            t,
            next((lp for a, lp in alts[t] if a == t), -0.01) if t in alts else -0.01,
            alts.get(t, [(t, -0.01)]),
        )
        for t in toks
    ]


def test_expected_score_from_logprobs(server):
    ln = math.log
    reply = json.dumps(
        {
            "rain": {"reasoning": "wet streets", "verdict": "pass"},
            "house": {"reasoning": "kept", "verdict": "partial"},
            "clean": {"reasoning": "seams", "verdict": "fail"},
        }
    )
    alts = {
        "pass": [("pass", ln(0.8)), ("partial", ln(0.15)), ("fail", ln(0.05))],
        "partial": [("partial", ln(0.5)), ("pass", ln(0.25)), ("fail", ln(0.2)), ("maybe", ln(0.05))],
        "fail": [("fail", ln(0.9)), ("partial", ln(0.1))],
    }
    server.handler = lambda c: Reply(reply, logprobs=_tokens(reply, alts))
    [out] = judge_for(ChecklistJudge, server.url, expected=True).judge([make_item()])
    body = server.chat_calls()[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 20
    e_rain = 0.8 * 1 + 0.15 * 0.5
    e_house = (0.5 * 0.5 + 0.25 * 1) / 0.95  # "maybe" is not a verdict: renormalised without it
    e_clean = 0.1 * 0.5
    assert out.scores["goal_pass_rate"] == pytest.approx(e_rain)
    assert out.scores["preserve_pass_rate"] == pytest.approx(e_house)
    assert out.scores["pass_rate"] == pytest.approx((e_rain + e_house + e_clean) / 3)
    assert out.verdicts == {"rain": "pass", "house": "partial", "clean": "fail"}
    assert "mass 0.950" in out.rationale["expected"]["house"]


def test_expected_numeric_scale_and_fallbacks(server):
    ln = math.log
    vals = {
        "goal_alignment": 4,
        "aesthetic_quality": 3,
        "spatial_consistency": 3,
        "technical_quality": 3,
        "temporal_consistency": 3,
        "creative_interpretation": 3,
    }

    def handler(c: Call) -> Reply:
        text = fill(schema_of(c), vals)
        # "4" only once in the text: the goal_alignment score; 3s keep their sampled values
        return Reply(text, logprobs=_tokens(text, {"4": [("4", ln(0.6)), ("3", ln(0.3)), ("5", ln(0.1))]}))

    server.handler = handler
    [out] = judge_for(StylingRewardJudge, server.url, expected=True).judge([make_item()])
    assert out.scores["goal_alignment"] == pytest.approx(0.6 * 4 + 0.3 * 3 + 0.1 * 5)
    assert out.scores["aesthetic_quality"] == pytest.approx(3.0)  # alternatives were only "3": expectation 3
    # no logprobs from the server: the fake makes up whitespace tokens that do not spell the reply
    server.handler = lambda c: Reply(fill(schema_of(c), vals))
    [fb] = judge_for(StylingRewardJudge, server.url, expected=True, cache=False).judge([make_item()])
    assert (
        fb.scores["goal_alignment"] == 4.0
        and "sampled value kept" in fb.rationale["expected"]["goal_alignment"]
    )
    # a backend without logprobs at all
    sb = ScriptedBackend(
        [fill({"properties": {k: {"properties": {"reasoning": {}, "score": {}}} for k in vals}}, vals)]
    )
    [sc] = StylingRewardJudge(backend=sb, expected=True, cache=False).judge([make_item()])
    assert sc.scores["goal_alignment"] == 4.0
    assert "no logprobs" in sc.rationale["expected"]["goal_alignment"]


def test_expected_multi_token_number_falls_back():
    text = '{"q": {"reasoning": "r", "score": 85}}'
    lps = [TokenLogprob(t, -0.1, (TopLogprob(t, -0.1),)) for t in re.findall(r"[a-z]+|\d|.", text)]
    from judges.vlm.expected import expected_value

    r = Rubric.from_text("---\nversion: '1'\nscale: [0, 100]\ncriteria: [{id: q}]\n---\nx\n")
    e = expected_value(text, lps, ("q", "score"), r.criteria[0])
    assert e.value is None and "2 tokens" in e.note
    assert value_spans(text)[("q", "score")] == (text.index("85"), text.index("85") + 2)


# --- rubric machinery -----------------------------------------------------------------------------------


def test_rubric_parser_shapes_and_errors():
    r = Rubric.from_text("---\nversion: '1'\nscale: [1, 5]\ncriteria: [{id: a}, {id: b}]\n---\nx\n")
    crit = r.criteria
    assert r.parse('{"scores": {"a": {"score": "4"}, "b": 5}}', crit).values == {"a": 4.0, "b": 5.0}
    p = r.parse('Sure!\n```json\n{"a": {"rationale": "r", "score": 2},}\n```', crit)
    assert p.values == {"a": 2.0} and not p.bare_json and "b" in p.missing and p.reasoning["a"] == "r"
    assert "unusable" in r.parse('{"a": 9, "b": 3}', crit).missing["a"]  # out of range is not clipped
    assert r.parse('{"a": true, "b": "3/5"}', crit).values == {"b": 3.0}
    from judges.vlm import ParseError

    for bad, why in [("prose", "not JSON"), ("[1, 2]", "list"), ('{"c": 1}', "no criterion")]:
        with pytest.raises(ParseError, match=why):
            r.parse(bad, crit)


def test_rubric_front_matter_errors(tmp_path):
    from bench.errors import JudgeError

    with pytest.raises(JudgeError, match="front matter"):
        Rubric.from_text("no front matter")
    with pytest.raises(JudgeError, match="version"):
        Rubric.from_text("---\nname: x\n---\nbody")
    r = Rubric.from_text("---\nversion: '1'\nscale: [0, 1]\n---\n[[image:nope]]\n")
    with pytest.raises(JudgeError, match="nope"):
        r.render({}, {})


def test_options_are_checked():
    with pytest.raises(UsageError, match="did you mean 'samples'"):
        ChecklistJudge(backend="scripted", script=["{}"], sample=3)
    with pytest.raises(UsageError, match="variant"):
        ImageQualityJudge(backend="scripted", script=["{}"], variant="nope")
    with pytest.raises(UsageError, match="script"):
        ChecklistJudge(backend="scripted")


def test_scripted_backend_from_options(tmp_path):
    f = tmp_path / "replies.jsonl"
    f.write_text(json.dumps({"rain": {"reasoning": "r", "verdict": "fail"}}) + "\n")
    [out] = ChecklistJudge(backend="scripted", script=str(f), cache=False).judge([make_item()])
    assert out.status == "ok" and out.verdicts["rain"] == "fail" and out.endpoint_host == "scripted"
    refusal = ChatResponse(text="", status="refused", error="policy")
    [ref] = ChecklistJudge(backend=ScriptedBackend([refusal]), cache=False).judge([make_item()])
    assert ref.status == "refused" and ref.error == "policy"


# --- identity and snapshots -------------------------------------------------------------------------------


def _register_all() -> None:
    for name, cls in JUDGES.items():
        registry.register("judges", name, cls)


def test_judge_ids_follow_templates_and_options(tmp_path):
    _register_all()
    base = build_component("judges", parse_spec("checklist:backend=openai,base_url='http://h:1/v1',model=m"))
    same = build_component(
        "judges",
        parse_spec(
            "checklist:backend=openai,base_url='http://h:1/v1',model=m,"
            "concurrency=3,timeout=9,cache=false,api_key_env=X"
        ),
    )
    assert base.id == same.id  # transport, cache and key variable are not identity
    other_host = build_component(
        "judges", parse_spec("checklist:backend=openai,base_url='http://h2:1/v1',model=m")
    )
    other_model = build_component(
        "judges", parse_spec("checklist:backend=openai,base_url='http://h:1/v1',model=m2")
    )
    assert len({base.id, other_host.id, other_model.id}) == 3
    copy = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, copy)
    unchanged = build_component(
        "judges", parse_spec(f"checklist:backend=openai,base_url='http://h:1/v1',model=m,prompts='{copy}'")
    )
    assert unchanged.id == base.id  # same content, same id, wherever the file lives
    p = copy / "checklist.j2"
    p.write_text(p.read_text().replace("careful, impartial", "careful, fair"))
    edited = build_component(
        "judges", parse_spec(f"checklist:backend=openai,base_url='http://h:1/v1',model=m,prompts='{copy}'")
    )
    assert edited.id != base.id
    assert edited.obj.identity_extra()["templates"]["main"] != base.obj.identity_extra()["templates"]["main"]
    assert base.obj.identity_extra()["backend"] == {
        "kind": "openai",
        "model": "m",
        "endpoint_host": "h:1",
        "revision": None,
    }
    rev = build_component(
        "judges",
        parse_spec(
            "checklist:backend=openai,base_url='http://h:1/v1',model=m,backend_options={revision: r1}"
        ),
    )
    assert rev.id != base.id and rev.obj.identity_extra()["backend"]["revision"] == "r1"
    with pytest.raises(UsageError, match="no option 'colour'"):
        ChecklistJudge(backend="openai", model="m", backend_options={"colour": "red"})
    assert (
        build_component("judges", parse_spec("checklist:backend=openai,model=m,samples=2")).id
        != build_component("judges", parse_spec("checklist:backend=openai,model=m")).id
    )


def _render(judge, item: JudgeItem) -> str:
    """Every request a judge makes for ``item``, as text: messages (images by id), schema, params."""
    asks = judge.prepare(item)
    out = [f"# {judge.name} variant={judge.variant}"]
    for ask in asks:
        req = judge.request(ask, 0)
        out.append(f"## ask {ask.key}: {ask.rubric.name} v{ask.rubric.version}")
        out.append(f"params: max_tokens={req.max_tokens} temperature={req.temperature} top_p={req.top_p}")
        for m in req.messages:
            out.append(f"### {m.role}")
            for part in m.content:
                out.append(part.text if isinstance(part, TextPart) else f"<image {part.image_id[:16]}>")
        out.append("### response_format")
        out.append(json.dumps(req.response_format, indent=1))  # key order as sent: reasoning before score
    return "\n".join(out) + "\n"


SNAPSHOT_CASES = [
    ("checklist", {}, "plan"),
    ("styling-reward", {}, "plan"),
    ("styling-reward", {"variant": "code"}, "plan"),
    ("styling-reward", {"variant": "code"}, "noplan"),
    ("image-quality", {}, "plan"),
    ("image-quality", {}, "noplan"),
    ("image-quality", {"variant": "code"}, "plan"),
    ("plan-quality", {}, "plan"),
    ("plan-quality", {"variant": "code"}, "plan"),
    ("viescore", {}, "plan"),
    ("pairwise", {}, "plan"),
]


@pytest.mark.parametrize("name,opts,case", SNAPSHOT_CASES)
def test_prompt_snapshots(name, opts, case):
    judge = JUDGES[name](backend="scripted", script=["{}"], cache=False, **opts)
    item = make_item(
        plan=PLAN if case == "plan" else None,
        other=make_item("s0", "sysB", seed=2) if name == "pairwise" else None,
    )
    text = _render(judge, item)
    path = SNAPSHOTS / f"vlm_{name}_{judge.variant}_{case}.txt"
    if UPDATE or not path.exists():
        if not UPDATE and os.environ.get("CI"):
            pytest.fail(f"missing snapshot {path}; run with EDITBENCH_UPDATE_SNAPSHOTS=1")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"prompt changed: regenerate {path.name} if deliberate"


def test_repair_prompt_snapshot():
    judge = ChecklistJudge(backend="scripted", script=["{}"], cache=False)
    [ask] = judge.prepare(make_item())
    from judges.vlm import ParseError

    req = judge.repair_request(
        judge.request(ask, 0), ChatResponse(text="oops"), ParseError("the reply is not JSON")
    )
    text = "\n".join(f"[{m.role}] {m.text()}" for m in req.messages[-2:]) + "\n"
    path = SNAPSHOTS / "vlm_repair.txt"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- the command line, exactly as written -------------------------------------------------------------------


def test_cli_judge_checklist_against_loopback(tmp_path, capsys):
    from bench.cli import main
    from bench.runner import RunOptions, execute
    from bench.store import RunStore
    from suites.folder import load_suite
    from tests.fakes.components import make_tiny_suite

    _register_all()
    make_tiny_suite(tmp_path / "suite", n=3)
    suite = load_suite(tmp_path / "suite")
    run = execute(
        str(tmp_path / "runs"), [suite], [parse_spec("fake-brighten")], [], RunOptions(executor="inline")
    )
    with ChatServer(handler=lambda c: Reply(fill(schema_of(c), {"c1": "pass"}))) as srv:
        host, url = f"127.0.0.1:{srv.port}", srv.url
        spec = f"checklist:backend=openai,base_url={url},model=NAME"
        # Probes (controls, drift canaries) would add their own requests; count the judgements' alone.
        assert main(["judge", run.run_dir, "--judge", spec, "--no-probes"]) == 0
        assert len(srv.chat_calls()) == 3
        assert {c.body["model"] for c in srv.chat_calls()} == {"NAME"}
        srv.reset()
        # As written (probes on): nothing left to judge, so no judgement and no probe request is sent.
        assert main(["judge", run.run_dir, "--judge", spec]) == 0
        assert srv.chat_calls() == []
    store = RunStore.open(run.run_dir)
    js = [j for j in store.judgements().values() if j.judge_id.startswith("checklist.")]
    assert len(js) == 3 and {j.sample_id for j in js} == {"s0", "s1", "s2"}
    assert all(j.status == "ok" and j.scores["pass_rate"] == 1.0 and j.verdicts == {"c1": "pass"} for j in js)
    assert all(j.endpoint_host == host and j.raw for j in js)
    if "put_raw" in JudgeItem.__dataclass_fields__:  # the runner keeps raw replies in the run
        assert all("choices" in store.get_raw(r) for j in js for r in j.raw)
    meta = store.read_meta()
    [rec] = [c for c in meta["components"]["judges"] if c["name"] == "checklist"]
    assert rec["args"]["base_url"] == url and "api_key" not in json.dumps(meta)
    assert [s["name"] for s in meta["score_specs"][rec["id"]]][:2] == ["pass_rate", "weighted_pass_rate"]
