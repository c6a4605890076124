"""A deterministic, offline backend: replies come from a script, never from a network.

Used by offline tests and by the built-in offline default run, where a planner or judge must
run end to end with no model. A script is either a sequence of replies (handed out in request
order, cycling) or a callable ``request -> reply``; a reply is a string (an ``ok`` response) or a
full :class:`ChatResponse` (to script refusals and errors). Given the same requests in the same
order, it gives the same responses on every machine.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from .base import BackendBase, ChatRequest, ChatResponse, Usage, check_requests, raw_hash

Reply = str | ChatResponse
Script = Sequence[Reply] | Callable[[ChatRequest], Reply]


class ScriptedBackend(BackendBase):
    """Replies from a list (in order, cycling) or a callable; records every request it got.

    >>> b = ScriptedBackend(["yes", "no"])
    >>> from bench.backends.base import ChatMessage, ChatRequest
    >>> r = ChatRequest((ChatMessage.user("hi"),))
    >>> [x.text for x in b.chat_many([r, r, r])]
    ['yes', 'no', 'yes']
    """

    name = "scripted"
    version = "1"

    def __init__(self, script: Script = ("",), *, model: str = "scripted", cycle: bool = True) -> None:
        self.model = model
        self.cycle = cycle
        self._fn: Callable[[ChatRequest], Reply] | None = None
        self._replies: list[Reply] = []
        if callable(script):
            self._fn = script
        else:
            self._replies = list(script)
            if not self._replies:
                raise ValueError("ScriptedBackend: empty script")
        self._next = 0
        self._lock = threading.Lock()
        self.requests: list[ChatRequest] = []

    def spec(self) -> dict[str, Any]:
        """Identity: the model name and a hash of the script (replies, or the callable's name)."""
        if self._fn is not None:
            what = (
                f"{getattr(self._fn, '__module__', '?')}:{getattr(self._fn, '__qualname__', repr(self._fn))}"
            )
        else:
            what = json.dumps(
                [r if isinstance(r, str) else r.to_dict() for r in self._replies], sort_keys=True, default=str
            )
        return {
            "kind": "scripted",
            "model": self.model,
            "script": hashlib.sha256(what.encode("utf-8")).hexdigest()[:16],
        }

    def _reply_for(self, req: ChatRequest) -> Reply:
        if self._fn is not None:
            return self._fn(req)
        with self._lock:
            i = self._next
            self._next += 1
        if i >= len(self._replies) and not self.cycle:
            return ChatResponse.failure(
                f"script exhausted after {len(self._replies)} replies", endpoint_host="scripted", attempts=0
            )
        return self._replies[i % len(self._replies)]

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        reqs = check_requests(requests)
        with self._lock:
            self.requests.extend(reqs)
        out = []
        for req in reqs:
            try:
                reply = self._reply_for(req)
            except Exception as exc:  # a failing script is a per-request error, like a server's
                reply = ChatResponse.failure(f"script raised {type(exc).__name__}: {exc}", attempts=0)
            out.append(self._finish(req, reply))
        return out

    def _finish(self, req: ChatRequest, reply: Reply) -> ChatResponse:
        if isinstance(reply, ChatResponse):
            raw = reply.raw if reply.raw is not None else reply.text
            return replace(
                reply,
                model_resolved=reply.model_resolved or self.model,
                endpoint_host=reply.endpoint_host or "scripted",
                raw=raw,
                raw_id=reply.raw_id or raw_hash(raw),
            )
        text = str(reply)
        words_in = sum(len(m.text().split()) for m in req.messages)
        return ChatResponse(
            text=text,
            model_resolved=self.model,
            endpoint_host="scripted",
            finish_reason="stop",
            usage=Usage(words_in, len(text.split())),
            dollars=0.0,
            raw=text,
            raw_id=raw_hash(text),
            format_used=req.format_mode,
        )
