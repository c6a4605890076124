"""``editbench probe RUN``: check judges on controls and drift canaries, and say how far to trust them.

Prints, per judge: control accuracy and the real-vs-control gap on its headline score (with 95%
intervals) and whether it is flagged; the canary drift status; the pinning status of its model;
the position-bias rate of comparative judges. Everything is also recorded in the run
(``probes.jsonl``, ``canaries.jsonl``), where the leaderboard reads it.

Exit codes: 0; 1 with ``--strict`` when a judge is flagged or drifted; 2 for bad usage. A plain
``click`` command: ``bench.cli`` attaches it. The probes live in ``judges.probes`` and are
imported inside the command, so ``bench`` stays free of upper packages at import time.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from bench.errors import UsageError


def _judges_of_run(store: Any, specs: list[Any]) -> list[Any]:
    """The judges to probe: those given, else every judge recorded in ``run.json``."""
    from bench.components import build_component
    from bench.spec import ComponentSpec

    if specs:
        return [build_component("judges", s) for s in specs]
    recs = (store.read_meta().get("components") or {}).get("judges") or []
    if not recs:
        raise UsageError("the run records no judge; name one with --judge", file=str(store.root))
    built = []
    for rec in recs:
        b = build_component("judges", ComponentSpec(rec["name"], dict(rec.get("args") or {})))
        if b.id != rec["id"]:
            click.echo(
                f"note: {b.display} now builds as {b.id}, recorded as {rec['id']} (its code or prompts "
                "changed); probing the judge as it is now",
                err=True,
            )
        built.append(b)
    return built


def _fmt_ci(d: dict[str, Any] | None, pct: bool = False) -> str:
    if not d or d.get("value") is None:
        return "—"
    f = (lambda x: f"{x:.0%}") if pct else (lambda x: f"{x:.3g}")
    lo, hi = d.get("low"), d.get("high")
    return f"{f(d['value'])} [{f(lo) if lo is not None else '?'}, {f(hi) if hi is not None else '?'}]"


def _text(report: Any) -> str:
    lines = [f"probe: {report.run_dir}  ({report.seconds:.1f}s)"]
    for j in report.judges:
        lines.append(f"\n{j.display}")
        c = j.controls or {}
        if c.get("status") == "n/a" or not c:
            lines.append(f"  controls     {c.get('reason', 'not run')}")
        else:
            gap = (c.get("gaps") or {}).get(c.get("headline") or "")
            mark = {"flagged": "FLAGGED", "ok": "ok", "insufficient": "insufficient"}.get(
                c["status"], c["status"]
            )
            lines.append(f"  controls     {mark}: {c.get('reason')}")
            lines.append(
                f"    accuracy   {_fmt_ci(c.get('accuracy'), pct=True)} of {c['accuracy'].get('decided', 0)} "
                f"decided checks ({c['accuracy'].get('undecidable', 0)} undecidable)"
            )
            lines.append(
                f"    gap        {c.get('headline')}: {_fmt_ci(gap)}  (real − control, positive = real better)"
            )
            per = ", ".join(
                f"{k} {v['pass']}/{v['pass'] + v['fail']}"
                + (f" (+{v['undecidable']} undecidable)" if v["undecidable"] else "")
                for k, v in (c.get("by_control") or {}).items()
            )
            lines.append(f"    passed     {per}")
        k = j.canary or {}
        if k:
            why = "; ".join(k.get("reasons") or [])
            lines.append(f"  canaries     {k.get('status')}" + (f": {why}" if why else ""))
        p = j.pinning or {}
        if p:
            models = ", ".join(p.get("models") or {}) or "—"
            lines.append(f"  pinning      {p.get('status')} (models: {models})")
            for w in p.get("warnings", []):
                lines.append(f"    warning    {w}")
        pb = j.position_bias or {}
        if pb.get("status") == "ok":
            lines.append(
                f"  position     bias rate {_fmt_ci(pb.get('rate'), pct=True)} over {pb['comparisons']} comparisons"
            )
        lb = j.length_bias or {}
        if lb.get("status") == "ok":
            for name, e in lb["scores"].items():
                lines.append(
                    f"  length       {name}: Spearman {_fmt_ci(e.get('within_sample') or e['overall'])} ({e['effect']})"
                )
    for g in report.guard:
        ids = ", ".join(x["judge_id"] for x in g["in_sample"]) or "—"
        lines.append(
            f"\nguard {g['system_id']}: {g['status']}; in-sample: {ids}; held out: {', '.join(g['held_out']) or '—'}"
        )
    for w in report.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines) + "\n"


@click.command("probe")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--judge", "judges", multiple=True, help="NAME[:k=v,...]. Repeatable. Default: the run's judges."
)
@click.option("--samples", type=int, default=12, show_default=True, help="Seeded samples given controls.")
@click.option("--seed", type=int, default=None, help="Seed of the sample choice (default: the run's seed).")
@click.option("--controls", "controls", help="Comma-separated controls (default: all).")
@click.option("--no-controls", is_flag=True, help="Skip the controls.")
@click.option("--no-canaries", is_flag=True, help="Skip the drift canaries.")
@click.option(
    "--tolerance",
    type=float,
    default=None,
    help="Canary drift tolerance, a fraction of each score's range (default 0.1).",
)
@click.option(
    "--canary-baseline", type=click.Path(file_okay=False), help="Compare canaries with this run's baselines."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 when a judge is flagged or drifted.")
def probe_cmd(
    run_dir: str,
    judges: tuple[str, ...],
    samples: int,
    seed: int | None,
    controls: str | None,
    no_controls: bool,
    no_canaries: bool,
    tolerance: float | None,
    canary_baseline: str | None,
    fmt: str,
    strict: bool,
) -> None:
    """Check judges on controls with known verdicts and on drift canaries; record it in RUN."""
    from bench.compose import specs
    from bench.store import RunStore
    from judges.probes import CONTROLS, DEFAULT_TOLERANCE, ProbeOptions, run_probes

    if samples < 0:
        raise UsageError("--samples must be >= 0")
    chosen = tuple(c.strip() for c in controls.split(",") if c.strip()) if controls else CONTROLS
    unknown = [c for c in chosen if c not in CONTROLS]
    if unknown:
        raise UsageError(f"unknown control {unknown[0]!r}; known: {', '.join(CONTROLS)}", field="--controls")
    store = RunStore.open(run_dir)
    with store:
        built = _judges_of_run(store, specs(judges) if judges else [])
        if seed is None:
            seed = int(store.read_meta().get("seed") or 0)
        options = ProbeOptions(
            samples=samples,
            seed=seed,
            controls=chosen,
            run_controls=not no_controls,
            canaries=not no_canaries,
            tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
            canary_baseline=canary_baseline,
        )
        report = run_probes(store, built, options)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "run": report.run_dir,
                    "flagged": report.flagged,
                    "drifted": report.drifted,
                    "warnings": report.warnings,
                    "judges": [
                        {
                            "judge_id": j.judge_id,
                            "display": j.display,
                            "controls": j.controls,
                            "canary": j.canary,
                            "pinning": j.pinning,
                            "position_bias": j.position_bias,
                            "length_bias": j.length_bias,
                        }
                        for j in report.judges
                    ],
                    "guard": report.guard,
                    "tracks": report.tracks,
                },
                indent=1,
                default=str,
            )
        )
    else:
        click.echo(_text(report), nl=False)
    if strict and (report.flagged or report.drifted):
        sys.exit(1)
