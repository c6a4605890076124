"""How far to trust each judge: the probe and canary records of the runs, read for the site.

``editbench probe`` and the runner's after-judging hook (:mod:`judges.probes`) append records to
``probes.jsonl`` and ``canaries.jsonl`` of a run. The site reads those files directly (through
:meth:`bench.store.RunStore.records`, never judge code), keeping the latest record per
(kind, judge or system id, suite, score) — the same rule as ``judges.probes.latest`` — with a later
run given to the site winning over an earlier one. The fields read are:

* ``control_summary``: ``status`` (``ok | flagged | insufficient | n/a``), ``reason``, ``headline``,
  ``accuracy{value, low, high, n}``, ``gaps{score: {value, low, high, n}}``;
* ``pinning``: ``status`` (``pinned | undated | mixed | unknown | n/a``), ``warnings``;
* ``position_bias``: ``status``, ``rate{value, low, high, n}``, ``reason``, and ``direction``
  (``status``, ``first{value, low, high, n}``: the share of flipped verdicts that went to the
  result shown first, ``prefers``: ``first | second | neither``, ``reason``);
* ``guard``: ``system_id``, ``status`` (``undeclared`` when a trained system names no reward
  judge), ``in_sample[{judge_id}]``, ``held_out``.

Every trained system of ``run.json`` is also guarded from its declared ``reward_judge`` by the
same matching rule as :func:`judges.probes.guard.guard_records` (:func:`declared_guard`), so a
run judged with ``--no-probes`` (no ``guard`` record) never lets a flattered score rank unmarked.
* ``check`` (``canaries.jsonl``): ``status`` (``baseline | ok | drift | error | n/a``), ``reasons``,
  ``tolerance``, ``scores{score: {mean_shift, max_abs_shift, tolerance_abs, drift}}``.

A missing file means the judge was never probed, which the site says (it is not a pass). A record
of an unexpected shape is skipped field by field: trust figures are extra information, never a
reason for the site to fail to build.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.errors import StoreError
from bench.store import RunStore
from leaderboard.formatting import MISSING, is_number
from leaderboard.views import JudgeView

log = logging.getLogger(__name__)

KINDS = ("control_summary", "pinning", "position_bias", "guard")


def _key(rec: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(rec.get("kind")),
        str(rec.get("judge_id") or rec.get("system_id") or ""),
        str(rec.get("suite") or ""),
        str(rec.get("score") or ""),
    )


def latest_records(stores: Iterable[RunStore], name: str) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """The latest record per (kind, judge or system id, suite, score) of ``name`` over ``stores``.

    Stores are read in the order given, so a later run's record wins, as elsewhere on the site.
    An unreadable file is logged and skipped.
    """
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for store in stores:
        try:
            for _, rec in store.records(name):
                if isinstance(rec, dict):
                    out[_key(rec)] = rec
        except (OSError, StoreError) as err:
            log.warning("%s of %s is unreadable, skipped: %s", name, store.root, err)
    return out


def _num(v: Any) -> float | None:
    return float(v) if is_number(v) else None


@dataclass(frozen=True)
class Interval:
    """A figure with its 95% interval and the number of observations behind it."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0

    @classmethod
    def of(cls, doc: Any) -> Interval:
        doc = doc if isinstance(doc, Mapping) else {}
        n = doc.get("n")
        return cls(
            _num(doc.get("value")), _num(doc.get("low")), _num(doc.get("high")), int(n) if is_number(n) else 0
        )

    def text(self, fmt: str = "{:.2f}", signed: bool = False) -> str:
        """``0.83 [0.70, 0.92]``; :data:`MISSING` when there is no value."""
        if self.value is None:
            return MISSING
        f = fmt.replace("{:", "{:+") if signed else fmt
        ci = (
            f" [{fmt.format(self.low)}, {fmt.format(self.high)}]"
            if self.low is not None and self.high is not None
            else ""
        )
        return f.format(self.value) + ci


