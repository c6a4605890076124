"""The site's index of suites, systems, judges and score columns, shared by its data chunks.

Data chunks refer to systems, judges and suites by position in this index (``data-meta.js``),
so 8,000 results do not repeat 8 long names each. Samples are cut into chunks of
:data:`CHUNK_SAMPLES` (in suite, then run order); a sample's comparison row and its trajectories
live in chunks with the same number (``data-cmp-007.js``, ``data-trj-007.js``), so the trajectory
viewer loads exactly one file for any result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bench.model import Judgement, Sample
from bench.results import Results
from leaderboard.assets import ImageExporter, is_image_id
from leaderboard.calibration import calibration_for
from leaderboard.header import Names
from leaderboard.overview import SuiteRanking
from leaderboard.primary import sample_pairs
from leaderboard.views import ImageView, SuiteView

CHUNK_SAMPLES = 50


def image_ref(view: ImageView | None) -> dict[str, object] | None:
    """What the scripts need to show an image: its id (paths follow from it) and sizes."""
    if view is None or not is_image_id(view.id):
        return None
    return {"id": view.id, "w": view.width, "h": view.height, "fw": view.full_width, "fh": view.full_height}


def result_key(suite: str, sample_id: str, system_id: str) -> str:
    """A short stable key for one result, used in the viewer's address (``#trj-003/<key>``)."""
    return hashlib.sha1("\x1f".join((suite, sample_id, system_id)).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class ScoreColumn:
    judge_id: str
    score: str
    label: str
    better: str  # high | low
    primary: bool


@dataclass(frozen=True)
class Chunk:
    number: int
    suite: str
    samples: tuple[Sample, ...]

    @property
    def cmp(self) -> str:
        return f"cmp-{self.number:03d}"

    @property
    def trj(self) -> str:
        return f"trj-{self.number:03d}"


class Catalog:
    """Positions of suites, systems and judges; score columns and sample chunks per suite."""

    def __init__(
        self,
        res: Results,
        names: Names,
        suites: dict[str, SuiteView],
        rankings: dict[str, SuiteRanking],
        calibrations: dict[str, dict],
        *,
        chunk_samples: int = CHUNK_SAMPLES,
    ) -> None:
        self.res, self.names, self.suites = res, names, suites
        self.system_ids = list(names.systems)
        self.judge_ids = list(names.judges)
        self.system_index = {s: i for i, s in enumerate(self.system_ids)}
        self.judge_index = {j: i for i, j in enumerate(self.judge_ids)}
        self.suite_refs = [ref for ref in suites if any(r == ref for r, _ in res.samples)]
        self.suite_index = {s: i for i, s in enumerate(self.suite_refs)}
        self.calibrations = calibrations
        self.columns: dict[str, list[ScoreColumn]] = {}
        self.suite_systems: dict[str, list[str]] = {}
        self.chunks: list[Chunk] = []
        for ref in self.suite_refs:
            prim = rankings[ref].primary if ref in rankings else None
            pairs = sorted(
                sample_pairs(res, ref), key=lambda p: names.judge_order.get(p[0], len(names.judge_order))
            )
            cols = []
            for jid, score in pairs:
                spec = res.score_specs.get(jid, {}).get(score)
                shown = names.judge(jid).display
                cols.append(
                    ScoreColumn(
                        judge_id=jid,
                        score=score,
                        label=score if shown == score else f"{shown} · {score}",
                        better="low" if spec is not None and not spec.higher_is_better else "high",
                        primary=prim is not None and (prim.judge_id, prim.score) == (jid, score),
                    )
                )
            self.columns[ref] = cols
            present = {t.system_id for t in res.trajectories.values() if t.suite == ref}
            self.suite_systems[ref] = [s for s in self.system_ids if s in present]
            samples = [s for (r, _), s in res.samples.items() if r == ref]
            for start in range(0, len(samples), chunk_samples):
                self.chunks.append(
                    Chunk(len(self.chunks), ref, tuple(samples[start : start + chunk_samples]))
                )
        self.chunk_of = {(c.suite, s.id): c for c in self.chunks for s in c.samples}
        self.pairwise: dict[
            tuple[str, str], list[Judgement]
        ] = {}  # (suite, sample) -> judgements with versus
        for j in res.judgements.values():
            if j.versus:
                self.pairwise.setdefault((j.suite, j.sample_id), []).append(j)

    def meta(self, title: str, run_hash: str) -> dict[str, object]:
        """The payload of ``data-meta.js``: everything the scripts look up by position."""
        systems = [
            {
                "id": s,
                "name": v.display,
                "track": v.track,
                "color": v.color,
                "trained": v.trained,
                "oracle": v.oracle,
            }
            for s, v in ((s, self.names.system(s)) for s in self.system_ids)
        ]
        judges = [
            {"id": j, "name": self.names.judge(j).display, "kind": self.names.judge(j).kind}
            for j in self.judge_ids
        ]
        suites = []
        for ref in self.suite_refs:
            view = self.suites[ref]
            tags: dict[str, set[str]] = {}
            for (r, _), s in self.res.samples.items():
                if r == ref:
                    for k, v in s.tags.items():
                        tags.setdefault(str(k), set()).add(str(v))
            cols = []
            for c in self.columns[ref]:
                calib = calibration_for(self.calibrations, c.judge_id, c.score)
                cols.append(
                    {
                        "label": c.label,
                        "judge": self.judge_index.get(c.judge_id),
                        "score": c.score,
                        "better": c.better,
                        "primary": c.primary,
                        "calibration": calib.text if calib else None,
                    }
                )
            suites.append(
                {
                    "ref": ref,
                    "name": view.name,
                    "version": view.version,
                    "anchor": view.anchor,
                    "page": f"suite-{view.anchor}.html",
                    "size": view.size,
                    "systems": [self.system_index[s] for s in self.suite_systems[ref]],
                    "scores": cols,
                    "tags": {k: sorted(v) for k, v in sorted(tags.items())},
                    "chunks": [c.cmp for c in self.chunks if c.suite == ref],
                }
            )
        return {"title": title, "run": run_hash, "systems": systems, "judges": judges, "suites": suites}

    def export_images(self, exporter: ImageExporter) -> None:
        """Export every image a page shows: sources, finals and every step's input and output."""
        wanted = [s.image.id for s in self.res.samples.values()]
        for t in self.res.trajectories.values():
            wanted.append(t.final or "")
            for st in t.steps:
                wanted += [st.input or "", st.output or ""]
        exporter.export([w for w in wanted if w])
