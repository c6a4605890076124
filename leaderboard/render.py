"""Rendering: view models to HTML pages with Jinja2, autoescape on, and a strict content policy.

Every value a template prints is escaped (goals, names, rationales, errors, tags: anything from
suites, systems, models or judges). The only strings marked safe are this package's own
stylesheet and scripts (read from ``templates/``) and the SVG charts, which
:mod:`leaderboard.charts` builds with every text and attribute escaped.

Each page also carries a Content-Security-Policy: scripts run only from the site's own files
(the ``data-*.js`` chunks) and from inline scripts whose SHA-256 is listed — the page's own —
so even a string that escaped escaping could not run: no injected ``<script>``, no ``onerror``.
Nothing is fetched from elsewhere and no page uses ``fetch()`` or ES modules, so the site works
from ``file://``.

Pages::

    index.html              overview: systems × suites, ranks, rank stability, tracks, judges
    suite-<anchor>.html     one per suite: score tables, breakdowns, charts, swap matrix
    compare.html            side-by-side comparison (data from data-cmp-*.js)
    trajectory.html         trajectory viewer (data from data-trj-*.js, loaded on demand)
    approximations.html     paper A's reward approximations, per run holding approximations.json
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from leaderboard.approximations import ApproxReport
from leaderboard.formatting import bare_format, format_value
from leaderboard.overview import UNSETTLED, Overview
from leaderboard.suitepage import SuitePage
from leaderboard.trust import JudgeRow, TrustIndex
from leaderboard.views import Header, NavLink

TEMPLATES = Path(__file__).parent / "templates"
SCRIPTS = {  # page -> the static scripts inlined into it, in order
    "index": ("site.js",),
    "suite": ("site.js",),
    "compare": ("common.js", "compare.js"),
    "trajectory": ("common.js", "trajectory.js"),
    "approximations": ("site.js",),
}


@dataclass(frozen=True)
class Site:
    """Everything the pages show; the data chunks are written separately (see ``site.py``)."""

    header: Header
    overview: Overview
    suites: tuple[SuitePage, ...]
    compare_chunks: tuple[str, ...]  # data-cmp-*.js file names, in order
    data_files: tuple[str, ...]  # data/ files for download, relative to the site root
    run_hash: str  # namespaces browser storage keys
    trust: TrustIndex = field(default_factory=TrustIndex)  # judge probes and canaries, per judge id
    judges: tuple[JudgeRow, ...] = ()  # the Judges section of the overview
    approximations: tuple[ApproxReport, ...] = ()  # runs with approximations.json: its own page


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment of the site: autoescape for every template, strict undefineds."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.0f}%"
    env.globals["unsettled"] = UNSETTLED
    env.filters["score"] = lambda v, spec, bare=False: format_value(
        v, bare_format(spec.display) if bare else spec.display
    )
    return env


@lru_cache(maxsize=16)
def static_text(name: str) -> str:
    """One of this package's own static files. A closing tag inside would end its element early."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if "</style" in text.lower() or "</script" in text.lower():
        raise ValueError(f"{name} must not contain a closing style/script tag")
    return text


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(inline_scripts: list[str]) -> str:
    """The page's policy: own files and the listed inline scripts only; nothing from elsewhere."""
    scripts = " ".join(_hash(s) for s in inline_scripts)
    return (
        "default-src 'none'; "
        f"script-src 'self' file: {scripts}; "
        "style-src 'unsafe-inline'; "
        "img-src 'self' file: data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _nav(site: Site, current: str) -> tuple[NavLink, ...]:
    links = [NavLink("index.html", "Overview", current == "index.html")]
    links += [NavLink(p.filename, p.ranking.suite.name, current == p.filename) for p in site.suites]
    if site.compare_chunks:
        links.append(NavLink("compare.html", "Compare", current == "compare.html"))
    if site.approximations:
        links.append(NavLink("approximations.html", "Approximations", current == "approximations.html"))
    links.append(NavLink("data/leaderboard.json", "Data", False))
    return tuple(links)


def _page(template: str, kind: str, site: Site, filename: str, **extra: object) -> str:
    js = "\n".join(static_text(n) for n in SCRIPTS[kind])
    return (
        environment()
        .get_template(template)
        .render(
            site=site,
            header=site.header,
            nav=_nav(site, filename),
            css=Markup(static_text("site.css")),
            js=Markup(js),
            csp=csp([js]),
            **extra,
        )
    )


def render_site(site: Site) -> dict[str, str]:
    """Every HTML file of the site, by file name relative to the site root."""
    files = {"index.html": _page("index.html.j2", "index", site, "index.html")}
    for p in site.suites:
        files[p.filename] = _page("suite.html.j2", "suite", site, p.filename, page=p)
    if site.compare_chunks:
        files["compare.html"] = _page("compare.html.j2", "compare", site, "compare.html")
        files["trajectory.html"] = _page("trajectory.html.j2", "trajectory", site, "trajectory.html")
    if site.approximations:
        files["approximations.html"] = _page(
            "approximations.html.j2", "approximations", site, "approximations.html"
        )
    return files
