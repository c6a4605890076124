"""Paper A's learning loop on the built-in styling suites, end to end, with every number it yields.

Runs (offline, no weights): ``planner-orchestrator`` (rules backend) on the styling suites ->
exhaustive exploration of the scene-tool variants per subtask (``attributes`` as the exact
subtask judge) -> adaptive exploration (successive halving, UCB) against it, live once and
replayed over several visiting orders -> a learned policy (nearest-neighbour; the linear one
too) -> the learned system, the zero-shot rules orchestrator, one-tool-for-everything policies
and a random policy on the held-out samples, judged by ``attributes`` -> paper A's two
approximations measured (``approximations.json`` and its HTML fragment in the training run).

Run from the repository root (prints Markdown tables; ``--out`` also writes them as JSON)::

    python -m benchmarks.approximations                         # simple 40, regular 40, complex 20
    python -m benchmarks.approximations --simple 12 --regular 12 --complex 0 --runs-dir /tmp/eb
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _ci(s: dict[str, Any]) -> str:
    if s.get("value") is None:
        return "n/a"
    return f"{s['value']:.3f} [{s['low']:.3f}, {s['high']:.3f}] (n={s['n']})"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--simple", type=int, default=40)
    p.add_argument("--regular", type=int, default=40)
    p.add_argument("--complex", type=int, default=20)
    p.add_argument("--runs-dir", default="runs/bench-approximations")
    p.add_argument("--holdout", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--orders", type=int, default=10, help="Visiting orders the allocators are replayed over.")
    p.add_argument("--alternatives", type=int, default=3)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", help="Write the summary as JSON here.")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("EDITBENCH_PROGRESS", "0")

    from baselines.explore.adaptive import ALLOCATORS, compare
    from baselines.explore.approximations import measure, write
    from baselines.explore.evaluate import ExploreConfig, Explorer
    from baselines.explore.learn import (
        fixed_policy,
        learn_policy,
        policy_accuracy,
        random_policy,
        write_policy,
    )
    from baselines.explore.loop import exhaustive_records, explore, replay_oracle, workload
    from baselines.explore.plans import read_plans
    from baselines.explore.report import write_fragment
    from baselines.tools.scene_variants import SCENE_VARIANTS, register_scene_variants
    from bench.components import build_component
    from bench.compose import load_suite_spec
    from bench.runner import RunOptions, Selection, execute
    from bench.spec import parse_spec
    from bench.stats import bootstrap_mean, paired_bootstrap
    from bench.store import RunStore

    register_scene_variants()
    t0 = time.perf_counter()
    laps: dict[str, float] = {}

    def lap(name: str) -> None:
        laps[name] = round(time.perf_counter() - t0 - sum(laps.values()), 1)

    suites = [load_suite_spec(f"styling-{level}:size={n}") for level, n in
              (("simple", args.simple), ("regular", args.regular), ("complex", args.complex)) if n > 0]
    runs = Path(args.runs_dir)
    lap("suites")
    execute(str(runs), suites, [parse_spec("planner-orchestrator")], [], RunOptions(seed=args.seed), name="train")
    run = str(runs / "train")
    lap("train run")
    full = explore(run, seed=args.seed, workers=args.workers)
    lap("exhaustive exploration")
    live = {m: explore(run, adaptive=m, seed=args.seed) for m in ("successive-halving", "ucb")}
    lap("adaptive exploration")
    # replay the allocators over several visiting orders, from the records
    store = RunStore.open(run)
    explorer = Explorer(store, ExploreConfig())
    work = workload(explorer, read_plans(store))
    oracle = replay_oracle(work, exhaustive_records(explorer, work) or {})
    problems = work.problems()
    replay: dict[str, dict[str, float]] = {}
    for m in ("successive-halving", "ucb"):
        acc, ratio, dist = [], [], []
        for order in range(args.orders):
            ref = ALLOCATORS["exhaustive"](problems, oracle, seed=order)
            c = compare(ALLOCATORS[m](problems, oracle, seed=order), ref)
            acc.append(c.accuracy)
            ratio.append(c.judge_call_ratio)
            dist.append(c.distinct_judge_calls / c.exhaustive_distinct_judge_calls)
        replay[m] = {"accuracy_min": min(acc), "accuracy_mean": float(np.mean(acc)), "judge_ratio_max": max(ratio),
                     "judge_ratio_mean": float(np.mean(ratio)), "distinct_ratio_mean": float(np.mean(dist))}
    lap("allocator replay")
    root = runs / "policies"
    learned = learn_policy(run, root / "learned", holdout=args.holdout, seed=args.seed)
    by_mean = learn_policy(run, root / "learned-mean", holdout=args.holdout, seed=args.seed, pool="mean")
    learn_policy(run, root / "learned-linear", holdout=args.holdout, seed=args.seed, kind="linear")
    held = [tuple(k) for k in learned.train["split"]["heldout"]]
    lap("learning")
    tools = "[" + ",".join(SCENE_VARIANTS) + "]"
    sigs = [(t, {"kind": "full"}) for t in SCENE_VARIANTS if t != "scene-precise"] + \
        [("scene-precise", {"kind": "named", "name": n}) for n in ("top", "bottom")]
    policies = {"learned (nearest-neighbour, vote)": root / "learned", "learned (pool=mean)": root / "learned-mean",
                "learned (linear)": root / "learned-linear"}
    for t, r in sigs:
        name = f"fixed {t}@{r.get('name', 'full')}"
        policies[name] = write_policy(fixed_policy(learned.policy, t, r), {"baseline": name},
                                      root / name.replace(" ", "_").replace("@", "_")).parent
    policies["random"] = write_policy(random_policy(learned.policy, sigs, seed=args.seed), {"baseline": "random"},
                                      root / "random").parent
    specs = {"zero-shot rules orchestrator": parse_spec(f"planner-orchestrator:tools={tools}")}
    specs.update({k: parse_spec(f"planner-orchestrator:tools={tools},policy={v},policy_fallback=drop")
                  for k, v in policies.items()})
    held_ids = tuple(sorted({s for _, s in held}))
    execute(str(runs), suites, list(specs.values()), [parse_spec("attributes")],
            RunOptions(seed=args.seed, selection=Selection(samples=held_ids)), name="heldout")
    lap("held-out runs")
    judgements = RunStore.open(runs / "heldout").judgements()
    heldset = set(held)
    scores: dict[str, dict[str, list[float]]] = {}
    for name, spec in specs.items():
        sid = build_component("systems", spec).id
        rows = sorted((k[0], k[1], j) for k, j in judgements.items() if k[2] == sid and (k[0], k[1]) in heldset)
        scores[name] = {s: [j.scores.get(s, np.nan) for _, _, j in rows] for s in ("overall", "exact", "reached")}
    report = measure(run, policy=root / "learned", alternatives=args.alternatives, seed=args.seed)
    write(run, report)
    fragment = write_fragment(run)
    lap("approximations")

    # -- tables
    c = full.counts
    print(f"\n## Exploration ({c.samples} samples, {c.subtasks} subtasks, {len(SCENE_VARIANTS)} tools x 3 regions)\n")
    print(_table(["count", "value"], [
        ["exhaustive full rollouts, sum of (T*G)^K", f"{c.full_rollouts:,} ({c.full_rollout_edits:,} edits)"],
        ["per-subtask exhaustive, sum of K*T*G (edits = judge requests)", f"{c.per_subtask:,}"],
        ["exhaustive: judge calls on an image / after content caching",
         f"{full.allocation['judge_calls']} / {full.allocation['distinct_judge_calls']}"],
        ["subtasks without any candidate", full.no_candidate]]))
    rows = []
    for m, s in live.items():
        cmp = s.comparison
        rows.append([m, f"{cmp.accuracy:.1%}", f"{cmp.same_arm:.1%}", f"{cmp.evaluations} / {cmp.exhaustive_evaluations}",
                     f"{cmp.judge_calls} / {cmp.exhaustive_judge_calls} ({cmp.judge_call_ratio:.1%})",
                     f"{cmp.distinct_judge_calls} / {cmp.exhaustive_distinct_judge_calls}",
                     f"{replay[m]['accuracy_min']:.1%} / {replay[m]['accuracy_mean']:.1%}",
                     f"{replay[m]['judge_ratio_max']:.1%}"])
    print("\n## Adaptive allocation against exhaustive\n")
    print(_table(["allocator", "choice accuracy", "same candidate", "evaluations", "judge calls",
                  "after caching", f"accuracy min/mean over {args.orders} orders", "worst judge-call ratio"], rows))
    print("\n## Learned strengths (family -> best candidate)\n")
    print(_table(["dimension", "learned (vote)", "learned (mean)", "documented", "recovered"], [
        [k, "@".join(v["learned"]), "@".join(by_mean.policy["meta"]["strengths"].get(k, {}).get("learned", ["?"])),
         ", ".join("@".join(d) for d in v["documented"]), v["recovered"]]
        for k, v in sorted(learned.policy["meta"]["strengths"].items())]))
    acc = policy_accuracy(learned.policy, store, held)
    print(f"\nPolicy choice = exhaustive best on {acc['accuracy']:.1%} of {acc['subtasks']} held-out subtasks "
          f"({acc['undecided']} undecided, {acc['unexplored']} unexplored).")
    best_base = max((k for k in scores if k.startswith(("fixed", "random", "zero"))),
                    key=lambda k: np.nanmean(scores[k]["overall"]))
    rows = []
    for name, sc in scores.items():
        m = bootstrap_mean(sc["overall"], seed=args.seed)
        rows.append([name, f"{m.mean:.3f} [{m.low:.3f}, {m.high:.3f}]", f"{np.nanmean(sc['exact']):.3f}",
                     f"{np.nanmean(sc['reached']):.3f}", m.n])
    print(f"\n## Held-out samples ({len(held)}), judged by attributes\n")
    print(_table(["system", "overall (95% CI)", "exact", "reached", "n"], rows))
    d = paired_bootstrap(scores["learned (nearest-neighbour, vote)"]["overall"], scores[best_base]["overall"],
                         seed=args.seed)
    print(f"\nLearned - best baseline ({best_base}): {d.diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}], p = {d.p_value:.4f}")
    print("\n## Approximations (held-out, cluster bootstrap over samples)\n")
    print(_table(["approximation", "statistic", "value [95% CI] (n)"], [
        ["(a) additive", "Spearman sum r(I0) vs final", _ci(report["additive"]["spearman"])],
        ["(a) additive", "Kendall sum r(I0) vs final", _ci(report["additive"]["kendall"])],
        ["(a) additive", "Spearman sum r(I(k-1)) vs final", _ci(report["additive"]["spearman_sequential"])],
        ["(a) additive", "mean Spearman within a sample", _ci(report["additive"]["spearman_within"])],
        ["(b) original image", "Spearman r(I0) vs r(I(k-1))", _ci(report["original_vs_sequential"]["spearman"])],
        ["(b) original image", "fraction equal", _ci(report["original_vs_sequential"]["equal_fraction"])],
        ["(c) undone", "fraction of effective steps undone", _ci(report["undone"]["fraction"])]]))
    print(f"\nfragment: {fragment}\ntimings (s): {laps}")
    summary = {"counts": c.to_dict(), "exhaustive": full.allocation,
               "adaptive": {m: s.comparison.to_dict() for m, s in live.items()}, "replay": replay,
               "strengths": learned.policy["meta"]["strengths"], "policy_accuracy": acc,
               "heldout": {k: {s: float(np.nanmean(v)) for s, v in sc.items()} for k, sc in scores.items()},
               "learned_vs_best_baseline": {"baseline": best_base, "diff": d.diff, "low": d.low, "high": d.high,
                                            "p": d.p_value},
               "approximations": {k: report[k] for k in ("additive", "original_vs_sequential", "undone")},
               "timings": laps}
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
