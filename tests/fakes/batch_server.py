"""The loopback chat server plus the OpenAI Batch API (``/v1/files``, ``/v1/batches``), for tests.

:class:`BatchServer` is a :class:`~tests.fakes.chat_server.ChatServer` (chat completions keep
working on the same port, so one server answers both the sync and the batch backend) that also
speaks the batch endpoints the ``openai`` client uses: upload a JSONL file
(multipart ``POST /files``), create / retrieve / list / cancel batches, download a file's content.
Each batch line is answered by the chat server's own machinery (``script``, ``handler``, the
``reject_*`` switches, the echo default), so a test scripts batch items exactly as it scripts
sync requests: a :class:`Reply` goes to the output file, a :class:`Status` to the error file.

A batch moves ``validating`` -> ``in_progress`` on its first poll and ends on poll number
``polls_to_finish`` unless ``hold`` is set (:meth:`release` lets it end). What it ends as:

* ``completed`` (default): every line answered;
* ``expired`` (``expire_after=k``): the first ``k`` lines answered, the rest ``batch_expired``;
* ``failed`` (``fail_validation="why"``, or a malformed input line): nothing answered.

Everything is recorded: :attr:`uploads` (file id -> bytes), :attr:`batches`, :attr:`batch_items`
(one :class:`Call` per answered line) and the HTTP calls in :attr:`calls`, so "one batch, one
upload" and "zero chat requests" are one-line assertions.
"""

from __future__ import annotations

import json
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .chat_server import Call, ChatServer, Delay, Reply, Status, _echo, _error_body, _send

CHAT_URL = "/v1/chat/completions"


