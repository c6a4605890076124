"""Content-keyed caches shared across runs and processes (SQLite in WAL mode).

A value is stored under ``(namespace, key)`` where ``key`` is the SHA-256 of the canonical JSON
of whatever determines the value (:func:`key_for`). Namespaces keep kinds apart (``replies``
for model replies, ``tools`` for tool outputs) in one file. The file lives in
``$EDITBENCH_CACHE`` (else ``$XDG_CACHE_HOME/editbench``, else ``~/.cache/editbench``) unless a
directory is given.

Concurrency: each thread (and each process, after a fork) opens its own connection; WAL lets
readers run beside a writer and a busy timeout makes writers queue instead of failing. Writes
are first-writer-wins (:meth:`ReplyCache.setdefault`), so two processes racing on the same miss
end up returning the same stored reply.

:class:`CachedBackend` puts a backend behind the cache: a re-run from a warm cache makes no
model call and gets byte-identical replies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .backends.base import BackendBase, ChatRequest, ChatResponse, check_requests
from .jsonio import canonical_json  # the one canonical form identities hash

logger = logging.getLogger(__name__)

CACHE_KEY_VERSION = 1
DB_NAME = "cache.sqlite3"


def key_for(obj: Any) -> str:
    """SHA-256 hex of :func:`bench.jsonio.canonical_json` (sorted keys, no whitespace, floats by
    ``repr``, NaN as null) — the content key of anything JSON-able.

    >>> key_for({"b": 0.1, "a": (1, "x")}) == key_for({"a": [1, "x"], "b": 0.1})
    True
    """
    return hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()


def default_cache_dir() -> Path:
    """``$EDITBENCH_CACHE``, else ``$XDG_CACHE_HOME/editbench``, else ``~/.cache/editbench``."""
    env = os.environ.get("EDITBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "editbench"


class _Store:
    """One SQLite file and a connection per (process, thread)."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._pid = os.getpid()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn()  # create the schema now, so errors (read-only dir...) surface early

    def conn(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked: never reuse the parent's connections
            self._local = threading.local()
            self._all = []
            self._lock = threading.Lock()
            self._pid = os.getpid()
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._setup(c)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def _setup(self, c: sqlite3.Connection) -> None:
        c.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        deadline = time.monotonic() + self.busy_timeout
        while True:  # switching to WAL needs a moment alone with the file; retry if it is busy
            try:
                c.execute("PRAGMA journal_mode=WAL")
                c.execute("PRAGMA synchronous=NORMAL")
                c.execute(
                    "CREATE TABLE IF NOT EXISTS entries (ns TEXT NOT NULL, key TEXT NOT NULL, "
                    "value BLOB NOT NULL, created REAL NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID"
                )
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()


class ReplyCache:
    """A bytes-valued, content-keyed cache in one namespace of a shared SQLite file.

    >>> import tempfile
    >>> c = ReplyCache(tempfile.mkdtemp())
    >>> c.put("k", b"v"); c.get("k")
    b'v'
    >>> c.namespace("tools").get("k") is None
    True
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        namespace: str = "replies",
        busy_timeout: float = 60.0,
        _store: _Store | None = None,
    ) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.ns = namespace
        self._store = _store or _Store(self.directory / DB_NAME, busy_timeout)

    @property
    def path(self) -> Path:
        return self._store.path

    def namespace(self, name: str) -> ReplyCache:
        """The same file seen through another namespace (shares connections)."""
        return ReplyCache(self.directory, namespace=name, _store=self._store)

    def get(self, key: str) -> bytes | None:
        row = (
            self._store.conn()
            .execute("SELECT value FROM entries WHERE ns=? AND key=?", (self.ns, key))
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    def put(self, key: str, value: bytes) -> None:
        """Store ``value``, replacing any earlier one under ``key``."""
        self._store.conn().execute(
            "INSERT OR REPLACE INTO entries (ns, key, value, created) VALUES (?,?,?,?)",
            (self.ns, key, sqlite3.Binary(value), time.time()),
        )

    def setdefault(self, key: str, value: bytes) -> bytes:
        """Store ``value`` unless ``key`` is taken; return what is stored now (first writer wins)."""
        c = self._store.conn()
        cur = c.execute(
            "INSERT OR IGNORE INTO entries (ns, key, value, created) VALUES (?,?,?,?)",
            (self.ns, key, sqlite3.Binary(value), time.time()),
        )
        if cur.rowcount == 1:
            return value
        stored = self.get(key)
        return value if stored is None else stored

    def delete(self, key: str) -> None:
        self._store.conn().execute("DELETE FROM entries WHERE ns=? AND key=?", (self.ns, key))

    def __contains__(self, key: str) -> bool:
        return (
            self._store.conn()
            .execute("SELECT 1 FROM entries WHERE ns=? AND key=?", (self.ns, key))
            .fetchone()
            is not None
        )

    def __len__(self) -> int:
        return int(
            self._store.conn().execute("SELECT COUNT(*) FROM entries WHERE ns=?", (self.ns,)).fetchone()[0]
        )

    def close(self) -> None:
        """Close every connection this object's store opened (any namespace)."""
        self._store.close()

    def __getstate__(self) -> dict[str, Any]:  # pickles by location; connections reopen on use
        return {"directory": str(self.directory), "ns": self.ns, "busy_timeout": self._store.busy_timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["directory"], namespace=state["ns"], busy_timeout=state["busy_timeout"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"ReplyCache({str(self.path)!r}, namespace={self.ns!r})"


@dataclass(frozen=True)
class CacheStats:
    """Counts since the wrapper was built: lookups answered, missed, and requests sent on."""

    hits: int = 0
    misses: int = 0
    sent: int = 0
    stored: int = 0
    not_stored: int = 0  # errors and refusals, kept out of the cache so the next run retries


class CachedBackend(BackendBase):
    """A backend behind a :class:`ReplyCache`.

    The key covers the backend's name, version and spec (kind, model, endpoint host, revision)
    and the request's key material (full prompt, image ids, sampling parameters, response
    format, logprobs, ``n_index``); transport settings are never in it. A hit comes back with
    ``cached=True``, zero dollars, zero attempts and the stored ``raw``/``raw_id``. Only ``ok``
    replies are stored: errors and refusals are retried on the next run. Identical requests in
    one batch are sent once. ``bypass=True`` (here or per call, for canaries) neither reads nor
    writes the cache.
    """

    def __init__(self, backend: Any, cache: ReplyCache | None = None, *, bypass: bool = False) -> None:
        self.backend = backend
        self.cache = cache if cache is not None else ReplyCache()
        self.bypass = bypass
        self.name = backend.name
        self.version = backend.version
        self._lock = threading.Lock()
        self._stats = CacheStats()

    def spec(self) -> dict[str, Any]:
        return self.backend.spec()  # caching never changes what a backend is

    def key(self, request: ChatRequest) -> str:
        return key_for(
            {
                "v": CACHE_KEY_VERSION,
                "kind": "chat",
                "backend": self.backend.name,
                "version": self.backend.version,
                "spec": self.backend.spec(),
                "request": request.key_material(),
            }
        )

    def stats(self) -> CacheStats:
        with self._lock:
            return self._stats

    def _count(self, **delta: int) -> None:
        with self._lock:
            s = self._stats
            self._stats = replace(s, **{k: getattr(s, k) + v for k, v in delta.items()})

    def chat_many(self, requests: Sequence[ChatRequest], *, bypass: bool | None = None) -> list[ChatResponse]:
        reqs = check_requests(requests)
        if bypass if bypass is not None else self.bypass:
            self._count(sent=len(reqs))
            return self.backend.chat_many(reqs)
        t0 = time.monotonic()
        keys = [self.key(r) for r in reqs]
        out: list[ChatResponse | None] = [None] * len(reqs)
        first_of: dict[str, int] = {}  # key -> index of the request that will be sent for it
        to_send: list[int] = []
        corrupt: set[str] = set()
        hits = 0
        for i, k in enumerate(keys):
            if k in first_of:
                continue
            blob = self.cache.get(k)
            if blob is not None:
                try:
                    out[i] = _as_hit(_decode(blob), time.monotonic() - t0)
                    hits += 1
                    first_of[k] = i
                    continue
                except (ValueError, TypeError, KeyError) as exc:  # corrupt entry: treat as a miss
                    logger.warning("reply cache: unreadable entry %s (%s); asking again", k[:12], exc)
                    corrupt.add(k)
            first_of[k] = i
            to_send.append(i)
        sent = self.backend.chat_many([reqs[i] for i in to_send]) if to_send else []
        if len(sent) != len(to_send):
            raise RuntimeError(f"{self.backend!r} returned {len(sent)} responses for {len(to_send)} requests")
        stored = not_stored = 0
        for i, resp in zip(to_send, sent, strict=True):
            if resp.status == "ok":
                mine = _encode(resp)
                try:
                    if keys[i] in corrupt:  # replace the unreadable entry instead of deferring to it
                        self.cache.put(keys[i], mine)
                        kept = mine
                    else:
                        kept = self.cache.setdefault(keys[i], mine)
                except sqlite3.Error as exc:  # a paid reply is worth more than its cache entry
                    logger.warning("reply cache: could not store %s: %s", keys[i][:12], exc)
                    kept = mine
                    not_stored += 1
                else:
                    stored += 1
                if kept != mine:  # another process stored its reply first: converge on that one
                    resp = replace(
                        _decode(kept), dollars=resp.dollars, attempts=resp.attempts, seconds=resp.seconds
                    )
            else:
                not_stored += 1
            out[i] = resp
        dupes = 0
        for i, k in enumerate(keys):  # repeats within the batch share the first one's reply
            if out[i] is None:
                src = out[first_of[k]]
                assert src is not None
                out[i] = src if src.status != "ok" else _as_hit(src, 0.0)
                dupes += 1
        self._count(
            hits=hits + dupes, misses=len(to_send), sent=len(to_send), stored=stored, not_stored=not_stored
        )
        return [r for r in out if r is not None]

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()


def _encode(resp: ChatResponse) -> bytes:
    d = resp.to_dict()
    for k in ("cached", "seconds", "attempts"):  # per-call telemetry, not part of the reply
        d.pop(k, None)
    return json.dumps(d, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _decode(blob: bytes) -> ChatResponse:
    return ChatResponse.from_dict(json.loads(blob.decode("utf-8")))


def _as_hit(resp: ChatResponse, seconds: float) -> ChatResponse:
    return replace(resp, cached=True, dollars=0.0, seconds=seconds, attempts=0)
