"""A real chat-completions HTTP server on loopback, scriptable per request, for tests.

It speaks ``POST /v1/chat/completions`` and ``GET /v1/models`` over real sockets (stdlib
``ThreadingHTTPServer``, a thread per connection, keep-alive), so the real ``openai`` client and
everything under it are exercised. Start it on port 0 as a context manager::

    with ChatServer(latency=0.05) as srv:
        backend = OpenAIBackend("fake-model", base_url=srv.url)
        ...
        assert len(srv.chat_calls()) == 3

What a request gets is decided, in order, by: the ``script`` (a list of actions consumed in
arrival order), then the ``handler`` (``Call -> action``), then an echo of the prompt. Actions:
:class:`Reply` (text, refusal, finish reason, logprobs), :class:`Status` (any HTTP error, e.g.
429 with ``Retry-After``: see :func:`rate_limited`), :class:`Raw` (arbitrary bytes: malformed
JSON), :class:`Truncated` (a body cut short and the connection closed), :class:`Drop` (close
without answering) and :class:`Delay` (wait, then another action). ``Call.seen`` counts earlier
requests with the same body, so "fail twice, then answer" is deterministic under concurrency.
Every request is recorded (:attr:`ChatServer.calls`), so "zero requests on a warm cache" is a
one-line assertion.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """A 200 chat completion. ``logprobs``: ``[(token, logprob, [(alt, logprob), ...]), ...]``;
    when ``None`` and the request asked for logprobs, one entry per whitespace token is made up."""

    text: str | None = ""
    refusal: str | None = None
    finish_reason: str = "stop"
    logprobs: list[tuple[str, float, list[tuple[str, float]]]] | None = None
    model: str | None = None
    usage: dict[str, int] | None = None


@dataclass(frozen=True)
class Status:
    """An HTTP error status with an OpenAI-shaped error body (or ``body`` verbatim)."""

    code: int
    message: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class Raw:
    """Arbitrary bytes as the body (with a correct Content-Length): malformed JSON and the like."""

    body: bytes
    code: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True)
class Truncated:
    """Announce the full reply's length, send only ``fraction`` of it, then close the socket."""

    text: str = "this reply will be cut"
    fraction: float = 0.5


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending anything."""


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (on top of the server's latency), then answer with ``then``."""

    seconds: float
    then: Action | None = None


Action = Reply | Status | Raw | Truncated | Drop | Delay


def rate_limited(retry_after: float | str = 1, code: int = 429) -> Status:
    """A 429 (or other code) carrying ``Retry-After`` (seconds, or an HTTP date string)."""
    value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
    return Status(code, "rate limited", headers={"Retry-After": value})


@dataclass
class Call:
    """One request as received. ``seen``: how many earlier requests had an identical body."""

    index: int
    path: str
    method: str
    headers: dict[str, str]
    body: dict[str, Any]
    seen: int
    received: float

    def prompt(self) -> str:
        """The text of the last user message (what the echo default answers)."""
        for m in reversed(self.body.get("messages") or []):
            if m.get("role") == "user":
                c = m.get("content")
                if isinstance(c, str):
                    return c
                return "\n".join(p.get("text", "") for p in c or [] if p.get("type") == "text")
        return ""

    def images(self) -> list[str]:
        """The image URLs (data URLs) in the request, in order."""
        out = []
        for m in self.body.get("messages") or []:
            c = m.get("content")
            if isinstance(c, list):
                out += [p["image_url"]["url"] for p in c if p.get("type") == "image_url"]
        return out


Handler = Callable[[Call], Action]


