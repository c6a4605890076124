"""Charts as inline SVG, drawn here in Python: no charting library, no CDN, nothing to fetch.

Every chart is built with :func:`el`, which escapes every text child and attribute value, so a
system name or tag value with markup in it renders as text. Only :func:`el`'s own output is
``Markup``; nothing else in this module is trusted. Colours of systems come from their
:class:`~leaderboard.views.SystemView`; axes, grid and text use CSS classes (``site.css``), so the
charts follow the page's light or dark theme.

Charts: score distributions (a histogram per system with its mean and interval), a score by an
ordered tag such as complexity (means with intervals, one line per system), cost against quality
(one panel per cost: seconds, tool calls, dollars) and a forest plot (Bradley-Terry strengths).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup, escape

from bench.model import ScoreSpec
from leaderboard.formatting import format_score, format_value, is_number

LABEL_W = 150  # room for system names on the left
ROW_H = 30
FONT = 12


def el(tag: str, attrs: dict[str, object] | None = None, *children: object) -> Markup:
    """An SVG element; attribute values and text children are escaped, ``Markup`` children kept."""
    parts = []
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        text = _num(value) if isinstance(value, float) else str(value)
        parts.append(f' {key.rstrip("_").replace("_", "-")}="{escape(text)}"')
    inner = "".join(
        str(c) if isinstance(c, Markup) else str(escape(str(c))) for c in children if c is not None
    )
    return Markup(f"<{tag}{''.join(parts)}>{inner}</{tag}>")


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if math.isfinite(v) else "0"


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    # counted, not accumulated: a span of a few ulps (a constant judge's interval) has a step
    # below the spacing of floats near ``lo``, and ``v += step`` would never advance
    n = int(math.floor((hi - start) / step + 1e-9)) + 1
    return [round(start + i * step, 10) for i in range(max(0, n))]


def domain(values: Sequence[float], spec: ScoreSpec | None = None, pad: float = 0.06) -> tuple[float, float]:
    """The span of ``values`` padded, clamped to the score's declared scale."""
    finite = [float(v) for v in values if is_number(v)]
    if not finite:
        return (0.0, 1.0)
    lo, hi = min(finite), max(finite)
    span = hi - lo if hi > lo else max(abs(hi) * 0.1, 1e-3)
    lo, hi = lo - span * pad, hi + span * pad
    if spec is not None and is_number(spec.min):
        lo = max(lo, float(spec.min))  # type: ignore[arg-type]
    if spec is not None and is_number(spec.max):
        hi = min(hi, float(spec.max))  # type: ignore[arg-type]
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


class _Scale:
    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1

    def __call__(self, v: float) -> float:
        t = (v - self.d0) / (self.d1 - self.d0) if self.d1 != self.d0 else 0.5
        return self.r0 + min(1.05, max(-0.05, t)) * (self.r1 - self.r0)


def _svg(width: int, height: int, label: str, *children: object) -> Markup:
    return el(
        "svg",
        {
            "class": "chart",
            "viewBox": f"0 0 {width} {height}",
            "width": width,
            "height": height,
            "role": "img",
            "aria-label": label,
        },
        el("title", None, label),
        *children,
    )


def _y_label(spec: ScoreSpec, x: float, y: float) -> Markup:
    direction = "higher is better" if spec.higher_is_better else "lower is better"
    return el("text", {"class": "axis-label", "x": x, "y": y}, f"{spec.name} ({direction})")


def _x_axis(x: _Scale, y: float, ticks: list[float], fmt: str) -> Markup:
    items = [el("line", {"class": "axis", "x1": x.r0, "x2": x.r1, "y1": y, "y2": y})]
    for t in ticks:
        items.append(el("line", {"class": "grid", "x1": x(t), "x2": x(t), "y1": 6, "y2": y}))
        items.append(
            el(
                "text",
                {"class": "tick", "x": x(t), "y": y + 14, "text-anchor": "middle"},
                format_value(t, fmt),
            )
        )
    return Markup("").join(items)


