"""The sample-line format: reading ``samples.jsonl`` lines and checking each sample's fields.

This is the lower half of the suite format, shared by a suite folder (:mod:`suites.folder`) and a
bare JSONL file (:func:`load_jsonl`). A line holds one object with the fields of
:class:`bench.model.Sample`; ``image`` is a path relative to the file's folder or an object
``{path, id?, width?, height?}``; a ``checklist`` entry is ``{id?, text, kind?, weight?}`` or a bare
string (a goal criterion), numbered ``c1``, ``c2``... by position when it has no id. Problems are
collected, never raised one at a time, so a person fixing a large file sees all of them.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bench.errors import SuiteError
from bench.ids import content_hash
from bench.jsonio import dumps_line
from bench.model import Criterion, Sample

if TYPE_CHECKING:
    from bench.model import Suite

SUITE_FILE = "suite.yaml"
SAMPLES_FILE = "samples.jsonl"
SAMPLE_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Sample))
CRITERION_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Criterion))
IMAGE_KEYS: tuple[str, ...] = ("path", "id", "width", "height")
CRITERION_KINDS: tuple[str, ...] = ("goal", "preserve", "quality")


@dataclass(frozen=True)
class RawSample:
    """One sample as read, before validation: its data and where it came from (for messages)."""

    data: Any
    file: str
    line: int | None


class Problems:
    """Collects :class:`SuiteError` s so validation can report all of them."""

    def __init__(self) -> None:
        self.items: list[SuiteError] = []

    def add(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        sample: str | None = None,
        field: str | None = None,
    ) -> None:
        self.items.append(SuiteError(message, file=file, line=line, sample=sample, field=field))

    def raise_first(self) -> None:
        """Raise the first problem, saying how many more there are."""
        if not self.items:
            return
        first, rest = self.items[0], len(self.items) - 1
        message = first.message
        if rest:
            message += f" (and {rest} more problem{'s' if rest > 1 else ''}; validate_suite lists them all)"
        raise SuiteError(message, file=first.file, line=first.line, sample=first.sample, field=first.field)


def unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(allowed)}"
    return f"unknown field {key!r}; {hint}"


# -------------------------------------------------------------------------------- samples.jsonl


def read_samples_jsonl(path: Path, problems: Problems) -> list[RawSample] | None:
    """One :class:`RawSample` per non-blank line; ``None`` when the file does not exist."""
    file = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        problems.add(f"cannot be read: {err}", file=file)
        return []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out: list[RawSample] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            problems.add(f"not UTF-8: {err.reason} at byte {err.start}", file=file, line=number)
            continue
        except json.JSONDecodeError as err:
            problems.add(f"not valid JSON: {err.msg} (column {err.colno})", file=file, line=number)
            continue
        out.append(RawSample(value, file, number))
    return out


# ------------------------------------------------------------------------------------ a sample


@dataclass
class Draft:
    """A sample whose fields validated; its image still to be resolved and identified."""

    src: RawSample
    values: dict[str, Any]  # Sample fields other than image
    image_path: str  # as written
    declared: dict[str, Any]  # id / width / height the file declares, if any


def _str_map(value: Any, name: str, err) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        err(f"must be an object of strings, got {type(value).__name__}", name)
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, str):
            out[str(k)] = v
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[str(k)] = str(v)  # {"complexity": 3} means "3"; the hash sees the string
        else:
            err(f"must be a string, got {json.dumps(v)}", f"{name}.{k}")
    return out


def _checklist(value: Any, err) -> tuple[Criterion, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        err(f"must be a list of criteria, got {type(value).__name__}", "checklist")
        return ()
    out: list[Criterion] = []
    first_seen: dict[str, int] = {}
    for i, entry in enumerate(value):
        where = f"checklist[{i}]"
        if isinstance(entry, str):
            entry = {"text": entry}
        if not isinstance(entry, dict):
            err(
                f"must be a string or an object {{id, text, kind, weight}}, got {type(entry).__name__}", where
            )
            continue
        ok = True
        for key in entry:
            if key not in CRITERION_KEYS:
                err(unknown_key_message(key, CRITERION_KEYS), f"{where}.{key}")
                ok = False
        cid = entry.get("id", f"c{i + 1}")
        text = entry.get("text")
        kind = entry.get("kind", "goal")
        weight = entry.get("weight", 1.0)
        if not isinstance(cid, str) or not cid.strip():
            err(f"must be a non-empty string, got {json.dumps(cid)}", f"{where}.id")
            ok = False
        elif cid in first_seen:
            err(f"duplicate criterion id {cid!r} (first at checklist[{first_seen[cid]}])", f"{where}.id")
            ok = False
        else:
            first_seen[cid] = i
        if not isinstance(text, str) or not text.strip():
            err("empty criterion text", f"{where}.text")
            ok = False
        if kind not in CRITERION_KINDS:
            err(f"kind {kind!r} is not one of {', '.join(CRITERION_KINDS)}", f"{where}.kind")
            ok = False
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not (0 <= weight < float("inf"))
        ):
            err(f"weight must be a finite number >= 0, got {json.dumps(weight)}", f"{where}.weight")
            ok = False
        if ok:
            out.append(Criterion(id=cid, text=text, kind=kind, weight=float(weight)))
    return tuple(out)


def parse_sample(src: RawSample, problems: Problems) -> Draft | None:
    """Check every field of one sample except its image file; ``None`` if any field is wrong."""
    before = len(problems.items)
    data = src.data
    if not isinstance(data, dict):
        problems.add(f"a sample must be an object, got {type(data).__name__}", file=src.file, line=src.line)
        return None
    sid = data.get("id")
    label = sid if isinstance(sid, str) and sid else None

    def err(message: str, field: str) -> None:
        problems.add(message, file=src.file, line=src.line, sample=label, field=field)

    if label is None:
        err("missing sample id" if sid in (None, "") else f"must be a string, got {json.dumps(sid)}", "id")
    for key in data:
        if key not in SAMPLE_KEYS:
            err(unknown_key_message(str(key), SAMPLE_KEYS), str(key))
    goal = data.get("goal")
    if goal is None or (isinstance(goal, str) and not goal.strip()):
        err("empty goal: every sample needs the user's words", "goal")
    elif not isinstance(goal, str):
        err(f"must be a string, got {json.dumps(goal)}", "goal")

    image = data.get("image")
    declared: dict[str, Any] = {}
    path: Any = image
    if isinstance(image, dict):
        for key in image:
            if key not in IMAGE_KEYS:
                err(unknown_key_message(str(key), IMAGE_KEYS), f"image.{key}")
        path = image.get("path")
        declared = {k: image[k] for k in ("id", "width", "height") if image.get(k) is not None}
        if "id" in declared and not isinstance(declared["id"], str):
            err(f"must be a string, got {json.dumps(declared['id'])}", "image.id")
        for k in ("width", "height"):
            if k in declared and (isinstance(declared[k], bool) or not isinstance(declared[k], int)):
                err(f"must be an integer, got {json.dumps(declared[k])}", f"image.{k}")
    if path is None or path == "":
        err("missing image: give a path relative to the suite folder", "image")
    elif not isinstance(path, str):
        err(f"must be a path string or {{path: ...}}, got {type(path).__name__}", "image")

    checklist = _checklist(data.get("checklist"), err)
    context = _str_map(data.get("context"), "context", err)
    tags = _str_map(data.get("tags"), "tags", err)
    preserve_raw = data.get("preserve")
    preserve: tuple[str, ...] = ()
    if isinstance(preserve_raw, str):
        preserve = (preserve_raw,)
    elif isinstance(preserve_raw, list) and all(isinstance(p, str) for p in preserve_raw):
        preserve = tuple(preserve_raw)
    elif preserve_raw is not None:
        err("must be a list of strings", "preserve")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        err(f"must be a string, got {type(description).__name__}", "description")
    for key in ("reference", "truth"):
        try:
            content_hash(data.get(key))
        except (TypeError, ValueError) as e:  # e.g. a YAML date: the suite hash needs plain JSON
            err(f"must be plain JSON data: {e}", key)

    if len(problems.items) > before:
        return None
    return Draft(
        src=src,
        values=dict(
            id=sid,
            goal=goal,
            checklist=checklist,
            context=context,
            preserve=preserve,
            tags=tags,
            description=description,
            reference=data.get("reference"),
            truth=data.get("truth"),
        ),
        image_path=path,
        declared=declared,
    )


def write_suite_files(
    folder: str | os.PathLike,
    *,
    name: str,
    version: str,
    samples: Iterable[Sample | Mapping],
    description: str = "",
    primary: str | None = None,
) -> None:
    """Write ``suite.yaml`` and ``samples.jsonl`` into ``folder`` (images are the caller's job).

    For generators (see :mod:`suites.materialize`): a :class:`Sample` is written with its full
    ``ImageRef`` (path, id, width, height), so a later load may skip decoding with
    ``verify_images=False``; a mapping is written as given.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"name": name, "version": str(version), "description": description}
    if primary is not None:
        meta["primary"] = primary
    (folder / SUITE_FILE).write_text(
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    with open(folder / SAMPLES_FILE, "w", encoding="utf-8") as fh:
        for s in samples:
            d = s.to_dict() if isinstance(s, Sample) else dict(s)
            if isinstance(d.get("image"), dict):
                d["image"] = {k: v for k, v in d["image"].items() if v is not None}
            fh.write(dumps_line(d) + "\n")


def load_jsonl(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    version: str = "1",
    description: str = "",
    primary: str | None = None,
    verify_images: bool = True,
) -> Suite:
    """Load a bare samples JSONL file as a suite; image paths are relative to the file's folder.

    For a dataset that ships only a JSONL file: the suite's name defaults to the file's stem. The
    same validation as a suite folder applies, with the same messages. Example::

        suite = load_jsonl("data/edits.jsonl", name="my-edits", version="2")
    """
    from suites.folder import SuiteMeta, build_suite, check_name  # folder builds on this module

    file = Path(path)
    problems = Problems()
    sources = read_samples_jsonl(file, problems)
    if sources is None:
        problems.add("no such file", file=str(file))
    meta_name = check_name(name if name is not None else file.stem, "name", problems, str(file))
    meta_version = check_name(str(version), "version", problems, str(file))
    meta = SuiteMeta(meta_name, meta_version, description, primary) if meta_name and meta_version else None
    suite = (
        build_suite(
            file.parent, meta, sources or [], problems, verify_images=verify_images, empty_file=str(file)
        )
        if sources is not None
        else None
    )
    problems.raise_first()
    assert suite is not None
    return suite
