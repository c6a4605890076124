"""Data for the pages' scripts, as ``data-<name>.js`` files loaded with ``<script src>``.

Pages opened from ``file://`` cannot ``fetch()`` local files, so data travels as scripts: each
file assigns one JSON value to ``window.EDITBENCH_DATA[name]``. The JSON is encoded with every
``<``, ``>``, ``&`` and line separator escaped (``\\u003c`` …), so no string from a run can close a
script element or be read as markup even if a file were inlined; the page scripts only ever put
these strings into the DOM as text (``textContent``), never as HTML.

Numbers that are not finite become ``null`` (JSON has no NaN).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from bench.images import atomic_write

PREFIX = "data-"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def safe_json(obj: Any) -> str:
    """JSON that is also safe inside HTML and JavaScript source (no ``<``, ``>``, ``&``, U+2028/9)."""
    try:  # payloads are built without NaN; walking a large one to clean it is the slow path
        text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_clean(obj), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chunk_filename(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a data chunk name: {name!r}")
    return f"{PREFIX}{name}.js"


def chunk_source(name: str, payload: Any) -> str:
    """The text of ``data-<name>.js``."""
    chunk_filename(name)  # validates the name
    return (
        "/* editbench leaderboard data; generated, do not edit */\n"
        f'(window.EDITBENCH_DATA = window.EDITBENCH_DATA || {{}})["{name}"] = {safe_json(payload)};\n'
    )


def write_chunk(out: Path, name: str, payload: Any) -> str:
    """Write ``out/data-<name>.js``; returns its file name (relative to the site root)."""
    filename = chunk_filename(name)
    atomic_write(Path(out) / filename, chunk_source(name, payload).encode("ascii"))
    return filename
