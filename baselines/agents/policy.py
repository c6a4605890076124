"""The learned orchestrator policy: a file format, defined now, read by ``planner-orchestrator``.

Paper A trains the orchestrator from judged outcomes ("the orchestrator learns from these judged
outcomes, preferring the tools and regions that produce the strongest edits"). Learning is a later
issue (``editbench explore`` + ``editbench train``); this module fixes what it writes and what the
agent reads, so both sides can be built against one format. ``planner-orchestrator:policy=PATH``
uses it instead of asking a model; ``PATH`` is the JSON file or a folder holding ``policy.json``
(beside its ``train.json``, DESIGN.md "the run store"). The file's content hash is part of the
agent's id.

Format (JSON, UTF-8)::

    {
      "format": "editbench.orchestrator-policy",
      "version": 1,
      "kind": "table" | "nearest-neighbour" | "linear",
      "features": {"fields": ["text"] | ["text", "action"], "ngrams": [1, 2], "min_similarity": 0.2},
      "entries": [ ... ],             # table and nearest-neighbour
      "classes": [ ... ], "vocabulary": [...], "weights": [[...]], "bias": [...],   # linear
      "default": <decision> | null,   # used when nothing matches (absent/null: no decision)
      "meta": {...}                   # the training record: run, data, date; "reward_judge" (the
                                      # judge whose rewards trained it) is shown in the system's info
    }

A *decision* is ``{"tool": NAME, "params": {...}, "region": REGION}`` with ``REGION`` as the
orchestrator writes it (``{"kind": "full"}``, ``{"kind": "named", "name": "background"}``,
``{"kind": "box", "box": [x0, y0, x1, y1]}``, ``{"kind": "phrase", "phrase": "the mug"}``, with
optional ``invert``/``feather``); optional ``score`` (the judged reward it was chosen for) and
``count`` (how many observations back it) are kept for the record.

Features. A subtask is read as text: its ``text`` (and its planner ``action`` when ``fields``
names it) normalised by :func:`baselines.lexicon.normalize`, cut into word n-grams of the sizes in
``ngrams`` (each n-gram prefixed by its field: ``text:snow``, ``action:season``).

- ``table``: ``entries = [{"key": KEY, **decision}]``; ``KEY`` is :func:`table_key` of the
  subtask (the normalised fields joined by ``" | "``). Exact match only.
- ``nearest-neighbour``: ``entries = [{"text": ..., "action": ... (optional), **decision}]``; the
  entry whose n-gram set has the largest cosine similarity ``|A∩B| / sqrt(|A|·|B|)`` with the
  subtask's wins (ties: the first entry), if at least ``min_similarity`` (default 0).
- ``linear``: ``classes = [decision, ...]``, ``vocabulary = [ngram, ...]``, ``weights`` one row
  per class over the vocabulary, ``bias`` one per class; the subtask's binary n-gram vector ``x``
  scores each class ``w·x + b`` and the best (first on ties) is chosen; a subtask with no n-gram in
  the vocabulary gets ``default``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError

FORMAT = "editbench.orchestrator-policy"
VERSION = 1
KINDS = ("table", "nearest-neighbour", "linear")


@dataclass(frozen=True)
class Decision:
    """What a policy chooses for a subtask: the tool, its parameters and the region (as JSON)."""

    tool: str
    params: dict[str, Any] = field(default_factory=dict)
    region: Any = None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "params": dict(self.params), "region": self.region}


def _normalize(text: Any) -> str:
    from baselines import lexicon as lx

    return lx.normalize(str(text or ""))


def table_key(text: str, action: str | None = None, fields: Sequence[str] = ("text",)) -> str:
    """The exact-match key of a subtask for ``table`` policies."""
    values = {"text": _normalize(text), "action": _normalize(action)}
    return " | ".join(values[f] for f in fields)


def ngrams(text: str, action: str | None = None, fields: Sequence[str] = ("text",), sizes: Sequence[int] = (1,)
           ) -> set[str]:
    """The subtask's feature set: field-prefixed word n-grams of the normalised fields."""
    out: set[str] = set()
    values = {"text": _normalize(text), "action": _normalize(action)}
    for f in fields:
        words = values[f].split()
        for n in sizes:
            out.update(f"{f}:{' '.join(words[i:i + n])}" for i in range(len(words) - n + 1))
    return out


