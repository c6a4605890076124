"""The OpenAI Batch API as a backend: the same requests as ``openai``, half the price, hours later.

Why it looks like this:

* **Same identity as the sync backend.** :class:`OpenAIBatchBackend` subclasses
  :class:`~bench.backends.openai_backend.OpenAIBackend`: same ``name``, ``version`` and
  ``spec()`` (kind ``openai``, model, endpoint host, revision), and the very same request bodies.
  A reply is the model's reply however it was delivered, so cache keys are equal and batch and
  sync replies fill one cache: behind :class:`~bench.cache.CachedBackend` only misses are batched.
* **Custom ids are content keys.** A request's ``custom_id`` is its cache key (backend, spec and
  request key material), so results map back by content, duplicates go in once, and a re-run
  recognises requests that are already in a batch.
* **Resume instead of paying twice.** Before anything is submitted, a state file
  (``<state_dir>/<set key>.json``: the input file id, then the batch id, and the custom ids; never
  a key or a prompt) is written under a lock. A later ``chat_many`` — in this process or after a
  kill — that needs any of those ids polls that batch instead of submitting again. A process
  killed between creating the batch and recording its id leaves the input file id behind; the
  next run finds the batch by its ``editbench_set`` metadata before creating one. The state file
  is removed once results were downloaded (or the batch proved unrecoverable).
* **Statuses per request.** ``ok`` and ``refused`` as the sync backend reads them (one shared
  reader, :func:`~bench.backends.wire.read_completion`); a non-200 item, an expired or cancelled
  item, a failed batch or a missing line is ``error`` with the reason. Dollars are the price
  table's times :data:`BATCH_DISCOUNT`.
* **No format fallback.** A batch cannot be renegotiated per request: a server that rejects
  ``json_schema`` reports it as an item error (use the sync backend against such servers).
* Polling is synchronous in the calling thread with geometric backoff; ``max_wait`` bounds how
  long one call blocks (requests still running come back as errors saying so, and the next call
  resumes). Transport calls (upload, create, poll, download) use the ``openai`` client's own
  retries, which honour ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .base import ChatRequest, ChatResponse, check_requests
from .openai_backend import OpenAIBackend, _Secret
from .wire import read_completion

logger = logging.getLogger(__name__)

BATCH_DISCOUNT = 0.5  # the Batch API's price relative to synchronous requests
STATE_VERSION = 1
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
ENDPOINT = "/v1/chat/completions"
MAX_BATCH_REQUESTS = 50_000  # the Batch API's per-batch limits
MAX_BATCH_BYTES = 190 * 1024 * 1024  # under the 200 MB input-file limit, with room for framing


@dataclass
class BatchJob:
    """One batch as its state file records it. ``batch_id`` is ``None`` between upload and create."""

    set_key: str
    custom_ids: tuple[str, ...]
    input_file_id: str
    path: Path
    batch_id: str | None = None
    created: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "set_key": self.set_key,
            "input_file_id": self.input_file_id,
            "batch_id": self.batch_id,
            "created": self.created,
            "custom_ids": list(self.custom_ids),
        }


class OpenAIBatchBackend(OpenAIBackend):
    """Chat completions through the OpenAI Batch API (``/v1/files`` + ``/v1/batches``).

    Args:
        model, base_url, api_key_env, revision, extra_body, prices: as for ``OpenAIBackend``
            (the identity is the same).
        poll_interval: seconds before the first status poll; each later wait is 1.5 times longer,
            up to ``max_poll_interval``.
        completion_window: the Batch API's window (``"24h"``).
        state_dir: where pending batches are recorded (default ``<cache dir>/batches``).
        max_wait: seconds one ``chat_many`` waits for its batches (``None``: until they end).
        max_tokens_param: ``max_tokens``, ``max_completion_tokens``, or ``auto`` (the latter
            on api.openai.com, which accepts it for every chat model, the former elsewhere).
        max_batch_requests, max_batch_bytes: split larger submissions into several batches.
        max_retries, timeout: for each HTTP call of the batch API (transport, not identity).

    >>> b = OpenAIBatchBackend("gpt-4o-mini", base_url="http://127.0.0.1:8000/v1")
    >>> b.spec() == OpenAIBackend("gpt-4o-mini", base_url="http://127.0.0.1:8000/v1").spec()
    True
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        revision: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        poll_interval: float = 30.0,
        max_poll_interval: float = 600.0,
        completion_window: str = "24h",
        state_dir: str | os.PathLike[str] | None = None,
        max_wait: float | None = None,
        max_tokens_param: str = "auto",
        max_batch_requests: int = MAX_BATCH_REQUESTS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        max_retries: int = 5,
        timeout: float = 120.0,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        if poll_interval <= 0 or max_poll_interval < poll_interval:
            raise ValueError("OpenAIBatchBackend: need 0 < poll_interval <= max_poll_interval")
        if max_tokens_param not in ("auto", "max_tokens", "max_completion_tokens"):
            raise ValueError(f"OpenAIBatchBackend: unknown max_tokens_param {max_tokens_param!r}")
        if max_batch_requests < 1 or max_batch_bytes < 1:
            raise ValueError("OpenAIBatchBackend: batch limits must be positive")
        super().__init__(
            model,
            base_url,
            api_key_env=api_key_env,
            revision=revision,
            extra_body=extra_body,
            max_retries=max_retries,
            timeout=timeout,
            prices=prices,
        )
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval)
        self.completion_window = completion_window
        self.state_dir = Path(state_dir).expanduser() if state_dir is not None else None
        self.max_wait = None if max_wait is None else float(max_wait)
        if max_tokens_param == "auto":
            max_tokens_param = "max_completion_tokens" if self.host == "api.openai.com" else "max_tokens"
        self.max_tokens_param = max_tokens_param
        self.max_batch_requests = int(max_batch_requests)
        self.max_batch_bytes = int(max_batch_bytes)

    # --- runtime state -------------------------------------------------------------------

    def _init_runtime(self) -> None:
        super()._init_runtime()
        self._sync_client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_sync_client", None)
        return state

    def _client_sync(self) -> Any:
        """The synchronous ``openai`` client (built on first use; its retries are the client's)."""
        if self._pid != os.getpid():
            self._init_runtime()
        with self._lock:
            if self._sync_client is None:
                from openai import OpenAI  # heavy: imported only when a batch is made

                key = os.environ.get(self.api_key_env) or ""
                self._secret = _Secret(key)
                self._sync_client = OpenAI(
                    api_key=key or "EMPTY",
                    base_url=self.base_url,
                    max_retries=self.max_retries,
                    timeout=self.timeout,
                )
            return self._sync_client

    def close(self) -> None:
        client, self._sync_client = self._sync_client, None
        if client is not None:
            client.close()
        super().close()

    def resolved_state_dir(self) -> Path:
        """Where pending batches are recorded: ``state_dir``, else ``<editbench cache>/batches``."""
        if self.state_dir is not None:
            return self.state_dir
        from bench.cache import default_cache_dir

        return default_cache_dir() / "batches"

    # --- keys ----------------------------------------------------------------------------

    def request_key(self, request: ChatRequest) -> str:
        """The request's ``custom_id``: exactly :meth:`bench.cache.CachedBackend.key` for this backend."""
        from bench.cache import CACHE_KEY_VERSION, key_for

        return key_for(
            {
                "v": CACHE_KEY_VERSION,
                "kind": "chat",
                "backend": self.name,
                "version": self.version,
                "spec": self.spec(),
                "request": request.key_material(),
            }
        )

    # --- the public calls ----------------------------------------------------------------

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """Submit (or resume) batches for the requests, wait, return responses in request order."""
        reqs = check_requests(requests)
        if not reqs:
            return []
        t0 = time.monotonic()
        keys = [self.request_key(r) for r in reqs]
        by_key: dict[str, ChatRequest] = {}
        for k, r in zip(keys, reqs, strict=True):
            by_key.setdefault(k, r)  # duplicates go in once, in first-seen order
        client = self._client_sync()
        if self.host == "api.openai.com" and not (self._secret and self._secret.value):
            msg = f"no API key: set the environment variable {self.api_key_env}"
            return [ChatResponse.failure(msg, endpoint_host=self.host, attempts=0) for _ in reqs]
        results: dict[str, ChatResponse] = {}
        with self._state_lock():
            jobs = self._resume(client, set(by_key), results)
            covered = {cid for j in jobs for cid in j.custom_ids}
            todo = [k for k in by_key if k not in covered and k not in results]
            jobs += self._submit(client, todo, by_key, results)
        self._wait_and_collect(client, jobs, by_key, results, t0)
        out = []
        for k in keys:
            r = results.get(k)
            out.append(
                r
                if r is not None
                else ChatResponse.failure("no result for this request", endpoint_host=self.host)
            )
        return out

    async def achat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """The same from inside an event loop: the blocking wait runs in a worker thread."""
        return await asyncio.to_thread(self.chat_many, requests)

    # --- state files ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _state_lock(self) -> Iterator[None]:
        """Serialise find-or-submit across threads and processes, so a set is submitted once."""
        d = self.resolved_state_dir()
        d.mkdir(parents=True, exist_ok=True)
        with open(d / ".lock", "a+") as fh:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX: threads of one process still serialise
                with self._lock:
                    yield
                return
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _save(self, job: BatchJob) -> None:
        tmp = job.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job.to_json()), encoding="utf-8")
        os.replace(tmp, job.path)

    def _forget(self, job: BatchJob) -> None:
        job.path.unlink(missing_ok=True)

    def _pending(self) -> list[BatchJob]:
        jobs = []
        for p in sorted(self.resolved_state_dir().glob("*.json")):
            try:
                d = json.loads(p.read_text(encoding="utf-8"))
                if d.get("v") != STATE_VERSION:
                    continue
                jobs.append(
                    BatchJob(
                        d["set_key"],
                        tuple(d["custom_ids"]),
                        d["input_file_id"],
                        p,
                        d.get("batch_id"),
                        d["created"],
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning("batch state %s unreadable (%s): ignored", p.name, exc)
        return jobs

    # --- submitting ----------------------------------------------------------------------

    def _resume(self, client: Any, wanted: set[str], results: dict[str, ChatResponse]) -> list[BatchJob]:
        """Pending batches holding any wanted request; one lost between upload and create is
        found by its metadata or created from its recorded input file."""
        jobs = []
        for job in self._pending():
            if wanted.isdisjoint(job.custom_ids):
                continue
            if job.batch_id is None:
                try:
                    job.batch_id = self._find_batch(client, job) or self._create(client, job)
                except Exception as exc:
                    self._fail(job.custom_ids, f"could not create batch: {self._describe(exc)}", results)
                    self._forget(job)
                    continue
                self._save(job)
            logger.info("resuming batch %s (%d requests)", job.batch_id, len(job.custom_ids))
            jobs.append(job)
        return jobs

    def _find_batch(self, client: Any, job: BatchJob) -> str | None:
        for b in client.batches.list(limit=100):
            meta = getattr(b, "metadata", None) or {}
            if meta.get("editbench_set") == job.set_key and b.input_file_id == job.input_file_id:
                logger.info("adopting batch %s created before an interruption", b.id)
                return str(b.id)
            if b.created_at and b.created_at < job.created - 3600:
                break  # listed newest first: older batches cannot be ours
        return None

    def _create(self, client: Any, job: BatchJob) -> str:
        batch = client.batches.create(
            input_file_id=job.input_file_id,
            endpoint=ENDPOINT,
            completion_window=self.completion_window,
            metadata={"editbench_set": job.set_key},
        )
        logger.info("created batch %s with %d requests", batch.id, len(job.custom_ids))
        return str(batch.id)

    def _lines(self, keys: list[str], by_key: Mapping[str, ChatRequest]) -> Iterator[list[tuple[str, bytes]]]:
        """The JSONL lines of ``keys``, chunked to the per-batch request and byte limits."""
        chunk: list[tuple[str, bytes]] = []
        size = 0
        for k in keys:
            req = by_key[k]
            body = self._kwargs(req, self._wire_messages(req), req.format_mode, self.max_tokens_param)
            line = (
                json.dumps({"custom_id": k, "method": "POST", "url": ENDPOINT, "body": body}).encode() + b"\n"
            )
            if chunk and (len(chunk) >= self.max_batch_requests or size + len(line) > self.max_batch_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append((k, line))
            size += len(line)
        if chunk:
            yield chunk

    def _submit(
        self,
        client: Any,
        keys: list[str],
        by_key: Mapping[str, ChatRequest],
        results: dict[str, ChatResponse],
    ) -> list[BatchJob]:
        from bench.cache import key_for

        jobs = []
        for chunk in self._lines(keys, by_key):
            ids = tuple(k for k, _ in chunk)
            set_key = key_for({"v": STATE_VERSION, "spec": self.spec(), "ids": sorted(ids)})
            data = b"".join(line for _, line in chunk)
            try:
                f = client.files.create(file=(f"editbench-{set_key[:16]}.jsonl", data), purpose="batch")
            except Exception as exc:
                self._fail(ids, f"batch upload failed: {self._describe(exc)}", results)
                continue
            job = BatchJob(set_key, ids, str(f.id), self.resolved_state_dir() / f"{set_key[:40]}.json")
            self._save(job)  # from here on a kill cannot make us pay twice
            try:
                job.batch_id = self._create(client, job)
            except Exception as exc:
                self._fail(ids, f"could not create batch: {self._describe(exc)}", results)
                self._forget(job)
                continue
            self._save(job)
            jobs.append(job)
        return jobs

    # --- waiting and collecting ----------------------------------------------------------

    def _wait_and_collect(
        self,
        client: Any,
        jobs: list[BatchJob],
        by_key: Mapping[str, ChatRequest],
        results: dict[str, ChatResponse],
        t0: float,
    ) -> None:
        import openai

        pending = {j.batch_id: j for j in jobs if j.batch_id}
        last: dict[str, Any] = {}
        interval = self.poll_interval
        failures = 0
        while pending:
            for bid, job in list(pending.items()):
                try:
                    batch = client.batches.retrieve(bid)
                except openai.NotFoundError as exc:  # gone (another account, or deleted): start over
                    self._fail(
                        job.custom_ids, f"batch {bid} not found: {self._describe(exc)}", results, by_key
                    )
                    self._forget(job)
                    del pending[bid]
                    continue
                except openai.OpenAIError as exc:
                    failures += 1
                    logger.warning("polling batch %s failed (%s)", bid, self._describe(exc))
                    continue
                failures = 0
                last[bid] = batch
                counts = getattr(batch, "request_counts", None)
                logger.info(
                    "batch %s: %s (%s/%s done)",
                    bid,
                    batch.status,
                    getattr(counts, "completed", "?"),
                    getattr(counts, "total", "?"),
                )
                if batch.status in TERMINAL:
                    self._collect(client, job, batch, by_key, results, t0)
                    del pending[bid]
            if not pending:
                return
            waited = time.monotonic() - t0
            if failures > 5 * len(pending) or (
                self.max_wait is not None and waited + interval > self.max_wait
            ):
                break
            time.sleep(interval)
            interval = min(interval * 1.5, self.max_poll_interval)
        for bid, job in pending.items():
            status = getattr(last.get(bid), "status", "unknown")
            msg = (
                f"batch {bid} is still {status} after {time.monotonic() - t0:.0f} s; it keeps running "
                f"and the next call with these requests collects it (state {job.path})"
            )
            self._fail(job.custom_ids, msg, results, by_key)

    def _collect(
        self,
        client: Any,
        job: BatchJob,
        batch: Any,
        by_key: Mapping[str, ChatRequest],
        results: dict[str, ChatResponse],
        t0: float,
    ) -> None:
        """Read a finished batch's output and error files into per-request responses."""
        import openai

        seconds = time.monotonic() - t0
        got: dict[str, ChatResponse] = {}
        for fid in (batch.output_file_id, batch.error_file_id):
            if not fid:
                continue
            try:
                text = client.files.content(fid).text
            except openai.NotFoundError as exc:
                logger.warning("batch %s: result file %s is gone (%s)", batch.id, fid, self._describe(exc))
                continue
            except openai.OpenAIError as exc:  # keep the state: the next call downloads again
                self._fail(
                    job.custom_ids,
                    f"batch {batch.id}: download failed: {self._describe(exc)}",
                    results,
                    by_key,
                )
                return
            for n, line in enumerate(text.splitlines()):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    cid = item["custom_id"]
                except (ValueError, KeyError, TypeError):
                    logger.warning("batch %s: unreadable result line %d in %s", batch.id, n + 1, fid)
                    continue
                if cid in by_key:
                    got[cid] = self._read_item(item, by_key[cid], seconds)
        why = self._batch_error(batch)
        for cid in job.custom_ids:
            if cid not in by_key:
                continue
            resp = got.get(cid)
            if resp is None:
                resp = ChatResponse.failure(
                    f"batch {batch.id} ended {batch.status} without a result for this request{why}",
                    endpoint_host=self.host,
                    seconds=seconds,
                )
            results[cid] = resp
        self._forget(job)
        n_ok = sum(results[c].ok for c in job.custom_ids if c in results)
        logger.info(
            "batch %s %s: %d of %d requests answered", batch.id, batch.status, n_ok, len(job.custom_ids)
        )

    def _read_item(self, item: dict[str, Any], req: ChatRequest, seconds: float) -> ChatResponse:
        """One output/error line -> a response (a refusal or an HTTP error keeps its message)."""
        err = item.get("error")
        resp = item.get("response") or {}
        code = resp.get("status_code")
        body = resp.get("body")
        if err:
            what = err.get("message") if isinstance(err, dict) else str(err)
            kind = err.get("code") if isinstance(err, dict) else None
            msg = f"batch item {kind}: {what}" if kind else f"batch item error: {what}"
            return ChatResponse.failure(self._scrub(msg), endpoint_host=self.host, seconds=seconds)
        if code == 200 and isinstance(body, dict):
            out = read_completion(
                body,
                json.dumps(body, ensure_ascii=False),
                model=self.model,
                host=self.host,
                prices=self.prices,
                mode=req.format_mode,
                attempts=1,
                seconds=seconds,
                scrub=self._scrub,
            )
            return out if out.dollars is None else replace(out, dollars=out.dollars * BATCH_DISCOUNT)
        detail = body.get("error") if isinstance(body, dict) else body
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        return ChatResponse.failure(
            self._scrub(f"HTTP {code}: {detail}"), endpoint_host=self.host, seconds=seconds
        )

    @staticmethod
    def _batch_error(batch: Any) -> str:
        errors = getattr(getattr(batch, "errors", None), "data", None) or []
        msgs = [f"{getattr(e, 'code', '')}: {getattr(e, 'message', '')}".strip(": ") for e in errors[:3]]
        return f" ({'; '.join(msgs)})" if msgs else ""

    def _fail(
        self,
        ids: Sequence[str],
        message: str,
        results: dict[str, ChatResponse],
        by_key: Mapping[str, ChatRequest] | None = None,
    ) -> None:
        logger.warning("%s: %s", self.host, message)
        for cid in ids:
            if by_key is None or cid in by_key:
                results[cid] = ChatResponse.failure(self._scrub(message), endpoint_host=self.host)

    def _describe(self, exc: BaseException) -> str:
        return self._scrub(f"{type(exc).__name__}: {exc}")
