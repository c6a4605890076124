"""Reading one or more run stores into tables: the single source for report, leaderboard and calibration.

Runs merge by record key; a later run's record for the same key wins. Display names and score
specs come from ``run.json``, so no judge or system code is needed to read results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.model import Judgement, Sample, ScoreSpec, Trajectory
from bench.store import RunStore


@dataclass
class Results:
    """Everything the reports need, merged across runs."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[tuple[str, str], Sample] = field(default_factory=dict)
    trajectories: dict[tuple[str, str, str], Trajectory] = field(default_factory=dict)
    judgements: dict[tuple[str, str, str, str, str], Judgement] = field(default_factory=dict)
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> component record
    judges: dict[str, dict[str, Any]] = field(default_factory=dict)
    score_specs: dict[str, dict[str, ScoreSpec]] = field(default_factory=dict)  # judge id -> name -> spec
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)  # ref -> SuiteInfo dict
    stores: list[RunStore] = field(default_factory=list)

    def display(self, component_id: str) -> str:
        rec = self.systems.get(component_id) or self.judges.get(component_id)
        if not rec:
            return component_id
        return rec.get("info", {}).get("display") or rec["name"]

    def image_path(self, image_id: str) -> Path | None:
        for st in self.stores:
            p = st.images.path(image_id)
            if p.exists():
                return p
        return None

    def scores_frame(self) -> pd.DataFrame:
        """Long form: one row per (suite, sample, system, judge, score) — NaN value when unscored.

        A judgement that is not ``ok`` contributes one row per declared score with NaN, so that
        aggregates count it as missing rather than dropping it silently.
        """
        rows = []
        for j in self.judgements.values():
            if j.scope != "sample" or j.versus:
                continue
            names = list(self.score_specs.get(j.judge_id, {})) or list(j.scores)
            for name in names:
                value = j.scores.get(name, math.nan) if j.status == "ok" else math.nan
                rows.append({
                    "suite": j.suite, "sample_id": j.sample_id, "system_id": j.system_id,
                    "system": self.display(j.system_id), "judge_id": j.judge_id, "judge": self.display(j.judge_id),
                    "score": name, "value": float(value) if value is not None else math.nan,
                    "status": j.status if name not in j.na else "na",
                })
        cols = ["suite", "sample_id", "system_id", "system", "judge_id", "judge", "score", "value", "status"]
        return pd.DataFrame(rows, columns=cols)

    def trajectories_frame(self) -> pd.DataFrame:
        rows = [{
            "suite": t.suite, "sample_id": t.sample_id, "system_id": t.system_id, "system": self.display(t.system_id),
            "status": t.status, "steps": len(t.steps), "seconds": t.telemetry.seconds, "dollars": t.telemetry.dollars,
            "tool_calls": sum(1 for s in t.steps), "error": t.error,
        } for t in self.trajectories.values()]
        cols = ["suite", "sample_id", "system_id", "system", "status", "steps", "seconds", "dollars", "tool_calls", "error"]
        return pd.DataFrame(rows, columns=cols)


def load_results(run_dirs: list[str | Path]) -> Results:
    res = Results()
    for d in run_dirs:
        st = RunStore.open(d)
        res.stores.append(st)
        meta = st.read_meta()
        res.runs.append(meta)
        for s in meta.get("suites", []):
            res.suites[f"{s['name']}@{s['version']}"] = s
        comps = meta.get("components", {})
        for rec in comps.get("systems", []):
            res.systems[rec["id"]] = rec
        for rec in comps.get("judges", []):
            res.judges[rec["id"]] = rec
        for jid, specs in meta.get("score_specs", {}).items():
            res.score_specs[jid] = {sp["name"]: ScoreSpec.from_dict(sp) for sp in specs}
        res.samples.update(st.samples())
        res.trajectories.update(st.trajectories())
        res.judgements.update(st.judgements())
    return res
