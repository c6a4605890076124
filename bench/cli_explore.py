"""``editbench explore``, ``editbench learn-policy`` and ``editbench approximations`` (paper A's loop).

The loop: ``editbench run --system planner-orchestrator ...`` → ``editbench explore RUN`` (try
every candidate tool and region per subtask, judge each, store exploration records; or spend
fewer calls with ``--adaptive``) → ``editbench learn-policy RUN --out DIR`` (a policy file plus
``train.json``) → ``editbench run --system planner-orchestrator:tools=[...],policy=DIR`` on the
held-out samples → ``editbench approximations RUN --policy DIR`` (paper A's two approximations,
measured; ``approximations.json`` for the leaderboard).

Plain ``click`` commands that ``bench.cli`` attaches to the ``editbench`` group; upper packages are
imported inside the commands, so ``bench`` stays free of them at import time.
"""

from __future__ import annotations

import json
from typing import Any

import click

from bench.errors import UsageError


def _split_list(values: tuple[str, ...]) -> list[str]:
    """Repeatable options that also take comma lists: ``--tool a --tool b`` or ``--tool a,b``."""
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def _config(tools: tuple[str, ...], regions: tuple[str, ...], judges: tuple[str, ...], seed: int,
            reward_scores: tuple[str, ...]) -> Any:
    from baselines.explore.candidates import DEFAULT_REGIONS, parse_regions
    from baselines.explore.evaluate import ExploreConfig
    from baselines.tools.scene_variants import register_scene_variants
    from bench.compose import specs

    register_scene_variants()  # until the package's entry points declare them; entry points win
    try:
        region_list = parse_regions(_split_list(regions) or list(DEFAULT_REGIONS))
    except ValueError as err:
        raise UsageError(str(err), field="--region") from None
    overrides = {}
    for item in reward_scores:
        name, eq, score = item.partition("=")
        if not eq or not name or not score:
            raise UsageError(f"--reward-score takes JUDGE=SCORE, got {item!r}", field="--reward-score")
        overrides[name.strip()] = score.strip()
    return ExploreConfig(tools=tuple(_split_list(tools)), regions=tuple(region_list),
                         judges=tuple(specs(list(judges))) if judges else (), reward_scores=overrides, seed=seed)


def _samples(samples: tuple[str, ...]) -> list[tuple[str, str]] | None:
    """``--sample SUITE@VERSION/ID`` (or just ``ID``, matched in any suite later)."""
    if not samples:
        return None
    out = []
    for s in samples:
        suite, slash, sid = s.rpartition("/")
        if not slash:
            raise UsageError(f"--sample takes SUITE@VERSION/SAMPLE_ID, got {s!r}", field="--sample")
        out.append((suite, sid))
    return out