class Policy:
    """A loaded policy file. Build with :meth:`load` / :meth:`from_dict`; write with :meth:`save`."""

    def __init__(self, data: Mapping[str, Any], where: str = "policy") -> None:
        self.where = where
        self.data = _validate(dict(data), where)
        feats = self.data.get("features") or {}
        self.kind: str = self.data["kind"]
        self.fields: tuple[str, ...] = tuple(feats.get("fields", ("text",)))
        self.sizes: tuple[int, ...] = tuple(int(n) for n in feats.get("ngrams", (1,)))
        self.min_similarity = float(feats.get("min_similarity", 0.0))
        default = self.data.get("default")
        self.default = _decision(default, f"{where}: default") if default else None
        self._entries = [(e, _decision(e, f"{where}: entries[{i}]")) for i, e in enumerate(self.data.get("entries", []))]
        self._keys = {str(e["key"]): d for e, d in self._entries} if self.kind == "table" else {}
        self._sets = [ngrams(e.get("text", ""), e.get("action"), self.fields, self.sizes) for e, _ in self._entries] \
            if self.kind == "nearest-neighbour" else []
        if self.kind == "linear":
            self._classes = [_decision(c, f"{where}: classes[{i}]") for i, c in enumerate(self.data["classes"])]
            self._vocab = {str(v): j for j, v in enumerate(self.data["vocabulary"])}

    # -- io ------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read ``path`` (a policy JSON file, or a folder with ``policy.json``)."""
        p = resolve_path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot read policy: {err}", file=str(p)) from err
        if not isinstance(data, dict):
            raise UsageError("a policy file holds one JSON object", file=str(p))
        return cls(data, where=str(p))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        return cls(data)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.data))

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        if p.is_dir() or p.suffix != ".json":  # a folder (existing or not) gets policy.json
            p = p / "policy.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return p

    # -- deciding ------------------------------------------------------------------------------------
    def decide(self, text: str, action: str | None = None) -> Decision | None:
        """The policy's choice for a subtask, with ``why``; ``None`` when it has none."""
        if self.kind == "table":
            key = table_key(text, action, self.fields)
            got = self._keys.get(key)
            if got is not None:
                return _with_why(got, f"policy table: exact key {key!r}")
        elif self.kind == "nearest-neighbour":
            feats = ngrams(text, action, self.fields, self.sizes)
            best, best_sim = -1, -1.0
            for i, s in enumerate(self._sets):
                sim = len(feats & s) / math.sqrt(len(feats) * len(s)) if feats and s else 0.0
                if sim > best_sim:
                    best, best_sim = i, sim
            if best >= 0 and best_sim > 0 and best_sim >= self.min_similarity:
                entry, dec = self._entries[best]
                return _with_why(dec, f"policy nearest-neighbour: entry {best} ({entry.get('text', '')!r}), "
                                      f"similarity {best_sim:.3f}")
        else:
            feats = [self._vocab[f] for f in ngrams(text, action, self.fields, self.sizes) if f in self._vocab]
            if feats:
                scores = [sum(row[j] for j in feats) + b for row, b in zip(self.data["weights"], self.data["bias"],
                                                                           strict=True)]
                k = max(range(len(scores)), key=lambda i: (scores[i], -i))
                return _with_why(self._classes[k], f"policy linear: class {k}, score {scores[k]:.3f} over "
                                                   f"{len(feats)} known feature(s)")
        if self.default is not None:
            return _with_why(self.default, "policy default: no entry matched")
        return None


def _with_why(d: Decision, why: str) -> Decision:
    return Decision(d.tool, dict(d.params), d.region, why)


def _decision(obj: Any, where: str) -> Decision:
    if not isinstance(obj, Mapping):
        raise UsageError(f"{where}: a decision is an object with tool, params, region")
    tool = obj.get("tool")
    if not isinstance(tool, str) or not tool:
        raise UsageError(f"{where}: 'tool' must be a tool name")
    params = obj.get("params", {}) or {}
    if not isinstance(params, Mapping):
        raise UsageError(f"{where}: 'params' must be an object")
    return Decision(tool, dict(params), obj.get("region"))


def _validate(data: dict[str, Any], where: str) -> dict[str, Any]:
    if data.get("format") != FORMAT:
        raise UsageError(f"{where}: 'format' must be {FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != VERSION:
        raise UsageError(f"{where}: policy format version {data.get('version')!r} is not supported (this reader: "
                         f"{VERSION})")
    kind = data.get("kind")
    if kind not in KINDS:
        raise UsageError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    feats = data.get("features") or {}
    if not isinstance(feats, Mapping):
        raise UsageError(f"{where}: 'features' must be an object")
    fields = feats.get("fields", ["text"])
    if not fields or any(f not in ("text", "action") for f in fields):
        raise UsageError(f"{where}: features.fields must list 'text' and/or 'action', got {fields!r}")
    sizes = feats.get("ngrams", [1])
    if not sizes or any(not isinstance(n, int) or n < 1 for n in sizes):
        raise UsageError(f"{where}: features.ngrams must be positive integers, got {sizes!r}")
    if kind in ("table", "nearest-neighbour"):
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise UsageError(f"{where}: a {kind} policy needs an 'entries' list")
        need = "key" if kind == "table" else "text"
        for i, e in enumerate(entries):
            if not isinstance(e, Mapping) or not isinstance(e.get(need), str):
                raise UsageError(f"{where}: entries[{i}] needs a string {need!r}")
    else:
        classes, vocab = data.get("classes"), data.get("vocabulary")
        weights, bias = data.get("weights"), data.get("bias")
        if not isinstance(classes, list) or not classes or not isinstance(vocab, list):
            raise UsageError(f"{where}: a linear policy needs 'classes' (non-empty) and 'vocabulary'")
        if not isinstance(weights, list) or len(weights) != len(classes) or \
                any(not isinstance(r, list) or len(r) != len(vocab) for r in weights):
            raise UsageError(f"{where}: 'weights' must have one row per class, one column per vocabulary n-gram")
        if not isinstance(bias, list) or len(bias) != len(classes):
            raise UsageError(f"{where}: 'bias' must have one number per class")
    return data


def resolve_path(path: str | Path) -> Path:
    """The policy file a ``policy=`` option names (a file, or a folder's ``policy.json``)."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "policy.json"
    if not p.exists():
        raise UsageError(f"policy file {str(p)!r} does not exist", field="policy")
    return p
