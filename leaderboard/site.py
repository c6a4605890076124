"""``build_site``: one or more run stores in, a static leaderboard folder out.

The site is built from the run store alone (``run.json``, samples, trajectories, judgements,
images and ``calibration/*.json``, read through :func:`bench.results.load_results`; the judge probes
of ``probes.jsonl`` and ``canaries.jsonl``, read by :mod:`leaderboard.trust`; ``approximations.json``,
read by :mod:`leaderboard.approximations`): no suite, system or
judge code runs, so a site can be rebuilt anywhere from the run folders. Several runs
merge by record key (suite, sample, system, judge); for the same key, the run given later wins.

Output::

    out/index.html               overview: systems × suites, ranks, rank stability, tracks, judge trust
    out/suite-<suite>.html       per suite: every score, breakdowns, strengths, charts
    out/compare.html             side by side: every system's result per sample, with filters
    out/trajectory.html          the trajectory viewer (plan, steps, regions, judges)
    out/approximations.html      paper A's reward approximations, per run that measured them
    out/data-meta.js             index of suites, systems, judges for the scripts
    out/data-cmp-NNN.js          comparison rows, 50 samples a file
    out/data-trj-NNN.js          trajectories of the same 50 samples, loaded on demand
    out/data/leaderboard.json    the numbers, machine-readable (schema_version), and CSVs
    out/img/<id>.png             full-size copy of every image shown, named by content id
    out/img/<id>.thumb.jpg       256-px thumbnail, lazy-loaded by the pages
    out/img/region-<hash>.png    region overlays for the trajectory viewer

Rebuilding into the same folder rewrites pages and data (removing chunks it no longer needs) and
adds only images that are new.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from bench.images import atomic_write
from bench.report import summary_table
from bench.results import Results, load_results
from leaderboard.approximations import read_reports
from leaderboard.assets import ImageExporter
from leaderboard.calibration import read_calibrations
from leaderboard.catalog import Catalog
from leaderboard.chunks import PREFIX, write_chunk
from leaderboard.compare import compare_chunks
from leaderboard.export import write_data
from leaderboard.header import Names, build_header, suite_views
from leaderboard.overlays import OverlayExporter
from leaderboard.overview import build_overview, rank_suite
from leaderboard.render import Site, render_site
from leaderboard.suitepage import build_suite_page
from leaderboard.table import BOOTSTRAP_SEED, build_tables
from leaderboard.trajectories import trajectory_chunk
from leaderboard.trust import judge_rows, read_trust

log = logging.getLogger(__name__)


def _run_hash(res: Results) -> str:
    names = sorted(str(m.get("name") or st.root.name) for m, st in zip(res.runs, res.stores, strict=False))
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()[:12]


def _load(res: Results, image_id: str) -> Image.Image | None:
    path = res.image_path(image_id)
    if path is None:
        return None
    with Image.open(path) as im:
        im.load()
        return im.copy()


def assemble(res: Results, out: Path, *, title: str | None = None, n_resamples: int = 2000) -> Site:
    """Everything the site shows, from merged results; writes images and data chunks into ``out``."""
    names = Names(res)
    suites = suite_views(res)
    header = build_header(res, names, suites, title)
    calibrations = read_calibrations(res.stores)
    trust = read_trust(res.stores)
    summary = summary_table(res, seed=BOOTSTRAP_SEED, n_resamples=n_resamples)
    tables = {
        t.suite.ref: t for t in build_tables(res, names, suites, summary=summary, calibrations=calibrations)
    }
    rankings = {}
    for ref, view in suites.items():
        r = rank_suite(res, names, view, summary, calibrations, trust=trust)
        if r is not None:
            rankings[ref] = r
    overview = build_overview(list(rankings.values()), names, res)
    pages = [
        build_suite_page(res, names, r, tables.get(ref), n_resamples=n_resamples)
        for ref, r in rankings.items()
    ]

    exporter = ImageExporter(out, res.image_path)
    overlays = OverlayExporter(out, lambda i: _load(res, i))
    catalog = Catalog(res, names, suites, rankings, calibrations)
    catalog.export_images(exporter)
    run_hash = _run_hash(res)
    written = {write_chunk(out, "meta", catalog.meta(header.title, run_hash))}
    cmp_files = []
    for name, payload in compare_chunks(catalog, exporter).items():
        cmp_files.append(write_chunk(out, name, payload))
    for chunk in catalog.chunks:
        written.add(write_chunk(out, chunk.trj, trajectory_chunk(catalog, chunk, exporter, overlays)))
    written.update(cmp_files)
    for stale in out.glob(f"{PREFIX}*.js"):
        if stale.name not in written:
            stale.unlink()
    judges = judge_rows(trust, names.judges, {i: v.display for i, v in names.systems.items()})
    approximations = read_reports(res.stores)
    data = write_data(
        out,
        res,
        names,
        header,
        overview,
        [p.numbers for p in pages],
        summary,
        calibrations,
        trust=trust,
        judge_rows=judges,
        approximations=approximations,
    )
    data_files = tuple(sorted(str(p.relative_to(out)) for p in data.parent.iterdir() if p.is_file()))
    return Site(
        header=header,
        overview=overview,
        suites=tuple(pages),
        compare_chunks=tuple(cmp_files),
        data_files=data_files,
        run_hash=run_hash,
        trust=trust,
        judges=judges,
        approximations=approximations,
    )


def build_site(
    run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike, *, title: str | None = None
) -> Path:
    """Write the leaderboard for ``run_dirs`` into ``out``; returns the path of ``index.html``.

    Raises :class:`bench.errors.StoreError` when a folder is not a run (no ``run.json``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = load_results([Path(d) for d in run_dirs])
    try:
        site = assemble(res, out, title=title)
        files = render_site(site)
    finally:
        for store in res.stores:
            store.close()
    for stale in list(out.glob("suite-*.html")) + list(out.glob("samples-*.html")):
        if stale.name not in files:
            stale.unlink()
    for name in ("compare.html", "trajectory.html", "approximations.html"):
        if name not in files and (out / name).exists():
            (out / name).unlink()
    for name, html in files.items():
        atomic_write(out / name, html.encode("utf-8"))
    index = out / "index.html"
    log.info(
        "leaderboard written to %s (%d suites, %d systems)", index, len(site.suites), site.header.n_systems
    )
    return index