_COMMON = [
    click.option("--tool", "tools", multiple=True,
                 help="Candidate tool (repeatable or comma list). Default: the scene-tool variants on scene "
                      "samples, the planner's own library otherwise."),
    click.option("--region", "regions", multiple=True,
                 help="Candidate region: full, a named region, or a region object (default: full, top, bottom)."),
    click.option("--judge", "judges", multiple=True,
                 help="Subtask judge NAME[:k=v,...] (repeatable; the first is primary). Default: attributes on scene "
                      "samples, checklist-heuristic otherwise."),
    click.option("--reward-score", "reward_scores", multiple=True,
                 help="JUDGE=SCORE: the score read as a judge's reward (default: attributes=overall, "
                      "checklist-heuristic=goal+preserve, the mean of its goal and preserve pass rates)."),
    click.option("--system", "systems", multiple=True, help="Only the plans of this system (name or id)."),
    click.option("--sample", "samples", multiple=True, help="Only this sample, as SUITE@VERSION/ID. Repeatable."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed (edit seeds, visiting order, draws)."),
]


def _with_common(fn: Any) -> Any:
    for opt in reversed(_COMMON):
        fn = opt(fn)
    return fn


@click.command("explore")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@_with_common
@click.option("--adaptive", type=click.Choice(["successive-halving", "ucb"]),
              help="Spend judge calls adaptively, sharing statistics across similar subtasks (default: exhaustive).")
@click.option("--budget", type=int, help="At most N judge calls in all (adaptive; later subtasks take the "
                                         "family's best arm unevaluated).")
@click.option("--eta", type=float, default=4.0, show_default=True, help="Successive halving: keep 1/eta per round.")
@click.option("--rounds", type=int, help="Subtasks per halving round (successive halving, default 2), or evaluations "
                                         "of every arm before its index is trusted (ucb, default 2).")
@click.option("--rank", type=click.Choice(["max", "mean"]), default="max", show_default=True,
              help="Rank arms by the best reward they reached in their family, or by their mean.")
@click.option("--tolerance", type=float, default=0.25, show_default=True,
              help="Successive halving: recheck a subtask whose best reward falls this far below the best that arm "
                   "reached in its family.")
@click.option("--c", "ucb_c", type=float, default=0.05, show_default=True, help="UCB exploration constant.")
@click.option("--max-per-subtask", type=int, help="UCB: at most N evaluations per subtask.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Processes for an exhaustive exploration (adaptive allocation runs in one).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explore_cmd(run_dir: str, tools: tuple[str, ...], regions: tuple[str, ...], judges: tuple[str, ...],
                reward_scores: tuple[str, ...], systems: tuple[str, ...], samples: tuple[str, ...], seed: int,
                adaptive: str | None, budget: int | None, eta: float, rounds: int | None, rank: str, tolerance: float,
                ucb_c: float, max_per_subtask: int | None, workers: int, fmt: str) -> None:
    """Try candidate (tool, region) pairs per subtask of RUN's plans on the original image and judge each.

    Writes one record per (sample, subtask, tool, params, region, judge) to explorations.jsonl;
    re-running resumes, and edits and judgements are cached by content.
    """
    from baselines.explore.loop import explore

    config = _config(tools, regions, judges, seed, reward_scores)
    options: dict[str, Any] = {}
    if adaptive == "successive-halving":
        options = {"eta": eta, "tolerance": tolerance, "rank": rank, **({"rounds": rounds} if rounds else {})}
    elif adaptive == "ucb":
        options = {"c": ucb_c, "max_per_subtask": max_per_subtask, "rank": rank,
                   **({"rounds": rounds} if rounds else {})}
    if budget is not None and budget < 1:
        raise UsageError("--budget must be >= 1", field="--budget")
    summary = explore(run_dir, config, systems=list(systems), samples=_samples(samples), adaptive=adaptive,
                      budget=budget, seed=seed, options=options, workers=max(1, workers))
    if fmt == "json":
        click.echo(json.dumps(summary.to_dict(), indent=1, default=str))
        return
    c = summary.counts
    click.echo(f"explore ({summary.method}): {summary.plans} plans, {summary.subtasks} subtasks "
               f"({summary.no_candidate} without any candidate), {summary.candidates} candidates; "
               f"{summary.new_records} new records, {summary.tool_calls} tool and {summary.judge_calls} judge calls "
               f"made now; {summary.seconds:.1f}s")
    if c is not None:
        a = summary.allocation
        click.echo(f"  exhaustive full rollouts sum (T*G)^K = {c.full_rollouts:,} ({c.full_rollout_edits:,} edits); "
                   f"per subtask sum K*T*G = {c.per_subtask:,}; this allocation: {a.get('evaluations')} evaluations, "
                   f"{a.get('judge_calls')} judge calls ({a.get('distinct_judge_calls')} after content caching)")
    if summary.comparison is not None:
        cmp = summary.comparison
        click.echo(f"  vs exhaustive: choice accuracy {cmp.accuracy:.1%} on {cmp.compared} subtasks (same candidate "
                   f"{cmp.same_arm:.1%}); judge calls {cmp.judge_calls}/{cmp.exhaustive_judge_calls} "
                   f"({cmp.judge_call_ratio:.1%})")
    elif summary.method != "exhaustive":
        click.echo("  (no complete exhaustive exploration of these plans in the run: run `editbench explore RUN` "
                   "without --adaptive to compare)")


@click.command("learn-policy")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--out", required=True, help="Folder for policy.json and train.json (or a .json file); with --model, "
                                           "the trained orchestrator's folder.")
@click.option("--kind", type=click.Choice(["nearest-neighbour", "linear", "table"]), default="nearest-neighbour",
              show_default=True, help="Policy file kind (not with --model).")
