"""The content-keyed reply cache and the caching backend wrapper."""

from __future__ import annotations

import multiprocessing as mp
import pickle
import threading
from pathlib import Path

import pytest
from PIL import Image

from bench.backends.base import ChatMessage, ChatRequest, ChatResponse, json_schema_format
from bench.backends.openai_backend import OpenAIBackend
from bench.backends.scripted import ScriptedBackend
from bench.cache import CachedBackend, ReplyCache, canonical_json, default_cache_dir, key_for
from tests.fakes.chat_server import ChatServer, Reply, Status


def req(text: str, **kw) -> ChatRequest:
    return ChatRequest((ChatMessage.user(text),), **kw)


# --- keys ---------------------------------------------------------------------------------------


def test_key_for_is_canonical():
    assert key_for({"a": 1, "b": [1.5, "x"]}) == key_for({"b": (1.5, "x"), "a": 1})
    assert canonical_json({"b": 0.1, "a": {"d": 1e-20, "c": None}}) == '{"a":{"c":null,"d":1e-20},"b":0.1}'
    assert key_for({"t": 0.1 + 0.2}) != key_for({"t": 0.3})  # floats by repr: no rounding
    assert key_for({"x": 1}) != key_for({"x": "1"})
    assert len(key_for([])) == 64
    assert key_for({"x": float("nan")}) == key_for({"x": None})  # the store's rule: NaN is null
    with pytest.raises(TypeError):
        key_for({"x": b"bytes"})


# --- the store ----------------------------------------------------------------------------------


def test_get_put_namespaces(tmp_path):
    c = ReplyCache(tmp_path)
    assert c.get("k") is None and "k" not in c and len(c) == 0
    c.put("k", b"v1")
    assert c.get("k") == b"v1" and "k" in c and len(c) == 1
    c.put("k", b"v2")
    assert c.get("k") == b"v2"
    assert c.setdefault("k", b"v3") == b"v2"  # taken: the stored value wins
    assert c.setdefault("new", b"n") == b"n"
    tools = c.namespace("tools")
    assert tools.get("k") is None and len(tools) == 0
    tools.put("k", b"\x00binary\xff")
    assert tools.get("k") == b"\x00binary\xff" and c.get("k") == b"v2"
    c.delete("k")
    assert c.get("k") is None and tools.get("k") is not None
    assert (tmp_path / "cache.sqlite3").exists()
    mode = c._store.conn().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.get("new") == b"n"
    c.close()
    c2.close()


