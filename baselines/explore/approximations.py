"""Paper A's two reward approximations, measured on sequential executions (what A only conjectures).

For each sample of a held-out set, with its plan and the candidates of each subtask, several
*assignments* of one candidate per subtask are executed in plan order: the learned policy's
choices (when a policy is given) and ``alternatives`` uniformly random ones (seeded), so rewards
and final scores spread enough to rank. For every step ``k`` of every sequence the subtask judge
scores the candidate twice: on the original image ``I0`` (``basis=original``, approximation 2's
criterion) and on the image ``I_{k-1}`` it actually meets (``basis=sequential``); both are
exploration records in the store (cached like any other). The final image is scored by the final
judge on the real sample (``attributes`` on scene samples: exact). Reported, each with a cluster
bootstrap interval over samples (assignments and steps of one sample move together):

(a) **additivity** (approximation 1): Spearman and Kendall rank correlation between
    ``sum_k r_k`` on ``I0`` and the final judged score, over sequences; the same with the
    sequential rewards, to separate the two approximations' shares of the gap; and the mean over
    samples of the Spearman correlation *within* a sample (across its assignments: the ranking
    the sum is used for when choosing tools for one plan; samples where either side is constant
    are left out and counted as undefined);
(b) **original-image criterion** (approximation 2): rank correlation between a step's reward on
    ``I0`` and on ``I_{k-1}``, the fraction of steps where they are equal and their mean absolute
    difference;
(c) **undone steps**: among steps that had an effect (the image changed and the subtask judge's
    effect score on ``I_{k-1} -> I_k`` is at least ``effect_threshold``), the fraction whose
    effect is gone in the final image (the same score on ``I_{k-1} -> I_K`` falls below it).
    With the exact judge this reads the scene specs: "is the value this step set still there?".

:func:`measure` returns the JSON-ready report; :func:`write` stores it as ``approximations.json``
in the run folder and appends a stage record (``report.py`` renders it for the leaderboard).
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bench.components import Built
from bench.ids import derive_seed
from bench.model import Step, Trajectory
from bench.protocols import JudgeItem
from bench.spec import ComponentSpec
from bench.store import RunStore

from .candidates import Arm, region_label
from .evaluate import ExploreConfig, Explorer
from .plans import PlannedSubtask, SamplePlan, read_plans

log = logging.getLogger(__name__)

__all__ = ["EFFECT_SCORES", "FILE", "FINAL_SCORES", "measure", "write"]

FILE = "approximations.json"
#: The score read as "did this step take effect", per subtask judge name.
EFFECT_SCORES: dict[str, str] = {"attributes": "reached", "checklist-heuristic": "goal_pass_rate"}
#: The final judge's score, per judge name.
FINAL_SCORES: dict[str, str] = {"attributes": "overall", "checklist-heuristic": "pass_rate"}


@dataclass(frozen=True)
class _Seq:
    plan: SamplePlan
    name: str
    arms: tuple[tuple[PlannedSubtask, Arm] | None, ...]


def _assignments(plan: SamplePlan, items: list[tuple[PlannedSubtask, list[Arm]]], policy: Any, alternatives: int,
                 seed: int) -> list[_Seq]:
    out: list[_Seq] = []
    if policy is not None:
        chosen: list[tuple[PlannedSubtask, Arm] | None] = []
        for sub, _arms in items:
            dec = policy.decide(sub.text, sub.action)
            chosen.append((sub, Arm(dec.tool, dict(dec.params), dict(_region_json(dec.region)))) if dec else None)
        out.append(_Seq(plan, "policy", tuple(chosen)))
    for i in range(alternatives):
        rng = random.Random(derive_seed(seed, plan.suite, plan.sample.id, plan.system_id, "random", str(i)))
        out.append(_Seq(plan, f"random-{i + 1}", tuple((sub, rng.choice(arms)) for sub, arms in items)))
    return out


def _region_json(region: Any) -> Mapping[str, Any]:
    from baselines.agents.common import parse_region, region_to_json

    return region_to_json(parse_region(region))


def _score(verdict: Mapping[str, Any], name: str) -> float | None:
    if verdict.get("status") != "ok":
        return None
    v = (verdict.get("scores") or {}).get(name)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


class _Measurer:
    def __init__(self, store: RunStore, explorer: Explorer, final_judge: ComponentSpec | None,
                 effect_threshold: float) -> None:
        self.store = store
        self.explorer = explorer
        self.final_spec = final_judge
        self.threshold = effect_threshold
        self._finals: dict[tuple[str, str, str], float | None] = {}

    def final_judge(self, plan: SamplePlan) -> Built:
        spec = self.final_spec or (ComponentSpec("attributes") if plan.is_scene else ComponentSpec("checklist-heuristic"))
        return self.explorer.judge(spec)

    def final_score(self, plan: SamplePlan, steps: list[Step], final_id: str, score: str | None) -> float | None:
        built = self.final_judge(plan)
        key = (built.id, f"{plan.suite}/{plan.sample.id}", final_id)
        if key not in self._finals:
            images = self.store.images
            traj = Trajectory(suite=plan.suite, sample_id=plan.sample.id, system_id="approximations", steps=tuple(steps),
                              final=final_id)
            item = JudgeItem(suite=plan.suite, sample=plan.sample, source=images.get(plan.source_id),
                             final=images.get(final_id), trajectory=traj, load_image=images.get,
                             put_raw=self.store.put_raw, get_sidecar=images.get_sidecar)
            [j] = built.obj.judge([item])
            name = score or FINAL_SCORES.get(built.spec.name, "overall")
            self._finals[key] = _score({"status": j.status, "scores": j.scores}, name)
        return self._finals[key]

    def effect(self, plan: SamplePlan, sub: PlannedSubtask, before: str, after: str) -> float | None:
        built = self.explorer.judge(self.explorer.judge_specs_for(plan)[0])
        verdict, _, _, _ = self.explorer.judge_pair(built, plan, sub, before, after)
        name = EFFECT_SCORES.get(built.spec.name, "overall")
        return _score(verdict, name)

    def run(self, seq: _Seq, final_score_name: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        plan = seq.plan
        current = plan.source_id
        steps: list[dict[str, Any]] = []
        done: list[Step] = []
        for pair in seq.arms:
            if pair is None:
                continue
            sub, arm = pair
            orig = self.explorer.evaluate(plan, sub, arm, basis="original")
            seq_out = self.explorer.evaluate(plan, sub, arm, basis="sequential", input_id=current)
            out = seq_out.output or current
            done.append(Step(tool=arm.tool, input=current, output=seq_out.output, subtask=sub.id, params=arm.params,
                             error=None if seq_out.output else "failed"))
            steps.append({"subtask": sub.id, "k": sub.index, "text": sub.text, "tool": arm.tool,
                          "region": region_label(arm.region), "input": current, "output": out,
                          "r_original": orig.reward, "r_sequential": seq_out.reward})
            current = out
        for st in steps:
            sub = next(s for s in plan.subtasks if s.id == st["subtask"])
            changed = st["output"] != st["input"]
            now = self.effect(plan, sub, st["input"], st["output"]) if changed else None
            st["effect"] = bool(changed and now is not None and now >= self.threshold)
            if st["effect"]:
                later = self.effect(plan, sub, st["input"], current)
                st["undone"] = bool(later is None or later < self.threshold)
            else:
                st["undone"] = None
        final = self.final_score(plan, done, current, final_score_name)
        rs = [s["r_original"] for s in steps]
        rq = [s["r_sequential"] for s in steps]
        row = {"suite": plan.suite, "sample": plan.sample.id, "system": plan.system_id, "assignment": seq.name,
               "steps": len(steps), "sum_original": float(sum(r or 0.0 for r in rs)),
               "sum_sequential": float(sum(r or 0.0 for r in rq)), "final": final, "final_image": current}
        for st in steps:
            st.update(suite=plan.suite, sample=plan.sample.id, assignment=seq.name)
        return row, steps


def _ci(groups: list[Any], statistic: Any, n_resamples: int, confidence: float, seed: int) -> dict[str, Any]:
    """A statistic over clusters with its cluster-bootstrap interval (``bench.stats.bootstrap_statistic``)."""
    from bench.stats import bootstrap_statistic

    if not groups:
        return {"value": None, "low": None, "high": None, "n": 0, "clusters": 0, "undefined": 0}
    idx = np.arange(len(groups))[:, None]
    r = bootstrap_statistic(idx, lambda rows: statistic([groups[int(i)] for i in rows[:, 0]]),
                            n_resamples=n_resamples, confidence=confidence, seed=seed)

    def f(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    return {"value": f(r.value), "low": f(r.low), "high": f(r.high), "n": int(sum(len(g) for g in groups)),
            "clusters": len(groups), "undefined": r.n_undefined}


def _rank(kind: str, xs: Iterable[tuple[float, float]]) -> float:
    from judges.agreement import kendall_tau, spearman_rho  # statistics live once (judges.agreement)

    pts = [p for p in xs if p[0] is not None and p[1] is not None]
    if len(pts) < 3:
        return math.nan
    x, y = [p[0] for p in pts], [p[1] for p in pts]
    return spearman_rho(x, y) if kind == "spearman" else kendall_tau(x, y)


def _within(groups: list[list[dict[str, Any]]]) -> float:
    """Mean over samples of the within-sample Spearman correlation (undefined ones left out)."""
    vals = [_rank("spearman", [(r["sum_original"], r["final"]) for r in g]) for g in groups]
    vals = [v for v in vals if math.isfinite(v)]
    return float(np.mean(vals)) if vals else math.nan


def _blocks(seqs: list[dict[str, Any]], steps: list[dict[str, Any]], boot: int, conf: float, seed: int
            ) -> dict[str, Any]:
    by_sample: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in seqs:
        by_sample.setdefault((s["suite"], s["sample"]), []).append(s)
    step_groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in steps:
        step_groups.setdefault((s["suite"], s["sample"]), []).append(s)
    sg = [v for v in by_sample.values()]
    tg = [v for v in step_groups.values()]
    eg = [[s for s in g if s["effect"]] for g in tg]
    eg = [g for g in eg if g]

    def pairs(groups: list[list[dict[str, Any]]], a: str, b: str) -> list[tuple[Any, Any]]:
        return [(r[a], r[b]) for g in groups for r in g]

    def mean_of(groups: list[list[dict[str, Any]]], fn: Any) -> float:
        vals = [fn(r) for g in groups for r in g]
        vals = [v for v in vals if v is not None]
        return float(np.mean(vals)) if vals else math.nan

    both = [[s for s in g if s["r_original"] is not None and s["r_sequential"] is not None] for g in tg]
    both = [g for g in both if g]
    return {
        "additive": {
            "spearman": _ci(sg, lambda g: _rank("spearman", pairs(g, "sum_original", "final")), boot, conf, seed),
            "kendall": _ci(sg, lambda g: _rank("kendall", pairs(g, "sum_original", "final")), boot, conf, seed),
            "spearman_sequential": _ci(sg, lambda g: _rank("spearman", pairs(g, "sum_sequential", "final")), boot,
                                       conf, seed),
            "spearman_within": _ci(sg, lambda g: _within(g), boot, conf, seed),
        },
        "original_vs_sequential": {
            "spearman": _ci(both, lambda g: _rank("spearman", pairs(g, "r_original", "r_sequential")), boot, conf,
                            seed),
            "kendall": _ci(both, lambda g: _rank("kendall", pairs(g, "r_original", "r_sequential")), boot, conf, seed),
            "equal_fraction": _ci(both, lambda g: mean_of(g, lambda r: float(abs(r["r_original"] - r["r_sequential"])
                                                                             < 1e-9)), boot, conf, seed),
            "mean_abs_diff": _ci(both, lambda g: mean_of(g, lambda r: abs(r["r_original"] - r["r_sequential"])), boot,
                                 conf, seed),
        },
        "undone": {
            "fraction": _ci(eg, lambda g: mean_of(g, lambda r: float(bool(r["undone"]))), boot, conf, seed),
            "effective_steps": sum(len(g) for g in eg),
            "undone_steps": sum(1 for g in eg for r in g if r["undone"]),
            "steps": sum(len(g) for g in tg),
        },
    }


def measure(run_dir: str, *, policy: str | Path | None = None, samples: Iterable[tuple[str, str]] | None = None,
            systems: Sequence[str] = (), config: ExploreConfig | None = None, final_judge: ComponentSpec | None = None,
            final_score: str | None = None, alternatives: int = 3, seed: int = 0, effect_threshold: float = 0.5,
            n_resamples: int = 1000, confidence: float = 0.95) -> dict[str, Any]:
    """Execute assignments sequentially on the held-out samples and report (a), (b), (c) (module doc).

    ``samples`` default: the held-out split of ``policy``'s ``train.json`` when it has one, else every
    planned sample. Exploration records written on the way go to the run's store.
    """
    from baselines.agents.policy import Policy, resolve_path

    if policy:
        from baselines.agents.trained import trained_task

        if trained_task(policy) is not None:
            from bench.errors import UsageError

            raise UsageError(f"{policy} is a trained orchestrator model; the approximations replay a policy "
                             "file's choices (write one with learn-policy without --model)", field="--policy")
    pol = Policy.load(policy) if policy else None
    if samples is None and policy:
        train = resolve_path(policy).with_name("train.json")
        if train.exists():
            samples = [tuple(k) for k in json.loads(train.read_text(encoding="utf-8"))["split"]["heldout"]]
    config = config or ExploreConfig()
    store = RunStore.open(run_dir)
    rows: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    with store:
        explorer = Explorer(store, config, sink=lambda rec: store.append("explorations", rec))
        m = _Measurer(store, explorer, final_judge, effect_threshold)
        plans = read_plans(store, systems, samples)
        seen: set[tuple[str, str]] = set()
        for plan in plans:
            if plan.key in seen:  # one plan per sample (the first system's)
                continue
            seen.add(plan.key)
            items = [(sub, arms) for sub in plan.subtasks if (arms := explorer.arms(plan, sub))]
            if not items:
                continue
            for seq in _assignments(plan, items, pol, alternatives, seed):
                row, st = m.run(seq, final_score)
                rows.append(row)
                steps.extend(st)
        judges = sorted({explorer.judge(explorer.judge_specs_for(p)[0]).id for p in plans if p.key in seen})
        finals = sorted({m.final_judge(p).id for p in plans if p.key in seen})
        report: dict[str, Any] = {
            "format": "editbench.approximations", "version": 1,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "run": store.root.name,
            "policy": {"path": str(policy), "meta": pol.data.get("meta")} if pol is not None else None,
            "subtask_judges": judges, "final_judges": finals, "final_score": final_score,
            "effect_threshold": effect_threshold, "alternatives": alternatives, "seed": seed,
            "bootstrap": {"n_resamples": n_resamples, "confidence": confidence, "cluster": "sample"},
            "samples": len({(r["suite"], r["sample"]) for r in rows}), "sequences": len(rows), "steps": len(steps),
            **_blocks(rows, steps, n_resamples, confidence, seed),
            "by_suite": {suite: _blocks([r for r in rows if r["suite"] == suite], [s for s in steps if s["suite"] == suite],
                                        n_resamples, confidence, seed)
                         for suite in sorted({r["suite"] for r in rows})},
            "allocation": _latest_allocation(store),
            "points": {"sequences": rows, "steps": steps},
        }
    return report


def _latest_allocation(store: RunStore) -> dict[str, Any] | None:
    """The last adaptive exploration's comparison with exhaustive (from ``stages.jsonl``), if any."""
    found = None
    for st in store.stages():
        summary = st.get("summary") or {}
        if st.get("stage") == "explore" and summary.get("comparison"):
            found = {"method": st.get("method"), "budget": st.get("budget"), "counts": summary.get("counts"),
                     "comparison": summary["comparison"]}
    return found


def write(run_dir: str, report: Mapping[str, Any]) -> Path:
    """Store ``report`` as ``<run>/approximations.json`` (atomically) and append a stage record."""
    from bench.images import atomic_write
    from bench.jsonio import dumps_line

    store = RunStore.open(run_dir)
    path = store.root / FILE
    atomic_write(path, (json.dumps(json.loads(dumps_line(dict(report))), indent=1) + "\n").encode("utf-8"))
    with store:
        store.append("stages", {"stage": "approximations", "file": FILE, "created": report.get("created"),
                                "samples": report.get("samples"), "sequences": report.get("sequences"),
                                "policy": (report.get("policy") or {}).get("path"),
                                "additive_spearman": report["additive"]["spearman"]["value"],
                                "original_vs_sequential_spearman":
                                    report["original_vs_sequential"]["spearman"]["value"],
                                "undone_fraction": report["undone"]["fraction"]["value"]})
    return path
