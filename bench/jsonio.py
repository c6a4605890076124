"""JSON the way the run store needs it: canonical for hashing, NaN-free on disk, lossless on read.

``json`` would happily write ``NaN``, which is not JSON and which other readers reject. The store
never writes it: a missing number is written as ``null`` and restored as ``NaN`` by the typed
readers in :mod:`bench.model`, which know which fields are floats.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _denan(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _denan(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_denan(v) for v in obj]
    return obj


def dumps_line(obj: Any) -> str:
    """One JSONL line: compact, NaN and infinities written as ``null``, key order kept."""
    return json.dumps(_denan(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical_json(obj: Any) -> str:
    """The form identities hash: sorted keys, no whitespace, ASCII only, floats by ``repr``.

    Equal values give equal strings on any machine and Python version: ``json`` prints floats with
    ``repr`` (shortest round-tripping form) since Python 3.1, and sorted keys remove dict order.
    """
    return json.dumps(_denan(obj), sort_keys=True, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    return json.loads(text)
