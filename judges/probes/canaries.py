"""Drift canaries: a fixed set of images and goals, re-judged with every judge run, bypassing caches.

The canary set is drawn by code (:func:`canary_set`): three goals on one small landscape, each
with a good and a bad result, so a judge that drifts either way shows it. The first time a judge
meets the set in a run, its scores become that run's **baseline** (``canaries.jsonl``, kind
``baseline``); every later judge run re-judges the set with the reply cache bypassed and records a
**check** (kind ``check``) comparing the new scores with the baseline.

**Drift rule.** Per score, the mean absolute shift over the canaries both runs scored is compared
with ``tolerance`` (default :data:`DEFAULT_TOLERANCE` = 10%) times the score's declared range (the
baseline's spread over the canaries when the range is open, 1 when that is 0 too). Drift when any
score's mean absolute shift exceeds it, when more than ``tolerance`` of the baseline's decided
verdicts changed, or when a canary that was scored is now refused or unscored (a canary that now
fails in transport, ``error``, is left out and counted, not called drift). The resolved model is
compared too: a different snapshot is reported (``model_changed``) beside the numbers.

A deliberate change to the set bumps :data:`CANARY_SET_VERSION`, which starts a new baseline. Each
baseline also keeps every canary's content key (its sample and both images' ids): a canary drawn
differently since its baseline (another Pillow) is left out of the comparison with a note, never
mistaken for drift.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from bench.components import Built
from bench.ids import content_hash, image_id
from bench.model import Criterion, ImageRef, Judgement, Sample, Trajectory
from bench.store import RunStore

from .controls import noise_like
from .running import judge_items, make_item, uncached

log = logging.getLogger(__name__)

CANARY_SET_VERSION = "1"
CANARY_SUITE = f"canaries@{CANARY_SET_VERSION}"
DEFAULT_TOLERANCE = 0.1
SIZE = (160, 120)
HOUSE = (0.18, 0.40, 0.48, 0.80)  # relative box of the house the preserve criteria protect


@dataclass(frozen=True)
class Canary:
    """One canary result: a sample, its source and a result (good or bad), as a judge will see them."""

    id: str  # "warm/good"
    sample: Sample
    source: Image.Image
    result: Image.Image

    @property
    def trajectory(self) -> Trajectory:
        return Trajectory(
            suite=CANARY_SUITE,
            sample_id=self.sample.id,
            system_id="canary:" + self.id.split("/")[1],
            final=image_id(self.result),
            status="ok",
        )

    @property
    def key(self) -> str:
        """Content identity: the sample and both images."""
        return content_hash(
            [self.id, self.sample.to_dict(), image_id(self.source), image_id(self.result)], 16
        )


def draw_landscape() -> Image.Image:
    """A small deterministic landscape: sky gradient, sun, ground, a red house, a tree. No text."""
    w, h = SIZE
    horizon = int(h * 0.6)
    arr = np.zeros((h, w, 3), dtype=np.float64)
    top, bottom = np.array([95.0, 150.0, 215.0]), np.array([190.0, 215.0, 238.0])
    t = np.linspace(0.0, 1.0, horizon)[:, None]
    arr[:horizon] = (top * (1 - t) + bottom * t)[:, None, :]
    arr[horizon:] = np.array([92.0, 148.0, 72.0])
    img = Image.fromarray(arr.astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    d.ellipse((118, 12, 142, 36), fill=(250, 222, 120))
    x0, y0, x1, y1 = (int(HOUSE[0] * w), int(HOUSE[1] * h), int(HOUSE[2] * w), int(HOUSE[3] * h))
    roof = y0 + (y1 - y0) // 3
    d.rectangle((x0, roof, x1, y1), fill=(196, 70, 58))
    d.polygon([(x0 - 4, roof), ((x0 + x1) // 2, y0), (x1 + 4, roof)], fill=(110, 48, 40))
    d.rectangle((x0 + 6, roof + 8, x0 + 16, roof + 18), fill=(235, 230, 170))
    d.rectangle((x1 - 16, y1 - 20, x1 - 7, y1), fill=(80, 50, 30))
    d.rectangle((112, 62, 118, 92), fill=(95, 65, 40))
    d.ellipse((100, 40, 130, 70), fill=(48, 112, 52))
    return img


def _grade(
    img: Image.Image, mul: tuple[float, float, float], add: tuple[float, float, float] = (0, 0, 0)
) -> Image.Image:
    arr = np.asarray(img, dtype=np.float64) * np.array(mul) + np.array(add)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def _sample(sid: str, goal: str, goal_text: str, goal_check: dict[str, Any]) -> Sample:
    house = {"box": list(HOUSE), "name": "house"}
    return Sample(
        id=sid,
        image=ImageRef(id=""),
        goal=goal,
        checklist=(
            Criterion("c1", goal_text, "goal"),
            Criterion("c2", "The red house keeps its shape and place", "preserve"),
        ),
        preserve=("the red house",),
        description="A small landscape: blue sky, sun, green field, a red house and a tree.",
        truth={
            "checks": {
                "c1": goal_check,
                "c2": {"measure": "structure_kept", "region": house, "at_least": 0.6},
            }
        },
    )


def canary_set() -> list[Canary]:
    """The canaries of :data:`CANARY_SET_VERSION`: (warm, night, winter) x (good, bad)."""
    src = draw_landscape()
    sid = image_id(src)
    warm = _sample(
        "warm",
        "Turn this into a warm golden-hour scene.",
        "The colours turn warmer and golden",
        {"measure": "warmth", "region": "full", "direction": "increase", "min_change": 0.04},
    )
    night = _sample(
        "night",
        "Make it a dark, moody night.",
        "The scene is much darker, like night",
        {"measure": "brightness", "region": "full", "direction": "decrease", "min_change": 0.15},
    )
    winter = _sample(
        "winter",
        "Give it a cold winter look with a blue cast.",
        "The colours turn colder and bluer",
        {"measure": "warmth", "region": "full", "direction": "decrease", "min_change": 0.04},
    )
    out = []
    for sample, good, bad in (
        (warm, _grade(src, (1.12, 1.0, 0.72), (12, 4, 0)), src.copy()),
        (night, _grade(src, (0.3, 0.34, 0.52)), _grade(src, (1.25, 1.25, 1.25), (20, 20, 20))),
        (winter, _grade(src, (0.78, 0.93, 1.1), (0, 8, 22)), noise_like(src, 7)),
    ):
        s = sample.replace(image=ImageRef(id=sid, width=SIZE[0], height=SIZE[1]))
        out.append(Canary(f"{s.id}/good", s, src, good))
        out.append(Canary(f"{s.id}/bad", s, src, bad))
    return out


def _items(b: Built, canaries: Sequence[Canary], store: RunStore | None) -> tuple[list[str], list[Any]]:
    """Item ids and judge items: every canary for sample-scope judges, (good vs bad) per goal for pairwise."""
    loader = {image_id(c.result): c.result for c in canaries} | {
        image_id(c.source): c.source for c in canaries
    }
    if store is not None:  # images go to the run, so pages and judges can load them by id
        for img in loader.values():
            store.images.put(img)

    def item(c: Canary, other: Any = None) -> Any:
        return make_item(
            CANARY_SUITE,
            c.sample,
            c.source,
            c.result,
            c.trajectory,
            store=store,
            other=other,
            load_image=loader.__getitem__ if store is None else None,
        )

    if getattr(b.obj, "scope", "sample") == "pairwise":
        by = {c.id: c for c in canaries}
        ids, items = [], []
        for c in canaries:
            if c.id.endswith("/good") and c.id.replace("/good", "/bad") in by:
                ids.append(c.id.replace("/good", "/good-vs-bad"))
                items.append(item(c, other=item(by[c.id.replace("/good", "/bad")])))
        return ids, items
    return [c.id for c in canaries], [item(c) for c in canaries]


def _entry(j: Judgement) -> dict[str, Any]:
    return {
        "status": j.status,
        "scores": dict(j.scores),
        "verdicts": dict(j.verdicts),
        "error": j.error,
        "model_resolved": j.model_resolved,
        "endpoint_host": j.endpoint_host,
    }


def read_baseline(store: RunStore, judge_id: str) -> dict[str, Any] | None:
    """The judge's first canary baseline for the current set in ``store`` (None if there is none)."""
    for _, r in store.records("canaries"):
        if (
            r.get("kind") == "baseline"
            and r.get("judge_id") == judge_id
            and r.get("set") == CANARY_SET_VERSION
        ):
            return r
    return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_canaries(
    store: RunStore,
    b: Built,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Re-judge the canaries with judge ``b`` (cache bypassed); append and return the check record.

    ``baseline`` (another run's baseline record, from :func:`read_baseline`) replaces this run's
    own; without either, this judging becomes the baseline (check status ``baseline``).
    """
    if tolerance <= 0:
        from bench.errors import UsageError

        raise UsageError(f"canary tolerance must be > 0, not {tolerance}")
    if getattr(b.obj, "scope", "sample") == "set":
        rec = {
            "kind": "check",
            "judge_id": b.id,
            "set": CANARY_SET_VERSION,
            "status": "n/a",
            "reasons": ["set-scope scores have no per-result canary"],
            "at": _now(),
        }
        store.append("canaries", rec)
        return rec
    canaries = canary_set()
    ids, items = _items(b, canaries, store)
    judge, cache = uncached(b)
    now = {cid: _entry(j) for cid, j in zip(ids, judge_items(b, items, judge=judge), strict=True)}
    models = sorted(
        {m.strip() for e in now.values() if e["model_resolved"] for m in e["model_resolved"].split(",")}
    )
    base = dict(baseline) if baseline is not None else read_baseline(store, b.id)
    if base is None:
        ok = [e for e in now.values() if e["status"] == "ok"]
        if not ok:
            rec = {
                "kind": "check",
                "judge_id": b.id,
                "set": CANARY_SET_VERSION,
                "status": "error",
                "reasons": ["no canary could be scored; no baseline taken"],
                "canaries": now,
                "cache": cache,
                "at": _now(),
            }
            store.append("canaries", rec)
            return rec
        base = {
            "kind": "baseline",
            "judge_id": b.id,
            "set": CANARY_SET_VERSION,
            "canaries": now,
            "keys": {c.id: c.key for c in canaries},
            "model_resolved": models,
            "at": _now(),
        }
        store.append("canaries", base)
        rec = {
            "kind": "check",
            "judge_id": b.id,
            "set": CANARY_SET_VERSION,
            "status": "baseline",
            "reasons": ["first canary run of this judge: its scores are the baseline"],
            "tolerance": tolerance,
            "canaries": now,
            "model_resolved": models,
            "cache": cache,
            "baseline_at": base["at"],
            "at": _now(),
        }
        store.append("canaries", rec)
        return rec
    keys = {c.id: c.key for c in canaries}
    base_keys = base.get("keys") or {}
    moved = sorted(
        cid for cid in now if any(c in base_keys and base_keys[c] != keys.get(c) for c in _canaries_of(cid))
    )
    comparable = {cid: e for cid, e in now.items() if cid not in moved}
    rec = compare(base, comparable, b.score_specs(), tolerance)
    rec["canaries"] = now
    notes = []
    if moved:
        notes.append(
            f"{len(moved)} canaries were drawn differently at the baseline (another Pillow?); not compared"
        )
    rec.update(
        {
            "kind": "check",
            "judge_id": b.id,
            "set": CANARY_SET_VERSION,
            "model_resolved": models,
            "baseline_model_resolved": list(base.get("model_resolved") or []),
            "cache": cache,
            "baseline_at": base.get("at"),
            "at": _now(),
        }
    )
    rec["model_changed"] = bool(
        models and rec["baseline_model_resolved"] and models != rec["baseline_model_resolved"]
    )
    if rec["model_changed"]:
        notes.append(f"resolved model changed: {rec['baseline_model_resolved']} -> {models}")
        log.warning("judge %s: %s", b.display, notes[-1])
    rec["notes"] = notes
    store.append("canaries", rec)
    if rec["status"] == "drift":
        log.warning("judge %s drifted on the canaries: %s", b.display, "; ".join(rec["reasons"]))
    return rec


def compare(
    base: Mapping[str, Any], now: Mapping[str, Mapping[str, Any]], specs: Sequence[Any], tolerance: float
) -> dict[str, Any]:
    """The drift verdict of ``now`` against ``base`` by the rule in the module docstring."""
    then: Mapping[str, Mapping[str, Any]] = base.get("canaries") or {}
    reasons: list[str] = []
    changes, errors = [], []
    for cid, e in now.items():
        b = then.get(cid)
        if b is None:
            continue
        if e["status"] == "error":
            errors.append(cid)
        elif b["status"] == "ok" and e["status"] != "ok":
            changes.append(f"{cid}: scored at baseline, {e['status']} now")
    by_spec = {sp.name: sp for sp in specs}
    names = sorted(
        {n for e in then.values() for n in (e.get("scores") or {})}, key=lambda n: (n not in by_spec, n)
    )
    scores: dict[str, Any] = {}
    compared = 0
    for name in names:
        pairs = [
            (then[c]["scores"][name], now[c]["scores"][name])
            for c in now
            if c in then
            and then[c]["status"] == "ok"
            and now[c]["status"] == "ok"
            and _finite(then[c]["scores"].get(name))
            and _finite(now[c]["scores"].get(name))
        ]
        if not pairs:
            continue
        compared = max(compared, len(pairs))
        deltas = np.array([b - a for a, b in pairs], dtype=float)
        tol = tolerance * _scale(by_spec.get(name), [a for a, _ in pairs])
        mean_abs = float(np.abs(deltas).mean())
        drift = mean_abs > tol + 1e-12
        scores[name] = {
            "n": len(pairs),
            "mean_shift": round(float(deltas.mean()), 6),
            "mean_abs_shift": round(mean_abs, 6),
            "max_abs_shift": round(float(np.abs(deltas).max()), 6),
            "tolerance_abs": round(tol, 6),
            "drift": drift,
        }
        if drift:
            reasons.append(
                f"{name}: mean |shift| {mean_abs:.3g} > tolerance {tol:.3g} (mean shift {deltas.mean():+.3g})"
            )
    flips = of = 0
    for cid, e in now.items():
        b = then.get(cid)
        if b is None or b["status"] != "ok" or e["status"] != "ok":
            continue
        for crit, v in (b.get("verdicts") or {}).items():
            if v == "undecidable":
                continue
            of += 1
            flips += (e.get("verdicts") or {}).get(crit) != v
    if of and flips / of > tolerance:
        reasons.append(f"{flips} of {of} verdicts changed (more than {tolerance:.0%})")
    reasons.extend(changes)
    if compared == 0 and not changes:
        status = "error"
        reasons.append(f"no canary scored both at baseline and now ({len(errors)} failed now)")
    else:
        status = "drift" if reasons else "ok"
    return {
        "status": status,
        "reasons": reasons,
        "tolerance": tolerance,
        "scores": scores,
        "verdict_flips": {"changed": flips, "of": of},
        "errors": errors,
        "canaries": dict(now),
    }


def _canaries_of(item_id: str) -> list[str]:
    """The canaries an item is made of: ``[warm/good]``, or ``[warm/good, warm/bad]`` for a pair."""
    goal, _, which = item_id.partition("/")
    return [f"{goal}/{w}" for w in which.split("-vs-")]


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def _scale(spec: Any, baseline_values: Sequence[float]) -> float:
    """The score's declared range; else the baseline's spread over the canaries; else 1."""
    if spec is not None and spec.min is not None and spec.max is not None and spec.max > spec.min:
        return float(spec.max - spec.min)
    spread = (max(baseline_values) - min(baseline_values)) if baseline_values else 0.0
    return float(spread) if spread > 0 else 1.0