def test_default_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_CACHE", str(tmp_path / "env-cache"))
    assert default_cache_dir() == tmp_path / "env-cache"
    c = ReplyCache()
    assert c.path == tmp_path / "env-cache" / "cache.sqlite3"
    c.close()
    monkeypatch.delenv("EDITBENCH_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == Path.home() / ".cache" / "editbench"
    assert ReplyCache(tmp_path / "arg").path == tmp_path / "arg" / "cache.sqlite3"


def test_threads_share_safely(tmp_path):
    c = ReplyCache(tmp_path)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(150):
                c.put(f"{t}-{i}", f"{t}:{i}".encode())
                assert c.get(f"{t}-{i}") == f"{t}:{i}".encode()
                c.setdefault("shared", f"{t}".encode())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(c) == 8 * 150 + 1
    c.close()


def _proc_writer(directory: str, p: int, q, inherited: ReplyCache) -> None:
    # Half the children reuse the parent's object (its connection must not be shared after the
    # fork), half open their own.
    c = inherited if p % 2 else ReplyCache(directory)
    for i in range(100):
        c.put(f"p{p}-{i}", b"x" * 100)
    q.put(c.setdefault("race", f"proc{p}".encode()))


def test_processes_share_safely_and_agree_on_first_writer(tmp_path):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    parent = ReplyCache(tmp_path)
    parent.put("parent", b"p")  # the parent's connection is open when the children fork
    procs = [ctx.Process(target=_proc_writer, args=(str(tmp_path), p, q, parent)) for p in range(4)]
    for p in procs:
        p.start()
    winners = {q.get(timeout=30) for _ in procs}
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert len(parent) == 4 * 100 + 2
    assert winners == {parent.get("race")}  # every process returned the one stored value
    parent.close()


# --- the caching backend ----------------------------------------------------------------------


def test_hit_returns_cached_reply_without_calling(tmp_path):
    inner = ScriptedBackend(lambda r: f"reply to {r.messages[-1].text()} #{r.n_index}")
    cb = CachedBackend(inner, ReplyCache(tmp_path))
    first = cb.chat_many([req("a"), req("b")])
    assert [r.cached for r in first] == [False, False] and len(inner.requests) == 2
    second = cb.chat_many([req("b"), req("a"), req("a", n_index=1)])
    assert [r.text for r in second] == ["reply to b #0", "reply to a #0", "reply to a #1"]
    assert [r.cached for r in second] == [True, True, False]
    assert second[0].dollars == 0.0 and second[0].attempts == 0
    assert second[0].raw_id == first[1].raw_id and second[0].raw == first[1].raw
    assert len(inner.requests) == 3  # only the new sample index went through
    s = cb.stats()
    assert (s.hits, s.misses, s.sent, s.stored) == (2, 3, 3, 3)
    assert cb.spec() == inner.spec() and cb.name == "scripted"


def test_errors_and_refusals_are_not_cached(tmp_path):
    script = {
        "bad": ChatResponse.failure("HTTP 500"),
        "no": ChatResponse(text="", status="refused", error="I won't"),
    }
    inner = ScriptedBackend(lambda r: script.get(r.messages[-1].text(), "fine"))
    cb = CachedBackend(inner, ReplyCache(tmp_path))
    for _ in range(2):
        out = cb.chat_many([req("bad"), req("no"), req("ok")])
        assert [r.status for r in out] == ["error", "refused", "ok"]
    assert [r.messages[-1].text() for r in inner.requests] == ["bad", "no", "ok", "bad", "no"]
    assert cb.stats().not_stored == 4


def test_key_covers_prompt_images_params_and_backend(tmp_path):
    cache = ReplyCache(tmp_path)
    a = CachedBackend(ScriptedBackend(["x"], model="m1"), cache)
    red, blue = Image.new("RGB", (4, 4), "red"), Image.new("RGB", (4, 4), "blue")
    base = ChatRequest((ChatMessage.user("look", red),))
    variants = [
        base,
        ChatRequest((ChatMessage.user("look", blue),)),
        ChatRequest((ChatMessage.user("look!", red),)),
        ChatRequest((ChatMessage.system("s"), ChatMessage.user("look", red))),
        ChatRequest(base.messages, temperature=0.7),
        ChatRequest(base.messages, top_p=0.5),
        ChatRequest(base.messages, seed=3),
        ChatRequest(base.messages, max_tokens=10),
        ChatRequest(base.messages, n_index=1),
        ChatRequest(base.messages, logprobs=True, top_logprobs=5),
        ChatRequest(base.messages, response_format=json_schema_format({"type": "object"})),
    ]
    keys = [a.key(v) for v in variants]
    assert len(set(keys)) == len(keys)
    assert a.key(ChatRequest((ChatMessage.user("look", red.copy()),))) == a.key(base)  # by pixels
    b = CachedBackend(ScriptedBackend(["x"], model="m2"), cache)
    assert b.key(base) != a.key(base)
    # Transport settings never change the key; the endpoint and the model do.
    o1 = CachedBackend(
        OpenAIBackend("m", base_url="http://h:1/v1", concurrency=2, timeout=3, max_retries=0), cache
    )
    o2 = CachedBackend(OpenAIBackend("m", base_url="http://h:1/v1", concurrency=90, timeout=300), cache)
    o3 = CachedBackend(OpenAIBackend("m", base_url="http://other:1/v1"), cache)
    assert o1.key(base) == o2.key(base) != o3.key(base)


def test_duplicates_in_a_batch_are_sent_once(tmp_path):
    inner = ScriptedBackend(["one", "two", "three"])
    cb = CachedBackend(inner, ReplyCache(tmp_path))
    out = cb.chat_many([req("same"), req("other"), req("same")])
    assert [r.text for r in out] == ["one", "two", "one"]
    assert [r.cached for r in out] == [False, False, True]
    assert len(inner.requests) == 2


def test_bypass_neither_reads_nor_writes(tmp_path):
    inner = ScriptedBackend(["live1", "live2", "live3"])
    cache = ReplyCache(tmp_path)
    cb = CachedBackend(inner, cache)
    assert cb.chat(req("q")).text == "live1"
    assert cb.chat_many([req("q")], bypass=True)[0].text == "live2"
    assert CachedBackend(inner, cache, bypass=True).chat(req("q")).text == "live3"
    assert cb.chat(req("q")).text == "live1" and len(cache) == 1


def test_corrupt_entry_is_a_miss(tmp_path):
    inner = ScriptedBackend(["fresh"])
    cb = CachedBackend(inner, ReplyCache(tmp_path))
    cb.cache.put(cb.key(req("q")), b"not json")
    assert cb.chat(req("q")).text == "fresh" and len(inner.requests) == 1
    again = cb.chat(req("q"))  # the entry was repaired
    assert again.cached and again.text == "fresh" and len(inner.requests) == 1


def test_warm_cache_sends_zero_requests_over_http(tmp_path):
    """A second process-like pass (new backend, new cache object, same directory) is silent."""
    with ChatServer(
        handler=lambda c: (
            Status(503, "busy") if "flaky" in c.prompt() and c.seen == 0 else Reply(f"judged {c.prompt()}")
        )
    ) as srv:
        reqs = [req(f"item {i}") for i in range(30)] + [
            req("flaky one"),
            req("json", response_format={"type": "json_object"}),
        ]
        b1 = OpenAIBackend("fake-model", base_url=srv.url, backoff_base=0.01)
        first = CachedBackend(b1, ReplyCache(tmp_path)).chat_many(reqs)
        b1.close()
        assert all(r.ok and not r.cached for r in first)
        assert len(srv.chat_calls()) == len(reqs) + 1  # the flaky one was retried
        srv.reset()
        b2 = OpenAIBackend("fake-model", base_url=srv.url, concurrency=3, timeout=5)  # transport differs
        cb2 = CachedBackend(b2, ReplyCache(tmp_path))
        second = cb2.chat_many(reqs)
        b2.close()
        assert srv.chat_calls() == []
        assert [r.text for r in second] == [r.text for r in first]
        assert [r.raw_id for r in second] == [r.raw_id for r in first]
        assert all(r.cached and r.dollars == 0.0 for r in second)
        assert cb2.stats().sent == 0 and cb2.stats().hits == len(reqs)


def test_a_failing_cache_write_does_not_lose_the_reply(tmp_path, monkeypatch):
    import sqlite3

    cb = CachedBackend(ScriptedBackend(["paid for"]), ReplyCache(tmp_path))

    def broken(*a, **k):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(cb.cache, "setdefault", broken)
    r = cb.chat(req("q"))
    assert r.ok and r.text == "paid for" and cb.stats().not_stored == 1