@click.option("--judge", help="Learn from this judge's rewards (name or id; default: each subtask's primary judge).")
@click.option("--holdout", type=float, default=0.3, show_default=True,
              help="Fraction of samples held out (sample-disjoint, seeded; the same split with and without --model).")
@click.option("--seed", type=int, default=0, show_default=True, help="Split seed.")
@click.option("--pool", type=click.Choice(["vote", "mean", "subtask"]), default="vote", show_default=True,
              help="Per family of similar subtasks, the candidate best on most subtasks (vote) or with the best "
                   "mean reward (mean); or each subtask's own best (subtask). Not with --model.")
@click.option("--expand/--no-expand", default=True, show_default=True,
              help="Add entries for vocabulary values training never asked for (not with --model).")
@click.option("--system", "systems", multiple=True, help="Only the plans of this system (name or id).")
@click.option("--model", "base", help="Train a fine-tuned orchestrator model instead of a policy file, from this base: "
                                      "tiny[:hidden=96,layers=3,...] (built from a config), a local model folder, or a "
                                      "hub id in the local cache (a vision-language model for -o modality=vision).")
@click.option("--method", type=click.Choice(["s", "r", "rw", "sw", "dpo"]), default="s", show_default=True,
              help="--model: the trainer's method. s: supervised on each subtask's best choice; r: only choices "
                   "scoring at least tau_r; rw, sw, dpo need --choices all.")
@click.option("--min-reward", type=float, help="--model: keep only choices scoring at least this on the judge's own "
                                                "scale (e.g. 0.75 for attributes' overall): s_min_reward for s, tau_r "
                                                "for r.")
@click.option("--choices", type=click.Choice(["best", "all"]), default="best", show_default=True,
              help="--model: one record per subtask (its best candidate) or one per scored candidate.")
@click.option("--preset", type=click.Choice(["paper", "code"]), default="paper", show_default=True,
              help="--model: the trainer's defaults (see `editbench train --help`).")
@click.option("-o", "--option", "options", multiple=True,
              help="--model: KEY=VALUE training option, as for `editbench train` (modality=vision, adapter=full, "
                   "lr=..., epochs=...). Repeatable.")
@click.option("--description/--no-description", default=True, show_default=True,
              help="--model: give the orchestrator the sample's textual analysis (text modality).")
@click.option("--device", help="--model: cpu or cuda (default: cuda when available).")
@click.option("--restart", is_flag=True, help="--model: discard checkpoints in --out and start over.")
def learn_policy_cmd(run_dir: str, out: str, kind: str, judge: str | None, holdout: float, seed: int, pool: str,
                     expand: bool, systems: tuple[str, ...], base: str | None, method: str, min_reward: float | None,
                     choices: str, preset: str, options: tuple[str, ...], description: bool, device: str | None,
                     restart: bool) -> None:
    """Learn an orchestrator from RUN's exploration records; load it with planner-orchestrator:policy=OUT.

    \b
    Without --model: a policy file (nearest-neighbour, linear or table over subtask words; no GPU).
    With --model: a fine-tuned orchestrator (paper A: supervised on the high-reward choices), trained
    by the offline-RL trainer (task "orchestrate"): the subtask, the candidate tools with their
    parameters and the candidate regions in, the chosen {"tool", "params", "region"} out.
    \b
    Example (tiny model, CPU):
      editbench learn-policy RUN --out out/orch --model tiny -o adapter=full -o lr=0.003 -o epochs=20
      editbench run --suite styling-simple --system "planner-orchestrator:tools=[scene-precise,scene-lighting,scene-style,scene-leaky],policy=out/orch"
    """
    if base:
        _learn_model(run_dir, out, base, judge=judge, holdout=holdout, seed=seed, systems=systems, method=method,
                     min_reward=min_reward, choices=choices, preset=preset, options=options, description=description,
                     device=device, restart=restart)
        return
    from baselines.explore.learn import learn_policy

    try:
        result = learn_policy(run_dir, out, kind=kind, judge=judge, holdout=holdout, seed=seed, pool=pool,
                              expand=expand, systems=list(systems))
    except ValueError as err:
        raise UsageError(str(err)) from None
    meta = result.policy["meta"]
    split = result.train["split"]
    click.echo(f"policy: {result.path} ({kind}, {meta['entries']} entries from {meta['trained_subtasks']} training "
               f"subtasks, {meta['pruned']} pruned; {len(split['train'])} training / {len(split['heldout'])} "
               f"held-out samples; reward judge {meta['reward_judge']})")
    for dim, s in sorted(meta["strengths"].items()):
        mark = "recovered" if s["recovered"] else "NOT recovered"
        click.echo(f"  {dim:<20} learned {s['learned'][0]}@{s['learned'][1]:<8} documented "
                   f"{', '.join(t + '@' + r for t, r in s['documented'])}: {mark}")


