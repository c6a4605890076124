"""``editbench distill``: paper A's planner refinement by self-distillation.

The checklist-conditioned planner's plans (a finished run of ``planner-orchestrator``), with every
subtask no tool could execute pruned and counted, train the same planner without the checklist,
through the offline-RL trainer (``baselines.agents.distill``, imported inside the command as the CLI
does for every upper package). The result is a folder that ``planner-orchestrator:planner=DIR``
uses as its planner. Re-running the same command resumes from the last checkpoint.
"""

from __future__ import annotations

from typing import Any

import click

from bench.errors import UsageError


@click.command("distill", context_settings={"max_content_width": 140})
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="The distilled planner's folder.")
@click.option("--base", required=True,
              help="Student base model: tiny[:hidden=96,layers=3,...] (built from a config), a local model folder, or a "
                   "hub id in the local cache (a vision-language model for -o modality=vision).")
@click.option("--method", type=click.Choice(["s", "r"]), default="s", show_default=True,
              help="s: supervised on every kept plan; r: only plans whose trajectories scored at least tau_r.")
@click.option("--reward", help="Judge (id or name) whose score of the executed trajectory is the plan's reward.")
@click.option("--reward-score", help="Which score of that judge (default: overall, or its first).")
@click.option("--min-reward", type=float,
              help="Train only on plans whose trajectories scored at least this, on the judge's own scale (needs --reward).")
@click.option("--from-system", "systems", multiple=True,
              help="Teacher system (name or id; default: every planner-orchestrator of the runs). Repeatable.")
@click.option("--preset", type=click.Choice(["paper", "code"]), default="paper", show_default=True,
              help="The trainer's defaults (see `editbench train --help`).")
@click.option("-o", "--option", "options", multiple=True,
              help="KEY=VALUE training option, as for `editbench train` (adapter=full, lr=..., epochs=..., "
                   "modality=vision). Repeatable.")
@click.option("--exclude-suite", "exclude", multiple=True,
              help="A suite (NAME[:k=v] or folder) whose images must never train (an evaluated suite). Repeatable.")
@click.option("--split", default="0.8,0.1,0.1", show_default=True, help="train,val,test fractions of groups (images).")
@click.option("--split-seed", type=int, default=0, show_default=True)
@click.option("--description/--no-description", default=True, show_default=True,
              help="Give the student the sample's textual analysis (text modality).")
@click.option("--restart", is_flag=True, help="Discard checkpoints in --out and start over.")
@click.option("--device", help="cpu or cuda (default: cuda when available).")
def distill_cmd(run_dirs: tuple[str, ...], out_dir: str, base: str, method: str, reward: str | None,
                reward_score: str | None, min_reward: float | None, systems: tuple[str, ...], preset: str,
                options: tuple[str, ...], exclude: tuple[str, ...], split: str, split_seed: int, description: bool,
                restart: bool, device: str | None) -> None:
    """Distil the checklist-conditioned planner of RUN_DIRS into a planner that needs no checklist.

    Subtasks no tool could execute (dropped at refinement, failed while running, or never run) are
    pruned from the targets and counted.

    \b
    Example (offline, tiny model, CPU):
      editbench run --suite styling-simple --suite ads-abstract --system planner-orchestrator --judge checklist-heuristic --name teacher
      editbench distill runs/teacher --out out/student --base tiny -o adapter=full -o lr=0.003 -o epochs=10
      editbench run --suite styling-simple --system planner-orchestrator:planner=out/student --judge checklist-heuristic
    """
    from baselines.agents.distill import DEFAULT_SYSTEMS, distill
    from baselines.training.splits import parse_fractions, suite_image_ids
    from bench.cli_train import _parse_options
    from bench.compose import load_suite_spec

    banned: set[str] = set()
    for spec in exclude:
        banned |= suite_image_ids([load_suite_spec(spec)])
    try:
        outcome, data, kept = distill(list(run_dirs), out_dir, base=base, method=method, preset=preset,
                                      options=_parse_options(options), min_reward=min_reward, reward=reward,
                                      reward_score=reward_score, systems=list(systems) or DEFAULT_SYSTEMS,
                                      fractions=parse_fractions(split), split_seed=split_seed,
                                      exclude_images=sorted(banned), description=description, restart=restart,
                                      device=device)
    except ValueError as err:
        raise UsageError(str(err)) from None
    info, t = data.info, outcome.train_json
    click.echo(f"distilled planner ({t['method'].upper()}, {t['kind']}, {t['prompt']['modality']}) -> {outcome.out_dir}")
    click.echo(f"  teacher plans {info['plans']} of {info['trajectories']} trajectories (not ok {info['not_ok']}, "
               f"no checklist {info['no_checklist']}, no plan {info['no_plan']}); emptied by pruning {info['emptied']}")
    click.echo(f"  pruned {info['pruned']} of {info['subtasks']} subtasks ({_pct(info['pruned_fraction'])}): "
               + (", ".join(f"{k} {v}" for k, v in info["pruned_by_stage"].items()) or "none"))
    click.echo(f"  trained on {kept['plans']} plans of the train split ({kept['pruned']} of {kept['subtasks']} "
               f"subtasks pruned, {_pct(kept['pruned_fraction'])})"
               + (f"; min reward {min_reward} on {info['reward_judge']}" if min_reward is not None else ""))
    res = t["result"]
    click.echo(f"  steps {res['steps']}, final loss {res['final_loss']}, val NLL {res['val_nll']}, {res['seconds']:.0f}s")
    click.echo(f"  use it: --system planner-orchestrator:planner={outcome.out_dir}")


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:.1%}"
