"""Calibration: how far each judge agrees with people, from human labels and run stores.

``calibrate(labels, results)`` builds a :class:`CalibrationReport` from validated labels
(:func:`bench.labels.validate_labels`) and the runs they label; every number comes from
:mod:`judges.agreement` or :mod:`bench.stats`, with a bootstrap interval over samples:

* **between annotators**, per task and rating dimension: exact / adjacent / complete-disagreement
  rates (paper B, J.3), Fleiss' kappa, Krippendorff's alpha (nominal, ordinal), Cohen's kappa with
  linear weights per pair of annotators; for rankings, agreement on the winner (exact rate and
  Fleiss' kappa), Krippendorff's ordinal alpha on the places given, and each annotator scored
  against the others as if a judge (the human ceiling for the judge statistics);
* **judge against humans**, for every sample-scope judge and score in the runs: per-sample Spearman
  and Kendall, winner, top-2 and pairwise accuracy (paper B, Table 14) and the system-level rank
  correlation, against two sources of human order: ``rankings`` (the rank task; unranked
  candidates share the mean of the remaining places, B being silent) and ``ratings`` (the rate
  task's ``overall``, ordered pass > partial > fail with ties); plus rank-mean combinations of the
  best three scores, and a ranking of everything by mean Spearman ("which judge agrees best");
* **pass rates** (B, Tables 11-13) per task and dimension: overall, by suite, system, annotator;
  and the rank task's wins per system.

``write_report`` stores it in each run: ``calibration/<judge_id>.json`` for every judge of the
run, ``calibration/humans.json``, ``calibration/summary.json``, and a ``calibrate`` stage record.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.images import atomic_write
from bench.jsonio import dumps_line
from bench.labels import LabelFile, LabelSet
from bench.model import SCHEMA_VERSION
from bench.results import Results
from bench.stats import bootstrap_mean, bootstrap_statistic, group_means
from judges import agreement as A

log = logging.getLogger(__name__)

NAN = float("nan")
LEVELS = [0.0, 1.0, 2.0]
JUDGE_STATS = ("spearman", "kendall", "winner_accuracy", "top2_accuracy", "pairwise_accuracy")
STAT_COLUMNS = ["value", "low", "high", "n", "n_excluded", "chance", "note"]
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


@dataclass
class CalibrationReport:
    """Every table of a calibration, as long DataFrames (one statistic a row), JSON-ready."""

    created: str
    files: tuple[LabelFile, ...]
    annotators: tuple[str, ...]
    n_labels: int
    between: pd.DataFrame  # task, dimension, statistic + STAT_COLUMNS
    pairs: pd.DataFrame  # task, dimension, annotator_a, annotator_b + STAT_COLUMNS
    rankings: pd.DataFrame  # statistic, annotator + STAT_COLUMNS
    judges: pd.DataFrame  # source, judge_id, judge, score, statistic + STAT_COLUMNS
    best: pd.DataFrame  # source, rank, candidate, members, spearman, low, high, pairwise_accuracy, n
    pass_rates: pd.DataFrame  # task, dimension, by, group + pass_rates() columns
    wins: pd.DataFrame  # system_id, system, wins, rankings, win_rate, low, high
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            return json.loads(dumps_line(df.to_dict(orient="records")))  # NaN -> null

        return {
            "v": SCHEMA_VERSION, "created": self.created, "n_labels": self.n_labels,
            "annotators": list(self.annotators), "labels": [f.__dict__ for f in self.files],
            "between": rows(self.between), "pairs": rows(self.pairs), "rankings": rows(self.rankings),
            "judges": rows(self.judges), "best": rows(self.best), "pass_rates": rows(self.pass_rates),
            "wins": rows(self.wins), "notes": list(self.notes),
        }


def display_names(res: Results, ids: Any) -> dict[str, str]:
    """Display names made unique: a name several ids share gets the start of the id's hash."""
    out = {i: res.display(i) for i in ids}
    counts: dict[str, int] = {}
    for name in out.values():
        counts[name] = counts.get(name, 0) + 1
    return {i: n if counts[n] == 1 else f"{n} ({i.rsplit('.', 1)[-1][:6]})" for i, n in out.items()}