@dataclass(frozen=True)
class Series:
    """One system's values for a distribution chart."""

    label: str
    color: str
    values: np.ndarray  # finite values only
    mean: float | None = None
    low: float | None = None
    high: float | None = None


def distribution_chart(
    series: Sequence[Series], spec: ScoreSpec, *, width: int = 600, bins: int = 24
) -> Markup:
    """A histogram per system on one shared axis, with the mean (dot) and its 95% interval (bar)."""
    all_values = np.concatenate([s.values for s in series]) if series else np.array([])
    d0, d1 = domain(
        list(all_values) + [v for s in series for v in (s.low, s.high) if v is not None], spec, 0.02
    )
    height = 26 + ROW_H * len(series) + 22
    x = _Scale(d0, d1, LABEL_W, width - 14)
    edges = np.linspace(d0, d1, bins + 1)
    body = []
    for i, s in enumerate(series):
        top = 18 + i * ROW_H
        base = top + ROW_H - 6
        body.append(
            el(
                "text",
                {"class": "label", "x": LABEL_W - 10, "y": base - 6, "text-anchor": "end"},
                el("title", None, s.label),
                _short(s.label, 21),
            )
        )
        counts, _ = (
            np.histogram(np.clip(s.values, d0, d1), bins=edges) if s.values.size else (np.zeros(bins), edges)
        )
        peak = max(1, int(counts.max())) if s.values.size else 1
        for k, c in enumerate(counts):
            if c:
                h = (ROW_H - 10) * c / peak
                body.append(
                    el(
                        "rect",
                        {
                            "x": x(edges[k]) + 0.5,
                            "y": base - h,
                            "width": max(0.5, x(edges[k + 1]) - x(edges[k]) - 1),
                            "height": h,
                            "fill": s.color,
                            "fill-opacity": 0.35,
                        },
                        el(
                            "title",
                            None,
                            f"{s.label}: {int(c)} in [{format_score(edges[k], spec)}, {format_score(edges[k + 1], spec)})",
                        ),
                    )
                )
        body.append(el("line", {"class": "base", "x1": LABEL_W, "x2": width - 14, "y1": base, "y2": base}))
        if s.mean is not None:
            if s.low is not None and s.high is not None:
                body.append(
                    el(
                        "line",
                        {
                            "x1": x(s.low),
                            "x2": x(s.high),
                            "y1": base - 3,
                            "y2": base - 3,
                            "stroke": s.color,
                            "stroke-width": 3,
                            "stroke-linecap": "round",
                        },
                    )
                )
            body.append(
                el(
                    "circle",
                    {"cx": x(s.mean), "cy": base - 3, "r": 4, "fill": s.color, "class": "dot"},
                    el("title", None, f"{s.label}: mean {format_score(s.mean, spec)}, n={s.values.size}"),
                )
            )
    ticks = nice_ticks(d0, d1)
    body.append(_x_axis(x, height - 22, ticks, spec.display))
    return _svg(width, height, f"Distribution of {spec.name} per system", *body)


@dataclass(frozen=True)
class LevelSeries:
    """One system's mean and interval per level of an ordered tag (``None`` where it has none)."""

    label: str
    color: str
    points: tuple[tuple[float, float, float, int] | None, ...]  # (mean, low, high, n) per level


