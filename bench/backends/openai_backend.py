"""OpenAI-compatible chat backend (OpenAI, vLLM, SGLang, Ollama, LM Studio: any base URL).

Why it looks like this:

* The ``openai`` package's **async** client runs on an event loop owned by the backend, in a
  dedicated daemon thread. ``chat_many`` submits a batch to that loop and blocks on the result,
  so threads, processes (the loop is rebuilt after a fork or unpickling) and Ray workers all call
  it the same synchronous way, and one semaphore bounds the backend's concurrency no matter how
  many callers share it.
* Retries are ours, not the client's (``max_retries=0`` on the client): exponential backoff with
  full jitter, waiting at least what ``Retry-After`` (seconds, HTTP date, or ``retry-after-ms``)
  asks; retry on 408/409/429/5xx, timeouts, dropped connections and malformed bodies, never on
  other 4xx. A request waiting to retry does not hold a concurrency slot.
* JSON: a json_schema ``response_format`` is sent as such; when the server rejects it (400/422)
  the request falls back to ``json_object`` and then to plain text, with the schema added to the
  prompt as an instruction, and the backend remembers the weakest mode that worked so later
  requests do not pay for the rejection again. Callers parse with
  :meth:`ChatResponse.json`, whose last resort is :func:`extract_json`.
* The API key is read from an environment variable when the client is built; it is never stored
  in the spec, the repr, the pickled state, a log line or an error message (errors are scrubbed).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .base import (
    BackendBase,
    ChatRequest,
    ChatResponse,
    FormatMode,
    ImagePart,
    TextPart,
    check_requests,
)
from .wire import endpoint_host, parse_retry_after, read_completion, scrub_secrets

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_MODES: tuple[FormatMode, ...] = ("json_schema", "json_object", "text")
_RETRY_STATUS = {408, 409, 429}


class _Secret:
    """Holds the API key; prints as ``***`` so it cannot leak through a repr or a traceback."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "***"


@dataclass
class _Outcome:
    """Result of one send (with its retries): a parsed body, or an error."""

    body: dict[str, Any] | None
    raw: str | None
    attempts: int
    status_code: int | None = None
    error: str | None = None


