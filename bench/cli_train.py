"""``editbench train``: learn a planner offline from judged trajectories (paper B's S, R, RW, SW, DPO).

The command composes ``baselines.training`` (imported inside it, as the CLI does for every upper
package). Data come from run stores (``--run`` with ``--reward JUDGE --reward-score NAME``), from
paper B's released layout (``--paper-b``), from a records file (``--records``) or from the
exact-reward testbed (``--testbed``). Re-running the same command resumes from the last checkpoint.
Multi-GPU: ``accelerate launch $(which editbench) train ...``.
"""

from __future__ import annotations

from typing import Any

import click

from bench.errors import UsageError


def _epilog() -> str:
    try:
        from baselines.training.options import options_help
    except ImportError:  # pragma: no cover - the training package is part of the distribution
        return ""
    return "\b\nOptions (-o KEY=VALUE), paper B's value (preset=paper, the default) and its code's:\n" + options_help()


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    from bench.spec import parse_value

    out: dict[str, Any] = {}
    for p in pairs:
        if "=" not in p:
            raise UsageError(f"-o expects KEY=VALUE, got {p!r}", field="-o")
        key, raw = p.split("=", 1)
        out[key.strip().replace("-", "_")] = parse_value(raw, where=f"-o {key}")
    return out


class _TrainCommand(click.Command):
    """Builds the options table only when help is shown: ``import bench.cli`` must not import baselines."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = _epilog()
        super().format_epilog(ctx, formatter)


@click.command("train", cls=_TrainCommand, context_settings={"max_content_width": 140})
@click.option("--method", required=True, type=click.Choice(["s", "r", "rw", "sw", "dpo"], case_sensitive=False),
              help="S (supervised), R (reward-filtered), RW (reward-weighted), SW (standardised), DPO.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="The trained planner's folder.")
@click.option("--base", required=True,
              help="Base model: a local folder, a hub id in the local cache, or tiny[:hidden=96,layers=3,...].")
@click.option("--preset", type=click.Choice(["paper", "code"]), default="paper", show_default=True,
              help="paper: what paper B states; code: what its public code runs.")
@click.option("-o", "--option", "options", multiple=True, help="KEY=VALUE training option (see below). Repeatable.")
@click.option("--run", "runs", multiple=True, type=click.Path(file_okay=False), help="A run store to read. Repeatable.")
@click.option("--reward", help="Judge (id or name) whose score is the reward, for --run.")
@click.option("--reward-score", help="Which score of that judge (default: overall, or its first).")
@click.option("--from-system", "systems", multiple=True, help="Only trajectories of this system (id or name).")
@click.option("--no-rescale", is_flag=True, help="Keep the judge's scale (default: map [min, max] to 1-5).")
@click.option("--paper-b", "paper_b", type=click.Path(file_okay=False), help="A folder in paper B's released layout.")
@click.option("--records", "records_file", type=click.Path(dir_okay=False), help="A JSONL file of training records.")
@click.option("--testbed", is_flag=True, help="The exact-reward testbed (styling suites + noisy rule planner).")
@click.option("--testbed-size", type=int, default=120, show_default=True, help="Samples per styling suite.")
@click.option("--testbed-rollouts", type=int, default=4, show_default=True, help="Trajectories per sample (a group).")
@click.option("--testbed-noise", type=float, default=0.3, show_default=True, help="Random noise of the data planner.")
@click.option("--testbed-bias", type=float, default=0.6, show_default=True, help="Its temptation bias.")
@click.option("--reward-noise", type=float, default=0.0, show_default=True,
              help="Testbed: Gaussian σ added to the exact 1-5 reward (judge-like noise).")
@click.option("--exclude-suite", "exclude", multiple=True,
              help="A suite (NAME[:k=v] or folder) whose images must never train (an evaluated suite). Repeatable.")
@click.option("--split", "split", default="0.8,0.1,0.1", show_default=True, help="train,val,test fractions of groups.")
@click.option("--split-seed", type=int, default=0, show_default=True)
@click.option("--seed", type=int, help="Training seed (option seed).")
@click.option("--description/--no-description", default=True, show_default=True,
              help="Give the planner the textual scene analysis.")
@click.option("--restart", is_flag=True, help="Discard checkpoints in --out and start over.")
@click.option("--device", help="cpu or cuda (default: cuda when available).")
def train_cmd(**kw: Any) -> None:
    """Train a planner offline from judged trajectories; writes an adapter a run can use as a system.

    \b
    Example (the testbed, tiny model, CPU):
      editbench train --method sw --testbed --testbed-size 12 --base tiny --out out/sw -o adapter=full
      editbench run --suite styling-simple --system trained-planner:path=out/sw --judge attributes
    """
    from baselines.training.options import TrainOptions
    from baselines.training.pipeline import train_planner
    from baselines.training.sources import read_paper_b, read_records, read_run_stores
    from baselines.training.splits import parse_fractions, suite_image_ids
    from bench.compose import load_suite_spec

    opts_kw = _parse_options(kw["options"])
    if kw["seed"] is not None:
        opts_kw["seed"] = kw["seed"]
    opts = TrainOptions.resolve(kw["method"].lower(), kw["preset"], **opts_kw)
    records: list[Any] = []
    info: dict[str, Any] = {"sources": []}
    if kw["runs"]:
        if not kw["reward"] and opts.method != "s":
            raise UsageError(f"method {opts.method} needs --reward JUDGE for --run data", field="--reward")
        got, run_info = read_run_stores(kw["runs"], kw["reward"], kw["reward_score"], systems=kw["systems"],
                                        rescale=not kw["no_rescale"])
        records += got
        info["sources"].append({"kind": "runs", **run_info})
        info["reward_judge"], info["reward_score"] = run_info["reward_judge"], run_info["reward_score"]
    if kw["paper_b"]:
        got, pb_info = read_paper_b(kw["paper_b"])
        records += got
        info["sources"].append({"kind": "paper-b", **pb_info})
        info.setdefault("reward_judge", "paper-b:reward_scores.overall_quality")
    if kw["records_file"]:
        got = read_records(kw["records_file"])
        records += got
        info["sources"].append({"kind": "records", "file": kw["records_file"], "n": len(got)})
    if kw["testbed"]:
        from baselines.training.testbed import TestbedConfig, build_testbed

        cfg = TestbedConfig(size=kw["testbed_size"], rollouts=kw["testbed_rollouts"], noise=kw["testbed_noise"],
                            bias=kw["testbed_bias"], reward_noise=kw["reward_noise"], description=kw["description"])
        tb = build_testbed(cfg)
        records += tb.records
        info["sources"].append({"kind": "testbed", **cfg.to_dict()})
        info.setdefault("reward_judge", "attributes (exact, testbed)" + (
            f" + N(0, {kw['reward_noise']})" if kw["reward_noise"] else ""))
    if not records:
        raise UsageError("no training data: give --run, --paper-b, --records or --testbed")
    banned: set[str] = set()
    for spec in kw["exclude"]:
        banned |= suite_image_ids([load_suite_spec(spec)])
    info["excluded_suites"] = list(kw["exclude"])
    out = train_planner(records, base=kw["base"], out_dir=kw["out_dir"], opts=opts,
                        fractions=parse_fractions(kw["split"]), split_seed=kw["split_seed"], exclude_images=sorted(banned),
                        data_info=info, description=kw["description"], restart=kw["restart"], device=kw["device"])
    res, counts = out.train_json["result"], out.train_json["data"]["counts"]
    click.echo(f"trained {opts.method.upper()} (preset {opts.preset}) -> {out.out_dir}")
    sizes = out.train_json["splits"]["sizes"]
    click.echo("  splits " + ", ".join(f"{k} {v}" for k, v in sizes.items())
               + f"; excluded {out.train_json['splits']['excluded_trajectories']} trajectories of evaluated suites")
    keep = {k: counts[k] for k in ("given", "kept", "trained", "retention", "pairs", "usage", "dropped_truncated",
                                   "no_reward", "skipped_batches") if k in counts}
    click.echo("  data " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in keep.items()))
    click.echo(f"  steps {res['steps']}, final loss {res['final_loss']}, val NLL {res['val_nll']}, "
               f"{res['seconds']:.0f}s" + (f", preference accuracy {res['pref_accuracy_last']:.2f}"
                                           if res.get("pref_accuracy_last") is not None else ""))
    click.echo(f"  use it: --system trained-planner:path={out.out_dir}")