def level_chart(
    levels: Sequence[str], series: Sequence[LevelSeries], spec: ScoreSpec, tag: str, *, width: int = 600
) -> Markup:
    """Means with 95% intervals per level of ``tag``, a line per system (dodged sideways)."""
    height = 250
    per_row = 3
    legend_h = 20 * math.ceil(len(series) / per_row)
    values = [v for s in series for p in s.points if p for v in p[:3]]
    d0, d1 = domain(values, spec)
    left, right, top, bottom = 56, width - 16, 30 + legend_h, height + legend_h - 40
    band = (right - left) / max(1, len(levels))
    y = _Scale(d0, d1, bottom, top)
    body = []
    for t in nice_ticks(d0, d1, 4):
        body.append(el("line", {"class": "grid", "x1": left, "x2": right, "y1": y(t), "y2": y(t)}))
        body.append(
            el(
                "text",
                {"class": "tick", "x": left - 6, "y": y(t) + 4, "text-anchor": "end"},
                format_value(t, spec.display),
            )
        )
    for k, level in enumerate(levels):
        body.append(
            el(
                "text",
                {"class": "tick", "x": left + band * (k + 0.5), "y": bottom + 18, "text-anchor": "middle"},
                _short(str(level), 18),
            )
        )
    body.append(el("line", {"class": "axis", "x1": left, "x2": right, "y1": bottom, "y2": bottom}))
    body.append(
        el(
            "text",
            {"class": "axis-label", "x": (left + right) / 2, "y": bottom + 34, "text-anchor": "middle"},
            tag,
        )
    )
    body.append(_y_label(spec, 8, top - 12))
    dodge = min(10.0, band * 0.5 / max(1, len(series)))
    for i, s in enumerate(series):
        off = (i - (len(series) - 1) / 2) * dodge
        pts = [(left + band * (k + 0.5) + off, p) for k, p in enumerate(s.points) if p is not None]
        if len(pts) > 1:
            body.append(
                el(
                    "polyline",
                    {
                        "points": " ".join(f"{_num(px)},{_num(y(p[0]))}" for px, p in pts),
                        "fill": "none",
                        "stroke": s.color,
                        "stroke-width": 1.6,
                        "stroke-opacity": 0.8,
                    },
                )
            )
        for px, (m, lo, hi, n) in pts:
            body.append(
                el(
                    "line",
                    {"x1": px, "x2": px, "y1": y(lo), "y2": y(hi), "stroke": s.color, "stroke-width": 2},
                )
            )
            body.append(
                el(
                    "circle",
                    {"cx": px, "cy": y(m), "r": 3.8, "fill": s.color, "class": "dot"},
                    el(
                        "title",
                        None,
                        f"{s.label}: {format_score(m, spec)} [{format_score(lo, spec)}, {format_score(hi, spec)}], n={n}",
                    ),
                )
            )
        lx, ly = 16 + (i % per_row) * ((width - 32) / per_row), 14 + 20 * (i // per_row)
        body.append(el("rect", {"x": lx, "y": ly - 9, "width": 10, "height": 10, "rx": 2, "fill": s.color}))
        body.append(
            el(
                "text",
                {"class": "label", "x": lx + 15, "y": ly},
                el("title", None, s.label),
                _short(s.label, 26),
            )
        )
    return _svg(width, height + legend_h, f"{spec.name} by {tag}", *body)


@dataclass(frozen=True)
class Point:
    label: str
    color: str
    x: float
    y: float
    low: float | None
    high: float | None


def scatter_chart(
    points: Sequence[Point], x_label: str, x_fmt: str, spec: ScoreSpec, *, width: int = 360
) -> Markup:
    """Quality (y, with its interval) against a cost (x), one labelled point per system."""
    height = 250
    left, right, top, bottom = 52, width - 14, 30, height - 40
    xs = [p.x for p in points]
    x0, x1 = 0.0, max(xs) * 1.12 if xs and max(xs) > 0 else 1.0
    d0, d1 = domain([v for p in points for v in (p.y, p.low, p.high) if v is not None], spec)
    x, y = _Scale(x0, x1, left, right), _Scale(d0, d1, bottom, top)
    body = []
    for t in nice_ticks(d0, d1, 4):
        body.append(el("line", {"class": "grid", "x1": left, "x2": right, "y1": y(t), "y2": y(t)}))
        body.append(
            el(
                "text",
                {"class": "tick", "x": left - 6, "y": y(t) + 4, "text-anchor": "end"},
                format_value(t, spec.display),
            )
        )
    for t in nice_ticks(x0, x1, 4):
        body.append(
            el(
                "text",
                {"class": "tick", "x": x(t), "y": bottom + 15, "text-anchor": "middle"},
                format_value(t, x_fmt),
            )
        )
    body.append(el("line", {"class": "axis", "x1": left, "x2": right, "y1": bottom, "y2": bottom}))
    body.append(
        el(
            "text",
            {"class": "axis-label", "x": (left + right) / 2, "y": bottom + 32, "text-anchor": "middle"},
            x_label,
        )
    )
    body.append(_y_label(spec, 8, 14))
    for p in points:
        px, py = x(p.x), y(p.y)
        if p.low is not None and p.high is not None:
            body.append(
                el(
                    "line",
                    {
                        "x1": px,
                        "x2": px,
                        "y1": y(p.low),
                        "y2": y(p.high),
                        "stroke": p.color,
                        "stroke-width": 2,
                    },
                )
            )
        body.append(
            el(
                "circle",
                {"cx": px, "cy": py, "r": 4.5, "fill": p.color, "class": "dot"},
                el(
                    "title",
                    None,
                    f"{p.label}: {x_label} {format_value(p.x, x_fmt)}, {spec.name} {format_score(p.y, spec)}",
                ),
            )
        )
        anchor = "end" if px > (left + right) / 2 else "start"
        body.append(
            el(
                "text",
                {
                    "class": "label small",
                    "x": px + (-8 if anchor == "end" else 8),
                    "y": py - 6,
                    "text-anchor": anchor,
                },
                _short(p.label, 20),
            )
        )
    return _svg(width, height, f"{spec.name} against {x_label}", *body)


@dataclass(frozen=True)
class ForestRow:
    label: str
    color: str
    value: float
    low: float | None
    high: float | None
    note: str = ""


def forest_chart(
    rows: Sequence[ForestRow], x_label: str, *, width: int = 600, zero: float | None = 0.0
) -> Markup:
    """Estimates with intervals, one row each (Bradley-Terry strengths), a reference line at ``zero``."""
    height = 16 + ROW_H * len(rows) + 34
    d0, d1 = domain(
        [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
        + ([zero] if zero is not None else [])
    )
    x = _Scale(d0, d1, LABEL_W, width - 14)
    body = []
    if zero is not None:
        body.append(el("line", {"class": "zero", "x1": x(zero), "x2": x(zero), "y1": 8, "y2": height - 34}))
    for i, r in enumerate(rows):
        cy = 16 + i * ROW_H + ROW_H / 2
        body.append(
            el(
                "text",
                {"class": "label", "x": LABEL_W - 10, "y": cy + 4, "text-anchor": "end"},
                el("title", None, r.label),
                _short(r.label, 21),
            )
        )
        if r.low is not None and r.high is not None:
            body.append(
                el(
                    "line",
                    {
                        "x1": x(r.low),
                        "x2": x(r.high),
                        "y1": cy,
                        "y2": cy,
                        "stroke": r.color,
                        "stroke-width": 3,
                        "stroke-linecap": "round",
                    },
                )
            )
        body.append(
            el(
                "circle",
                {"cx": x(r.value), "cy": cy, "r": 5, "fill": r.color, "class": "dot"},
                el(
                    "title",
                    None,
                    f"{r.label}: {r.value:.2f}"
                    + (f" [{r.low:.2f}, {r.high:.2f}]" if r.low is not None and r.high is not None else "")
                    + (f"; {r.note}" if r.note else ""),
                ),
            )
        )
    body.append(_x_axis(x, height - 34, nice_ticks(d0, d1), "{:.2g}"))
    body.append(
        el(
            "text",
            {
                "class": "axis-label",
                "x": (LABEL_W + width - 14) / 2,
                "y": height - 4,
                "text-anchor": "middle",
            },
            x_label,
        )
    )
    return _svg(width, height, x_label, *body)
