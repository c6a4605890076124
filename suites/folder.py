"""The suite format: a folder with ``suite.yaml``, ``samples.jsonl`` and images, and its validation.

A suite folder holds::

    suite.yaml       name, version, description, primary (optional), samples (optional, inline)
    samples.jsonl    one sample a line (absent when suite.yaml lists the samples inline)
    images/...       image files, named by paths relative to the folder

A sample has the fields of :class:`bench.model.Sample` (the line format is in :mod:`suites.jsonl`);
its ``image`` is a path relative to the folder, or ``{path, id?, width?, height?}`` (a generator
that knows its images' ids may declare them).

Validation reports every problem at once, each a :class:`~bench.errors.SuiteError` naming the
file, the line, the sample and the field, because a person fixing a large suite wants the whole
list, not one round trip per mistake. Images in any mode are normalised with
:func:`bench.images.to_rgb`; each sample's :class:`~bench.model.ImageRef` carries the id of the
normalised pixels, and the suite hash covers the samples with those ids (never paths), so a copy of
the suite in another folder or on another machine has the same hash.
"""

from __future__ import annotations

import io
import json
import logging
import os
import posixpath
import re
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import PIL
import yaml
from PIL import Image

from bench.errors import SuiteError
from bench.ids import ID_SCHEME, content_hash, image_id
from bench.images import atomic_write, to_rgb
from bench.model import ImageRef, Sample, Suite, SuiteInfo
from suites.jsonl import (
    SAMPLES_FILE,
    SUITE_FILE,
    Draft,
    Problems,
    RawSample,
    parse_sample,
    read_samples_jsonl,
    unknown_key_message,
    write_suite_files,
)

log = logging.getLogger(__name__)

__all__ = ["SuiteMeta", "build_suite", "load_suite", "suite_hash", "validate_suite", "write_suite_files"]

ID_CACHE_FILE = ".editbench-ids.json"
# Version of what the suite hash covers; bump when the hashed payload changes shape.
HASH_FORMAT = 1

SUITE_KEYS: tuple[str, ...] = ("name", "version", "description", "primary", "samples")

# Names end up in ``name@version`` refs and in cache folder names: no spaces, '@' or '/'.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# The id cache is written only when decoding took at least this long: tiny suites (examples,
# tests) stay free of a sidecar, while a 2,000-image suite (~18 ms per 1024px PNG) reloads in ms.
ID_CACHE_MIN_SECONDS = 0.5


@dataclass(frozen=True)
class SuiteMeta:
    """What ``suite.yaml`` says about the suite itself."""

    name: str
    version: str
    description: str = ""
    primary: str | None = None


def check_name(
    value: str | None, field: str, problems: Problems, file: str, line: int | None = None
) -> str | None:
    """``value`` if it can name a suite (it ends up in ``name@version`` refs and folder names)."""
    if value is not None and not _NAME_RE.match(value):
        problems.add(
            f"{value!r} may hold only letters, digits and . _ + - (it names folders and 'name@version' refs)",
            file=file,
            line=line,
            field=field,
        )
        return None
    return value


# ----------------------------------------------------------------------------------- suite.yaml


