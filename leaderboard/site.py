"""``build_site``: one or more run stores in, a static leaderboard folder out.

The site is built from the run store alone (``run.json``, samples, trajectories, judgements and
images, read through :func:`bench.results.load_results`): no suite, system or judge code runs, so a
site can be rebuilt anywhere from the run folders. Several runs merge by record key (suite, sample,
system, judge); for the same key, the run given later wins.

Output::

    out/index.html              self-contained page (inline CSS and JS), works from file://
    out/samples-<suite>-<n>.html  the comparison grid in pages, only when the runs are large
    out/img/<id>.png            full-size copy of every image shown
    out/img/<id>.thumb.jpg      256-px thumbnail, lazy-loaded by the page

Rebuilding into the same folder rewrites the pages (removing grid pages it no longer needs) and
adds only images that are new.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from bench.images import atomic_write
from bench.results import Results, load_results
from leaderboard.assets import ImageExporter
from leaderboard.grid import build_grids
from leaderboard.header import Names, build_header, suite_views
from leaderboard.render import PAGE_PREFIX, render_site
from leaderboard.table import build_tables
from leaderboard.views import Page

log = logging.getLogger(__name__)


def assemble(res: Results, out: Path, *, title: str | None = None, n_resamples: int = 2000) -> Page:
    """Everything the page shows, from merged results; exports the images it needs into ``out``."""
    names = Names(res)
    suites = suite_views(res)
    exporter = ImageExporter(out, res.image_path)
    return Page(
        header=build_header(res, names, suites, title),
        tables=tuple(build_tables(res, names, suites, n_resamples=n_resamples)),
        grids=tuple(build_grids(res, names, suites, exporter)),
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
        page = assemble(res, out, title=title)
        files = render_site(page)
    finally:
        for store in res.stores:
            store.close()
    for stale in out.glob(f"{PAGE_PREFIX}*.html"):
        if stale.name not in files:
            stale.unlink()
    for name, html in files.items():
        atomic_write(out / name, html.encode("utf-8"))
    index = out / "index.html"
    log.info(
        "leaderboard written to %s (%d suites, %d systems)", index, len(page.tables), page.header.n_systems
    )
    return index
