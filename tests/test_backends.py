"""Model backends through the real openai client against a real loopback chat server."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import multiprocessing as mp
import pickle
import threading
import time
from email.utils import formatdate

import pytest
from PIL import Image

from bench.backends.base import (
    JSON_OBJECT_FORMAT,
    Backend,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    ImagePart,
    extract_json,
    image_id,
    json_schema_format,
    parse_json_reply,
)
from bench.backends.openai_backend import OpenAIBackend
from bench.backends.prices import PRICE_TABLE_VERSION, price_for
from bench.backends.scripted import ScriptedBackend
from bench.backends.wire import endpoint_host, parse_retry_after
from tests.fakes.chat_server import (
    Call,
    ChatServer,
    Delay,
    Drop,
    Raw,
    Reply,
    Status,
    Truncated,
    rate_limited,
)

SCHEMA = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}


def req(text: str, **kw) -> ChatRequest:
    return ChatRequest((ChatMessage.user(text),), **kw)


@pytest.fixture
def server():
    with ChatServer() as srv:
        yield srv


@pytest.fixture
def make_backend():
    made: list[OpenAIBackend] = []

    def make(url: str, **kw) -> OpenAIBackend:
        kw.setdefault("backoff_base", 0.01)
        kw.setdefault("backoff_max", 0.05)
        kw.setdefault("timeout", 10)
        b = OpenAIBackend(kw.pop("model", "fake-model"), base_url=url, **kw)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


# --- the happy path, order and completeness ---------------------------------------------------


def test_order_preserved_under_concurrency_no_lost_or_duplicated(server, make_backend):
    # Earlier requests answer later, so completion order is the reverse of request order.
    n = 60
    server.handler = lambda c: Delay(0.002 * (n - int(c.prompt().split()[1])), Reply(f"re {c.prompt()}"))
    b = make_backend(server.url, concurrency=16)
    out = b.chat_many([req(f"item {i}") for i in range(n)])
    assert [r.text for r in out] == [f"re item {i}" for i in range(n)]
    assert all(r.status == "ok" and r.attempts == 1 for r in out)
    prompts = sorted(c.prompt() for c in server.chat_calls())
    assert prompts == sorted(f"item {i}" for i in range(n))  # each sent exactly once
    assert isinstance(b, Backend)
    assert b.chat_many([]) == []


def test_concurrency_is_bounded(server, make_backend):
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def handler(c: Call):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return Reply("ok")

    server.handler = handler
    b = make_backend(server.url, concurrency=4)
    out = b.chat_many([req(f"q{i}") for i in range(24)])
    assert all(r.ok for r in out)
    assert state["max"] == 4


def test_response_fields_images_and_wire_format(server, make_backend):
    img = Image.new("RGB", (5, 3), (10, 200, 30))
    img.putpixel((1, 1), (1, 2, 3))
    server.handler = lambda c: Reply("fine", model="fake-model-2025")
    b = make_backend(server.url, model="fake-model")
    r = b.chat(
        ChatRequest(
            (ChatMessage.system("be brief"), ChatMessage.user("look", img)),
            max_tokens=7,
            temperature=0.3,
            top_p=0.9,
            seed=11,
        )
    )
    assert r.ok and r.text == "fine"
    assert r.model_resolved == "fake-model-2025"
    assert r.endpoint_host == f"127.0.0.1:{server.port}"
    assert r.finish_reason == "stop" and r.usage.tokens_out == 1 and r.dollars is None
    assert r.raw is not None and r.raw_id == hashlib.sha256(r.raw.encode()).hexdigest()
    body = server.chat_calls()[0].body
    assert (
        body["max_tokens"] == 7 and body["temperature"] == 0.3 and body["top_p"] == 0.9 and body["seed"] == 11
    )
    assert "response_format" not in body and "logprobs" not in body
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    (url,) = server.chat_calls()[0].images()
    assert url.startswith("data:image/png;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert image_id(sent) == image_id(img)  # lossless, same pixels


def test_image_id_is_the_project_formula():
    img = Image.new("RGB", (4, 2), (9, 8, 7))
    want = hashlib.sha256(b"RGB8|4|2|" + img.tobytes()).hexdigest()
    assert image_id(img) == ImagePart.from_pil(img).image_id == want
    assert image_id(img.convert("RGBA")) == want
    with pytest.raises(ValueError):
        ImagePart("abc")


# --- retries ----------------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured(server, make_backend):
    server.handler = lambda c: rate_limited(0.6) if c.seen == 0 else Reply("after wait")
    b = make_backend(server.url)
    r = b.chat(req("hi"))
    assert r.ok and r.text == "after wait" and r.attempts == 2
    first, second = server.chat_calls()
    assert second.received - first.received >= 0.55


def test_retry_after_http_date_is_honoured(server, make_backend):
    def handler(c: Call):
        if c.seen == 0:
            return rate_limited(formatdate(time.time() + 1.5, usegmt=True))  # whole seconds: 0.5-1.5 s away
        return Reply("ok")

    server.handler = handler
    b = make_backend(server.url)
    assert b.chat(req("x")).ok
    first, second = server.chat_calls()
    assert second.received - first.received >= 0.45


def test_parse_retry_after():
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": formatdate(1000.0, usegmt=True)}, now=990.0) == pytest.approx(
        10.0
    )
    assert parse_retry_after({"retry-after": formatdate(1000.0, usegmt=True)}, now=2000.0) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_backoff_has_full_jitter_and_cap():
    b = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", backoff_base=1.0, backoff_max=4.0)
    delays = [b._backoff(5, None) for _ in range(200)]
    assert all(0 <= d <= 4.0 for d in delays) and max(delays) > 2.0 and min(delays) < 2.0
    assert all(b._backoff(0, 3.0) >= 3.0 for _ in range(20))


@pytest.mark.parametrize("code", [500, 502, 503, 408, 409, 429])
def test_transient_statuses_are_retried(server, make_backend, code):
    server.handler = lambda c: Status(code, "busy") if c.seen < 2 else Reply("made it")
    r = make_backend(server.url).chat(req("x"))
    assert r.ok and r.text == "made it" and r.attempts == 3


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
def test_other_client_errors_are_not_retried(server, make_backend, code):
    server.handler = lambda c: Status(code, "no such thing")
    r = make_backend(server.url).chat(req("x"))
    assert r.status == "error" and f"HTTP {code}" in r.error and r.attempts == 1
    assert len(server.chat_calls()) == 1


def test_persistent_500_gives_error_after_max_retries(server, make_backend):
    server.handler = lambda c: Status(500, "boom")
    r = make_backend(server.url, max_retries=3).chat(req("x"))
    assert r.status == "error" and "HTTP 500" in r.error and r.attempts == 4
    assert len(server.chat_calls()) == 4


def test_malformed_and_truncated_bodies(server, make_backend):
    server.handler = lambda c: {
        "malformed once": Raw(b'{"choices": [ {"mess') if c.seen == 0 else Reply("ok1"),
        "truncated once": Truncated() if c.seen == 0 else Reply("ok2"),
        "always malformed": Raw(b"<html>Bad gateway</html>"),
        "always truncated": Truncated(fraction=0.3),
        "always dropped": Drop(),
        "not an object": Raw(b"[1, 2]"),
        "no choices": Raw(b'{"object": "chat.completion", "choices": []}'),
    }[c.prompt()]
    b = make_backend(server.url, max_retries=2)
    names = [
        "malformed once",
        "truncated once",
        "always malformed",
        "always truncated",
        "always dropped",
        "not an object",
        "no choices",
    ]
    out = dict(zip(names, b.chat_many([req(n) for n in names]), strict=True))
    assert out["malformed once"].text == "ok1" and out["malformed once"].attempts == 2
    assert out["truncated once"].text == "ok2" and out["truncated once"].attempts == 2
    assert out["always malformed"].status == "error" and "malformed" in out["always malformed"].error
    assert out["always malformed"].attempts == 3
    assert out["always truncated"].status == "error" and "connection" in out["always truncated"].error
    assert out["always dropped"].status == "error" and out["always dropped"].attempts == 3
    assert out["not an object"].status == "error"
    assert out["no choices"].status == "error" and "no choices" in out["no choices"].error


def test_timeout_is_per_request_and_retried(server, make_backend):
    server.handler = lambda c: Delay(1.0, Reply("late")) if c.prompt() == "slow" else Reply("quick")
    b = make_backend(server.url, timeout=0.25, max_retries=1)
    t0 = time.monotonic()
    slow, quick = b.chat_many([req("slow"), req("quick")])
    assert time.monotonic() - t0 < 1.5
    assert slow.status == "error" and "timed out" in slow.error and slow.attempts == 2
    assert quick.ok and quick.text == "quick"


def test_mixed_batch_statuses_in_order(server, make_backend):
    kinds = ["ok", "refuse", "filter", "e404", "flaky", "rate"]

    def handler(c: Call):
        kind = c.prompt().split(":")[0]
        return {
            "ok": Reply("fine " + c.prompt()),
            "refuse": Reply(None, refusal="I cannot help with that."),
            "filter": Reply("partial", finish_reason="content_filter"),
            "e404": Status(404, "model not found"),
            "flaky": Status(503, "try later") if c.seen == 0 else Reply("fine " + c.prompt()),
            "rate": rate_limited(0.05) if c.seen == 0 else Reply("fine " + c.prompt()),
        }[kind]

    server.handler = handler
    b = make_backend(server.url, concurrency=8)
    reqs = [req(f"{kinds[i % len(kinds)]}:{i}") for i in range(120)]
    out = b.chat_many(reqs)
    assert len(out) == len(reqs)
    for i, r in enumerate(out):
        kind = kinds[i % len(kinds)]
        want = {
            "ok": "ok",
            "refuse": "refused",
            "filter": "refused",
            "e404": "error",
            "flaky": "ok",
            "rate": "ok",
        }[kind]
        assert r.status == want, (i, r)
        if want == "ok":
            assert r.text == f"fine {kind}:{i}"
    assert out[1].error == "I cannot help with that." and out[1].text == ""
    assert "content_filter" in out[2].error and out[2].text == "partial"
    # 20 flaky and 20 rate-limited requests were sent twice, the rest once.
    assert len(server.chat_calls()) == 120 + 40


def test_many_threads_share_one_backend(server, make_backend):
    b = make_backend(server.url, concurrency=8)
    results: dict[int, list[ChatResponse]] = {}

    def work(t: int) -> None:
        results[t] = b.chat_many([req(f"t{t} r{i}") for i in range(10)])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(6):
        assert [r.text for r in results[t]] == [f"echo: t{t} r{i}" for i in range(10)]


def _child_chat(b: OpenAIBackend, q) -> None:  # runs in a forked child
    q.put([r.text for r in b.chat_many([req("from child")])])


def test_usable_after_fork_and_pickle(server, make_backend):
    b = make_backend(server.url)
    assert b.chat(req("parent")).ok  # the loop thread is running in the parent
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_chat, args=(b, q))
    p.start()
    assert q.get(timeout=20) == ["echo: from child"]
    p.join(timeout=10)
    clone = pickle.loads(pickle.dumps(b))
    assert clone.spec() == b.spec() and clone.chat(req("clone")).text == "echo: clone"
    clone.close()


# --- JSON modes -------------------------------------------------------------------------------


def test_json_schema_sent_when_supported(server, make_backend):
    server.handler = lambda c: Reply('{"score": 4}')
    r = make_backend(server.url).chat(req("rate it", response_format=json_schema_format(SCHEMA)))
    assert r.json() == {"score": 4} and r.format_used == "json_schema" and r.attempts == 1
    assert server.chat_calls()[0].body["response_format"]["json_schema"]["schema"] == SCHEMA


def test_json_schema_falls_back_to_json_object_and_remembers(make_backend):
    with ChatServer(reject_json_schema=True, handler=lambda c: Reply('{"score": 3}')) as srv:
        b = make_backend(srv.url)
        first = b.chat(req("a", response_format=json_schema_format(SCHEMA)))
        assert first.ok and first.format_used == "json_object" and first.attempts == 2
        assert first.json() == {"score": 3}
        fallback_prompt = srv.chat_calls()[1].body["messages"][-1]["content"]
        assert "JSON schema" in fallback_prompt and '"score"' in fallback_prompt  # schema now in words
        second = b.chat(req("b", response_format=json_schema_format(SCHEMA)))
        assert second.attempts == 1 and second.format_used == "json_object"
        assert [c.body["response_format"]["type"] for c in srv.chat_calls()] == [
            "json_schema",
            "json_object",
            "json_object",
        ]
        plain = b.chat(req("c"))  # a plain-text request does not disturb what was learned
        assert plain.format_used == "text" and b._format_floor == 1


def test_falls_back_to_text_with_extraction(make_backend):
    handler = lambda c: Reply('Here you go:\n```json\n{"score": 5,}\n```')  # noqa: E731
    with ChatServer(reject_json_object=True, handler=handler) as srv:
        b = make_backend(srv.url)
        r = b.chat(req("a", response_format=json_schema_format(SCHEMA)))
        assert r.ok and r.format_used == "text" and r.attempts == 3
        assert r.json() == {"score": 5}
        assert "response_format" not in srv.chat_calls()[-1].body
        r2 = b.chat(req("b", response_format=JSON_OBJECT_FORMAT))
        assert r2.attempts == 1 and r2.format_used == "text"


def test_max_tokens_renamed_when_server_asks(make_backend):
    with ChatServer(reject_max_tokens=True) as srv:
        b = make_backend(srv.url)
        r = b.chat(req("a", max_tokens=5))
        assert r.ok and r.attempts == 2
        assert b.chat(req("b", max_tokens=5)).attempts == 1
        assert srv.chat_calls()[-1].body["max_completion_tokens"] == 5


def test_logprobs(server, make_backend):
    server.handler = lambda c: Reply("7", logprobs=[("7", -0.2, [("7", -0.2), ("8", -1.9), ("6", -2.5)])])
    r = make_backend(server.url).chat(req("score?", logprobs=True, top_logprobs=3))
    body = server.chat_calls()[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 3
    assert r.logprobs is not None and len(r.logprobs) == 1
    tok = r.logprobs[0]
    assert tok.token == "7" and tok.logprob == -0.2 and [a.token for a in tok.top] == ["7", "8", "6"]
    assert make_backend(server.url).chat(req("no lp")).logprobs is None


# --- money, identity, secrets -------------------------------------------------------------------


def test_dollars_from_price_table(server, make_backend):
    server.handler = lambda c: Reply(
        "x", model="gpt-4o-mini-2024-07-18", usage={"prompt_tokens": 1000, "completion_tokens": 500}
    )
    r = make_backend(server.url, model="gpt-4o-mini").chat(req("x"))
    assert r.usage.tokens_in == 1000 and r.usage.tokens_out == 500
    assert r.dollars == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    assert price_for("gpt-4o-2024-08-06") == (2.5, 10.0) and price_for("llava:7b") is None
    assert PRICE_TABLE_VERSION


def test_spec_is_identity_only():
    a = OpenAIBackend("m", base_url="http://10.0.0.5:8000/v1/", concurrency=3, max_retries=1, timeout=5)
    b = OpenAIBackend("m", base_url="http://10.0.0.5:8000/v1", concurrency=64, max_retries=9, timeout=500)
    assert (
        a.spec()
        == b.spec()
        == {"kind": "openai", "model": "m", "endpoint_host": "10.0.0.5:8000", "revision": None}
    )
    assert OpenAIBackend("m", base_url="http://h/v1", extra_body={"top_k": 5}).spec()["extra_body"] == {
        "top_k": 5
    }
    assert endpoint_host("https://API.openai.com/v1") == "api.openai.com"


def test_api_key_never_leaks(make_backend, monkeypatch, caplog):
    key = "sk-test-SUPERSECRET-0123456789"
    monkeypatch.setenv("EDITBENCH_TEST_KEY", key)

    def handler(c: Call):  # a hostile server that echoes the credentials back in its error
        if c.prompt() == "leak":
            return Status(401, f"invalid key {c.headers.get('authorization')}")
        return Status(500, f"oops {key}") if c.seen == 0 else Reply("ok")

    caplog.set_level(logging.DEBUG)
    with ChatServer(handler=handler) as srv:
        b = make_backend(srv.url, api_key_env="EDITBENCH_TEST_KEY", max_retries=1)
        out = b.chat_many([req("leak"), req("flaky")])
        assert srv.chat_calls()[0].headers["authorization"] == f"Bearer {key}"  # it is used...
        assert out[0].status == "error" and "HTTP 401" in out[0].error
        assert out[1].ok
    blobs = [
        repr(b),
        str(b.spec()),
        json.dumps(b.spec()),
        repr(out),
        caplog.text,
        pickle.dumps(b).decode("latin-1"),
        json.dumps([r.to_dict() for r in out]),
    ]
    for blob in blobs:  # ...and appears nowhere else
        assert key not in blob and "SUPERSECRET" not in blob


def test_missing_key_for_openai_is_a_clear_error_without_a_request(monkeypatch):
    monkeypatch.delenv("EDITBENCH_NO_SUCH_KEY", raising=False)
    b = OpenAIBackend("gpt-4o", base_url="https://api.openai.com/v1", api_key_env="EDITBENCH_NO_SUCH_KEY")
    try:
        r = b.chat(req("x"))
    finally:
        b.close()
    assert r.status == "error" and "EDITBENCH_NO_SUCH_KEY" in r.error and r.attempts == 0


def test_models_endpoint(server):
    import urllib.request

    with urllib.request.urlopen(server.url + "/models", timeout=5) as resp:
        assert json.loads(resp.read())["data"][0]["id"] == "fake-model"


# --- offline pieces ---------------------------------------------------------------------------


def test_scripted_backend():
    b = ScriptedBackend(["a", ChatResponse.failure("scripted failure"), "c"], cycle=False)
    out = b.chat_many([req(str(i)) for i in range(4)])
    assert [r.status for r in out] == ["ok", "error", "ok", "error"]
    assert out[0].text == "a" and out[2].text == "c" and "exhausted" in out[3].error
    assert len(b.requests) == 4 and out[0].raw_id == hashlib.sha256(b"a").hexdigest()

    def fn(r: ChatRequest) -> str:
        if "boom" in r.messages[-1].text():
            raise RuntimeError("bad script")
        return json.dumps({"echo": r.messages[-1].text(), "n": r.n_index})

    c = ScriptedBackend(fn)
    x, y = c.chat_many([req("hi", n_index=2), req("boom")])
    assert x.json() == {"echo": "hi", "n": 2} and y.status == "error" and "bad script" in y.error
    assert c.spec()["kind"] == "scripted" and c.spec() != ScriptedBackend(["a"]).spec()
    assert ScriptedBackend(["a"]).spec() == ScriptedBackend(["a"]).spec()
    with pytest.raises(TypeError):
        c.chat_many(["not a request"])  # type: ignore[list-item]


def test_extract_json():
    assert extract_json('```json\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}
    assert extract_json('The verdict: {"v": "pass", "why": "has } and {"} trailing') == {
        "v": "pass",
        "why": "has } and {",
    }
    assert extract_json('noise {not json} then {"ok": true}') == {"ok": True}
    assert extract_json("list: [1, 2, 3,]") == [1, 2, 3]
    assert extract_json('```\n{"x": 1}\n```') == {"x": 1}
    assert extract_json('{"s": "a, ]"}') == {"s": "a, ]"}  # commas inside strings are not touched
    with pytest.raises(ValueError):
        extract_json("no json here {")
    assert parse_json_reply('{"a": 1}') == {"a": 1}


def test_request_validation_and_key_material():
    with pytest.raises(ValueError):
        ChatRequest(())
    with pytest.raises(ValueError):
        req("x", response_format={"type": "yaml"})
    img = Image.new("RGB", (2, 2))
    r = ChatRequest((ChatMessage.user("look", img),), response_format=JSON_OBJECT_FORMAT)
    km = r.key_material()
    assert km["messages"][0]["content"][1] == {"type": "image", "id": image_id(img)}
    assert hash(r) == hash(
        ChatRequest((ChatMessage.user("look", img.copy()),), response_format=JSON_OBJECT_FORMAT)
    )
    assert ChatMessage("user", "plain").content[0].text == "plain"


def test_async_callers_on_another_loop(server, make_backend):
    import asyncio

    b = make_backend(server.url)

    async def main():
        return await asyncio.gather(b.achat_many([req("a1"), req("a2")]), b.achat_many([req("b1")]))

    first, second = asyncio.run(main())
    assert [r.text for r in first] == ["echo: a1", "echo: a2"] and second[0].text == "echo: b1"