def _stat(a: A.Agreement) -> dict[str, Any]:
    return {"value": a.value, "low": a.low, "high": a.high, "n": a.n, "n_excluded": a.n_excluded,
            "chance": NAN if a.chance is None else a.chance, "note": a.note}


def _frame(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*keys, *STAT_COLUMNS])


# ----------------------------------------------------------------------------- between annotators


def _between(ratings: pd.DataFrame, opts: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, pair_rows = [], []
    for (task, dim), sub in ratings.groupby(["task", "dimension"], sort=True):
        m = A.ratings_matrix(sub.assign(item=sub["unit"] + "/" + sub["system_id"]), unit="item")
        rates = A.agreement_rates(m, **opts)
        stats = {
            "exact": rates.exact, "adjacent": rates.adjacent, "complete": rates.complete,
            "fleiss_kappa": A.fleiss_kappa(m, categories=LEVELS, **opts),
            "alpha_nominal": A.krippendorff_alpha(m, level="nominal", categories=LEVELS, **opts),
            "alpha_ordinal": A.krippendorff_alpha(m, level="ordinal", categories=LEVELS, **opts),
        }
        for a, b in itertools.combinations(list(m.columns), 2):
            k = A.cohen_kappa(m[a], m[b], weights="linear", categories=LEVELS, **opts)
            pair_rows.append({"task": task, "dimension": dim, "annotator_a": a, "annotator_b": b, **_stat(k)})
            if m.shape[1] == 2:
                stats["cohen_linear"] = k
        rows += [{"task": task, "dimension": dim, "statistic": s, **_stat(v)} for s, v in stats.items()]
    return (_frame(rows, ["task", "dimension", "statistic"]),
            _frame(pair_rows, ["task", "dimension", "annotator_a", "annotator_b"]))


# ----------------------------------------------------------------------------- human orders


def _ranking_ranks(rankings: pd.DataFrame) -> pd.DataFrame:
    """``(unit, annotator) x system`` places: 1..k for the ranked, the mean of k+1..n for the other
    candidates, NaN for systems that were not candidates."""
    rows = {}
    for r in rankings.itertuples(index=False):
        n, k = len(r.candidates), len(r.ranking)
        rest = (k + 1 + n) / 2.0
        rows[(r.unit, r.annotator)] = {s: float(r.ranking.index(s) + 1) if s in r.ranking else rest
                                       for s in r.candidates}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["sample", "annotator"])
    return out.sort_index()


def _rating_ranks(ratings: pd.DataFrame) -> pd.DataFrame:
    """The rate task's ``overall`` as places: pass before partial before fail, ties averaged."""
    sub = ratings[(ratings["task"] == "rate") & (ratings["dimension"] == "overall")]
    sub = sub.assign(level=A.encode_labels(sub["value"].to_numpy())).dropna(subset=["level"])
    if sub.empty:
        return pd.DataFrame()
    wide = sub.pivot_table(index=["unit", "annotator"], columns="system_id", values="level", aggfunc="first")
    wide = wide[wide.notna().sum(axis=1) >= 2]
    wide.index = wide.index.set_names(["sample", "annotator"])
    return wide.rank(axis=1, ascending=False, method="average")


