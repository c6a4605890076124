"""``editbench annotate`` and ``editbench calibrate``: collecting human labels and using them.

The loop: ``editbench run`` → ``editbench annotate RUN --out DIR`` (open ``DIR/index.html``, label,
press *Export labels*) → ``editbench calibrate --labels FILE RUN`` (prints the tables and stores
them in the run under ``calibration/``; the leaderboard shows them next to each judge).

Both are plain ``click`` commands; ``bench.cli`` attaches them to the ``editbench`` group. Upper
packages are imported inside the commands, so ``bench`` stays free of them at import time.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from bench.errors import UsageError

LABEL_SUFFIXES = (".json", ".jsonl", ".csv")


@click.command("annotate")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, help="Folder for the page (open its index.html in a browser).")
@click.option("--mode", type=click.Choice(["rate", "rank"]), default="rate", show_default=True,
              help="rate: one result at a time on four dimensions; rank: all results side by side, "
                   "rank the best, rate the winner.")
@click.option("--limit", type=int, help="Only the first N samples of each suite.")
@click.option("--top", type=int, default=3, show_default=True, help="How many places to rank (rank mode).")
@click.option("--title", help="Page title.")
def annotate_cmd(run_dirs: tuple[str, ...], out: str, mode: str, limit: int | None, top: int,
                 title: str | None) -> None:
    """Write a static annotation page for RUN... that works from file:// (no server).

    Labels autosave in the browser; each annotator exports one JSON file for `editbench calibrate`.
    """
    from leaderboard.annotate import build_annotation_page

    index = build_annotation_page(list(run_dirs), Path(out), mode=mode, limit=limit, top=top, title=title)  # type: ignore[arg-type]
    click.echo(f"annotation page: {index}")


@click.command("calibrate")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--labels", "label_files", multiple=True, type=click.Path(dir_okay=False),
              help="A label file (.json page export, .jsonl, .csv). Repeatable; label files given as "
                   "arguments are read too, so `--labels *.json RUN` works.")
@click.option("--resamples", type=int, default=2000, show_default=True, help="Bootstrap resamples (0: no intervals).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--write/--no-write", default=True, show_default=True,
              help="Store the report in each run (calibration/*.json and a stage record).")
def calibrate_cmd(run_dirs: tuple[str, ...], label_files: tuple[str, ...], resamples: int, seed: int, fmt: str,
                  write: bool) -> None:
    """Compare human labels with each other and with every judge in RUN...; print and store the report."""
    import json

    from bench.labels import load_labels, validate_labels
    from bench.results import load_results
    from judges.calibration import calibrate, format_report, write_report

    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    files = list(label_files)
    runs = []
    for arg in run_dirs:
        p = Path(arg)
        if p.is_file() and p.suffix.lower() in LABEL_SUFFIXES:
            files.append(arg)
        elif p.is_dir():
            runs.append(arg)
        else:
            raise UsageError(f"{arg}: neither a run directory nor a label file ({', '.join(LABEL_SUFFIXES)})")
    if not files:
        raise UsageError("no label file: give --labels FILE (a page export, .jsonl or .csv)")
    if not runs:
        raise UsageError("no run directory given")
    if resamples < 0:
        raise UsageError("--resamples must be >= 0")
    res = load_results(runs)
    try:
        labels = validate_labels(load_labels(files), res)
        report = calibrate(labels, res, n_resamples=resamples, seed=seed)
        if write:
            written = write_report(report, res, started=started)
        if fmt == "json":
            click.echo(json.dumps(report.to_dict(), indent=1, ensure_ascii=False))
        else:
            click.echo(format_report(report), nl=False)
            if write:
                click.echo(f"\nwritten: {len(written)} files under {', '.join(str(Path(r) / 'calibration') for r in runs)}")
    finally:
        for store in res.stores:
            store.close()
