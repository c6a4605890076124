"""Names and the page header: systems, judges, suites and runs as recorded in ``run.json``.

Display names come from each component's record (its spec string, ``info.display``), so the site
needs no system or judge code. Two different components that would show the same name (the same
spec at two versions, from two runs) get their id's hash appended, so no row is ambiguous.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any

from bench.results import Results
from bench.spec import ComponentSpec
from leaderboard.formatting import MISSING, format_time, parse_time, short_hash
from leaderboard.views import Header, JudgeView, RunView, SuiteView, SystemView

# Okabe-Ito's colour-blind-safe palette, then a few of Tableau's: systems take them in order.
PALETTE: tuple[str, ...] = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0c000",
    "#555555",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#9467bd",
)


def anchor(prefix: str, *parts: str) -> str:
    """A short HTML id that is safe whatever the parts contain (suite names, sample ids)."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")[:40]
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{readable}-{digest}" if readable else f"{prefix}-{digest}"


def _record_display(rec: dict[str, Any] | None, fallback: str) -> str:
    if not rec:
        return fallback
    shown = (rec.get("info") or {}).get("display")
    if shown:
        return str(shown)
    try:
        return str(ComponentSpec(str(rec.get("name", fallback)), dict(rec.get("args") or {})))
    except Exception:  # a malformed record must not break the site; the name still identifies it
        return str(rec.get("name", fallback))


def _unique(displays: dict[str, str]) -> dict[str, str]:
    counts = Counter(displays.values())
    return {
        cid: (f"{d} · {cid.rsplit('.', 1)[-1][:6]}" if counts[d] > 1 else d) for cid, d in displays.items()
    }


class Names:
    """Every system and judge id seen in the runs (records first, then ids found only in data)."""

    def __init__(self, res: Results) -> None:
        system_ids = list(res.systems) + sorted(
            {t.system_id for t in res.trajectories.values()} - set(res.systems)
        )
        judge_ids = list(res.judges) + sorted({j.judge_id for j in res.judgements.values()} - set(res.judges))
        sys_disp = _unique({i: _record_display(res.systems.get(i), i) for i in system_ids})
        judge_disp = _unique({i: _record_display(res.judges.get(i), i) for i in judge_ids})
        self.systems: dict[str, SystemView] = {}
        for i in system_ids:
            rec = res.systems.get(i) or {}
            info = rec.get("info") or {}
            self.systems[i] = SystemView(
                id=i,
                display=sys_disp[i],
                track=str(info.get("track") or ""),
                description=str(info.get("description") or ""),
                version=str(rec.get("version") or ""),
                trained=bool(info.get("trained")),
                oracle=bool(info.get("oracle")),
                models=tuple(str(m) for m in info.get("models") or ()),
                tools=tuple(str(t) for t in info.get("tools") or ()),
                reward_judge=str(info.get("reward_judge") or ""),
                color=PALETTE[len(self.systems) % len(PALETTE)],
            )
        self.judges: dict[str, JudgeView] = {}
        for i in judge_ids:
            rec = res.judges.get(i) or {}
            info = rec.get("info") or {}
            self.judges[i] = JudgeView(
                id=i,
                display=judge_disp[i],
                description=str(info.get("description") or ""),
                kind=str(info.get("kind") or ""),
                version=str(rec.get("version") or ""),
            )
        self.order = {i: k for k, i in enumerate(system_ids)}
        self.judge_order = {i: k for k, i in enumerate(judge_ids)}

    def system(self, system_id: str) -> SystemView:
        return self.systems.get(system_id) or SystemView(id=system_id, display=system_id)

    def judge(self, judge_id: str) -> JudgeView:
        return self.judges.get(judge_id) or JudgeView(id=judge_id, display=judge_id)


def suite_views(res: Results) -> dict[str, SuiteView]:
    """Suites by ref, in run order; a suite seen only in the records (no run.json entry) still shows."""
    refs = list(res.suites) + sorted({s for s, _ in res.samples} - set(res.suites))
    out: dict[str, SuiteView] = {}
    for ref in refs:
        info = res.suites.get(ref) or {}
        name, _, version = ref.partition("@")
        size = sum(1 for s, _ in res.samples if s == ref)
        out[ref] = SuiteView(
            ref=ref,
            name=str(info.get("name") or name),
            version=str(info.get("version") or version),
            hash=str(info.get("hash") or ""),
            size=size,
            description=str(info.get("description") or ""),
            primary=info.get("primary"),
            anchor=anchor("suite", ref),
        )
    return out


def _git_text(git: Any) -> str:
    if isinstance(git, dict):
        rev = git.get("commit") or git.get("rev") or git.get("revision") or git.get("sha") or ""
        dirty = " (dirty)" if git.get("dirty") else ""
        return f"{short_hash(rev, 10)}{dirty}" if rev else MISSING
    return short_hash(git, 10) if git else MISSING


def _selection_text(sel: Any) -> str:
    if not isinstance(sel, dict):
        return "all samples"
    parts = []
    if sel.get("limit") is not None:
        parts.append(f"first {sel['limit']}")
    if sel.get("samples"):
        parts.append(f"{len(sel['samples'])} chosen samples")
    if sel.get("shard"):
        shard = sel["shard"]
        parts.append(
            f"shard {shard[0]}/{shard[1]}"
            if isinstance(shard, (list, tuple)) and len(shard) == 2
            else f"shard {shard}"
        )
    return ", ".join(parts) or "all samples"


def build_header(res: Results, names: Names, suites: dict[str, SuiteView], title: str | None) -> Header:
    runs = []
    times = []
    for meta, store in zip(res.runs, res.stores, strict=False):
        for key in ("ended", "started"):
            dt = parse_time(meta.get(key))
            if dt is not None:
                times.append(dt)
                break
        packages = meta.get("packages") or {}
        runs.append(
            RunView(
                name=str(meta.get("name") or store.root.name),
                started=format_time(meta.get("started")),
                ended=format_time(meta.get("ended")),
                seed=str(meta.get("seed", MISSING)),
                git=_git_text(meta.get("git")),
                selection=_selection_text(meta.get("selection")),
                packages=", ".join(f"{k} {v}" for k, v in packages.items())
                if isinstance(packages, dict)
                else "",
            )
        )
    date = format_time(max(times).isoformat()) if times else MISSING
    return Header(
        title=title or "editbench leaderboard",
        date=date,
        runs=tuple(runs),
        suites=tuple(suites.values()),
        n_systems=len({t.system_id for t in res.trajectories.values()}),
        n_judges=len({j.judge_id for j in res.judgements.values()}),
        n_samples=len(res.samples),
        n_trajectories=len(res.trajectories),
    )
