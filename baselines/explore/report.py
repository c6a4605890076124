"""The approximations page: a self-contained HTML fragment from a run's ``approximations.json``.

For the leaderboard (which reads only the store): :func:`load` reads the report a run holds (or
``None``), :func:`render_fragment` turns it into one ``<section>`` with its own scoped styles, no
script, no external resource, and an inline SVG scatter of approximation 1 — so it can be pasted
into any page, opened from ``file://``, or linked. Every number shows its bootstrap interval and
``n``; a statistic that is undefined (too few points, or a constant side) shows as "n/a", never 0.

File shape (``approximations.json``, written by :func:`baselines.explore.approximations.write`):
``format``, ``version``, ``run``, ``policy`` (``path``, ``meta``) or null, ``subtask_judges``,
``final_judges``, ``samples``, ``sequences``, ``steps``, three blocks — ``additive``
(``spearman``, ``kendall``, ``spearman_sequential``, ``spearman_within``), ``original_vs_sequential`` (``spearman``,
``kendall``, ``equal_fraction``, ``mean_abs_diff``), ``undone`` (``fraction``, ``effective_steps``,
``undone_steps``, ``steps``) — where each statistic is ``{value, low, high, n, clusters,
undefined}``; ``by_suite`` (suite -> the same three blocks); ``allocation`` (the last adaptive
exploration against exhaustive: ``method``, ``counts``, ``comparison``) or null; ``points``
(``sequences``: one row per executed sequence; ``steps``: one row per step).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["load", "render_fragment", "write_fragment"]

_CSS = """
.eb-approx{font:14px/1.45 system-ui,sans-serif;color:#1d2430;max-width:960px}
.eb-approx h2{font-size:18px;margin:0 0 6px}.eb-approx h3{font-size:15px;margin:18px 0 6px}
.eb-approx table{border-collapse:collapse;margin:4px 0 10px}
.eb-approx th,.eb-approx td{padding:3px 10px;border-bottom:1px solid #e3e6eb;text-align:left}
.eb-approx td.n{text-align:right;font-variant-numeric:tabular-nums}
.eb-approx .ci{color:#6b7280}.eb-approx .note{color:#4b5563;font-size:13px}
.eb-approx svg{background:#fafbfc;border:1px solid #e3e6eb}
"""


def load(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's approximations report, or ``None`` when it has none."""
    p = Path(run_dir) / "approximations.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def _num(v: Any, fmt: str = "{:.3f}") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return fmt.format(v)


def _stat_cells(s: Mapping[str, Any] | None, fmt: str = "{:.3f}") -> str:
    s = s or {}
    ci = f"[{_num(s.get('low'), fmt)}, {_num(s.get('high'), fmt)}]" if s.get("value") is not None else ""
    return (f'<td class="n">{_num(s.get("value"), fmt)}</td><td class="n ci">{ci}</td>'
            f'<td class="n">{s.get("n", 0)}</td><td class="n">{s.get("clusters", 0)}</td>')


_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("additive", "spearman", "(a) additive rewards", "Spearman: sum of subtask rewards on I0 vs final score"),
    ("additive", "kendall", "(a) additive rewards", "Kendall: sum of subtask rewards on I0 vs final score"),
    ("additive", "spearman_sequential", "(a) additive rewards",
     "Spearman: sum of subtask rewards on I(k-1) vs final score"),
    ("additive", "spearman_within", "(a) additive rewards",
     "mean Spearman within a sample, across its assignments"),
    ("original_vs_sequential", "spearman", "(b) original-image criterion", "Spearman: reward on I0 vs on I(k-1)"),
    ("original_vs_sequential", "kendall", "(b) original-image criterion", "Kendall: reward on I0 vs on I(k-1)"),
    ("original_vs_sequential", "equal_fraction", "(b) original-image criterion", "fraction of steps with equal rewards"),
    ("original_vs_sequential", "mean_abs_diff", "(b) original-image criterion", "mean |reward on I0 - on I(k-1)|"),
    ("undone", "fraction", "(c) undone steps", "fraction of effective steps a later step undid"),
)


def _table(blocks: Mapping[str, Any]) -> str:
    head = ("<tr><th>approximation</th><th>statistic</th><th>value</th><th>95% interval</th><th>n</th>"
            "<th>samples</th></tr>")
    rows = []
    for block, key, group, label in _ROWS:
        stat = (blocks.get(block) or {}).get(key)
        rows.append(f"<tr><td>{html.escape(group)}</td><td>{html.escape(label)}</td>{_stat_cells(stat)}</tr>")
    undone = blocks.get("undone") or {}
    foot = (f'<p class="note">{undone.get("undone_steps", 0)} of {undone.get("effective_steps", 0)} effective steps '
            f'undone ({undone.get("steps", 0)} steps executed).</p>')
    return f"<table>{head}{''.join(rows)}</table>{foot}"


def _scatter(points: list[Mapping[str, Any]], w: int = 320, h: int = 220) -> str:
    pts = [(p["sum_original"], p["final"]) for p in points if p.get("final") is not None]
    if len(pts) < 2:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1.0
    y1 = y1 if y1 > y0 else y0 + 1.0
    pad = 28

    def sx(v: float) -> float:
        return pad + (v - x0) / (x1 - x0) * (w - 2 * pad)

    def sy(v: float) -> float:
        return h - pad - (v - y0) / (y1 - y0) * (h - 2 * pad)

    dots = "".join(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#2f6fde" fill-opacity="0.55"/>'
                   for x, y in pts)
    axes = (f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#9aa3af"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#9aa3af"/>'
            f'<text x="{w / 2:.0f}" y="{h - 6}" font-size="11" text-anchor="middle">sum of subtask rewards on I0 '
            f'({_num(x0, "{:.2f}")}..{_num(x1, "{:.2f}")})</text>'
            f'<text x="10" y="{h / 2:.0f}" font-size="11" transform="rotate(-90 10 {h / 2:.0f})" '
            f'text-anchor="middle">final score ({_num(y0, "{:.2f}")}..{_num(y1, "{:.2f}")})</text>')
    return (f'<svg role="img" aria-label="sum of subtask rewards against final score" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}">{axes}{dots}</svg>')


def _allocation(a: Mapping[str, Any] | None) -> str:
    if not a:
        return ""
    c, n = a.get("comparison") or {}, a.get("counts") or {}
    rows = [
        ("allocator", html.escape(str(a.get("method")))),
        ("subtasks compared", str(c.get("compared", 0))),
        ("choice accuracy vs exhaustive", _num(c.get("accuracy"), "{:.1%}")),
        ("same candidate as exhaustive", _num(c.get("same_arm"), "{:.1%}")),
        ("judge calls (adaptive / exhaustive)", f"{c.get('judge_calls', 0)} / {c.get('exhaustive_judge_calls', 0)} "
                                                f"({_num(c.get('judge_call_ratio'), '{:.1%}')})"),
        ("after content caching", f"{c.get('distinct_judge_calls', 0)} / {c.get('exhaustive_distinct_judge_calls', 0)}"),
        ("tool calls (adaptive / exhaustive)", f"{c.get('tool_calls', 0)} / {c.get('exhaustive_tool_calls', 0)}"),
        ("exhaustive full rollouts, sum of (T*G)^K", f"{n.get('full_rollouts', 0):,}"),
        ("per-subtask exhaustive, sum of K*T*G", f"{n.get('per_subtask', 0):,}"),
    ]
    body = "".join(f"<tr><td>{k}</td><td class=\"n\">{v}</td></tr>" for k, v in rows)
    return f"<h3>Exploration spent adaptively</h3><table>{body}</table>"


def render_fragment(report: Mapping[str, Any]) -> str:
    """One self-contained ``<section>`` showing the report (module doc)."""
    judges = ", ".join(report.get("subtask_judges") or []) or "n/a"
    finals = ", ".join(report.get("final_judges") or []) or "n/a"
    pol = (report.get("policy") or {}).get("path")
    intro = (f'<p class="note">Run {html.escape(str(report.get("run")))}: {report.get("samples", 0)} held-out samples, '
             f'{report.get("sequences", 0)} sequences ({"the learned policy and " if pol else ""}'
             f'{report.get("alternatives", 0)} random assignments each), {report.get("steps", 0)} steps. Subtask judge '
             f'{html.escape(judges)}; final judge {html.escape(finals)}. Intervals: cluster bootstrap over samples '
             f'({(report.get("bootstrap") or {}).get("n_resamples", "?")} resamples).</p>')
    parts = [f"<style>{_CSS}</style>", '<section class="eb-approx">',
             "<h2>Paper A's reward approximations, measured</h2>", intro, _table(report),
             _scatter((report.get("points") or {}).get("sequences") or [])]
    for suite, blocks in sorted((report.get("by_suite") or {}).items()):
        if len(report.get("by_suite") or {}) > 1:
            parts += [f"<h3>{html.escape(suite)}</h3>", _table(blocks)]
    parts += [_allocation(report.get("allocation")), "</section>"]
    return "\n".join(p for p in parts if p)


def write_fragment(run_dir: str | Path, out: str | Path | None = None) -> Path | None:
    """Write the fragment beside the report (``approximations.html``, or ``out``); ``None`` without a report."""
    report = load(run_dir)
    if report is None:
        return None
    path = Path(out) if out else Path(run_dir) / "approximations.html"
    path.write_text(render_fragment(report) + "\n", encoding="utf-8")
    return path
