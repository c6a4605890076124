"""Calibration figures for the judges behind the numbers, read from ``calibration/<judge_id>.json``.

``editbench calibrate`` (:mod:`judges.calibration`) writes one file per judge into every run it
calibrates. The site reads only these fields, so any writer that keeps them is understood::

    {"judge_id": "...",
     "headline": {"members": "<judge_id>:<score>", "spearman": 0.71, "low": 0.55, "high": 0.83,
                  "n": 40, "source": "rankings", "of": 12, "rank": 1} | null,
     "rows": [{"source": "rankings", "judge_id": "...", "score": "ssim", "statistic": "spearman",
               "value": 0.71, "low": 0.55, "high": 0.83, "n": 40}, ...],
     "n_labels": 120}

The figure shown beside a number is the judge's mean per-sample Spearman correlation with people
for *that* score (human rankings preferred over ratings), with its interval; failing that, the
judge's headline (its best score). A file that is missing, unreadable or of another shape is
skipped with a warning: calibration is extra information, never a reason for the site to fail.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench.store import RunStore
from leaderboard.formatting import is_number

log = logging.getLogger(__name__)

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
SOURCES = ("rankings", "ratings")  # preference order of the human signal


@dataclass(frozen=True)
class CalibrationView:
    """One judge score's agreement with people: ``statistic`` (``spearman``) and its interval."""

    judge_id: str
    score: str
    statistic: str
    value: float
    low: float | None
    high: float | None
    n: int
    source: str
    n_labels: int = 0

    @property
    def text(self) -> str:
        """Short form for a column header: ``ρ 0.71 [0.55, 0.83]``."""
        ci = f" [{self.low:.2f}, {self.high:.2f}]" if is_number(self.low) and is_number(self.high) else ""
        return f"ρ {self.value:.2f}{ci}"

    @property
    def title(self) -> str:
        """Long form for a tooltip: what the number is and where it comes from."""
        return (
            f"calibration: mean per-sample Spearman of {self.score} with human {self.source}, "
            f"{self.text} (95% bootstrap CI), n={self.n} samples"
        )


def read_calibrations(stores: Iterable[RunStore]) -> dict[str, dict[str, Any]]:
    """Every ``calibration/<judge_id>.json`` of the runs, by judge id; a later run's file wins."""
    docs: dict[str, dict[str, Any]] = {}
    for store in stores:
        folder = store.root / "calibration"
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            jid = path.name[: -len(".json")]
            if jid in ("humans", "summary") or not _SAFE.match(jid):
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                log.warning("calibration file %s is unreadable, skipped: %s", path, err)
                continue
            if not isinstance(doc, dict):
                log.warning("calibration file %s is not a JSON object, skipped", path)
                continue
            docs[str(doc.get("judge_id") or jid)] = doc
    return docs


def _number(v: Any) -> float | None:
    return float(v) if is_number(v) else None


def calibration_for(docs: dict[str, dict[str, Any]], judge_id: str, score: str) -> CalibrationView | None:
    """The calibration figure for ``(judge_id, score)``, or ``None`` when there is none."""
    doc = docs.get(judge_id)
    if not doc:
        return None
    n_labels = int(doc["n_labels"]) if is_number(doc.get("n_labels")) else 0
    rows = [r for r in doc.get("rows") or () if isinstance(r, dict)]
    for source in SOURCES:
        for r in rows:
            if (
                r.get("source") == source
                and r.get("score") == score
                and r.get("statistic") == "spearman"
                and is_number(r.get("value"))
            ):
                return CalibrationView(
                    judge_id=judge_id,
                    score=score,
                    statistic="spearman",
                    value=float(r["value"]),
                    low=_number(r.get("low")),
                    high=_number(r.get("high")),
                    n=int(r["n"]) if is_number(r.get("n")) else 0,
                    source=source,
                    n_labels=n_labels,
                )
    head = doc.get("headline")
    if isinstance(head, dict) and is_number(head.get("spearman")):
        members = str(head.get("members") or "")
        head_score = members.split(":", 1)[1] if ":" in members else score
        return CalibrationView(
            judge_id=judge_id,
            score=head_score,
            statistic="spearman",
            value=float(head["spearman"]),
            low=_number(head.get("low")),
            high=_number(head.get("high")),
            n=int(head["n"]) if is_number(head.get("n")) else 0,
            source=str(head.get("source") or "people"),
            n_labels=n_labels,
        )
    return None