def _ranking_agreement(rankings: pd.DataFrame, ranks: pd.DataFrame, opts: dict[str, Any]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    if rankings.empty:
        return _frame(rows, ["statistic", "annotator"])
    winners = rankings.assign(winner=[r[0] for r in rankings["ranking"]])
    wide = winners.pivot(index="unit", columns="annotator", values="winner")
    multi = wide[wide.notna().sum(axis=1) >= 2]
    same = [float(len(set(r.dropna())) == 1) for _, r in multi.iterrows()]
    mean = bootstrap_mean(same if same else [NAN], n_resamples=max(opts["n_resamples"], 1),
                          confidence=opts["confidence"], seed=opts["seed"])
    note = "" if same else "no sample ranked by two or more annotators"
    rows.append({"statistic": "winner_exact", "annotator": "", "value": mean.mean, "low": mean.low,
                 "high": mean.high, "n": mean.n, "n_excluded": len(wide) - len(multi), "chance": NAN, "note": note})
    codes = {s: float(i) for i, s in enumerate(sorted(set(winners["winner"])))}
    rows.append({"statistic": "winner_fleiss_kappa", "annotator": "",
                 **_stat(A.fleiss_kappa(wide.apply(lambda c: c.map(codes)).astype(float), **opts))})
    places = ranks.reset_index().melt(id_vars=["sample", "annotator"], var_name="system", value_name="place")
    places = places.dropna(subset=["place"])
    m = places.assign(item=places["sample"] + "/" + places["system"]).pivot(index="item", columns="annotator", values="place")
    rows.append({"statistic": "places_alpha_ordinal", "annotator": "",
                 **_stat(A.krippendorff_alpha(m, level="ordinal", **opts))})
    annotators = sorted(set(rankings["annotator"]))
    if len(annotators) >= 2:  # each annotator against the others, as a judge would be scored
        for a in annotators:
            own = ranks.xs(a, level="annotator")
            others = ranks[ranks.index.get_level_values("annotator") != a]
            others = others[others.index.get_level_values("sample").isin(own.index)]
            if others.empty:
                continue
            res = A.judge_vs_humans(-own, others, unranked="drop", **opts)
            rows += [{"statistic": f"ceiling_{s}", "annotator": a, **_stat(getattr(res, s))} for s in JUDGE_STATS]
    return _frame(rows, ["statistic", "annotator"])


# ----------------------------------------------------------------------------- judges vs humans


def _judge_matrix(scores: pd.DataFrame, judge_id: str, score: str, higher: bool, ranks: pd.DataFrame) -> pd.DataFrame:
    """``sample x system`` judge scores oriented higher-is-better, NaN where the humans saw no result."""
    sub = scores[(scores["judge_id"] == judge_id) & (scores["score"] == score)]
    wide = sub.pivot_table(index="unit", columns="system_id", values="value", aggfunc="first", dropna=False)
    units = ranks.index.get_level_values("sample").unique()
    wide = wide.reindex(index=units, columns=ranks.columns).astype(float)
    seen = ranks.notna().groupby(level="sample").any().reindex(units)
    wide = wide.where(seen.to_numpy())
    return wide if higher else -wide


def _system_level(judge: pd.DataFrame, ranks: pd.DataFrame, higher_human: bool, opts: dict[str, Any],
                  method: str) -> A.Agreement:
    """Rank correlation of the judge's and the humans' system orderings over the labelled samples,
    with a bootstrap interval over samples (each resample recomputes both orderings)."""
    human = ranks.groupby(level="sample").mean().reindex(judge.index)
    judge = judge.where(human.notna().to_numpy())
    block = np.hstack([judge.to_numpy(float), human.to_numpy(float)])
    s = judge.shape[1]
    corr = A.spearman_rho if method == "spearman" else A.kendall_tau
    sign = 1.0 if higher_human else -1.0

    def stat(b: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            j, h = np.nanmean(b[:, :s], axis=0), np.nanmean(b[:, s:], axis=0)
        ok = np.isfinite(j) & np.isfinite(h)
        return corr(j[ok], sign * h[ok]) if ok.sum() >= 2 else NAN

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        jm, hm = np.nanmean(block[:, :s], axis=0), np.nanmean(block[:, s:], axis=0)
    cols = list(judge.columns)
    point = A.system_rank_correlation(dict(zip(cols, jm, strict=True)), dict(zip(cols, hm, strict=True)),
                                      method=method, higher_is_better=(True, higher_human))  # type: ignore[arg-type]
    if not np.isfinite(point.value) or opts["n_resamples"] == 0:
        return point
    ci = bootstrap_statistic(block, stat, nan_policy="keep", n_resamples=opts["n_resamples"],
                             confidence=opts["confidence"], seed=opts["seed"])
    note = "interval: samples resampled, both orderings recomputed"
    if ci.n_undefined:
        note += f"; {ci.n_undefined} resamples undefined"
    extra = "; ".join(p for p in point.note.split("; ") if not p.startswith("no interval"))
    return A.Agreement(point.value, ci.low, ci.high, point.n, point.n_excluded, "; ".join(filter(None, [note, extra])))


def _fuse(mats: list[pd.DataFrame]) -> pd.DataFrame:
    """Rank-mean combination: each member's within-sample places averaged (NaN if any is missing)."""
    ranked = [m.rank(axis=1, method="average") for m in mats]
    return sum(ranked[1:], ranked[0]) / len(ranked)


def _judges(res: Results, sources: dict[str, tuple[pd.DataFrame, bool]], opts: dict[str, Any],
            notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = display_names(res, set(res.judges) | {j.judge_id for j in res.judgements.values()})
    scores = res.scores_frame()
    scores = scores.assign(unit=scores["suite"] + "/" + scores["sample_id"])
    scores.loc[scores["status"] == "na", "value"] = NAN
    rows: list[dict[str, Any]] = []
    best_rows: list[dict[str, Any]] = []
    pairs = sorted({(r.judge_id, r.score) for r in scores[["judge_id", "score"]].itertuples(index=False)})
    if sources and not pairs:
        notes.append("the runs hold no sample-scope judge scores: no judge to compare with people")
    skipped = {j.judge_id for j in res.judgements.values() if j.scope != "sample" or j.versus}
    for jid in sorted(skipped):
        notes.append(f"judge {names[jid]} has pairwise or set-scope judgements; those are not calibrated")
    for source, (ranks, higher_human) in sources.items():
        candidates: list[_Candidate] = []
        for jid, score in pairs:
            spec = res.score_specs.get(jid, {}).get(score)
            mat = _judge_matrix(scores, jid, score, spec.higher_is_better if spec else True, ranks)
            if not np.isfinite(mat.to_numpy()).any():
                notes.append(f"{source}: {names[jid]}·{score} scored none of the labelled results")
                continue
            r = A.judge_vs_humans(mat, ranks, unranked="drop", **opts)
            base = {"source": source, "judge_id": jid, "judge": names[jid], "score": score}
            rows += [{**base, "statistic": s, **_stat(getattr(r, s))} for s in JUDGE_STATS]
            for method in ("spearman", "kendall"):
                rows.append({**base, "statistic": f"system_{method}",
                             **_stat(_system_level(mat, ranks, higher_human, opts, method))})
            candidates.append(_Candidate(f"{names[jid]}·{score}", f"{jid}:{score}", r, mat))
        top = sorted((c for c in candidates if np.isfinite(c.agreement.spearman.value)),
                     key=lambda c: -c.agreement.spearman.value)[:3]
        for size in (2, 3):
            for combo in itertools.combinations(top, size):
                fused = _fuse([c.matrix for c in combo if c.matrix is not None])
                candidates.append(_Candidate(" + ".join(c.name for c in combo), " + ".join(c.members for c in combo),
                                             A.judge_vs_humans(fused, ranks, unranked="drop", **opts)))
        if len(top) >= 2:
            notes.append(f"{source}: combinations (rank means) are of the three best scores on these same labels, "
                         "so their agreement is optimistic; confirm on labels not used to choose them")
        order = sorted(candidates, key=lambda c: (-_finite(c.agreement.spearman.value),
                                                  -_finite(c.agreement.pairwise_accuracy.value)))
        for i, c in enumerate(order, start=1):
            r = c.agreement
            best_rows.append({"source": source, "rank": i, "candidate": c.name, "members": c.members,
                              "spearman": r.spearman.value, "low": r.spearman.low, "high": r.spearman.high,
                              "winner_accuracy": r.winner_accuracy.value, "top2_accuracy": r.top2_accuracy.value,
                              "pairwise_accuracy": r.pairwise_accuracy.value, "n": r.spearman.n})
    best_cols = ["source", "rank", "candidate", "members", "spearman", "low", "high", "winner_accuracy",
                 "top2_accuracy", "pairwise_accuracy", "n"]
    return _frame(rows, ["source", "judge_id", "judge", "score", "statistic"]), pd.DataFrame(best_rows, columns=best_cols)


@dataclass(frozen=True)
class _Candidate:
    """A judge score, or a combination of scores, with its agreement with people."""

    name: str
    members: str
    agreement: A.JudgeHumanAgreement
    matrix: pd.DataFrame | None = None


def _finite(x: float) -> float:
    return x if np.isfinite(x) else -np.inf


# ----------------------------------------------------------------------------- pass rates, wins


def _pass_rates(ratings: pd.DataFrame, opts: dict[str, Any]) -> pd.DataFrame:
    parts = []
    for (task, dim), sub in ratings.groupby(["task", "dimension"], sort=True):
        for by in ("all", "suite", "system", "annotator"):
            t = A.pass_rates(sub, [] if by == "all" else [by], **opts)
            t = t.rename(columns={by: "group"}) if by != "all" else t.assign(group="all")
            parts.append(t.assign(task=task, dimension=dim, by=by))
    if not parts:
        return pd.DataFrame(columns=["task", "dimension", "by", "group", "n", "n_missing"])
    out = pd.concat(parts, ignore_index=True)
    lead = ["task", "dimension", "by", "group"]
    return out[lead + [c for c in out.columns if c not in lead]]


def _wins(rankings: pd.DataFrame, names: dict[str, str], opts: dict[str, Any]) -> pd.DataFrame:
    cols = ["system_id", "system", "wins", "rankings", "win_rate", "low", "high"]
    rows = [{"system_id": s, "won": float(r.ranking[0] == s)} for r in rankings.itertuples(index=False)
            for s in r.candidates]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    g = group_means(df, ["system_id"], "won", **{**opts, "n_resamples": max(opts["n_resamples"], 1)})
    if opts["n_resamples"] == 0:
        g["low"] = g["high"] = NAN
    counts = df.groupby("system_id")["won"].agg(["sum", "size"])
    out = g.assign(system=[names.get(s, s) for s in g["system_id"]],
                   wins=counts.loc[g["system_id"], "sum"].astype(int).to_numpy(),
                   rankings=counts.loc[g["system_id"], "size"].astype(int).to_numpy())
    return out.rename(columns={"mean": "win_rate"})[cols].sort_values("win_rate", ascending=False, ignore_index=True)


# ----------------------------------------------------------------------------- entry points


def calibrate(labels: LabelSet, res: Results, *, n_resamples: int = 2000, confidence: float = 0.95,
              seed: int = 0) -> CalibrationReport:
    """All calibration tables for validated ``labels`` over the runs in ``res``.

    Degenerate inputs give NaN with a note (one annotator, constant ratings, one system), never a
    crash: the notes travel with each statistic and into the stored report.
    """
    if n_resamples < 0:
        raise ValueError("n_resamples must be >= 0")
    opts = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    frame = labels.frame()
    names = display_names(res, set(res.systems) | {k[2] for k in res.trajectories})
    frame["system"] = [names.get(s, s) if isinstance(s, str) else "" for s in frame["system_id"]]
    is_rank = frame["dimension"] == "ranking"
    ratings, rankings = frame[~is_rank], frame[is_rank]
    notes: list[str] = []
    between, pairs = _between(ratings, opts)
    if len(labels.annotators) < 2:
        notes.append("one annotator: agreement between annotators is undefined")
    sources: dict[str, tuple[pd.DataFrame, bool]] = {}
    rank_places = _ranking_ranks(rankings) if not rankings.empty else pd.DataFrame()
    if not rank_places.empty:
        sources["rankings"] = (rank_places, False)
    rating_places = _rating_ranks(ratings)
    if not rating_places.empty:
        sources["ratings"] = (rating_places, False)
    if not sources:
        notes.append("no ranking and no sample with two systems rated overall: judges cannot be compared to people")
    judges, best = _judges(res, sources, opts, notes)
    return CalibrationReport(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        files=labels.files, annotators=tuple(labels.annotators), n_labels=len(labels),
        between=between, pairs=pairs, rankings=_ranking_agreement(rankings, rank_places, opts),
        judges=judges, best=best, pass_rates=_pass_rates(ratings, opts), wins=_wins(rankings, names, opts),
        notes=notes,
    )


def _judge_doc(report: CalibrationReport, judge_id: str, base: dict[str, Any]) -> dict[str, Any]:
    rows = report.judges[report.judges["judge_id"] == judge_id]
    best = report.best[report.best["members"].str.split(" \\+ ").map(len) == 1]
    mine = best[best["members"].str.startswith(judge_id + ":")]
    headline = None
    for source in ("rankings", "ratings"):
        cand = mine[mine["source"] == source]
        if not cand.empty:
            headline = {**cand.iloc[0].to_dict(), "of": int((report.best["source"] == source).sum())}
            break
    return {**base, "judge_id": judge_id, "headline": headline,
            "rows": json.loads(dumps_line(rows.to_dict(orient="records")))}


def write_report(report: CalibrationReport, res: Results, *, started: str | None = None) -> list[Path]:
    """Store ``report`` in every run of ``res`` and append a ``calibrate`` stage record to each.

    Each run gets ``calibration/<judge_id>.json`` for the judges it declares, plus
    ``calibration/humans.json`` (annotator agreement, pass rates, wins) and
    ``calibration/summary.json`` (which judge agrees best, the label files used).
    """
    doc = report.to_dict()
    base = {"v": SCHEMA_VERSION, "created": report.created, "labels": doc["labels"],
            "annotators": doc["annotators"], "n_labels": report.n_labels}
    humans = {**base, **{k: doc[k] for k in ("between", "pairs", "rankings", "pass_rates", "wins", "notes")}}
    summary = {**base, "best": doc["best"], "notes": doc["notes"]}
    written: list[Path] = []
    calibrated = set(report.judges["judge_id"])
    for store in res.stores:
        folder = store.root / "calibration"
        names = []
        for rec in store.read_meta().get("components", {}).get("judges", []):
            jid = rec["id"]
            if jid not in calibrated:
                continue
            if not _SAFE.match(jid):
                log.warning("judge id %r is not a safe file name; its calibration is only in summary.json", jid)
                continue
            names.append((f"{jid}.json", _judge_doc(report, jid, base)))
        names += [("humans.json", humans), ("summary.json", summary)]
        for name, obj in names:
            path = folder / name
            atomic_write(path, (json.dumps(json.loads(dumps_line(obj)), indent=1, ensure_ascii=False) + "\n").encode())
            written.append(path)
        store.append("stages", {
            "stage": "calibrate", "started": started or report.created,
            "ended": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "labels": doc["labels"], "annotators": doc["annotators"], "n_labels": report.n_labels,
            "judges": sorted(j for j in calibrated if (folder / f"{j}.json").exists()),
            "written": [str(p.relative_to(store.root)) for p in written if p.is_relative_to(store.root)],
        })
        store.sync()
    return written


# ----------------------------------------------------------------------------- text


def _num(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def _ci(row: Any, pct: bool = False, value: str = "value", low: str = "low", high: str = "high") -> str:
    v, lo, hi = (row[value], row[low], row[high]) if isinstance(row, dict) else \
        (getattr(row, value), getattr(row, low), getattr(row, high))
    if not np.isfinite(v):
        return "—"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return _num(v, pct)
    return f"{_num(v, pct)} [{_num(lo, pct)}, {_num(hi, pct)}]"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                          for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
    return [line(headers), *(line(r) for r in rows)]


class _Footnotes:
    """Collects the reasons behind undefined values, so no dash in a table goes unexplained."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def mark(self, row: Any) -> str:
        if np.isfinite(row.value) or not row.note:
            return ""
        text = row.note  # numbered by reason, so one reason shared by many cells is one note
        if text not in self.items:
            self.items.append(text)
        return f" *{self.items.index(text) + 1}"


def format_report(report: CalibrationReport) -> str:
    """The report as plain-text tables for the terminal (``editbench calibrate``)."""
    fn = _Footnotes()
    out = [f"calibration: {report.n_labels} labels from {len(report.files)} file(s); "
           f"annotators: {', '.join(report.annotators) or '—'}"]
    if not report.between.empty:
        out += ["", "Agreement between annotators, ratings (95% bootstrap CI over results)"]
        rows = [[f"{r.task}/{r.dimension}", r.statistic, _ci(r) + fn.mark(r),
                 str(r.n), str(r.n_excluded)] for r in report.between.itertuples(index=False)]
        out += _table(["task/dimension", "statistic", "value [95% CI]", "n", "excluded"], rows)
    if not report.pairs.empty and report.pairs["annotator_a"].nunique() + report.pairs["annotator_b"].nunique() > 2:
        out += ["", "Cohen's kappa (linear weights) per pair of annotators"]
        rows = [[f"{r.task}/{r.dimension}", f"{r.annotator_a} · {r.annotator_b}",
                 _ci(r) + fn.mark(r), str(r.n)]
                for r in report.pairs.itertuples(index=False)]
        out += _table(["task/dimension", "pair", "kappa [95% CI]", "n"], rows)
    if not report.rankings.empty:
        out += ["", "Agreement between annotators, rankings (ceiling_*: one annotator scored like a judge against the others)"]
        rows = [[r.statistic, r.annotator or "all", _ci(r) + fn.mark(r), str(r.n)]
                for r in report.rankings.itertuples(index=False)]
        out += _table(["statistic", "annotator", "value [95% CI]", "n"], rows)
    short = {"spearman": "spearman", "kendall": "kendall", "winner_accuracy": "winner", "top2_accuracy": "top-2",
             "pairwise_accuracy": "pairwise", "system_spearman": "system ρ"}
    for source, grp in report.judges.groupby("source", sort=False):
        out += ["", f"Judges against people ({source}): per-sample means over samples, 95% CI; system ρ over systems"]
        rows = []
        for (judge, score), g in grp.groupby(["judge", "score"], sort=False):
            cells = [f"{judge}·{score}"]
            by = {r.statistic: r for r in g.itertuples(index=False)}
            for stat in short:
                r = by.get(stat)
                cells.append("—" if r is None else _ci(r) + fn.mark(r))
            cells.append(str(by["spearman"].n))
            rows.append(cells)
        out += _table(["judge·score", *short.values(), "n"], rows)
        chance = grp[grp["statistic"] == "winner_accuracy"]["chance"]
        if chance.notna().any():
            out.append(f"  chance: winner {_num(float(chance.mean()))}, pairwise 0.500")
    for source, grp in report.best.groupby("source", sort=False):
        out += ["", f"Which judge agrees best ({source}; by mean Spearman, then pairwise accuracy)"]
        rows = [[str(r.rank), r.candidate, _ci(r, value="spearman"), _num(r.winner_accuracy),
                 _num(r.top2_accuracy), _num(r.pairwise_accuracy)] for r in grp.head(10).itertuples(index=False)]
        out += _table(["#", "judge·score", "spearman [95% CI]", "winner", "top-2", "pairwise"], rows)
    pr = report.pass_rates
    for (task, dim), grp in (pr.groupby(["task", "dimension"], sort=False) if not pr.empty else []):
        out += ["", f"Pass rates, {task}/{dim} (95% CI)"]
        rows = [[f"{r['by']}: {r['group']}" if r["by"] != "all" else "all", _ci(r, True, "pass", "pass_low", "pass_high"),
                 _num(r["partial"], True), _num(r["fail"], True), str(r["n"])] for r in grp.to_dict("records")]
        out += _table(["group", "pass [95% CI]", "partial", "fail", "n"], rows)
    if not report.wins.empty:
        out += ["", "Wins in the rank task (share of rankings a system was shown in and placed first)"]
        rows = [[r.system, str(r.wins), str(r.rankings), _ci(r, True, "win_rate")] for r in report.wins.itertuples(index=False)]
        out += _table(["system", "wins", "shown", "win rate [95% CI]"], rows)
    if fn.items or report.notes:
        out += ["", "Notes"]
        out += [f"  *{i}  {t}" for i, t in enumerate(fn.items, start=1)]
        out += [f"  - {t}" for t in report.notes]
    return "\n".join(out) + "\n"
