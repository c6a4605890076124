"""Paper A's reward approximations, measured: the ``approximations.html`` page and a standalone fragment.

``editbench approximations RUN`` (``baselines.explore.approximations``) stores
``approximations.json`` in the run folder. This module reads that file — never baselines' code,
since the leaderboard reads only the store — into :class:`ApproxReport` view models that the site
renders as one page (a section per run that has the file) and that :func:`render_fragment`
renders as a self-contained ``<section>`` with scoped styles and no script (what
``editbench approximations --html`` writes beside the report). Both go through the same Jinja2
macro, so the two can never disagree. Every statistic shows its cluster-bootstrap interval, ``n``
and the number of samples (clusters); an undefined statistic (too few points, a constant side) is
"n/a", never 0.

File shape (``format: editbench.approximations``, ``version`` 1): ``run``, ``created``,
``policy`` (``path``, ``meta``) or null, ``subtask_judges``, ``final_judges``, ``final_score``,
``alternatives``, ``bootstrap`` (``n_resamples``, ``confidence``, ``cluster``), ``samples``,
``sequences``, ``steps``; three blocks — ``additive`` (``spearman``, ``kendall``,
``spearman_sequential``, ``spearman_within``), ``original_vs_sequential`` (``spearman``,
``kendall``, ``equal_fraction``, ``mean_abs_diff``), ``undone`` (``fraction``,
``effective_steps``, ``undone_steps``, ``steps``) — each statistic ``{value, low, high, n,
clusters, undefined}``; ``by_suite`` (suite -> the same blocks); ``allocation`` (``method``,
``counts``, ``comparison``) or null; ``points`` (``sequences``: ``sum_original``, ``final``, …).
A field of an unexpected shape shows as missing: the page is extra information, never a reason
for the site to fail to build.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from bench.images import atomic_write
from bench.store import RunStore
from leaderboard.charts import domain, el, nice_ticks
from leaderboard.formatting import is_number
from leaderboard.header import anchor

log = logging.getLogger(__name__)

FILE = "approximations.json"
FRAGMENT = "approximations.html"

#: (block, statistic, group, what it measures), in the order the table shows them.
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("additive", "spearman", "(a) additive rewards", "Spearman: sum of subtask rewards on I0 vs final score"),
    ("additive", "kendall", "(a) additive rewards", "Kendall: sum of subtask rewards on I0 vs final score"),
    (
        "additive",
        "spearman_sequential",
        "(a) additive rewards",
        "Spearman: sum of subtask rewards on I(k-1) vs final score",
    ),
    (
        "additive",
        "spearman_within",
        "(a) additive rewards",
        "mean Spearman within a sample, across its assignments",
    ),
    (
        "original_vs_sequential",
        "spearman",
        "(b) original-image criterion",
        "Spearman: reward on I0 vs on I(k-1)",
    ),
    (
        "original_vs_sequential",
        "kendall",
        "(b) original-image criterion",
        "Kendall: reward on I0 vs on I(k-1)",
    ),
    (
        "original_vs_sequential",
        "equal_fraction",
        "(b) original-image criterion",
        "fraction of steps with equal rewards",
    ),
    (
        "original_vs_sequential",
        "mean_abs_diff",
        "(b) original-image criterion",
        "mean |reward on I0 - on I(k-1)|",
    ),
    ("undone", "fraction", "(c) undone steps", "fraction of effective steps a later step undid"),
)


def _num(v: Any) -> float | None:
    return float(v) if is_number(v) else None


def _int(v: Any) -> int:
    return int(v) if is_number(v) else 0


def _fmt(v: float | None, fmt: str = "{:.3f}") -> str:
    return "n/a" if v is None else fmt.format(v)


@dataclass(frozen=True)
class StatRow:
    """One statistic: value, 95% interval, points (n) and samples (clusters) behind it."""

    block: str
    key: str
    group: str
    label: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    clusters: int
    undefined: int  # bootstrap resamples where the statistic was undefined

    @property
    def value_text(self) -> str:
        return _fmt(self.value)

    @property
    def ci_text(self) -> str:
        if self.value is None or self.low is None or self.high is None:
            return ""
        return f"[{_fmt(self.low)}, {_fmt(self.high)}]"


@dataclass(frozen=True)
class StatTable:
    """The three approximations over one set of sequences (all, or one suite's)."""

    title: str  # "" for all suites together
    rows: tuple[StatRow, ...]
    undone_steps: int
    effective_steps: int
    steps: int

    def row(self, block: str, key: str) -> StatRow | None:
        return next((r for r in self.rows if (r.block, r.key) == (block, key)), None)


@dataclass(frozen=True)
class ApproxReport:
    """One run's ``approximations.json``, ready to render."""

    run: str  # the run folder's name
    anchor: str
    created: str
    samples: int
    sequences: int
    steps: int
    alternatives: int
    policy: str  # "" when no learned policy was among the assignments
    subtask_judges: tuple[str, ...]
    final_judges: tuple[str, ...]
    resamples: str
    overall: StatTable
    by_suite: tuple[StatTable, ...]  # only when the run holds more than one suite
    allocation: tuple[tuple[str, str], ...]  # (what, value) rows; empty without adaptive exploration
    scatter: Markup
    allocation_data: Mapping[str, Any] | None = None  # the report's own numbers, for the data file


def _stat(block: str, key: str, group: str, label: str, doc: Any) -> StatRow:
    doc = doc if isinstance(doc, Mapping) else {}
    return StatRow(
        block,
        key,
        group,
        label,
        _num(doc.get("value")),
        _num(doc.get("low")),
        _num(doc.get("high")),
        _int(doc.get("n")),
        _int(doc.get("clusters")),
        _int(doc.get("undefined")),
    )


def stat_table(blocks: Mapping[str, Any], title: str = "") -> StatTable:
    """The table of one set of blocks (the report itself, or one of its ``by_suite`` entries)."""

    def block(name: str) -> Mapping[str, Any]:
        b = blocks.get(name)
        return b if isinstance(b, Mapping) else {}

    rows = tuple(_stat(b, k, g, lab, block(b).get(k)) for b, k, g, lab in ROWS)
    undone = block("undone")
    return StatTable(
        title,
        rows,
        _int(undone.get("undone_steps")),
        _int(undone.get("effective_steps")),
        _int(undone.get("steps")),
    )


def _allocation(a: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(a, Mapping):
        return ()
    c = a.get("comparison") if isinstance(a.get("comparison"), Mapping) else {}
    n = a.get("counts") if isinstance(a.get("counts"), Mapping) else {}

    def ratio(v: Any) -> str:
        return _fmt(_num(v), "{:.1%}")

    return (
        ("allocator", str(a.get("method") or "n/a")),
        ("subtasks compared", str(_int(c.get("compared")))),
        ("choice accuracy vs exhaustive", ratio(c.get("accuracy"))),
        ("same candidate as exhaustive", ratio(c.get("same_arm"))),
        (
            "judge calls (adaptive / exhaustive)",
            f"{_int(c.get('judge_calls'))} / {_int(c.get('exhaustive_judge_calls'))} "
            f"({ratio(c.get('judge_call_ratio'))})",
        ),
        (
            "after content caching",
            f"{_int(c.get('distinct_judge_calls'))} / {_int(c.get('exhaustive_distinct_judge_calls'))}",
        ),
        (
            "tool calls (adaptive / exhaustive)",
            f"{_int(c.get('tool_calls'))} / {_int(c.get('exhaustive_tool_calls'))}",
        ),
        ("exhaustive full rollouts, sum of (T*G)^K", f"{_int(n.get('full_rollouts')):,}"),
        ("per-subtask exhaustive, sum of K*T*G", f"{_int(n.get('per_subtask')):,}"),
    )


def reward_scatter(points: Sequence[Mapping[str, Any]], width: int = 360, height: int = 240) -> Markup:
    """Approximation (a) as a picture: each sequence's sum of subtask rewards on I0 against its final
    score. Empty with fewer than two points. Every text is escaped by :func:`~leaderboard.charts.el`."""
    pts = [
        (float(p["sum_original"]), float(p["final"]))
        for p in points
        if isinstance(p, Mapping) and is_number(p.get("sum_original")) and is_number(p.get("final"))
    ]
    if len(pts) < 2:
        return Markup("")
    left, right, top, bottom = 46, width - 12, 14, height - 40
    x0, x1 = domain([x for x, _ in pts])
    y0, y1 = domain([y for _, y in pts])

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def sy(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    body: list[Markup] = []
    for t in nice_ticks(y0, y1, 4):
        body.append(el("line", {"class": "grid", "x1": left, "x2": right, "y1": sy(t), "y2": sy(t)}))
        body.append(
            el("text", {"class": "tick", "x": left - 6, "y": sy(t) + 4, "text-anchor": "end"}, f"{t:g}")
        )
    for t in nice_ticks(x0, x1, 4):
        body.append(
            el("text", {"class": "tick", "x": sx(t), "y": bottom + 15, "text-anchor": "middle"}, f"{t:g}")
        )
    body.append(el("line", {"class": "axis", "x1": left, "x2": right, "y1": bottom, "y2": bottom}))
    body.append(
        el(
            "text",
            {"class": "axis-label", "x": (left + right) / 2, "y": bottom + 32, "text-anchor": "middle"},
            "sum of subtask rewards on I0",
        )
    )
    body.append(el("text", {"class": "axis-label", "x": 8, "y": 10}, "final score"))
    for x, y in pts:
        body.append(
            el(
                "circle",
                {"class": "dot approx-dot", "cx": sx(x), "cy": sy(y), "r": 3.5},
                el("title", None, f"sum {x:g}, final {y:g}"),
            )
        )
    label = f"sum of subtask rewards against final score, {len(pts)} sequences"
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
        *body,
    )


def from_report(report: Mapping[str, Any], run: str) -> ApproxReport:
    """The view model of one report; ``run`` names it on the page (the run folder's name)."""
    boot = report.get("bootstrap") if isinstance(report.get("bootstrap"), Mapping) else {}
    policy = report.get("policy") if isinstance(report.get("policy"), Mapping) else {}
    suites = report.get("by_suite") if isinstance(report.get("by_suite"), Mapping) else {}
    points = report.get("points") if isinstance(report.get("points"), Mapping) else {}
    return ApproxReport(
        run=run,
        anchor=anchor("approx", run),
        created=str(report.get("created") or ""),
        samples=_int(report.get("samples")),
        sequences=_int(report.get("sequences")),
        steps=_int(report.get("steps")),
        alternatives=_int(report.get("alternatives")),
        policy=str(policy.get("path") or ""),
        subtask_judges=tuple(str(j) for j in report.get("subtask_judges") or ()),
        final_judges=tuple(str(j) for j in report.get("final_judges") or ()),
        resamples=str(boot.get("n_resamples") or "?"),
        overall=stat_table(report),
        by_suite=tuple(
            stat_table(b, str(name)) for name, b in sorted(suites.items()) if isinstance(b, Mapping)
        )
        if len(suites) > 1
        else (),
        allocation=_allocation(report.get("allocation")),
        scatter=reward_scatter(points.get("sequences") or ()),
        allocation_data=dict(report["allocation"]) if isinstance(report.get("allocation"), Mapping) else None,
    )


def load(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The run's ``approximations.json``, or ``None`` when it has none."""
    p = Path(run_dir) / FILE
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def read_reports(stores: Iterable[RunStore]) -> tuple[ApproxReport, ...]:
    """One view per run (in the order given) that holds an ``approximations.json``; an unreadable
    file is logged and skipped."""
    out = []
    for store in stores:
        try:
            report = load(store.root)
        except (OSError, ValueError) as err:
            log.warning("%s of %s is unreadable, skipped: %s", FILE, store.root, err)
            continue
        if isinstance(report, Mapping):
            out.append(from_report(report, store.root.name))
    return tuple(out)


def stat_json(row: StatRow) -> dict[str, Any]:
    """A statistic as ``data/leaderboard.json`` carries it (the numbers the page shows)."""
    return {
        "block": row.block,
        "statistic": row.key,
        "label": row.label,
        "value": row.value,
        "low": row.low,
        "high": row.high,
        "n": row.n,
        "clusters": row.clusters,
        "undefined": row.undefined,
    }


_FRAGMENT_CSS = """
.eb-approx{font:14px/1.45 system-ui,sans-serif;color:#1d2430;max-width:960px}
.eb-approx h2{font-size:18px;margin:0 0 6px}.eb-approx h3{font-size:15px;margin:18px 0 6px}
.eb-approx table{border-collapse:collapse;margin:4px 0 10px}
.eb-approx th,.eb-approx td{padding:3px 10px;border-bottom:1px solid #e3e6eb;text-align:left}
.eb-approx td.num{text-align:right;font-variant-numeric:tabular-nums}
.eb-approx .ci,.eb-approx .muted{color:#6b7280}.eb-approx .approx-note{color:#4b5563;font-size:13px}
.eb-approx svg.chart{background:#fafbfc;border:1px solid #e3e6eb;font:11px system-ui,sans-serif}
.eb-approx svg .grid{stroke:#e3e6eb;stroke-dasharray:2 3}.eb-approx svg .axis{stroke:#9aa3af}
.eb-approx svg .tick,.eb-approx svg .axis-label{fill:#6b7280}.eb-approx svg .approx-dot{fill:#2f6fde;fill-opacity:.55}
"""


def render_fragment(report: Mapping[str, Any], run: str | None = None) -> str:
    """One self-contained ``<section>`` (scoped styles, no script, nothing fetched) showing ``report``."""
    from leaderboard.render import environment  # render imports this module: resolve at call time

    view = from_report(report, run or str(report.get("run") or "run"))
    return environment().get_template("approx_fragment.html.j2").render(a=view, css=Markup(_FRAGMENT_CSS))


def write_fragment(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path | None:
    """Write the fragment beside the report (``approximations.html``, or ``out``); ``None`` without a report."""
    report = load(run_dir)
    if report is None:
        return None
    path = Path(out) if out else Path(run_dir) / FRAGMENT
    atomic_write(path, (render_fragment(report, Path(run_dir).name) + "\n").encode("utf-8"))
    return path
