"""Built-in suites are made by code; this turns a generator into a cached, validated suite folder.

A generator ``generate(folder, options)`` writes ``suite.yaml``, ``samples.jsonl`` and images into
an empty folder (:func:`suites.jsonl.write_suite_files` helps). :func:`materialize` runs it once per
``(name, version, options)`` into a fresh temporary folder, validates the result with
:func:`suites.folder.load_suite`, writes a ``.complete`` marker last, and publishes the folder with
one atomic rename to ``<cache>/suites/<name>-<version>-<hash of options>``. Later calls reuse it.

Why a rename: a reader never sees half a suite, a killed generator leaves only a ``.tmp-`` folder
(swept a day later), a damaged published folder is reported rather than replaced under a reader, and two processes materializing the same suite at once both succeed: the first
rename wins, the loser discards its own folder and loads the winner's. The generator must be
deterministic (seeded), so both folders would have held the same suite anyway.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.errors import SuiteError
from bench.ids import content_hash
from bench.model import Suite
from suites.folder import load_suite

log = logging.getLogger(__name__)

COMPLETE = ".complete"
CACHE_ENV = "EDITBENCH_CACHE"
# Leftovers of killed generators older than this are swept; younger ones may still be in use.
STALE_SECONDS = 24 * 3600

Generator = Callable[[Path, dict[str, Any]], None]


def cache_root() -> Path:
    """The cache root shared with model-reply and tool caches (:func:`bench.cache.default_cache_dir`)."""
    from bench.cache import default_cache_dir

    return default_cache_dir()


def suite_folder(
    name: str, version: str, options: Mapping[str, Any], *, cache_dir: str | os.PathLike | None = None
) -> Path:
    """Where ``materialize`` keeps this suite: ``<cache>/suites/<name>-<version>-<12 hex of options>``."""
    try:
        key = content_hash(dict(options), 12)
    except (TypeError, ValueError) as err:
        raise SuiteError(f"options of suite {name} must be plain JSON data: {err}", field="options") from err

    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._+-]", "_", text)

    root = Path(cache_dir) if cache_dir is not None else cache_root()
    return root / "suites" / f"{safe(name)}-{safe(str(version))}-{key}"


def _sweep(base: Path) -> None:
    now = time.time()
    for entry in base.iterdir():
        if entry.name.startswith(".tmp-"):
            try:
                if now - entry.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                pass


def _reuse(folder: Path, verify_images: bool) -> Suite:
    """Load the published suite at ``folder``, checking it is complete and still what it was made as.

    A damaged cache folder is reported, not silently replaced: deleting a folder that another
    process may be loading at the same moment is the one thing a lock-free cache must not do.
    """
    fix = f"; delete {folder} to make it again"
    try:
        marker = json.loads((folder / COMPLETE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(
            f"cached suite folder is incomplete (no {COMPLETE} marker){fix}", file=str(folder)
        ) from None
    except (OSError, ValueError) as err:
        raise SuiteError(
            f"cached suite marker cannot be read ({err}){fix}", file=str(folder / COMPLETE)
        ) from err
    try:
        suite = load_suite(folder, verify_images=verify_images)
    except SuiteError as err:
        raise SuiteError(f"cached suite no longer validates: {err}{fix}", file=str(folder)) from err
    if not isinstance(marker, dict) or marker.get("hash") != suite.info.hash:
        raise SuiteError(f"cached suite was changed after it was made{fix}", file=str(folder))
    return suite


def materialize(
    name: str,
    version: str,
    options: Mapping[str, Any],
    generate: Generator,
    *,
    cache_dir: str | os.PathLike | None = None,
    verify_images: bool = False,
) -> Suite:
    """Generate the suite once into the cache and load it; reuse the cached folder afterwards.

    ``options`` (JSON data) select the variant and name the folder; ``generate`` must write a suite
    whose ``suite.yaml`` says ``name`` and ``version``. A fresh folder is always validated with its
    images decoded; a reused one is loaded with ``verify_images`` (by default trusting the image ids
    the generator declared, see :func:`suites.folder.build_suite`) and its hash checked against the
    marker. Example::

        suite = materialize("scenes", "1", {"n": 8, "seed": 0}, generate_scenes)
    """
    final = suite_folder(name, version, options, cache_dir=cache_dir)
    base = final.parent
    base.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        if final.exists():  # published folders appear whole, by rename, with their marker inside
            return _reuse(final, verify_images)
        _sweep(base)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=base))
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a shared cache must stay readable
        who = f"the generator {getattr(generate, '__qualname__', generate)!s} of {name}@{version}"
        try:
            log.info("materializing suite %s@%s into %s", name, version, final)
            generate(tmp, dict(options))
            try:
                made = load_suite(tmp, verify_images=True)
            except SuiteError as err:
                raise SuiteError(f"{who} wrote an invalid suite: {err}", field=err.field) from err
            if (made.info.name, made.info.version) != (name, str(version)):
                raise SuiteError(f"{who} wrote a suite named {made.ref}", field="name")
            marker = {"name": name, "version": str(version), "options": dict(options), "hash": made.info.hash}
            (tmp / COMPLETE).write_text(json.dumps(marker, sort_keys=True), encoding="utf-8")  # written last
            try:
                os.rename(tmp, final)
            except OSError:
                # Another process published first (the folder exists and is not empty): use its copy.
                shutil.rmtree(tmp, ignore_errors=True)
                log.debug("lost the race to publish %s; using the other copy", final)
                continue
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        root = os.path.realpath(final)
        return Suite(info=made.info.replace(root=root), samples=made.samples, root=root)
    raise SuiteError("could not publish the suite folder (is another process deleting it?)", file=str(final))