class BatchServer(ChatServer):
    """See the module docstring. Extra knobs: ``polls_to_finish``, ``hold``, ``expire_after``,
    ``fail_validation``; everything else is :class:`ChatServer`'s."""

    def __init__(
        self,
        handler: Any = None,
        *,
        polls_to_finish: int = 2,
        hold: bool = False,
        expire_after: int | None = None,
        fail_validation: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self.polls_to_finish = polls_to_finish
        self.hold = hold
        self.expire_after = expire_after
        self.fail_validation = fail_validation
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.batch_items: list[Call] = []
        self._blk = threading.Lock()

    # --- what tests read -----------------------------------------------------------------

    def release(self) -> None:
        """Let held batches finish on their next poll."""
        self.hold = False

    def input_lines(self, batch_id: str) -> list[dict[str, Any]]:
        """The parsed JSONL lines of a batch's input file."""
        data = self.uploads[self.batches[batch_id]["input_file_id"]]
        return [json.loads(x) for x in data.decode().splitlines() if x.strip()]

    def batch_api_calls(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if "/files" in c.path or "/batches" in c.path]

    # --- routing -------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(h.path).path.rstrip("/")
        parts = path.split("/")
        if "files" not in parts and "batches" not in parts:
            super()._serve(h, method)
            return
        call = self._record(h, method)
        i = parts.index("files") if "files" in parts else parts.index("batches")
        kind, rest = parts[i], parts[i + 1 :]
        try:
            if kind == "files" and method == "POST" and not rest:
                _json(h, self._upload(call))
            elif kind == "files" and method == "GET" and len(rest) == 2 and rest[1] == "content":
                if rest[0] not in self.uploads:
                    _send(h, 404, _error_body(f"No such File object: {rest[0]}", 404))
                else:
                    _send(h, 200, self.uploads[rest[0]], content_type="application/octet-stream")
            elif kind == "files" and method == "GET" and len(rest) == 1 and rest[0] in self.files:
                _json(h, self.files[rest[0]])
            elif kind == "batches" and method == "POST" and not rest:
                _json(h, self._create(call))
            elif kind == "batches" and method == "GET" and not rest:
                with self._blk:
                    data = sorted(self.batches.values(), key=lambda b: -b["created_at"])
                _json(h, {"object": "list", "data": data, "has_more": False})
            elif kind == "batches" and len(rest) >= 1 and rest[0] in self.batches:
                if method == "POST" and rest[1:] == ["cancel"]:
                    _json(h, self._cancel(rest[0]))
                else:
                    _json(h, self._poll(rest[0]))
            else:
                _send(h, 404, _error_body(f"not found: {method} {path}", 404))
        except _BadRequest as exc:
            _send(h, 400, _error_body(str(exc), 400))

    # --- files ---------------------------------------------------------------------------

    def _upload(self, call: Call) -> dict[str, Any]:
        raw = call.body.get("_unparseable", "").encode("utf-8")  # multipart is not JSON
        ctype = call.headers.get("content-type", "")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        if "file" not in fields or fields.get("purpose", (None, b""))[1] != b"batch":
            raise _BadRequest("expected a 'file' part and purpose=batch")
        filename, data = fields["file"]
        with self._blk:
            fid = f"file-{len(self.files) + 1:04d}"
            self.uploads[fid] = data
            self.files[fid] = {
                "id": fid,
                "object": "file",
                "bytes": len(data),
                "created_at": int(time.time()),
                "filename": filename or "upload.jsonl",
                "purpose": "batch",
                "status": "processed",
            }
            return self.files[fid]

    def _add_file(self, lines: list[dict[str, Any]], name: str) -> str | None:
        if not lines:
            return None
        data = "".join(json.dumps(x) + "\n" for x in lines).encode()
        fid = f"file-{len(self.files) + 1:04d}"
        self.uploads[fid] = data
        self.files[fid] = {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": "batch_output",
            "status": "processed",
        }
        return fid

    # --- batches -------------------------------------------------------------------------

    def _create(self, call: Call) -> dict[str, Any]:
        b = call.body
        if b.get("endpoint") != CHAT_URL:
            raise _BadRequest(f"endpoint must be {CHAT_URL}")
        if b.get("completion_window") != "24h":
            raise _BadRequest("completion_window must be 24h")
        if b.get("input_file_id") not in self.uploads:
            raise _BadRequest(f"no such input file {b.get('input_file_id')!r}")
        with self._blk:
            bid = f"batch_{len(self.batches) + 1:04d}"
            now = int(time.time())
            self.batches[bid] = {
                "id": bid,
                "object": "batch",
                "endpoint": CHAT_URL,
                "errors": None,
                "input_file_id": b["input_file_id"],
                "completion_window": "24h",
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": now,
                "expires_at": now + 86400,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "metadata": b.get("metadata"),
            }
            self.polls[bid] = 0
            return dict(self.batches[bid])

    def _cancel(self, bid: str) -> dict[str, Any]:
        with self._blk:
            b = self.batches[bid]
            if b["status"] not in ("completed", "failed", "expired", "cancelled"):
                b["status"] = "cancelled"
                b["cancelled_at"] = int(time.time())
            return dict(b)

    def _poll(self, bid: str) -> dict[str, Any]:
        with self._blk:
            b = self.batches[bid]
            self.polls[bid] += 1
            if b["status"] == "validating":
                b["status"] = "in_progress"
                b["in_progress_at"] = int(time.time())
            if b["status"] == "in_progress" and not self.hold and self.polls[bid] >= self.polls_to_finish:
                self._finish(b)
            return json.loads(json.dumps(b))

    def _finish(self, b: dict[str, Any]) -> None:
        """Answer the batch's lines through the chat machinery and write its result files."""
        lines = [json.loads(x) for x in self.uploads[b["input_file_id"]].decode().splitlines() if x.strip()]
        problem = self.fail_validation or _validate(lines)
        now = int(time.time())
        b["request_counts"]["total"] = len(lines)
        if problem:
            b.update(status="failed", failed_at=now)
            b["errors"] = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": problem, "line": None}],
            }
            return
        out: list[dict[str, Any]] = []
        err: list[dict[str, Any]] = []
        for n, line in enumerate(lines):
            rid = f"batch_req_{b['id']}_{n}"
            if self.expire_after is not None and n >= self.expire_after:
                msg = "This request could not be executed before the completion window expired."
                err.append(
                    {
                        "id": rid,
                        "custom_id": line["custom_id"],
                        "response": None,
                        "error": {"code": "batch_expired", "message": msg},
                    }
                )
                continue
            code, body = self._answer(line["body"])
            target = out if code == 200 else err
            target.append(
                {
                    "id": rid,
                    "custom_id": line["custom_id"],
                    "error": None,
                    "response": {"status_code": code, "request_id": f"req_{n}", "body": body},
                }
            )
        b["request_counts"].update(completed=len(out), failed=len(err))
        b["output_file_id"] = self._add_file(out, f"{b['id']}_output.jsonl")
        b["error_file_id"] = self._add_file(err, f"{b['id']}_error.jsonl")
        if self.expire_after is not None and self.expire_after < len(lines):
            b.update(status="expired", expired_at=now)
        else:
            b.update(status="completed", completed_at=now)

    def _answer(self, body: dict[str, Any]) -> tuple[int, Any]:
        """One batch line through ``_decide``: (status code, response body)."""
        with self._lock:
            digest = json.dumps(body, sort_keys=True)
            seen = self._seen.get(digest, 0)
            self._seen[digest] = seen + 1
            call = Call(len(self.batch_items), CHAT_URL, "POST", {}, body, seen, time.monotonic())
            self.batch_items.append(call)
        action: Any = self._decide(call)
        while isinstance(action, Delay):  # a batch has no clock to wait on
            action = action.then if action.then is not None else _echo(call)
        if isinstance(action, Reply):
            return 200, json.loads(self._completion(call, action))
        if isinstance(action, Status):
            return action.code, json.loads(action.body or _error_body(action.message, action.code))
        return 500, json.loads(_error_body(f"fake batch server cannot send {type(action).__name__}", 500))


class _BadRequest(Exception):
    pass


def _validate(lines: list[dict[str, Any]]) -> str | None:
    """What the real service checks before running a batch (``None``: the file is fine)."""
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        cid = line.get("custom_id")
        if not isinstance(cid, str) or not cid:
            return f"line {n}: custom_id missing"
        if cid in seen:
            return f"line {n}: duplicate custom_id {cid!r}"
        seen.add(cid)
        if line.get("method") != "POST" or line.get("url") != CHAT_URL:
            return f"line {n}: method must be POST and url {CHAT_URL}"
        if not isinstance(line.get("body"), dict) or "model" not in line["body"]:
            return f"line {n}: body must be an object with a model"
    return None


def _json(h: BaseHTTPRequestHandler, obj: Any) -> None:
    _send(h, 200, json.dumps(obj).encode())
