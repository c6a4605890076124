"""Rendering: view models to self-contained HTML pages with Jinja2, autoescape on.

Every value a template prints is escaped (goals, names, rationales, errors, tags: anything from
suites, systems, models or judges). The only strings marked safe are this package's own stylesheet
and script, read from ``templates/`` and inlined so each page works from ``file://`` with no fetch,
no ES module and no CDN.

Small runs get one page: ``index.html`` with the tables and the whole comparison grid. When the
runs hold more than ``inline_limit`` samples, the grid moves to ``samples-<suite>-<n>.html`` pages of
``page_size`` samples each (one page of thousands of images is not something a browser opens
quickly), and ``index.html`` links to them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from leaderboard.views import Page, PagedGrid, PageLink

TEMPLATES = Path(__file__).parent / "templates"
GRID_INLINE_LIMIT = 60
GRID_PAGE_SIZE = 40
PAGE_PREFIX = "samples-"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment of the site: autoescape for every template, strict undefineds."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _static(name: str) -> Markup:
    # Our own files, not data: safe to inline unescaped. A "</" sequence would end the element early.
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if "</style" in text.lower() or "</script" in text.lower():
        raise ValueError(f"{name} must not contain a closing style/script tag")
    return Markup(text)


def render_site(
    page: Page, *, inline_limit: int = GRID_INLINE_LIMIT, page_size: int = GRID_PAGE_SIZE
) -> dict[str, str]:
    """Every HTML file of the site, by file name relative to the site root."""
    env = environment()
    common = {"page": page, "css": _static("site.css"), "js": _static("site.js")}
    files: dict[str, str] = {}
    total = sum(len(g.rows) for g in page.grids)
    if total <= inline_limit:
        files["index.html"] = env.get_template("index.html.j2").render(grids=page.grids, paged=(), **common)
        return files
    paged = []
    samples = env.get_template("samples.html.j2")
    for grid in page.grids:
        chunks = [grid.rows[i : i + page_size] for i in range(0, len(grid.rows), page_size)]
        links = tuple(
            PageLink(
                filename=f"{PAGE_PREFIX}{grid.suite.anchor}-{k + 1}.html",
                label=f"{k * page_size + 1}–{k * page_size + len(chunk)}",
                first=k * page_size + 1,
                last=k * page_size + len(chunk),
            )
            for k, chunk in enumerate(chunks)
        )
        for k, (chunk, link) in enumerate(zip(chunks, links, strict=True)):
            files[link.filename] = samples.render(
                grid=grid,
                rows=chunk,
                links=links,
                current=link,
                prev=links[k - 1] if k > 0 else None,
                next=links[k + 1] if k + 1 < len(links) else None,
                n_rows=len(grid.rows),
                **common,
            )
        paged.append(PagedGrid(suite=grid.suite, n_rows=len(grid.rows), links=links))
    files["index.html"] = env.get_template("index.html.j2").render(grids=(), paged=tuple(paged), **common)
    return files


def render_page(page: Page) -> str:
    """The single-page form (the whole grid inline), whatever the size: for tests and embedding."""
    return render_site(page, inline_limit=10**9)["index.html"]