@dataclass(frozen=True)
class JudgeTrust:
    """What the probes say about one judge; every field has a "not probed" value."""

    judge_id: str
    control_status: str = "not probed"  # ok | flagged | insufficient | n/a | not probed
    control_reason: str = ""
    accuracy: Interval = Interval(None)
    gap_score: str = ""
    gap: Interval = Interval(None)
    drift_status: str = "none"  # ok | drift | baseline | error | n/a | none (no canary check)
    drift_reasons: tuple[str, ...] = ()
    drift_shift: str = ""  # the largest mean shift, signed, with its score and tolerance
    pinning_status: str = "not checked"  # pinned | undated | mixed | unknown | n/a | not checked
    pinning_warnings: tuple[str, ...] = ()
    bias_status: str = "n/a"  # ok | n/a
    position_bias: Interval = Interval(None)
    bias_reason: str = ""
    direction_status: str = "n/a"  # ok | n/a: which position the judge favours when its verdict flips
    first_share: Interval = Interval(None)  # share of flipped verdicts that went to the result shown first
    prefers: str = ""  # first | second | neither (the interval includes one half)
    direction_reason: str = ""

    @property
    def flagged(self) -> bool:
        """The judge cannot tell controls from real edits: every number it gave is in doubt."""
        return self.control_status == "flagged"

    @property
    def drifted(self) -> bool:
        return self.drift_status == "drift"

    @property
    def accuracy_text(self) -> str:
        return self.accuracy.text("{:.0%}") if self.accuracy.value is not None else MISSING

    @property
    def gap_text(self) -> str:
        if self.gap.value is None:
            return MISSING
        return f"{self.gap.text('{:.3g}', signed=True)} on {self.gap_score}"

    @property
    def drift_label(self) -> str:
        """``ok``, ``drifted …``, ``baseline set``, ``no baseline`` and so on: one word or phrase."""
        return {
            "ok": "ok",
            "drift": f"drifted {self.drift_shift}".strip(),
            "baseline": "baseline set",
            "error": "canary error",
            "n/a": "n/a",
        }.get(self.drift_status, "no baseline")

    @property
    def drift_title(self) -> str:
        if self.drift_status == "none":
            return "no canary check recorded: drift cannot be told"
        if self.drift_status == "baseline":
            return "first canary run of this judge: its scores are the baseline; drift is checked from the next run"
        return "; ".join(self.drift_reasons) or f"canary check: {self.drift_label}"

    @property
    def pinning_label(self) -> str:
        return {"undated": "undated alias", "mixed": "mixed models"}.get(
            self.pinning_status, self.pinning_status
        )

    @property
    def bias_text(self) -> str:
        if self.bias_status != "ok" or self.position_bias.value is None:
            return "n/a"
        return self.position_bias.text("{:.0%}")

    @property
    def direction_text(self) -> str:
        """``prefers first 90% [75%, 100%]``: when a flipped verdict went to the first-shown result."""
        if self.direction_status != "ok" or self.first_share.value is None:
            return "n/a"
        lean = {"first": "prefers first", "second": "prefers second"}.get(
            self.prefers, "no preferred position"
        )
        return f"{lean}: first {self.first_share.text('{:.0%}')}"

    @property
    def direction_title(self) -> str:
        if self.direction_status != "ok":
            return self.direction_reason or "no flipped verdict recorded which position won"
        return (
            f"of {self.first_share.n} flipped verdicts, the share that went to the result shown first "
            "(left, A) rather than second (right, B), with its 95% interval; 50% is no preferred position"
        )

    @property
    def badge(self) -> str:
        """The short trust line shown beside the judge's numbers."""
        if self.flagged:
            return "FLAGGED"
        parts = []
        if self.accuracy.value is not None:
            parts.append(f"controls {self.accuracy.value:.0%}")
        if self.drifted:
            parts.append("drifted")
        if self.pinning_status in ("undated", "mixed"):
            parts.append(self.pinning_label)
        return " · ".join(parts)

    @property
    def title(self) -> str:
        """The long form for a tooltip: every figure with what it means."""
        lines = [f"control accuracy {self.accuracy_text} ({self.control_status})"]
        if self.control_reason:
            lines.append(self.control_reason)
        lines.append(f"real minus control gap {self.gap_text}")
        lines.append(f"drift: {self.drift_label}")
        lines.append(f"pinning: {self.pinning_label}" + "".join(f"; {w}" for w in self.pinning_warnings))
        if self.bias_status == "ok":
            lines.append(f"position bias {self.bias_text}")
        if self.direction_status == "ok":
            lines.append(f"position preference {self.direction_text}")
        return "; ".join(lines)