def read_suite_yaml(path: Path, problems: Problems) -> tuple[SuiteMeta | None, list[RawSample] | None]:
    """Read ``suite.yaml``: the suite's metadata and, when present, its inline samples.

    Parsing goes through YAML nodes so every key and inline sample keeps its line number, and so
    ``version: 1.10`` is read as the text ``"1.10"``, not the float ``1.1``.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.add(
            f"missing {SUITE_FILE}: a suite folder needs one with at least name and version", file=file
        )
        return None, None
    except (OSError, UnicodeDecodeError) as err:
        problems.add(f"cannot be read: {err}", file=file)
        return None, None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problems.add(
            f"not valid YAML: {err.problem or err.context}", file=file, line=mark.line + 1 if mark else None
        )
        return None, None
    except yaml.YAMLError as err:
        problems.add(f"not valid YAML: {err}", file=file)
        return None, None
    finally:
        loader.dispose()
    if data is None:
        problems.add("is empty: it needs at least name and version", file=file)
        return None, None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.add(
            f"must be a mapping with name and version, got {type(data).__name__}",
            file=file,
            line=node.start_mark.line + 1 if node is not None else None,
        )
        return None, None

    nodes: dict[str, tuple[yaml.Node, int]] = {}
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key in nodes:
            problems.add(f"duplicate key (first on line {nodes[key][1]})", file=file, line=line, field=key)
        nodes[key] = (value_node, line)
        if key not in SUITE_KEYS:
            problems.add(unknown_key_message(key, SUITE_KEYS), file=file, line=line, field=key)

    def line_of(key: str) -> int | None:
        return nodes[key][1] if key in nodes else None

    def text_field(key: str, required: bool) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            if required:
                problems.add(f"missing {key}", file=file, line=line_of(key), field=key)
            return None
        value_node = nodes[key][0]
        if isinstance(value, (dict, list)) or not isinstance(value_node, yaml.ScalarNode):
            problems.add(
                f"must be a string, got {type(value).__name__}", file=file, line=line_of(key), field=key
            )
            return None
        return value if isinstance(value, str) else str(value_node.value)  # raw text: 1.10 stays 1.10

    name = check_name(text_field("name", True), "name", problems, file, line_of("name"))
    version = check_name(text_field("version", True), "version", problems, file, line_of("version"))
    description = text_field("description", False) or ""
    primary = text_field("primary", False)

    inline: list[RawSample] | None = None
    if "samples" in nodes and data.get("samples") is not None:
        seq = nodes["samples"][0]
        if not isinstance(data["samples"], list) or not isinstance(seq, yaml.SequenceNode):
            problems.add("must be a list of samples", file=file, line=line_of("samples"), field="samples")
        else:
            inline = [
                RawSample(item, file, item_node.start_mark.line + 1)
                for item, item_node in zip(data["samples"], seq.value, strict=True)
            ]
    meta = SuiteMeta(name, version, description, primary) if name and version else None
    return meta, inline


# -------------------------------------------------------------------------------------- images


def resolve_image_path(root_real: str, raw: str) -> tuple[str | None, str | None]:
    """``(relative posix path, None)`` for a safe existing file, or ``(None, why not)``.

    A path must stay inside the suite folder lexically (no absolute path, no ``..`` out of it) and
    physically (a symlink may point elsewhere inside the folder, never outside it).
    """
    if raw.startswith(("/", "\\")) or os.path.isabs(raw) or re.match(r"^[A-Za-z]:[\\/]", raw):
        return None, f"absolute path {raw!r} leaves the suite folder; write it relative to the folder"
    rel = posixpath.normpath(raw.replace(os.sep, "/"))
    if rel == ".." or rel.startswith("../"):
        return None, f"path {raw!r} leaves the suite folder"
    full = os.path.join(root_real, *rel.split("/"))
    real = os.path.realpath(full)
    if os.path.commonpath([real, root_real]) != root_real:
        return None, f"path {raw!r} resolves outside the suite folder (a symlink to {real})"
    if not os.path.lexists(full):
        return None, f"missing image file {rel!r}"
    if not os.path.exists(full):
        return None, f"broken symlink {rel!r}"
    if not os.path.isfile(full):
        return None, f"{rel!r} is not a regular file"
    return rel, None


@dataclass(frozen=True)
class _Identified:
    id: str
    width: int
    height: int


def identify(path: str) -> _Identified:
    """Decode ``path`` fully, normalise it, and return its image id and size.

    Raises ``PermissionError``/``OSError`` from reading (unreadable) separately from what decoding
    raises (``ValueError`` with the decoder's complaint), so the message can say which.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            rgb = to_rgb(im)
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, DecompressionBombError...
        raise ValueError(f"{type(err).__name__}: {err}") from err
    return _Identified(image_id(rgb), rgb.width, rgb.height)


class _IdCache:
    """Image ids keyed by (path, size, mtime_ns) in a sidecar, invalidated by a Pillow or id change."""

    def __init__(self, root_real: str) -> None:
        self.path = Path(root_real) / ID_CACHE_FILE
        self.header = {"v": 1, "id_scheme": ID_SCHEME, "pillow": PIL.__version__}
        self.entries: dict[str, list] = {}
        self.dirty = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("header") == self.header:
                self.entries = dict(data.get("entries") or {})
        except (OSError, ValueError):
            pass

    def get(self, rel: str, stat: os.stat_result) -> _Identified | None:
        entry = self.entries.get(rel)
        if isinstance(entry, list) and len(entry) == 5 and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            return _Identified(entry[2], entry[3], entry[4])
        return None

    def put(self, rel: str, stat: os.stat_result, ident: _Identified) -> None:
        self.entries[rel] = [stat.st_size, stat.st_mtime_ns, ident.id, ident.width, ident.height]
        self.dirty = True

    def save(self, keep: Iterable[str]) -> None:
        if not self.dirty or not os.access(self.path.parent, os.W_OK):
            return
        keep = set(keep)
        body = {
            "header": self.header,
            "entries": {k: v for k, v in sorted(self.entries.items()) if k in keep},
        }
        try:
            atomic_write(self.path, json.dumps(body, separators=(",", ":")).encode())
        except OSError as err:  # a read-only or full disk only costs speed next time
            log.debug("could not write the image id cache %s: %s", self.path, err)


def _identify_all(root_real: str, rels: list[str]) -> dict[str, _Identified | Exception]:
    cache = _IdCache(root_real)
    out: dict[str, _Identified | Exception] = {}
    todo: list[tuple[str, os.stat_result | None]] = []
    for rel in rels:
        full = os.path.join(root_real, *rel.split("/"))
        try:
            stat = os.stat(full)
        except OSError as err:
            out[rel] = err
            continue
        hit = cache.get(rel, stat)
        if hit is not None:
            out[rel] = hit
        else:
            todo.append((rel, stat))

    def one(item: tuple[str, os.stat_result | None]) -> tuple[str, _Identified | Exception]:
        rel = item[0]
        try:
            return rel, identify(os.path.join(root_real, *rel.split("/")))
        except (OSError, ValueError) as err:
            return rel, err

    started = time.perf_counter()
    if len(todo) >= 8:  # decoding and hashing release the GIL; threads pay off on big suites
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            results = list(pool.map(one, todo))
    else:
        results = [one(item) for item in todo]
    stats = dict(todo)
    for rel, res in results:
        out[rel] = res
        if isinstance(res, _Identified) and stats.get(rel) is not None:
            cache.put(rel, stats[rel], res)
    elapsed = time.perf_counter() - started
    if todo:
        log.debug(
            "decoded %d images in %.2fs (%d from the id cache)", len(todo), elapsed, len(rels) - len(todo)
        )
    if elapsed >= ID_CACHE_MIN_SECONDS:
        cache.save(rels)
    return out


# ---------------------------------------------------------------------------------- the suite


def suite_hash(samples: Sequence[Sample]) -> str:
    """Content hash of the samples in order, images by id and size (never by path)."""
    payload = []
    for s in samples:
        d = s.to_dict()
        d["image"] = {"id": s.image.id, "width": s.image.width, "height": s.image.height}
        payload.append(d)
    return content_hash({"format": HASH_FORMAT, "samples": payload})


def build_suite(
    root: str | os.PathLike,
    meta: SuiteMeta | None,
    sources: list[RawSample],
    problems: Problems,
    *,
    verify_images: bool = True,
    empty_file: str | None = None,
) -> Suite | None:
    """Validate ``sources`` as samples of a suite rooted at ``root``; ``None`` if anything is wrong.

    ``verify_images=False`` trusts the ``image.id``, ``width`` and ``height`` the file declares
    instead of decoding the image; an image that does not declare all three is always decoded.
    """
    root_real = os.path.realpath(root)
    drafts: list[Draft] = []
    seen: dict[str, int | None] = {}
    for src in sources:
        draft = parse_sample(src, problems)
        sid = src.data.get("id") if isinstance(src.data, dict) else None
        if isinstance(sid, str) and sid:
            if sid in seen:
                problems.add(
                    f"duplicate sample id (first on line {seen[sid]})",
                    file=src.file,
                    line=src.line,
                    sample=sid,
                    field="id",
                )
                continue
            seen[sid] = src.line
        if draft is not None:
            drafts.append(draft)
    if not sources and not any(p.file == empty_file for p in problems.items):
        problems.add("the suite has no samples", file=empty_file or os.path.join(str(root), SAMPLES_FILE))

    resolved: list[tuple[Draft, str]] = []
    for d in drafts:
        rel, why = resolve_image_path(root_real, d.image_path)
        if rel is None:
            problems.add(
                why or "bad path", file=d.src.file, line=d.src.line, sample=d.values["id"], field="image"
            )
        else:
            resolved.append((d, rel))

    # Trust needs the size too: the hash covers it, and a guess would make two loads disagree.
    declared_all = [i for i, (d, _) in enumerate(resolved) if {"id", "width", "height"} <= d.declared.keys()]
    trusted = set() if verify_images else set(declared_all)
    need = sorted({rel for i, (_, rel) in enumerate(resolved) if i not in trusted})
    idents = _identify_all(root_real, need) if need else {}
    samples: list[Sample] = []
    for i, (d, rel) in enumerate(resolved):
        sid = d.values["id"]

        def bad(message: str, field: str = "image", d: Draft = d, sid: str = sid) -> None:
            problems.add(message, file=d.src.file, line=d.src.line, sample=sid, field=field)

        if i in trusted:
            ref = ImageRef(d.declared["id"], rel, d.declared.get("width"), d.declared.get("height"))
        else:
            got = idents[rel]
            if isinstance(got, ValueError):
                bad(f"image {rel!r} cannot be decoded: {got}")
                continue
            if isinstance(got, Exception):
                bad(f"image {rel!r} cannot be read: {got.strerror or got}")
                continue
            for key, value in (("id", got.id), ("width", got.width), ("height", got.height)):
                if key in d.declared and d.declared[key] != value:
                    bad(
                        f"declared {key} {d.declared[key]!r} does not match the image ({value!r})",
                        f"image.{key}",
                    )
            ref = ImageRef(got.id, rel, got.width, got.height)
        samples.append(Sample(image=ref, **d.values))

    if problems.items or meta is None:
        return None
    info = SuiteInfo(
        name=meta.name,
        version=meta.version,
        description=meta.description,
        primary=meta.primary,
        hash=suite_hash(samples),
        size=len(samples),
        root=root_real,
    )
    return Suite(info=info, samples=tuple(samples), root=root_real)


def _read_folder(path: str | os.PathLike, problems: Problems, verify_images: bool) -> Suite | None:
    folder = Path(path)
    if folder.is_file() and folder.name == SUITE_FILE:
        folder = folder.parent
    if not folder.exists():
        problems.add("no such suite folder", file=str(folder))
        return None
    if not folder.is_dir():
        problems.add(f"not a suite folder (a folder holding {SUITE_FILE})", file=str(folder))
        return None
    yaml_path, jsonl_path = folder / SUITE_FILE, folder / SAMPLES_FILE
    meta, inline = read_suite_yaml(yaml_path, problems)
    from_file = read_samples_jsonl(jsonl_path, problems)
    if inline is not None and from_file is not None:
        problems.add(
            f"samples are listed both inline and in {SAMPLES_FILE}; keep one",
            file=str(yaml_path),
            field="samples",
        )
    if not yaml_path.exists() and from_file is None:
        return None  # "missing suite.yaml" says it all
    if inline is None and from_file is None:
        problems.add(f"the suite has no samples: add {SAMPLES_FILE} or a samples: list", file=str(yaml_path))
    sources = inline if inline is not None else (from_file or [])
    empty_file = str(jsonl_path) if from_file is not None else str(yaml_path)
    return build_suite(folder, meta, sources, problems, verify_images=verify_images, empty_file=empty_file)


def load_suite(path: str | os.PathLike, *, verify_images: bool = True) -> Suite:
    """Load and validate the suite folder at ``path`` (or its ``suite.yaml``).

    Raises the first :class:`SuiteError`, with a count of the others; :func:`validate_suite` lists
    them all. Example::

        suite = load_suite("suites/examples/tiny")
        suite.ref, suite.info.hash, suite.samples[0].image.id
    """
    problems = Problems()
    suite = _read_folder(path, problems, verify_images)
    problems.raise_first()
    assert suite is not None
    log.debug("loaded suite %s (%d samples) from %s", suite.ref, len(suite.samples), suite.root)
    return suite


def validate_suite(path: str | os.PathLike) -> list[SuiteError]:
    """Every problem of the suite folder at ``path``, images decoded; an empty list means valid."""
    problems = Problems()
    _read_folder(path, problems, verify_images=True)
    return problems.items