class OpenAIBackend(BackendBase):
    """Chat through any OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        model: the model name sent to the server.
        base_url: the API root (``http://host:8000/v1`` for vLLM); default OpenAI's.
        api_key_env: the environment variable holding the key (read lazily, never stored in
            the spec). Local servers without auth work with the variable unset.
        revision: the model revision, when the server's name alone does not pin the weights.
        extra_body: extra request fields a server understands (e.g. vLLM's ``top_k``); part of
            the identity, since they change replies.
        concurrency, max_retries, timeout, backoff_base, backoff_max, max_retry_after:
            transport settings (not in the spec).
        prices: overrides of the price table (``{model prefix: (in, out) $/Mtok}``).

    >>> b = OpenAIBackend("gpt-4o-mini", base_url="http://127.0.0.1:8000/v1")
    >>> b.spec()["endpoint_host"]
    '127.0.0.1:8000'
    """

    name = "openai"
    version = "1"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        revision: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        concurrency: int = 32,
        max_retries: int = 5,
        timeout: float = 120.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 300.0,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("OpenAIBackend: concurrency must be >= 1")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env
        self.revision = revision
        self.extra_body = dict(extra_body) if extra_body else None
        self.concurrency = int(concurrency)
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.prices = dict(prices) if prices else None
        self.host = endpoint_host(self.base_url)
        # What the server turned out to accept; learned on the loop thread, read anywhere.
        self._format_floor = 0  # index into _MODES
        self._max_tokens_param = "max_tokens"
        self._init_runtime()

    # --- identity ------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        s: dict[str, Any] = {
            "kind": "openai",
            "model": self.model,
            "endpoint_host": self.host,
            "revision": self.revision,
        }
        if self.extra_body:
            s["extra_body"] = self.extra_body
        return s

    # --- runtime state: rebuilt after fork / unpickling ----------------------------------

    def _init_runtime(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._sem: asyncio.Semaphore | None = None
        self._secret: _Secret | None = None
        self._data_urls: OrderedDict[str, str] = OrderedDict()
        self._rng = random.Random()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for k in ("_lock", "_loop", "_thread", "_client", "_sem", "_secret", "_data_urls", "_rng"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._pid != os.getpid():  # forked: the parent's loop thread does not exist here
            self._init_runtime()
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name=f"editbench-openai[{self.host}]", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self) -> None:
        """Close the HTTP client and stop the loop thread (a later call starts them again)."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
            self._sem = None
        if loop is None or self._pid != os.getpid():
            return
        if client is not None:
            try:
                asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout=10)
            except Exception as exc:  # closing is best effort
                logger.debug("closing openai client: %s", self._scrub(str(exc)))
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the public calls ----------------------------------------------------------------

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """Send all requests concurrently (bounded), return responses in request order."""
        reqs = check_requests(requests)
        if not reqs:
            return []
        loop = self._ensure_loop()
        if threading.current_thread() is self._thread:
            raise RuntimeError("OpenAIBackend.chat_many called from its own event loop; use achat_many")
        wires = [self._wire_messages(r) for r in reqs]  # PNG/base64 work here, off the loop
        fut = asyncio.run_coroutine_threadsafe(self._gather(reqs, wires), loop)
        try:
            return fut.result()
        except BaseException:
            fut.cancel()
            raise

    async def achat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """The same for callers already inside an event loop (any loop, any thread)."""
        reqs = check_requests(requests)
        if not reqs:
            return []
        loop = self._ensure_loop()
        wires = [self._wire_messages(r) for r in reqs]
        coro = self._gather(reqs, wires)
        if asyncio.get_running_loop() is loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    # --- building requests ---------------------------------------------------------------

    def _data_url(self, part: ImagePart) -> str:
        with self._lock:
            url = self._data_urls.get(part.image_id)
            if url is not None:
                self._data_urls.move_to_end(part.image_id)
                return url
        url = "data:image/png;base64," + base64.b64encode(part.png_bytes()).decode("ascii")
        with self._lock:
            self._data_urls[part.image_id] = url
            while len(self._data_urls) > 32:
                self._data_urls.popitem(last=False)
        return url

    def _wire_messages(self, req: ChatRequest) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for m in req.messages:
            if len(m.content) == 1 and isinstance(m.content[0], TextPart):
                out.append({"role": m.role, "content": m.content[0].text})
                continue
            parts: list[dict[str, Any]] = []
            for p in m.content:
                if isinstance(p, TextPart):
                    parts.append({"type": "text", "text": p.text})
                else:
                    parts.append({"type": "image_url", "image_url": {"url": self._data_url(p)}})
            out.append({"role": m.role, "content": parts})
        return out

    @staticmethod
    def _format_hint(req: ChatRequest) -> str:
        fmt = req.response_format or {}
        if fmt.get("type") == "json_schema":
            schema = fmt["json_schema"].get("schema", {})
            return (
                "Reply with a single JSON object and nothing else. It must be valid against this "
                "JSON schema: " + json.dumps(schema, sort_keys=True)
            )
        return "Reply with a single JSON object and nothing else."

    def _kwargs(
        self, req: ChatRequest, wire: list[dict[str, Any]], mode: FormatMode, max_tokens_param: str
    ) -> dict[str, Any]:
        messages = wire
        if mode != req.format_mode:  # degraded: say in words what the format can no longer enforce
            messages = [dict(m) for m in wire]
            hint = self._format_hint(req)
            last = messages[-1]
            if last["role"] == "user":
                if isinstance(last["content"], str):
                    last["content"] = last["content"] + "\n\n" + hint
                else:
                    last["content"] = [*last["content"], {"type": "text", "text": hint}]
            else:
                messages.append({"role": "user", "content": hint})
        kw: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": req.temperature}
        if req.max_tokens is not None:
            kw[max_tokens_param] = req.max_tokens
        if req.top_p is not None:
            kw["top_p"] = req.top_p
        if req.seed is not None:
            kw["seed"] = req.seed
        if mode == "json_schema":
            kw["response_format"] = req.response_format
        elif mode == "json_object":
            kw["response_format"] = {"type": "json_object"}
        if req.logprobs:
            kw["logprobs"] = True
            if req.top_logprobs:
                kw["top_logprobs"] = req.top_logprobs
        if self.extra_body:
            kw.update(self.extra_body)
        return kw

    # --- running on the loop -------------------------------------------------------------

    async def _gather(self, reqs: list[ChatRequest], wires: list[list[dict[str, Any]]]) -> list[ChatResponse]:
        return list(await asyncio.gather(*(self._one_safe(r, w) for r, w in zip(reqs, wires, strict=True))))

    async def _one_safe(self, req: ChatRequest, wire: list[dict[str, Any]]) -> ChatResponse:
        t0 = time.monotonic()
        try:
            return await self._one(req, wire, t0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an unexpected client error: report it, never raise
            logger.exception("openai backend: unexpected failure")
            return ChatResponse.failure(
                self._scrub(f"{type(exc).__name__}: {exc}"),
                endpoint_host=self.host,
                seconds=time.monotonic() - t0,
                attempts=0,
            )

    def _get_client(self) -> Any:
        """Build the async client on the loop thread, on first use."""
        if self._client is None:
            from openai import AsyncOpenAI  # heavy: imported only when a request is made

            key = os.environ.get(self.api_key_env) or ""
            self._secret = _Secret(key)
            self._client = AsyncOpenAI(
                api_key=key or "EMPTY", base_url=self.base_url, max_retries=0, timeout=self.timeout
            )
            self._sem = asyncio.Semaphore(self.concurrency)
        return self._client

    async def _one(self, req: ChatRequest, wire: list[dict[str, Any]], t0: float) -> ChatResponse:
        client = self._get_client()
        if not self._secret or not self._secret.value:
            if self.host == "api.openai.com":
                return ChatResponse.failure(
                    f"no API key: set the environment variable {self.api_key_env}",
                    endpoint_host=self.host,
                    attempts=0,
                )
        asked_i = _MODES.index(req.format_mode)
        mode_i = max(asked_i, self._format_floor)
        mt_param = self._max_tokens_param
        attempts = 0
        while True:
            mode = _MODES[mode_i]
            out = await self._send(client, self._kwargs(req, wire, mode, mt_param))
            attempts += out.attempts
            if out.body is not None:
                if mode_i > asked_i and mode_i > self._format_floor:  # learned a fallback: remember it
                    logger.info("%s: server accepts response_format only down to %s", self.host, mode)
                    self._format_floor = mode_i
                self._max_tokens_param = mt_param
                return read_completion(
                    out.body,
                    out.raw or "",
                    model=self.model,
                    host=self.host,
                    prices=self.prices,
                    mode=mode,
                    attempts=attempts,
                    seconds=time.monotonic() - t0,
                    scrub=self._scrub,
                )
            if out.status_code in (400, 422):
                msg = out.error or ""
                if mt_param == "max_tokens" and req.max_tokens is not None and "max_completion_tokens" in msg:
                    mt_param = "max_completion_tokens"
                    continue
                if mode != "text":
                    logger.debug("%s rejected response_format %s: %s", self.host, mode, msg[:200])
                    mode_i += 1
                    continue
            logger.warning("%s: request failed after %d attempt(s): %s", self.host, attempts, out.error)
            return ChatResponse.failure(
                out.error or "unknown error",
                endpoint_host=self.host,
                seconds=time.monotonic() - t0,
                attempts=attempts,
            )

    async def _send(self, client: Any, kwargs: dict[str, Any]) -> _Outcome:
        """One logical request with its retries."""
        import openai  # already imported by _get_client; cheap

        assert self._sem is not None
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            status: int | None = None
            try:
                async with self._sem:
                    # The generic ``post`` (the client's documented escape hatch) rather than
                    # ``chat.completions.create``: same auth, pool and error mapping, but no
                    # per-request walk of typed params (a fifth of the CPU per request), and the
                    # raw body comes back untouched, so we hash and parse exactly what was sent.
                    text: str = await client.post(
                        "/chat/completions", cast_to=str, body=kwargs, options={"timeout": self.timeout}
                    )
                try:
                    body = json.loads(text)
                    if not isinstance(body, dict):
                        raise ValueError("body is not a JSON object")
                    return _Outcome(body=body, raw=text, attempts=attempt)
                except ValueError as exc:
                    error = f"malformed reply body ({exc}): {text[:200]!r}"
                    retryable = True
            except openai.APIStatusError as exc:
                status = exc.status_code
                retry_after = parse_retry_after(exc.response.headers)
                error = f"HTTP {status}: {exc.message}"
                retryable = status in _RETRY_STATUS or status >= 500
            except openai.APITimeoutError:
                error = f"timed out after {self.timeout:g} s"
                retryable = True
            except openai.APIConnectionError as exc:
                cause = exc.__cause__ or exc
                error = f"connection error: {type(cause).__name__}: {cause}"
                retryable = True
            error = self._scrub(error)
            if not retryable or attempt > self.max_retries:
                return _Outcome(body=None, raw=None, attempts=attempt, status_code=status, error=error)
            delay = self._backoff(attempt - 1, retry_after)
            logger.debug("%s: %s; retry %d in %.2f s", self.host, error, attempt, delay)
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**attempt)), but never less than Retry-After."""
        delay = self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * (2**attempt)))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay

    # --- reading replies -----------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """Remove the API key (and anything key-shaped) from a message; bound its length."""
        secret = self._secret.value if self._secret else os.environ.get(self.api_key_env, "")
        return scrub_secrets(text, secret)