def _controls(rec: Mapping[str, Any]) -> dict[str, Any]:
    gaps = rec.get("gaps") if isinstance(rec.get("gaps"), Mapping) else {}
    score = str(rec.get("headline") or "")
    if score not in gaps and gaps:
        score = next(iter(gaps))
    return {
        "control_status": str(rec.get("status") or "n/a"),
        "control_reason": str(rec.get("reason") or ""),
        "accuracy": Interval.of(rec.get("accuracy")),
        "gap_score": score,
        "gap": Interval.of(gaps.get(score)) if score else Interval(None),
    }


def _drift(rec: Mapping[str, Any]) -> dict[str, Any]:
    status = str(rec.get("status") or "n/a")
    shift = ""
    scores = rec.get("scores") if isinstance(rec.get("scores"), Mapping) else {}
    worst = None
    for name, s in scores.items():
        if isinstance(s, Mapping) and is_number(s.get("mean_shift")):
            if worst is None or abs(float(s["mean_shift"])) > abs(worst[1]):
                worst = (name, float(s["mean_shift"]), _num(s.get("tolerance_abs")))
    if worst is not None and status == "drift":
        name, value, tol = worst
        shift = f"{value:+.3g} on {name}" + (f" (tolerance ±{tol:.3g})" if tol is not None else "")
    reasons = tuple(str(r) for r in rec.get("reasons") or () if r)
    return {"drift_status": status, "drift_reasons": reasons, "drift_shift": shift}


def _pinning(rec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pinning_status": str(rec.get("status") or "unknown"),
        "pinning_warnings": tuple(str(w) for w in rec.get("warnings") or () if w),
    }


def _bias(rec: Mapping[str, Any]) -> dict[str, Any]:
    d = rec.get("direction") if isinstance(rec.get("direction"), Mapping) else {}
    return {
        "bias_status": str(rec.get("status") or "n/a"),
        "position_bias": Interval.of(rec.get("rate")),
        "bias_reason": str(rec.get("reason") or ""),
        "direction_status": str(d.get("status") or "n/a"),
        "first_share": Interval.of(d.get("first")),
        "prefers": str(d.get("prefers") or ""),
        "direction_reason": str(d.get("reason") or ""),
    }


def _matches(reward: str, judge: Mapping[str, Any]) -> bool:
    """The guard's rule (``judges.probes.guard``): the same id, the same displayed spec, or the same
    registered judge under another configuration. Kept equal to it by a test."""
    info = judge.get("info") or {}
    if reward in (judge.get("id"), info.get("display")):
        return True
    name = str(judge.get("name") or "")
    return bool(name) and (reward.split(":", 1)[0] == name or reward.rsplit(".", 1)[0] == name)


def declared_guard(meta: Mapping[str, Any]) -> dict[str, list[str] | None]:
    """Per trained system of ``run.json``: the judge ids in-sample for it (``None``: reward judge undeclared)."""
    comps = meta.get("components") or {}
    judges = [j for j in comps.get("judges") or () if isinstance(j, Mapping) and j.get("id")]
    out: dict[str, list[str] | None] = {}
    for sysrec in comps.get("systems") or ():
        if not isinstance(sysrec, Mapping):
            continue
        info = sysrec.get("info") or {}
        if not info.get("trained") or not sysrec.get("id"):
            continue
        reward = info.get("reward_judge")
        out[str(sysrec["id"])] = (
            [str(j["id"]) for j in judges if _matches(str(reward), j)] if reward else None
        )
    return out


