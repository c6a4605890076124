"""The run store: a directory of append-only JSONL files, content-addressed images and raw replies.

Safety under SIGKILL comes from three rules: a record is one ``write`` of one whole line, flushed
at once; a reader ignores a last line with no newline or bad JSON (the record being written when
the process died); and before appending, a torn tail is cut off so the next record starts on a
fresh line. ``run.json`` is replaced atomically. The driver is the only writer of the JSONL files.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.errors import StoreError
from bench.ids import ID_SCHEME, sha256_hex
from bench.images import ImageStore, atomic_write
from bench.jsonio import dumps_line
from bench.model import SCHEMA_VERSION, Judgement, Sample, Trajectory

log = logging.getLogger(__name__)

FILES = ("samples", "trajectories", "judgements", "stages", "explorations", "probes", "canaries")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for every complete line.

    A record is written as one line ending in ``\n``, so a process killed mid-write leaves at most
    a last piece with no newline: that piece is skipped with a warning. A *complete* line that is
    not JSON is damage, not a crash artefact, and is an error naming the line.
    """
    if not path.exists():
        return
    with open(path, "rb") as fh:
        data = fh.read()
    lines = data.split(b"\n")
    tail = lines.pop()  # after the final newline: empty, or a torn record
    if tail.strip():
        log.warning("%s:%d: ignoring a torn last line (%d bytes)", path, len(lines) + 1, len(tail))
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            raise StoreError("corrupt JSON line", file=str(path), line=i + 1) from None
        yield i + 1, obj


def _repair_tail(path: Path) -> None:
    """Cut a torn last line (no trailing newline) so that appends start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        log.warning("%s: cutting a torn last line of %d bytes", path, len(data) - cut)
        fh.truncate(cut)


class RunStore:
    """One run directory. Open it with :meth:`open`; records are appended with :meth:`append`."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.images = ImageStore(self.root / "images")
        self._lock = threading.Lock()
        self._handles: dict[str, Any] = {}

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | os.PathLike, *, create: bool = False) -> RunStore:
        root = Path(root)
        if not create and not (root / "run.json").exists():
            raise StoreError("not a run directory (no run.json)", file=str(root))
        root.mkdir(parents=True, exist_ok=True)
        store = cls(root)
        for name in FILES:
            _repair_tail(store.path(name))
        return store

    def close(self) -> None:
        with self._lock:
            for fh in self._handles.values():
                fh.close()
            self._handles.clear()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def path(self, name: str) -> Path:
        return self.root / f"{name}.jsonl"

    # -- run.json ----------------------------------------------------------------------------
    def read_meta(self) -> dict[str, Any]:
        p = self.root / "run.json"
        if not p.exists():
            return {}
        try:
            return json.loads(p.read_text())
        except ValueError as err:
            raise StoreError(f"run.json is not valid JSON: {err}", file=str(p)) from None

    def write_meta(self, meta: dict[str, Any]) -> None:
        meta = {"v": SCHEMA_VERSION, "id_scheme": ID_SCHEME, **meta}
        atomic_write(self.root / "run.json", (json.dumps(meta, indent=2, sort_keys=False, allow_nan=False) + "\n").encode())

    # -- appends -------------------------------------------------------------------------------
    def append(self, name: str, record: Any) -> None:
        """Append one record as one flushed line. ``record`` is a model record or a plain dict."""
        obj = record.to_dict() if hasattr(record, "to_dict") else dict(record)
        obj.setdefault("v", SCHEMA_VERSION)
        line = dumps_line(obj) + "\n"
        with self._lock:
            fh = self._handles.get(name)
            if fh is None:
                fh = open(self.path(name), "a", encoding="utf-8")
                self._handles[name] = fh
            fh.write(line)
            fh.flush()

    def sync(self) -> None:
        with self._lock:
            for fh in self._handles.values():
                fh.flush()
                os.fsync(fh.fileno())

    def put_raw(self, text: str) -> str:
        """Store a raw model reply by content; returns its id (``raw/ab/<sha256>.txt``)."""
        data = text.encode("utf-8")
        rid = sha256_hex(data)
        p = self.root / "raw" / rid[:2] / f"{rid}.txt"
        if not p.exists():
            atomic_write(p, data)
        return rid

    def get_raw(self, rid: str) -> str:
        p = self.root / "raw" / rid[:2] / f"{rid}.txt"
        if not p.exists():
            raise StoreError(f"raw reply {rid} is missing", file=str(self.root / "raw"))
        return p.read_text(encoding="utf-8")

    # -- reads -----------------------------------------------------------------------------------
    def records(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        yield from read_jsonl(self.path(name))

    def samples(self) -> dict[tuple[str, str], Sample]:
        out: dict[tuple[str, str], Sample] = {}
        for line, obj in self.records("samples"):
            s = Sample.from_dict(obj["sample"], where=f"samples.jsonl:{line}")
            out.setdefault((obj["suite"], s.id), s)
        return out

    def trajectories(self) -> dict[tuple[str, str, str], Trajectory]:
        """Latest trajectory per (suite, sample, system): a retried record supersedes the earlier one."""
        out: dict[tuple[str, str, str], Trajectory] = {}
        for line, obj in self.records("trajectories"):
            t = Trajectory.from_dict(obj, where=f"trajectories.jsonl:{line}")
            out[t.key] = t
        return out

    def judgements(self) -> dict[tuple[str, str, str, str, str], Judgement]:
        out: dict[tuple[str, str, str, str, str], Judgement] = {}
        for line, obj in self.records("judgements"):
            j = Judgement.from_dict(obj, where=f"judgements.jsonl:{line}")
            out[j.key] = j
        return out

    def stages(self) -> list[dict[str, Any]]:
        return [obj for _, obj in self.records("stages")]
