"""Turning stored values into short display strings: scores by their ``ScoreSpec``, dates, hashes.

A score's ``display`` format comes from ``run.json``, i.e. from data, so it is applied defensively:
only a plain ``{:spec}`` field with optional literal text around it is honoured (``"{:.2f} dB"``),
and anything else (attribute access, nested fields, huge widths) falls back to ``{:.4g}``. The
result is text; escaping is the template's job.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from bench.model import ScoreSpec

MISSING = "—"
_FIELD = re.compile(r"^(?P<pre>[^{}]{0,16})\{(?::(?P<spec>[^{}]*))?\}(?P<post>[^{}]{0,16})$")
# sign, grouping, precision (at most 2 digits), type: enough for every score, no width/fill games.
_SPEC = re.compile(r"^[+\- ]?[,_]?(\.\d{1,2})?[eEfFgG%]?$")


def is_number(value: Any) -> bool:
    """A real, finite number (``None``, NaN, infinities and bools are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_value(value: Any, fmt: str = "{:.3f}") -> str:
    """``value`` formatted with a spec's display string; ``—`` for a missing number."""
    if not is_number(value):
        return MISSING
    m = _FIELD.match(fmt or "")
    if m and _SPEC.match(m.group("spec") or ""):
        try:
            return f"{m.group('pre')}{format(float(value), m.group('spec') or '')}{m.group('post')}"
        except ValueError:
            pass
    return f"{float(value):.4g}"


def format_score(value: Any, spec: ScoreSpec | None) -> str:
    return format_value(value, spec.display if spec is not None else "{:.3f}")


def bare_format(fmt: str) -> str:
    """The display format without its literal text (for interval bounds: ``[0.91, 0.95]``)."""
    m = _FIELD.match(fmt or "")
    if m and _SPEC.match(m.group("spec") or ""):
        return "{:" + (m.group("spec") or "") + "}"
    return "{:.4g}"


def format_range(spec: ScoreSpec) -> str:
    """``0 – 1, higher is better``-style description of a score's scale."""
    lo = "−∞" if spec.min is None else format_value(spec.min, "{:g}")
    hi = "∞" if spec.max is None else format_value(spec.max, "{:g}")
    direction = "higher is better" if spec.higher_is_better else "lower is better"
    return f"range {lo} to {hi}, {direction}"


def parse_time(value: Any) -> datetime | None:
    """A run time as stored (ISO 8601 string or POSIX seconds) as an aware UTC datetime."""
    if is_number(value):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if isinstance(value, str) and value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    return None


def format_time(value: Any) -> str:
    dt = parse_time(value)
    if dt is None:
        return str(value) if value else MISSING
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def short_hash(value: Any, length: int = 12) -> str:
    text = str(value or "")
    return text[:length] if text else MISSING


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
