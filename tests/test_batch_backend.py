"""The Batch API backend (bench/backends/batch_backend.py) against the fake batch server on loopback:
the full cycle, partial failures, expiry, failed batches, resume after a kill (mid-poll, and between
creating a batch and recording it), bounded waits, chunking, cache sharing with the sync backend,
and a VLM judge running through it.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from bench import registry
from bench.backends.base import ChatMessage, ChatRequest, json_schema_format
from bench.backends.batch_backend import BATCH_DISCOUNT, OpenAIBatchBackend
from bench.backends.openai_backend import OpenAIBackend
from bench.cache import CachedBackend, ReplyCache
from tests.fakes.batch_server import BatchServer
from tests.fakes.chat_server import Call, Reply, Status

REPO = Path(__file__).resolve().parents[1]
MODEL = "gpt-4o-mini"  # in the price table, so dollars are checked too


def reqs(*prompts: str, image: bool = True) -> list[ChatRequest]:
    out = []
    for i, p in enumerate(prompts):
        parts: list = [p]
        if image:
            parts.append(Image.new("RGB", (8, 6), (i * 40 % 256, 7, 99)))
        out.append(ChatRequest((ChatMessage.user(*parts),), max_tokens=20))
    return out


def batch(url: str, state_dir: Path, **kw) -> OpenAIBatchBackend:
    kw.setdefault("poll_interval", 0.01)
    kw.setdefault("max_poll_interval", 0.05)
    return OpenAIBatchBackend(MODEL, base_url=url, state_dir=state_dir, max_retries=1, timeout=10, **kw)


@pytest.fixture
def srv():
    with BatchServer(model=MODEL) as s:
        yield s


@pytest.fixture
def state(tmp_path) -> Path:
    return tmp_path / "batches"


def test_full_cycle_order_dedup_prices_and_identity(srv, state):
    b = batch(srv.url, state)
    rs = reqs("alpha", "beta", "gamma")
    out = b.chat_many([rs[0], rs[1], rs[2], rs[0]])
    assert [r.text for r in out] == ["echo: alpha", "echo: beta", "echo: gamma", "echo: alpha"]
    assert all(r.status == "ok" and r.model_resolved == MODEL for r in out)
    assert len(srv.batches) == 1 and len(srv.chat_calls()) == 0
    lines = srv.input_lines("batch_0001")
    assert len(lines) == 3  # the duplicate went in once
    assert [ln["custom_id"] for ln in lines] == [b.request_key(r) for r in rs]
    assert list(state.glob("*.json")) == []  # collected: nothing left to resume

    sync = OpenAIBackend(MODEL, base_url=srv.url, max_retries=0)
    assert b.spec() == sync.spec() and (b.name, b.version) == (sync.name, sync.version)
    assert [b.request_key(r) for r in rs] == [
        CachedBackend(sync, ReplyCache(state.parent / "c")).key(r) for r in rs
    ]
    s_out = sync.chat_many(rs)
    [beta] = [c for c in srv.chat_calls() if c.prompt() == "beta"]  # arrival order is not request order
    assert lines[1]["body"] == beta.body  # the very same request body
    for bo, so in zip(out[:3], s_out, strict=True):
        assert bo.usage == so.usage and so.dollars > 0
        assert bo.dollars == pytest.approx(so.dollars * BATCH_DISCOUNT)
    sync.close()

    again = pickle.loads(pickle.dumps(b))  # picklable (process pools), no client carried over
    assert again.chat_many(rs[:1])[0].text == "echo: alpha"


def _mixed(c: Call):
    p = c.prompt()
    if "bad" in p:
        return Status(400, "Invalid image in request")
    if "refuse" in p:
        return Reply("", refusal="I can't help with that.")
    if "filtered" in p:
        return Reply("partial", finish_reason="content_filter")
    return Reply(f"fine: {p}")


def test_partial_failures_statuses_and_only_failures_retried(srv, state, tmp_path):
    srv.handler = _mixed
    rs = reqs("good one", "bad one", "refuse this", "filtered", "good two")
    cached = CachedBackend(batch(srv.url, state), ReplyCache(tmp_path / "cache"))
    out = cached.chat_many(rs)
    assert [r.status for r in out] == ["ok", "error", "refused", "refused", "ok"]
    assert out[1].error == "HTTP 400: Invalid image in request"
    assert out[2].error == "I can't help with that." and out[3].error == "finish_reason=content_filter"
    assert out[0].text == "fine: good one" and out[4].text == "fine: good two"

    srv.handler = lambda c: Reply("fixed")
    out2 = cached.chat_many(rs)
    assert [r.status for r in out2] == ["ok"] * 5
    assert [r.cached for r in out2] == [True, False, False, False, True]
    assert len(srv.batches) == 2 and len(srv.input_lines("batch_0002")) == 3  # only what failed


def test_expired_batch_keeps_finished_items_and_errors_the_rest(srv, state):
    srv.expire_after = 1
    out = batch(srv.url, state).chat_many(reqs("first", "second", "third"))
    assert srv.batches["batch_0001"]["status"] == "expired"
    assert out[0].status == "ok" and out[0].text == "echo: first"
    for r in out[1:]:
        assert r.status == "error" and "batch_expired" in r.error and "completion window expired" in r.error
    assert list(state.glob("*.json")) == []


def test_failed_batch_errors_every_item_and_next_call_resubmits(srv, state):
    srv.fail_validation = "model gpt-4o-mini is not available for batch"
    b = batch(srv.url, state)
    out = b.chat_many(reqs("one", "two"))
    assert [r.status for r in out] == ["error", "error"]
    assert all("ended failed" in r.error and "not available for batch" in r.error for r in out)
    srv.fail_validation = None
    assert [r.text for r in b.chat_many(reqs("one", "two"))] == ["echo: one", "echo: two"]
    assert len(srv.batches) == 2


_CHILD = """
import sys
from PIL import Image
from bench.backends.base import ChatMessage, ChatRequest
from bench.backends.batch_backend import OpenAIBatchBackend
rs = [ChatRequest((ChatMessage.user(p, Image.new("RGB", (8, 6), (i * 40 % 256, 7, 99))),), max_tokens=20)
      for i, p in enumerate(["alpha", "beta", "gamma"])]
