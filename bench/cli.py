"""The ``editbench`` command. The only layer that prints, and the one that composes every package.

Exit codes: 0 success; 1 the run finished but some samples failed; 2 bad usage or bad input (one
line on stderr, a traceback only with ``--debug``).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from bench import registry
from bench.errors import EditbenchError, UsageError

EXIT_OK, EXIT_FAILED_SAMPLES, EXIT_USAGE = 0, 1, 2


class _State:
    debug = False


def _listing(kind: str, extra: Any = None) -> None:
    for name in registry.names(kind):
        try:
            desc = registry.describe(kind, name)
        except EditbenchError as err:
            desc = f"(cannot load: {err})"
        suffix = extra(name) if extra else ""
        click.echo(f"{name:<24} {desc}{suffix}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
def cli(debug: bool, verbose: bool) -> None:
    """editbench: benchmark open-ended, agentic image editing."""
    _State.debug = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command("suites")
def suites_cmd() -> None:
    """List registered suites (with their sample counts at default size)."""
    from bench.compose import load_suite_spec

    def count(name: str) -> str:
        try:
            s = load_suite_spec(name)
            return f"  [{s.info.size} samples, v{s.info.version}]"
        except Exception as err:  # listing must not die on one broken suite
            return f"  [cannot build: {err}]"

    _listing("suites", count)


@cli.command("systems")
def systems_cmd() -> None:
    """List registered editing systems."""
    _listing("systems")


@cli.command("judges")
def judges_cmd() -> None:
    """List registered judges."""
    _listing("judges")


@cli.command("tools")
def tools_cmd() -> None:
    """List registered tools."""
    _listing("tools")


def _print_summary(summary: Any) -> None:
    click.echo(f"run: {summary.run_dir}")
    click.echo(
        f"  trajectories {summary.trajectories} (new {summary.new_trajectories}, failed {summary.failed}, "
        f"refused {summary.refused}); judgements {summary.judgements} (new {summary.new_judgements}, "
        f"unscored {summary.unscored}, errors {summary.judge_errors}); {summary.seconds:.1f}s"
    )
    for line in summary.failures[:10]:
        click.echo(f"  failed: {line}", err=True)
    if len(summary.failures) > 10:
        click.echo(f"  ... and {len(summary.failures) - 10} more failures", err=True)


@cli.command("run")
@click.option("--suite", "suites", multiple=True, help="NAME[:k=v,...] or a suite folder. Repeatable.")
@click.option("--system", "systems", multiple=True, help="NAME[:k=v,...]. Repeatable.")
@click.option("--judge", "judges", multiple=True, help="NAME[:k=v,...]. Repeatable.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="A run YAML file.")
@click.option("--limit", type=int, help="First N samples of each suite.")
@click.option("--sample", "samples", multiple=True, help="Only this sample id. Repeatable.")
@click.option("--seed", type=int, help="Run seed (default 0).")
@click.option("--shard", help="i/n: a deterministic share of the samples.")
@click.option("--workers", type=int, help="Parallel edit workers (default: up to 4, by cores).")
@click.option("--executor", type=click.Choice(["process", "thread", "inline"]), help="Where edits run.")
@click.option("--runs-dir", help="Where run directories go (default ./runs).")
@click.option("--name", help="Run directory name (default: derived from suites, systems and seed).")
@click.option("--retry-failed", is_flag=True, help="Redo failed trajectories and errored judgements.")
@click.option("--leaderboard/--no-leaderboard", "leaderboard", default=None, help="Write the site (default on).")
@click.option("--out", help="Where to write the leaderboard (default RUN/site).")
@click.option("--no-probes", is_flag=True, help="Skip the judge controls and drift canaries after judging.")
def run_cmd(**kw: Any) -> None:
    """Run suites × systems × judges into a run directory (resumes if it exists).

    With no arguments: the built-in offline default (no weights, no network), then a leaderboard.
    """
    from bench.compose import RunConfig, load_config, load_suite_spec, parse_shard, specs
    from bench.defaults import DEFAULT_JUDGES, DEFAULT_RUNS_DIR, DEFAULT_SUITES, DEFAULT_SYSTEMS
    from bench.runner import RunOptions, Selection, execute

    cfg = load_config(kw["config_path"]) if kw["config_path"] else RunConfig(runs_dir=DEFAULT_RUNS_DIR)
    if kw["suites"]:
        cfg.suites = list(kw["suites"])
    if kw["systems"]:
        cfg.systems = specs(kw["systems"])
    if kw["judges"]:
        cfg.judges = specs(kw["judges"])
    if not kw["config_path"] and not (kw["suites"] or kw["systems"] or kw["judges"]):
        cfg.suites, cfg.systems, cfg.judges = list(DEFAULT_SUITES), specs(DEFAULT_SYSTEMS), specs(DEFAULT_JUDGES)
    cfg.suites = cfg.suites or list(DEFAULT_SUITES)
    cfg.systems = cfg.systems or specs(DEFAULT_SYSTEMS)
    for key in ("limit", "seed", "workers", "executor", "runs_dir", "name"):
        if kw.get(key) is not None:
            setattr(cfg, key, kw[key])
    if kw["samples"]:
        cfg.samples = list(kw["samples"])
    if kw["shard"]:
        cfg.shard = parse_shard(kw["shard"])
    if kw["leaderboard"] is not None:
        cfg.leaderboard = kw["leaderboard"]
    if cfg.limit is not None and cfg.limit < 0:
        raise UsageError("--limit must be >= 0")

    suites = [load_suite_spec(s) for s in cfg.suites]
    opts = RunOptions(
        seed=cfg.seed, selection=Selection(cfg.limit, tuple(cfg.samples), cfg.shard), executor=cfg.executor,
        retry_failed=kw["retry_failed"], max_tool_calls=cfg.max_tool_calls, max_seconds=cfg.max_seconds,
        device=cfg.device,
    )
    if cfg.workers:
        opts.workers = cfg.workers
    if not kw["no_probes"]:
        from judges.probes import after_judging

        opts.after_judging = after_judging
    summary = execute(cfg.runs_dir, suites, cfg.systems, cfg.judges, opts, name=cfg.name)
    _print_summary(summary)
    if cfg.leaderboard:
        from leaderboard.site import build_site

        out = Path(kw["out"] or os.path.join(summary.run_dir, "site"))
        index = build_site([Path(summary.run_dir)], out)
        click.echo(f"leaderboard: {index}")
    _report_to_terminal([summary.run_dir])
    if summary.failed:
        sys.exit(EXIT_FAILED_SAMPLES)


@cli.command("judge")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--judge", "judges", multiple=True, required=True, help="NAME[:k=v,...]. Repeatable.")
@click.option("--workers", type=int)
@click.option("--retry-failed", is_flag=True, help="Redo errored judgements.")
@click.option("--no-probes", is_flag=True, help="Skip the judge controls and drift canaries after judging.")
def judge_cmd(run_dir: str, judges: tuple[str, ...], workers: int | None, retry_failed: bool, no_probes: bool) -> None:
    """Add judges to a finished run (only missing judgements are computed), then probe them."""
    from bench.compose import specs
    from bench.runner import RunOptions, judge_existing

    opts = RunOptions(retry_failed=retry_failed)
    if not no_probes:
        from judges.probes import after_judging

        opts.after_judging = after_judging
    if workers:
        opts.workers = workers
    summary = judge_existing(run_dir, specs(judges), opts)
    _print_summary(summary)


def _report_to_terminal(run_dirs: list[str], fmt: str = "text", seed: int = 0) -> None:
    from bench.report import format_table, summary_table
    from bench.results import load_results

    table = summary_table(load_results(run_dirs), seed=seed)
    if fmt == "csv":
        click.echo(table.drop(columns=["display"]).to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(table.drop(columns=["display"]).to_json(orient="records", indent=1))
    else:
        click.echo(format_table(table), nl=False)


@cli.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text")
@click.option("--seed", type=int, default=0, help="Bootstrap seed.")
def report_cmd(run_dirs: tuple[str, ...], fmt: str, seed: int) -> None:
    """Print mean, 95% bootstrap interval, n and unscored per suite × system × score."""
    _report_to_terminal(list(run_dirs), fmt, seed)


@cli.command("leaderboard")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, help="Output folder for the static site.")
@click.option("--title", help="Page title.")
def leaderboard_cmd(run_dirs: tuple[str, ...], out: str, title: str | None) -> None:
    """Write a static leaderboard site (works from file://) built from run stores only."""
    from bench.store import RunStore
    from leaderboard.site import build_site

    for d in run_dirs:
        RunStore.open(d)  # a clear error for a folder that is not a run
    index = build_site([Path(d) for d in run_dirs], Path(out), title=title)
    click.echo(f"leaderboard: {index}")


def _attach_commands() -> None:
    """The commands that live in their own modules; attached here so ``--help`` lists them."""
    from bench.cli_distill import distill_cmd
    from bench.cli_explore import approximations_cmd, explore_cmd, learn_policy_cmd
    from bench.cli_labels import annotate_cmd, calibrate_cmd
    from bench.cli_probe import probe_cmd
    from bench.cli_train import train_cmd

    cli.add_command(annotate_cmd, "annotate")
    cli.add_command(calibrate_cmd, "calibrate")
    cli.add_command(probe_cmd, "probe")
    cli.add_command(explore_cmd, "explore")
    cli.add_command(learn_policy_cmd, "learn-policy")
    cli.add_command(approximations_cmd, "approximations")
    cli.add_command(train_cmd, "train")
    cli.add_command(distill_cmd, "distill")


_attach_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps editbench errors to exit code 2 with one line, unless ``--debug``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="editbench", standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code or 0)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return EXIT_USAGE
    except EditbenchError as e:
        if debug:
            raise
        click.echo(f"editbench: error: {e}", err=True)
        return EXIT_USAGE
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else 1
    except KeyboardInterrupt:
        click.echo("interrupted; re-run the same command to resume", err=True)
        return 130
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
