"""Human labels: the record, the annotation page's JSON exports, a CSV format, and validation.

A :class:`HumanLabel` is one judgement by one person: a rating of one system's result on one
dimension (``pass`` / ``partial`` / ``fail``, or ``undecidable``), or a ranking of the top k of the
n results a person saw for a sample (``dimension="ranking"``). Labels are keyed by
``(annotator, suite, sample_id, task, system_id, dimension)``, so two annotators' files merge by
concatenation, and the same person exporting twice gives the same keys again.

Files
-----
``*.json``  an export of the annotation page (``editbench annotate``): an object with
            ``"format": "editbench-labels"``, the page's ``run_key``, ``"blinded": true`` and
            ``"labels"``, a list of :meth:`HumanLabel.to_dict` objects, one a line. The page never
            sees system ids: it names results by :func:`blind_token`, which
            :func:`validate_labels` maps back to system ids using the runs.
``*.jsonl`` one :meth:`HumanLabel.to_dict` object a line (system ids in the clear).
``*.csv``   for labels collected elsewhere. UTF-8 (a BOM is fine), a header row, one label a row:

    ==============  ========  ==============================================================
    column          required  meaning
    ==============  ========  ==============================================================
    ``annotator``   yes       who labelled: letters, digits, ``. _ - @``, at most 64
    ``suite``       yes       ``name@version`` as in ``run.json`` (the bare name if unique)
    ``sample_id``   yes       the sample's id within its suite
    ``dimension``   yes       ``ranking`` for a ranking row; else a rating dimension such as
                              ``edit_quality``, ``plan_quality``, ``reasoning_quality``,
                              ``overall`` (rate task) or ``visual_quality``,
                              ``instruction_following``, ``overall`` (the rank task's winner)
    ``value``       ratings   ``pass``, ``partial``, ``fail`` or ``undecidable``; empty for
                              a ranking row
    ``system_id``   ratings   the rated system: its id, or its display name or registered
                              name when that is unique in the runs; empty for a ranking row
    ``ranking``     rankings  the top k systems, best first, separated by ``>``
                              (``sys-a > sys-b > sys-c``)
    ``task``        no        ``rate`` (default) or ``rank`` (default for ranking rows); a
                              rank-task rating is of that annotator's winner for the sample
    ``candidates``  no        the n systems shown, separated by ``;`` (default: every system
                              with a result for the sample)
    ``note``        no        free text
    ``time``        no        ISO 8601 time of labelling; decides between two conflicting
                              labels with the same key (the later wins)
    ==============  ========  ==============================================================

Every error names the file and line (``LabelError``, exit code 2 in the CLI).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bench.errors import EditbenchError
from bench.jsonio import canonical_json
from bench.model import SCHEMA_VERSION, Record

log = logging.getLogger(__name__)

LABEL_FORMAT = "editbench-labels"
RANKING = "ranking"
VALUES: tuple[str, ...] = ("pass", "partial", "fail", "undecidable")
TASKS: tuple[str, ...] = ("rate", "rank")
CSV_COLUMNS: tuple[str, ...] = (
    "annotator", "suite", "sample_id", "system_id", "task", "dimension", "value", "ranking",
    "candidates", "note", "time",
)
_REQUIRED_CSV = ("annotator", "suite", "sample_id", "dimension")
_ANNOTATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_DIMENSION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
BLIND_PREFIX = "b:"


@dataclass(frozen=True)
class Dimension:
    """A rating dimension as the page shows it: id, short name, and what the rater judges."""

    id: str
    name: str
    help: str


# Paper B, Appendix J.1 (study 1: one trajectory, four dimensions) and J.5.1 (study 2: the winner
# of a side-by-side ranking, three dimensions).
RATE_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("edit_quality", "Edit quality",
              "How well the final image meets the goal: visual fidelity, semantic accuracy, technical execution."),
    Dimension("plan_quality", "Plan quality",
              "Appropriateness, completeness and correctness of the plan's steps."),
    Dimension("reasoning_quality", "Reasoning quality",
              "Clarity, specificity and logic of the reasoning given for each step."),
    Dimension("overall", "Overall", "Holistic: is this a good result for this goal?"),
)
RANK_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("visual_quality", "Visual quality", "Is the winning image well made: no artefacts, plausible, polished?"),
    Dimension("instruction_following", "Instruction following", "Does the winning image do what the goal asks?"),
    Dimension("overall", "Overall", "Holistic quality of the winning result."),
)


class LabelError(EditbenchError):
    """A label file that cannot be read, or a label that does not match the runs."""


@dataclass(frozen=True)
class HumanLabel(Record):
    """One person's rating of one result, or their ranking of a sample's results.

    A rating has ``system_id`` and ``value`` (one of :data:`VALUES`); a ranking has
    ``dimension="ranking"``, ``ranking`` (the top k system ids, best first) and ``candidates``
    (the n systems shown; unranked candidates count as tied below the ranked ones). ``task`` says
    which page task produced it: ``rate`` (one result at a time) or ``rank`` (side by side, where
    ratings are of the annotator's winner). ``time`` is not part of equality: relabelling the same
    thing with the same answer is the same label.
    """

    annotator: str
    suite: str
    sample_id: str
    system_id: str | None = None
    ranking: tuple[str, ...] | None = None
    dimension: str = "overall"
    value: str | None = None
    candidates: tuple[str, ...] = ()
    task: Literal["rate", "rank"] = "rate"
    note: str | None = None
    time: str | None = field(default=None, compare=False)
    v: int = SCHEMA_VERSION

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.annotator, self.suite, self.sample_id, self.task, self.system_id or "", self.dimension)

    @property
    def is_ranking(self) -> bool:
        return self.dimension == RANKING

    def check(self) -> None:
        """Raise ``ValueError`` naming the field when the label is not well formed."""
        if not _ANNOTATOR.match(self.annotator or ""):
            raise ValueError(f"field 'annotator': {self.annotator!r} is not an annotator id "
                             "(letters, digits, '.', '_', '-', '@'; at most 64)")
        for name in ("suite", "sample_id"):
            if not str(getattr(self, name) or "").strip():
                raise ValueError(f"field {name!r} is empty")
        if self.task not in TASKS:
            raise ValueError(f"field 'task': {self.task!r} is not one of {list(TASKS)}")
        if not _DIMENSION.match(self.dimension or ""):
            raise ValueError(f"field 'dimension': {self.dimension!r} is not a dimension id (lower case, digits, '_')")
        if self.is_ranking:
            if self.task != "rank":
                raise ValueError("field 'task': a ranking belongs to the 'rank' task")
            if self.system_id or self.value:
                raise ValueError("a ranking has no 'system_id' and no 'value'")
            if not self.ranking:
                raise ValueError("field 'ranking': empty; a ranking lists at least one system")
            if len(set(self.ranking)) != len(self.ranking):
                raise ValueError(f"field 'ranking': a system appears twice in {list(self.ranking)}")
            if self.candidates and not set(self.ranking) <= set(self.candidates):
                raise ValueError("field 'ranking': ranks a system that is not among the 'candidates'")
            if self.candidates and len(set(self.candidates)) != len(self.candidates):
                raise ValueError("field 'candidates': a system appears twice")
        else:
            if self.ranking is not None:
                raise ValueError("field 'ranking': only a 'ranking' dimension has a ranking")
            if not self.system_id:
                raise ValueError("field 'system_id': a rating names the system it rates")
            if self.value not in VALUES:
                raise ValueError(f"field 'value': {self.value!r} is not one of {list(VALUES)}")


@dataclass(frozen=True)
class Origin:
    """Where a label came from, for error messages."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class LabelFile:
    """A file that was read: its path, content hash, label count and the page's run key if any."""

    path: str
    sha256: str
    n: int
    run_key: str | None = None
    blinded: bool = False


@dataclass(frozen=True)
class LabelSet:
    """Labels with their origins (parallel tuples) and the files they were read from."""

    labels: tuple[HumanLabel, ...] = ()
    origins: tuple[Origin, ...] = ()
    files: tuple[LabelFile, ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def annotators(self) -> list[str]:
        return sorted({lab.annotator for lab in self.labels})

    def frame(self) -> pd.DataFrame:
        """Long form, one label a row, with ``unit`` = ``suite`` and ``sample_id`` joined by ``/``."""
        cols = ["annotator", "suite", "sample_id", "system_id", "task", "dimension", "value", "ranking",
                "candidates", "note", "time", "origin"]
        rows = [{**{c: getattr(lab, c) for c in cols[:-1]}, "origin": str(o)}
                for lab, o in zip(self.labels, self.origins, strict=True)]
        df = pd.DataFrame(rows, columns=cols)
        df["unit"] = df["suite"] + "/" + df["sample_id"]
        return df


def blind_token(suite: str, sample_id: str, system_id: str) -> str:
    """The name the annotation page uses for a system's result on one sample.

    Different for every sample, so a page reveals neither system names nor which results across
    samples come from the same system; reproducible from the runs, so imports can map it back.
    """
    digest = hashlib.sha256(canonical_json(["editbench-blind-v1", suite, sample_id, system_id]).encode()).hexdigest()
    return BLIND_PREFIX + digest[:20]


def run_key(metas: Iterable[dict[str, Any]]) -> str:
    """A short hash naming a set of runs: each run's name and its suites' content hashes.

    The annotation page namespaces its browser storage with it, so pages built from different runs
    never read each other's labels.
    """
    parts = sorted(
        canonical_json([m.get("name", ""), sorted(f"{s.get('name')}@{s.get('version')}#{s.get('hash', '')}"
                                                  for s in m.get("suites", []))])
        for m in metas
    )
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- reading


def _label(obj: Any, origin: Origin) -> HumanLabel:
    try:
        lab = HumanLabel.from_dict(obj, strict=True)
        lab.check()
    except (TypeError, ValueError) as err:
        raise LabelError(str(err), file=origin.file, line=origin.line) from None
    return lab


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _label_lines(text: str, labels: list[Any]) -> list[int | None]:
    """Line of each element of the top-level ``"labels"`` array (None where it cannot be told).

    ``json`` gives no positions, so the array is found by its key and decoded element by element;
    the result is used only if it decodes to exactly the parsed labels.
    """
    decoder = json.JSONDecoder()
    for match in re.finditer(r'"labels"\s*:\s*\[', text):
        pos, lines, found = match.end(), [], []
        try:
            while len(found) < len(labels):
                while text[pos] in " \t\r\n,":
                    pos += 1
                obj, end = decoder.raw_decode(text, pos)
                lines.append(text.count("\n", 0, pos) + 1)
                found.append(obj)
                pos = end
        except (ValueError, IndexError):
            continue
        if found == labels:
            return lines
    return [None] * len(labels)


def read_page_export(path: str | os.PathLike) -> LabelSet:
    """Read a JSON export of the annotation page (see the module docstring)."""
    p = str(path)
    data = Path(p).read_bytes()
    text = data.decode("utf-8-sig")
    try:
        doc = json.loads(text)
    except ValueError as err:
        line = getattr(err, "lineno", None)
        raise LabelError(f"not valid JSON: {getattr(err, 'msg', err)}", file=p, line=line) from None
    if isinstance(doc, list):  # a bare list of labels
        doc = {"format": LABEL_FORMAT, "labels": doc}
    if not isinstance(doc, dict) or doc.get("format") != LABEL_FORMAT:
        raise LabelError(f"not an editbench label export (no \"format\": \"{LABEL_FORMAT}\")", file=p, line=1)
    raw = doc.get("labels")
    if not isinstance(raw, list):
        raise LabelError("field 'labels' must be a list", file=p, line=1)
    lines = _label_lines(text, raw)
    labels, origins = [], []
    for i, (obj, line) in enumerate(zip(raw, lines, strict=True)):
        origin = Origin(p, line)
        if not isinstance(obj, dict):
            raise LabelError(f"label #{i + 1} is not an object", file=p, line=line)
        labels.append(_label(obj, origin))
        origins.append(origin)
    info = LabelFile(p, _sha256(data), len(labels), doc.get("run_key"), bool(doc.get("blinded", False)))
    return _dedupe(LabelSet(tuple(labels), tuple(origins), (info,)))


def read_jsonl_labels(path: str | os.PathLike) -> LabelSet:
    """Read one :meth:`HumanLabel.to_dict` object a line; blank lines are skipped."""
    p = str(path)
    data = Path(p).read_bytes()
    labels, origins = [], []
    for i, line in enumerate(data.decode("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as err:
            raise LabelError(f"not valid JSON: {getattr(err, 'msg', err)}", file=p, line=i) from None
        origin = Origin(p, i)
        labels.append(_label(obj, origin))
        origins.append(origin)
    return _dedupe(LabelSet(tuple(labels), tuple(origins), (LabelFile(p, _sha256(data), len(labels)),)))


def _split(cell: str, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(sep) if part.strip())


def read_csv_labels(path: str | os.PathLike) -> LabelSet:
    """Read the CSV format documented in the module docstring."""
    p = str(path)
    data = Path(p).read_bytes()
    reader = csv.reader(data.decode("utf-8-sig").splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LabelError("empty file: expected a header row", file=p, line=1) from None
    except csv.Error as err:
        raise LabelError(f"bad CSV: {err}", file=p, line=1) from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise LabelError(f"unknown column {unknown[0]!r}; columns are {list(CSV_COLUMNS)}", file=p, line=1)
    missing = [c for c in _REQUIRED_CSV if c not in header]
    if missing:
        raise LabelError(f"missing column {missing[0]!r}", file=p, line=1)
    if len(set(header)) != len(header):
        raise LabelError("a column appears twice in the header", file=p, line=1)
    labels, origins = [], []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise LabelError(f"bad CSV: {err}", file=p, line=line) from None
        origin = Origin(p, line)
        line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise LabelError(f"{len(row)} cells, but the header has {len(header)}", file=p, line=origin.line)
        cells = {h: c.strip() for h, c in zip(header, row, strict=True)}
        is_rank = cells["dimension"] == RANKING
        obj: dict[str, Any] = {
            "annotator": cells["annotator"], "suite": cells["suite"], "sample_id": cells["sample_id"],
            "dimension": cells["dimension"], "task": cells.get("task") or ("rank" if is_rank else "rate"),
            "system_id": cells.get("system_id") or None, "value": (cells.get("value") or "").lower() or None,
            "ranking": _split(cells.get("ranking", ""), ">") or None,
            "candidates": _split(cells.get("candidates", ""), ";"),
            "note": cells.get("note") or None, "time": cells.get("time") or None,
        }
        labels.append(_label(obj, origin))
        origins.append(origin)
    return _dedupe(LabelSet(tuple(labels), tuple(origins), (LabelFile(p, _sha256(data), len(labels)),)))


def write_csv_labels(labels: LabelSet | Sequence[HumanLabel], path: str | os.PathLike) -> None:
    """Write labels in the CSV format :func:`read_csv_labels` reads (a template for other tools)."""
    items = labels.labels if isinstance(labels, LabelSet) else tuple(labels)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for lab in items:
            w.writerow([lab.annotator, lab.suite, lab.sample_id, lab.system_id or "", lab.task, lab.dimension,
                        lab.value or "", " > ".join(lab.ranking or ()), ";".join(lab.candidates), lab.note or "",
                        lab.time or ""])


def read_labels(path: str | os.PathLike) -> LabelSet:
    """Read one label file, by its suffix: ``.csv``, ``.jsonl``, else the page's JSON export."""
    p = Path(path)
    if not p.is_file():
        raise LabelError("no such label file", file=str(p))
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return read_csv_labels(p)
    if suffix == ".jsonl":
        return read_jsonl_labels(p)
    return read_page_export(p)


def _dedupe(ls: LabelSet) -> LabelSet:
    """One label per key. Equal duplicates collapse; conflicting ones keep the later ``time``."""
    chosen: dict[tuple, int] = {}
    labels, origins = list(ls.labels), list(ls.origins)
    for i, lab in enumerate(labels):
        j = chosen.get(lab.key)
        if j is None:
            chosen[lab.key] = i
            continue
        other = labels[j]
        if other == lab:
            continue
        if lab.time and other.time and lab.time != other.time:
            chosen[lab.key] = i if lab.time > other.time else j
            log.info("%s and %s label the same thing differently; keeping the later one", origins[j], origins[i])
            continue
        raise LabelError(
            f"conflicts with the label at {origins[j]} (same annotator, sample, system and dimension, "
            f"different answer, and no later 'time' to decide)", file=origins[i].file, line=origins[i].line)
    keep = sorted(chosen.values())
    return LabelSet(tuple(labels[i] for i in keep), tuple(origins[i] for i in keep), ls.files)


def merge_labels(*sets: LabelSet) -> LabelSet:
    """Merge label sets (several annotators, or several exports of one): keyed, conflicts explained."""
    return _dedupe(LabelSet(
        tuple(lab for s in sets for lab in s.labels),
        tuple(o for s in sets for o in s.origins),
        tuple(f for s in sets for f in s.files),
    ))


def load_labels(paths: Iterable[str | os.PathLike]) -> LabelSet:
    """Read every file and merge them."""
    sets = [read_labels(p) for p in paths]
    if not sets:
        raise LabelError("no label file given")
    return merge_labels(*sets)


# ----------------------------------------------------------------------------- validation


class _Resolver:
    """Maps what a label names (a blind token, id, display name, registered name) to a system id."""

    def __init__(self, res: Any) -> None:
        self.by_sample: dict[tuple[str, str], set[str]] = {}
        self.tokens: dict[str, tuple[str, str, str]] = {}
        for suite, sample, system in res.trajectories:
            self.by_sample.setdefault((suite, sample), set()).add(system)
            self.tokens[blind_token(suite, sample, system)] = (suite, sample, system)
        names: dict[str, set[str]] = {}
        for sid, rec in res.systems.items():
            for alias in {res.display(sid), rec.get("name", "")} - {""}:
                names.setdefault(alias, set()).add(sid)
        self.systems = set(res.systems) | {k[2] for k in res.trajectories}
        self.names = names
        refs: dict[str, list[str]] = {}
        for ref in set(res.suites) | {k[0] for k in res.samples}:
            refs.setdefault(ref.split("@", 1)[0], []).append(ref)
        self.suite_refs, self.suite_names = set(res.suites) | {k[0] for k in res.samples}, refs

    def suite(self, name: str) -> str:
        if name in self.suite_refs:
            return name
        refs = self.suite_names.get(name, [])
        if len(refs) == 1:
            return refs[0]
        known = sorted(self.suite_refs)
        extra = f" (ambiguous: {refs})" if refs else ""
        raise ValueError(f"field 'suite': unknown suite {name!r}{extra}; the runs hold {known}")

    def system(self, name: str, suite: str, sample: str, field_name: str) -> str:
        if name.startswith(BLIND_PREFIX):
            hit = self.tokens.get(name)
            if hit is None or hit[:2] != (suite, sample):
                raise ValueError(f"field {field_name!r}: blinded result {name!r} is not a result of this sample in "
                                 "these runs (was the page built from other runs?)")
            return hit[2]
        if name in self.systems:
            sid = name
        else:
            ids = self.names.get(name, set())
            if len(ids) != 1:
                why = f"ambiguous: it names {sorted(ids)}" if ids else f"the runs hold {sorted(self.systems)}"
                raise ValueError(f"field {field_name!r}: unknown system {name!r} ({why})")
            sid = next(iter(ids))
        if sid not in self.by_sample.get((suite, sample), set()):
            raise ValueError(f"field {field_name!r}: system {name!r} has no result for this sample in the runs")
        return sid


def validate_labels(labels: LabelSet, res: Any) -> LabelSet:
    """Check labels against runs (a :class:`bench.results.Results`) and resolve what they name.

    Suites may be given by bare name, systems by blind token, display name or registered name when
    unambiguous; the returned set holds suite refs and system ids. Unknown suites, samples or
    systems, rank-task ratings of a system that is not the annotator's winner, and rankings whose
    candidates lack a result are errors naming the file and line.
    """
    if not labels.labels:
        raise LabelError("no labels to calibrate with", file=", ".join(f.path for f in labels.files) or None)
    r = _Resolver(res)
    out: list[HumanLabel] = []
    for lab, origin in zip(labels.labels, labels.origins, strict=True):
        try:
            suite = r.suite(lab.suite)
            if (suite, lab.sample_id) not in res.samples:
                raise ValueError(f"field 'sample_id': suite {suite} has no sample {lab.sample_id!r} in the runs")
            changes: dict[str, Any] = {"suite": suite}
            if lab.is_ranking:
                changes["ranking"] = tuple(r.system(s, suite, lab.sample_id, "ranking") for s in lab.ranking or ())
                cands = tuple(r.system(s, suite, lab.sample_id, "candidates") for s in lab.candidates)
                changes["candidates"] = cands or tuple(sorted(r.by_sample.get((suite, lab.sample_id), ())))
                if not set(changes["ranking"]) <= set(changes["candidates"]):
                    raise ValueError("field 'ranking': ranks a system that is not among the candidates")
            else:
                changes["system_id"] = r.system(lab.system_id or "", suite, lab.sample_id, "system_id")
            out.append(lab.replace(**changes))
        except ValueError as err:
            raise LabelError(str(err), file=origin.file, line=origin.line, sample=lab.sample_id) from None
    resolved = _dedupe(LabelSet(tuple(out), labels.origins, labels.files))
    _check_winner_ratings(resolved)
    return resolved


def _check_winner_ratings(ls: LabelSet) -> None:
    """A rank-task rating is of the annotator's first place for that sample."""
    winners = {(lab.annotator, lab.suite, lab.sample_id): lab.ranking[0]
               for lab in ls.labels if lab.is_ranking and lab.ranking}
    for lab, origin in zip(ls.labels, ls.origins, strict=True):
        if lab.task != "rank" or lab.is_ranking:
            continue
        winner = winners.get((lab.annotator, lab.suite, lab.sample_id))
        if winner is None:
            raise LabelError(f"a rank-task rating needs {lab.annotator}'s ranking of this sample, and there is none",
                             file=origin.file, line=origin.line, sample=lab.sample_id)
        if winner != lab.system_id:
            raise LabelError(f"a rank-task rating is of the winner ({winner}), not of {lab.system_id}",
                             file=origin.file, line=origin.line, sample=lab.sample_id)