b = OpenAIBatchBackend("gpt-4o-mini", base_url=sys.argv[1], state_dir=sys.argv[2], poll_interval=0.02,
                       max_poll_interval=0.05)
b.chat_many(rs)
print("collected")  # never reached: the test kills us mid-poll
"""


def test_resume_after_kill_mid_poll_collects_the_same_batch(srv, state):
    srv.hold = True
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, srv.url, str(state)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while srv.polls.get("batch_0001", 0) < 3:
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the child never polled its batch"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert b"collected" not in child.stdout.read()
    [st] = list(state.glob("*.json"))
    rec = json.loads(st.read_text())
    assert rec["batch_id"] == "batch_0001" and len(rec["custom_ids"]) == 3

    srv.release()
    out = batch(srv.url, state).chat_many(reqs("alpha", "beta", "gamma"))
    assert [r.text for r in out] == ["echo: alpha", "echo: beta", "echo: gamma"]
    assert len(srv.batches) == 1 and len(srv.uploads) == 2  # the input file and the output file
    assert sum(c.path.endswith("/files") for c in srv.batch_api_calls()) == 1  # uploaded once
    assert list(state.glob("*.json")) == []


def test_kill_between_create_and_record_adopts_the_batch(srv, state, monkeypatch):
    b = batch(srv.url, state)
    saves = []

    def save_then_die(job):
        saves.append(job.batch_id)
        if job.batch_id is not None:  # the batch exists but its id never reaches the disk
            raise KeyboardInterrupt
        OpenAIBatchBackend._save(b, job)

    monkeypatch.setattr(b, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        b.chat_many(reqs("x", "y"))
    assert saves == [None, "batch_0001"]
    [st] = list(state.glob("*.json"))
    assert json.loads(st.read_text())["batch_id"] is None

    out = batch(srv.url, state).chat_many(reqs("x", "y"))
    assert [r.text for r in out] == ["echo: x", "echo: y"]
    assert len(srv.batches) == 1  # found by its metadata, not created again


def test_bounded_wait_returns_errors_then_resumes(srv, state):
    srv.hold = True
    b = batch(srv.url, state, max_wait=0.1)
    out = b.chat_many(reqs("slow"))
    assert out[0].status == "error" and "still in_progress" in out[0].error and "next call" in out[0].error
    assert len(list(state.glob("*.json"))) == 1
    srv.release()
    b.max_wait = None  # no timing in the assertion: wait until it ends
    assert b.chat_many(reqs("slow"))[0].text == "echo: slow"
    assert len(srv.batches) == 1


def test_overlapping_request_sets_reuse_the_pending_batch(srv, state):
    srv.hold = True
    b = batch(srv.url, state, max_wait=0.05)
    b.chat_many(reqs("a", "b", image=False))  # batch 1 pending
    srv.release()
    b.max_wait = None
    out = b.chat_many(reqs("b", "c", image=False))  # b from batch 1, c in a new batch
    assert [r.text for r in out] == ["echo: b", "echo: c"]
    assert len(srv.batches) == 2 and [
        ln["body"]["messages"][0]["content"] for ln in srv.input_lines("batch_0002")
    ] == ["c"]


def test_large_submissions_are_split_into_several_batches(srv, state):
    b = batch(srv.url, state, max_batch_requests=2)
    prompts = [f"p{i}" for i in range(5)]
    out = b.chat_many(reqs(*prompts))
    assert [r.text for r in out] == [f"echo: {p}" for p in prompts]
    assert sorted(len(srv.input_lines(k)) for k in srv.batches) == [1, 2, 2]


def test_cache_is_shared_with_the_sync_backend(srv, state, tmp_path):
    cache = ReplyCache(tmp_path / "cache")
    sync = CachedBackend(OpenAIBackend(MODEL, base_url=srv.url, max_retries=0), cache)
    viab = CachedBackend(batch(srv.url, state), cache)
    rs = reqs("one", "two", "three")
    sync.chat_many(rs[:2])
    assert len(srv.chat_calls()) == 2
    out = viab.chat_many(rs)
    assert [r.cached for r in out] == [True, True, False]
    assert [ln["custom_id"] for ln in srv.input_lines("batch_0001")] == [sync.key(rs[2])]
    back = sync.chat_many(rs)  # the batch's reply serves the sync backend too
    assert all(r.cached for r in back) and len(srv.chat_calls()) == 2
    assert back[2].text == out[2].text == "echo: three"
    sync.close()


def test_json_schema_and_sampling_travel_in_the_batch_lines(srv, state):
    schema = {"type": "object", "properties": {"s": {"type": "integer"}}, "required": ["s"]}
    r = ChatRequest(
        (ChatMessage.system("judge"), ChatMessage.user("rate")),
        max_tokens=7,
        temperature=0.3,
        top_p=0.9,
        seed=5,
        response_format=json_schema_format(schema, "rate"),
        logprobs=True,
        top_logprobs=3,
    )
    [out] = batch(srv.url, state).chat_many([r])
    assert out.ok and out.json() == {"echo": "rate"} and out.format_used == "json_schema"
    assert out.logprobs is not None and out.logprobs[0].top[0].token == out.logprobs[0].token
    body = srv.input_lines("batch_0001")[0]["body"]
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"], body["top_logprobs"]) == (
        7,
        0.3,
        0.9,
        5,
        3,
    )
    # OpenAI itself takes max_completion_tokens for every chat model; other hosts get max_tokens.
    assert (
        OpenAIBatchBackend(MODEL, base_url="https://api.openai.com/v1").max_tokens_param
        == "max_completion_tokens"
    )


def test_no_key_for_openai_and_secrets_stay_out(srv, state, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    [r] = OpenAIBatchBackend(MODEL, base_url="https://api.openai.com/v1", state_dir=state).chat_many(
        reqs("x")
    )
    assert r.status == "error" and "OPENAI_API_KEY" in r.error and not list(state.glob("*.json"))

    secret = "sk-test-abcdefghijklmnop1234"
    monkeypatch.setenv("EB_TEST_KEY", secret)
    srv.hold = True
    b = batch(srv.url, state, api_key_env="EB_TEST_KEY", max_wait=0.05)
    b.chat_many(reqs("x"))
    assert srv.batch_api_calls()[0].headers["authorization"] == f"Bearer {secret}"
    [st] = list(state.glob("*.json"))
    assert (
        secret not in st.read_text()
        and secret not in repr(b)
        and secret not in pickle.dumps(b).decode("latin1")
    )


# --- a VLM judge through the batch backend ------------------------------------------------------


def _checklist_reply(c: Call):
    if "could not be used" in c.prompt():  # the judge's repair request
        return Reply(
            json.dumps({k: {"reasoning": "ok", "verdict": "pass"} for k in ("rain", "house", "clean")})
        )
    if c.index == 1:  # the second item of the first batch (s1): unreadable, so it gets repaired
        return Reply("not json at all")
    props = c.body["response_format"]["json_schema"]["schema"]["properties"]
    return Reply(json.dumps({k: {"reasoning": "seen", "verdict": "partial"} for k in props}))


def make_item(sid: str, seed: int = 1):
    from bench.ids import image_id
    from bench.model import Criterion, ImageRef, Sample, Trajectory
    from bench.protocols import JudgeItem

    src, out = Image.new("RGB", (12, 8), (10, 20, 30)), Image.new("RGB", (12, 8), (seed * 50 % 256, 90, 9))
    checklist = (
        Criterion("rain", "Rain is visible", "goal", 2.0),
        Criterion("house", "The red house keeps its shape", "preserve", 1.0),
        Criterion("clean", "No visible artifacts", "quality", 1.0),
    )
    sample = Sample(id=sid, image=ImageRef(id=image_id(src)), goal="make it rain", checklist=checklist)
    traj = Trajectory(suite="t@1", sample_id=sid, system_id="sysA", final=image_id(out))
    return JudgeItem(suite="t@1", sample=sample, source=src, final=out, trajectory=traj)


def test_checklist_judge_through_the_batch_backend_with_a_repair_round(srv, state):
    from judges.vlm import ChecklistJudge

    srv.handler = _checklist_reply
    registry.register("backends", "openai-batch", "bench.backends.batch_backend:OpenAIBatchBackend")
    try:
        judge = ChecklistJudge(
            backend="openai-batch",
            base_url=srv.url,
            model=MODEL,
            backend_options={"poll_interval": 0.01, "max_poll_interval": 0.05, "state_dir": str(state)},
        )
    finally:
        registry.unregister("backends", "openai-batch")
    assert isinstance(judge._inner, OpenAIBatchBackend)
    items = [make_item("s0"), make_item("s1", seed=2)]
    j0, j1 = judge.judge(items)
    assert j0.status == "ok" and j0.scores["pass_rate"] == 0.5
    assert j1.status == "ok" and j1.scores["pass_rate"] == 1.0 and len(j1.raw) == 2  # reply + repair
    assert len(srv.batches) == 2 and len(srv.input_lines("batch_0002")) == 1  # the repair round
    assert len(srv.chat_calls()) == 0
    again = judge.judge(items)  # from the shared cache: no new batch
    assert [j.scores for j in again] == [j0.scores, j1.scores] and len(srv.batches) == 2
    judge.close()


def test_options_are_checked():
    with pytest.raises(ValueError):
        OpenAIBatchBackend(MODEL, poll_interval=0)
    with pytest.raises(ValueError):
        OpenAIBatchBackend(MODEL, max_tokens_param="tokens")
    assert os.fspath(OpenAIBatchBackend(MODEL).resolved_state_dir()).endswith("batches")