@dataclass(frozen=True)
class TrustIndex:
    """Every judge's trust figures, and which (system, judge) pairs are in-sample."""

    judges: dict[str, JudgeTrust] = field(default_factory=dict)
    in_sample_pairs: frozenset[tuple[str, str]] = frozenset()  # (system id, judge id)
    held_out: dict[str, tuple[str, ...]] = field(default_factory=dict)  # system id -> judge ids
    undeclared: frozenset[str] = frozenset()  # trained systems that name no reward judge

    def get(self, judge_id: str) -> JudgeTrust | None:
        return self.judges.get(judge_id)

    def flagged(self, judge_id: str) -> bool:
        t = self.judges.get(judge_id)
        return bool(t and t.flagged)

    def in_sample(self, system_id: str, judge_id: str) -> bool:
        """``system_id`` was trained on ``judge_id``'s rewards: its scores from that judge are in-sample."""
        return (system_id, judge_id) in self.in_sample_pairs

    def in_sample_systems(self, judge_id: str) -> tuple[str, ...]:
        return tuple(sorted(s for s, j in self.in_sample_pairs if j == judge_id))

    @property
    def probed(self) -> bool:
        return bool(self.judges)


def read_trust(stores: Iterable[RunStore]) -> TrustIndex:
    """The trust figures of every probed judge in ``stores`` (later runs win per record key).

    In-sample pairs come from the ``guard`` records, and for trained systems without one from
    ``run.json`` (:func:`declared_guard`).
    """
    stores = list(stores)
    probes = latest_records(stores, "probes")
    canaries = latest_records(stores, "canaries")
    fields: dict[str, dict[str, Any]] = {}
    readers = {"control_summary": _controls, "pinning": _pinning, "position_bias": _bias}
    pairs: set[tuple[str, str]] = set()
    held: dict[str, tuple[str, ...]] = {}
    undeclared: set[str] = set()
    for (kind, ident, _, _), rec in probes.items():
        if kind in readers and ident:
            fields.setdefault(ident, {}).update(readers[kind](rec))
        elif kind == "guard" and ident:
            if rec.get("status") == "undeclared":
                undeclared.add(ident)
            for entry in rec.get("in_sample") or ():
                jid = entry.get("judge_id") if isinstance(entry, Mapping) else entry
                if jid:
                    pairs.add((ident, str(jid)))
            held[ident] = tuple(str(j) for j in rec.get("held_out") or () if j)
    merged: dict[str, list[Any]] = {"systems": [], "judges": []}  # every run's components: a system of
    for store in stores:  # one run may be judged by a judge recorded in another
        try:
            comps = store.read_meta().get("components") or {}
        except (OSError, StoreError) as err:
            log.warning("run.json of %s is unreadable, skipped: %s", store.root, err)
            continue
        for part in merged:
            merged[part] += list(comps.get(part) or ())
    for sid, judge_ids in declared_guard({"components": merged}).items():  # the guard's rule: a union is safe
        if judge_ids is None:
            undeclared.add(sid)
        else:
            pairs.update((sid, j) for j in judge_ids)
    for (kind, ident, _, _), rec in canaries.items():
        if kind == "check" and ident:
            fields.setdefault(ident, {}).update(_drift(rec))
    judges = {jid: JudgeTrust(judge_id=jid, **f) for jid, f in fields.items()}
    return TrustIndex(
        judges=judges, in_sample_pairs=frozenset(pairs), held_out=held, undeclared=frozenset(undeclared)
    )


@dataclass(frozen=True)
class JudgeRow:
    """One line of the Judges section: the judge as the site names it, and its trust figures."""

    judge: JudgeView
    trust: JudgeTrust
    in_sample: tuple[str, ...]  # display names of systems trained on this judge


def judge_rows(
    index: TrustIndex, judges: Mapping[str, JudgeView], system_names: Mapping[str, str]
) -> tuple[JudgeRow, ...]:
    """Every judge of the runs (run order), then judges known only from probe records."""
    ids = list(judges) + sorted(set(index.judges) - set(judges))
    return tuple(
        JudgeRow(
            judge=judges.get(j) or JudgeView(id=j, display=j),
            trust=index.judges.get(j) or JudgeTrust(judge_id=j),
            in_sample=tuple(system_names.get(s, s) for s in index.in_sample_systems(j)),
        )
        for j in ids
    )