class ChatServer:
    """The loopback server. See the module docstring."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        script: list[Action] | None = None,
        latency: float = 0.0,
        model: str = "fake-model",
        reject_json_schema: bool = False,
        reject_json_object: bool = False,
        reject_max_tokens: bool = False,
    ) -> None:
        self.handler = handler
        self.script = list(script or [])
        self.latency = latency
        self.model = model
        self.reject_json_schema = reject_json_schema
        self.reject_json_object = reject_json_object
        self.reject_max_tokens = reject_max_tokens
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> ChatServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60
            # Headers and body go out in two writes; with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms a request), which would swamp any latency we measure.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

        class _Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024
            allow_reuse_address = True

        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-chat-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to hand a client (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_calls(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path.endswith("/chat/completions")]

    def reset(self) -> None:
        """Forget recorded calls and the identical-body counts."""
        with self._lock:
            self.calls.clear()
            self._seen.clear()

    # --- serving -------------------------------------------------------------------------

    def _record(self, h: BaseHTTPRequestHandler, method: str) -> Call:
        n = int(h.headers.get("Content-Length") or 0)
        data = h.rfile.read(n) if n else b""
        try:
            body = json.loads(data) if data else {}
        except ValueError:
            body = {"_unparseable": data.decode("utf-8", "replace")}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            seen = self._seen.get(digest, 0)
            self._seen[digest] = seen + 1
            call = Call(
                len(self.calls),
                h.path,
                method,
                {k.lower(): v for k, v in h.headers.items()},
                body,
                seen,
                time.monotonic(),
            )
            self.calls.append(call)
        return call

    def _decide(self, call: Call) -> Action:
        fmt = (call.body.get("response_format") or {}).get("type")
        if self.reject_json_schema and fmt == "json_schema":
            return Status(400, "response_format type json_schema is not supported by this server")
        if self.reject_json_object and fmt in ("json_schema", "json_object"):
            return Status(400, f"response_format type {fmt} is not supported by this server")
        if self.reject_max_tokens and "max_tokens" in call.body:
            return Status(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
            )
        with self._lock:
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            return scripted
        if self.handler is not None:
            return self.handler(call)
        return _echo(call)

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        call = self._record(h, method)
        if self.latency:
            time.sleep(self.latency)
        if method == "GET":
            if call.path.rstrip("/").endswith("/_fake/stats"):
                _send(
                    h,
                    200,
                    json.dumps({"calls": len(self.calls), "chat_calls": len(self.chat_calls())}).encode(),
                )
            elif call.path.rstrip("/").endswith("/models"):
                _send(
                    h,
                    200,
                    json.dumps(
                        {
                            "object": "list",
                            "data": [{"id": self.model, "object": "model", "owned_by": "fake"}],
                        }
                    ).encode(),
                )
            else:
                _send(h, 404, _error_body("not found", 404))
            return
        if not call.path.rstrip("/").endswith("/chat/completions"):
            _send(h, 404, _error_body("not found", 404))
            return
        action: Action | None = self._decide(call)
        while isinstance(action, Delay):
            time.sleep(action.seconds)
            action = action.then if action.then is not None else _echo(call)
        self._act(h, call, action)

    def _act(self, h: BaseHTTPRequestHandler, call: Call, action: Action) -> None:
        if isinstance(action, Reply):
            _send(h, 200, self._completion(call, action))
        elif isinstance(action, Status):
            body = action.body if action.body is not None else _error_body(action.message, action.code)
            _send(h, action.code, body, headers=action.headers)
        elif isinstance(action, Raw):
            _send(h, action.code, action.body, content_type=action.content_type)
        elif isinstance(action, Truncated):
            full = self._completion(call, Reply(action.text))
            cut = full[: max(1, int(len(full) * action.fraction))]
            h.close_connection = True
            try:
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(full)))
                h.send_header("Connection", "close")
                h.end_headers()
                h.wfile.write(cut)
                h.wfile.flush()
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif isinstance(action, Drop):
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:  # pragma: no cover - a test wrote a wrong action
            _send(h, 500, _error_body(f"fake server: unknown action {action!r}", 500))

    def _completion(self, call: Call, r: Reply) -> bytes:
        text = r.text
        lp: Any = None
        if call.body.get("logprobs"):
            k = int(call.body.get("top_logprobs") or 0)
            entries = r.logprobs
            if entries is None:
                entries = [(t, -0.1, [(t, -0.1), ("<alt>", -2.5)][:k]) for t in (text or "").split()]
            lp = {
                "content": [
                    {
                        "token": t,
                        "logprob": v,
                        "bytes": list(t.encode()),
                        "top_logprobs": [
                            {"token": a, "logprob": av, "bytes": list(a.encode())} for a, av in alts
                        ],
                    }
                    for t, v, alts in entries
                ]
            }
        words_in = sum(len(_text_of(m).split()) for m in call.body.get("messages") or [])
        usage = r.usage or {
            "prompt_tokens": words_in,
            "completion_tokens": len((text or "").split()),
            "total_tokens": words_in + len((text or "").split()),
        }
        body = {
            "id": f"chatcmpl-fake-{call.index}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": r.model or self.model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": r.finish_reason,
                    "logprobs": lp,
                    "message": {"role": "assistant", "content": text, "refusal": r.refusal},
                }
            ],
            "usage": usage,
        }
        return json.dumps(body).encode()


def _serve_child(kwargs: dict[str, Any], conn: Any) -> None:
    srv = ChatServer(**kwargs).start()
    conn.send(srv.url)
    try:
        conn.recv()  # any message (or the parent going away) means stop
    except EOFError:
        pass
    srv.stop()


class ChatServerProcess:
    """The same server in a child process, so its threads do not compete with the client for
    the GIL: what a benchmark of the client wants. ``kwargs`` go to :class:`ChatServer` (a
    ``handler`` must then be picklable). Recorded calls stay in the child; :meth:`chat_calls`
    reads their count over HTTP."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.url = ""
        self._proc: Any = None
        self._conn: Any = None

    def __enter__(self) -> ChatServerProcess:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # never fork a process that has threads running
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_child, args=(self.kwargs, child), daemon=True)
        self._proc.start()
        if not self._conn.poll(60):
            self._proc.terminate()
            raise RuntimeError("fake chat server process did not start")
        self.url = self._conn.recv()
        return self

    def chat_calls(self) -> int:
        """How many chat-completion requests the child has received so far."""
        import urllib.request

        with urllib.request.urlopen(self.url + "/_fake/stats", timeout=10) as r:
            return int(json.loads(r.read())["chat_calls"])

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=5)


def _text_of(m: dict[str, Any]) -> str:
    c = m.get("content")
    if isinstance(c, str):
        return c
    return " ".join(p.get("text", "") for p in c or [] if isinstance(p, dict))


def _echo(call: Call) -> Reply:
    """The default answer: the prompt echoed, as JSON when a JSON format was asked for."""
    fmt = (call.body.get("response_format") or {}).get("type")
    if fmt in ("json_object", "json_schema"):
        return Reply(json.dumps({"echo": call.prompt()}))
    return Reply("echo: " + call.prompt())


def _error_body(message: str, code: int) -> bytes:
    kind = "invalid_request_error" if code < 500 else "server_error"
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


def _send(
    h: BaseHTTPRequestHandler,
    code: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    try:
        h.send_response(code)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
    except OSError:  # the client went away (timed out): nothing to do
        h.close_connection = True