def _learn_model(run_dir: str, out: str, base: str, *, judge: str | None, holdout: float, seed: int,
                 systems: tuple[str, ...], method: str, min_reward: float | None, choices: str, preset: str,
                 options: tuple[str, ...], description: bool, device: str | None, restart: bool) -> None:
    """``learn-policy --model``: a fine-tuned orchestrator through the trainer."""
    from baselines.explore.orchestrator_model import describe, train_orchestrator
    from bench.cli_train import _parse_options

    try:
        outcome, data = train_orchestrator(run_dir, out, base=base, method=method, preset=preset,
                                           options=_parse_options(options), min_reward=min_reward, judge=judge,
                                           choices=choices, holdout=holdout, seed=seed, systems=list(systems),
                                           description=description, restart=restart, device=device)
    except ValueError as err:
        raise UsageError(str(err)) from None
    for line in describe(outcome, data):
        click.echo(line)


@click.command("approximations")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@_with_common
@click.option("--policy", help="A learned policy: its choices are one of the executed assignments, and its "
                               "train.json's held-out samples the default sample set.")
@click.option("--alternatives", type=int, default=3, show_default=True, help="Random assignments per sample.")
@click.option("--final-judge", help="Judge of the final image (default: attributes on scene samples, "
                                    "checklist-heuristic otherwise).")
@click.option("--final-score", help="Score of the final judge to rank (default: overall / pass_rate).")
@click.option("--resamples", type=int, default=1000, show_default=True, help="Bootstrap resamples.")
@click.option("--html/--no-html", "write_html", default=True, show_default=True,
              help="Also write approximations.html (the leaderboard fragment) into the run.")
def approximations_cmd(run_dir: str, tools: tuple[str, ...], regions: tuple[str, ...], judges: tuple[str, ...],
                       reward_scores: tuple[str, ...], systems: tuple[str, ...], samples: tuple[str, ...], seed: int,
                       policy: str | None, alternatives: int, final_judge: str | None, final_score: str | None,
                       resamples: int, write_html: bool) -> None:
    """Measure paper A's approximations on sequential executions; store approximations.json in RUN."""
    from baselines.explore import approximations as ap
    from bench.spec import parse_spec
    from leaderboard.approximations import write_fragment  # the leaderboard's page renders the same

    config = _config(tools, regions, judges, seed, reward_scores)
    report = ap.measure(run_dir, policy=policy, samples=_samples(samples), systems=list(systems), config=config,
                        final_judge=parse_spec(final_judge) if final_judge else None, final_score=final_score,
                        alternatives=alternatives, seed=seed, n_resamples=resamples)
    path = ap.write(run_dir, report)
    click.echo(f"approximations: {path} ({report['samples']} samples, {report['sequences']} sequences, "
               f"{report['steps']} steps)")

    def show(label: str, s: dict[str, Any]) -> None:
        v = s.get("value")
        txt = "n/a" if v is None else f"{v:.3f} [{s['low']:.3f}, {s['high']:.3f}]"
        click.echo(f"  {label:<58} {txt}  (n={s.get('n', 0)})")

    show("(a) Spearman, sum of subtask rewards on I0 vs final", report["additive"]["spearman"])
    show("(a) Kendall,  sum of subtask rewards on I0 vs final", report["additive"]["kendall"])
    show("(a) mean Spearman within a sample, across assignments", report["additive"]["spearman_within"])
    show("(b) Spearman, reward on I0 vs on I(k-1)", report["original_vs_sequential"]["spearman"])
    show("(b) fraction of steps with equal rewards", report["original_vs_sequential"]["equal_fraction"])
    show("(c) fraction of effective steps undone later", report["undone"]["fraction"])
    if write_html:
        click.echo(f"fragment: {write_fragment(run_dir)}")
