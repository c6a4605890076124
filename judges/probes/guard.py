"""The training-judge guard and the tracks: what the leaderboard must say beside a system's numbers.

**Guard.** A system whose info says ``trained`` with a ``reward_judge`` was optimised toward that
judge's preferences; the judge's scores of it are *in-sample* and flatter it. For every such
system one ``guard`` record lists the run's judges that are in-sample for it and the held-out ones
the overview should use instead. A judge is in-sample when it matches the declared reward judge by

* ``id`` — the same judge id (the same judge, configuration and prompts);
* ``spec`` — the same spec as displayed (``styling-reward:model=...``);
* ``name`` — the same registered judge under another configuration (another model or variant):
  the rubric the system learned is the same, so its scores are treated as in-sample too.

A trained system that names no reward judge gets ``status: "undeclared"``: every judge may be
in-sample and the leaderboard says so. Held-out judges are the run's sample-scope judges
that are not in-sample, those of the reward judge's kind (a VLM for a VLM) first: the leaderboard
(:mod:`leaderboard.heldout`) ranks a suite whose primary judge is in-sample by the first of them
that scored every system. The leaderboard applies the same matching rule to ``run.json`` itself
(``leaderboard.trust.declared_guard``) for runs judged without probes; a test keeps the two equal.

**Tracks.** One ``track`` record per system: its declared track (checked against
:data:`bench.protocols.TRACKS`), the family the leaderboard groups by (the track, or
``trained planner`` for a trained system), what it uses (models, tools) and what its edits cost
(dollars, tool calls, seconds, from the trajectories' telemetry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.model import Trajectory
from bench.protocols import TRACKS

FAMILIES = {
    "edit-only": "edit-only",
    "rewrite-then-edit": "rewrite-then-edit",
    "rule-pipeline": "rule pipeline",
    "planner+tools": "planner + tools",
}


def _match(reward: str, judge: Mapping[str, Any]) -> str | None:
    info = judge.get("info") or {}
    if reward == judge.get("id"):
        return "id"
    if reward == info.get("display"):
        return "spec"
    name = str(judge.get("name") or "")
    head = reward.split(":", 1)[0]
    if name and (head == name or reward.rsplit(".", 1)[0] == name):
        return "name"
    return None


def guard_records(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ``guard`` record per trained system of ``run.json``'s components."""
    comps = meta.get("components") or {}
    judges = list(comps.get("judges") or [])
    out = []
    for sysrec in comps.get("systems") or []:
        info = sysrec.get("info") or {}
        if not info.get("trained"):
            continue
        reward = info.get("reward_judge")
        base = {"kind": "guard", "system_id": sysrec["id"], "trained": True, "reward_judge": reward}
        if not reward:
            out.append(
                {
                    **base,
                    "status": "undeclared",
                    "in_sample": [],
                    "held_out": [],
                    "note": "trained, but the judge whose rewards trained it is not declared: "
                    "any judge's scores may be in-sample",
                }
            )
            continue
        in_sample, held = [], []
        for j in judges:
            how = _match(str(reward), j)
            if how is not None:
                in_sample.append({"judge_id": j["id"], "match": how})
            elif (j.get("info") or {}).get("scope", "sample") == "sample":
                held.append(j)
        reward_kind = next(
            (
                (j.get("info") or {}).get("kind")
                for j in judges
                if j["id"] in {x["judge_id"] for x in in_sample}
            ),
            None,
        )
        held.sort(key=lambda j: ((j.get("info") or {}).get("kind") != reward_kind,))
        out.append(
            {
                **base,
                "status": "guarded" if in_sample else "reward judge not run",
                "in_sample": in_sample,
                "held_out": [j["id"] for j in held],
                "note": (
                    "scores of the in-sample judges are marked; a suite whose primary judge is in-sample "
                    "is ranked on the overview by the first held-out judge that scored every system, "
                    "else this system is not ranked there"
                )
                if in_sample
                else "the reward judge was not run here: no score of this run is in-sample",
            }
        )
    return out


def track_records(
    meta: Mapping[str, Any], trajectories: Mapping[tuple[str, str, str], Trajectory]
) -> list[dict[str, Any]]:
    """One ``track`` record per system: declared track, family, what it uses and what it cost."""
    out = []
    for sysrec in (meta.get("components") or {}).get("systems") or []:
        info = sysrec.get("info") or {}
        track = str(info.get("track") or "")
        mine = [t for t in trajectories.values() if t.system_id == sysrec["id"]]
        dollars = sum(t.telemetry.dollars or 0.0 for t in mine)
        warnings = []
        if not track:
            warnings.append("no track declared")
        elif track not in TRACKS:
            warnings.append(f"track {track!r} is not one of {', '.join(TRACKS)}")
        family = "trained planner" if info.get("trained") else FAMILIES.get(track, track or "undeclared")
        out.append(
            {
                "kind": "track",
                "system_id": sysrec["id"],
                "track": track or None,
                "family": family,
                "trained": bool(info.get("trained")),
                "reward_judge": info.get("reward_judge"),
                "oracle": bool(info.get("oracle")),
                "models": list(info.get("models") or []),
                "tools": list(info.get("tools") or []),
                "warnings": warnings,
                "edits": len(mine),
                "dollars": round(dollars, 6),
                "dollars_per_edit": round(dollars / len(mine), 6) if mine else None,
                "tool_calls_per_edit": round(sum(len(t.steps) for t in mine) / len(mine), 3)
                if mine
                else None,
                "seconds_per_edit": round(sum(t.telemetry.seconds for t in mine) / len(mine), 3)
                if mine
                else None,
            }
        )
    return out
