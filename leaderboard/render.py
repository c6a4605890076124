"""Rendering: view models to one self-contained ``index.html`` with Jinja2, autoescape on.

Every value a template prints is escaped (goals, names, rationales, errors, tags: anything from
suites, systems, models or judges). The only strings marked safe are this package's own stylesheet
and script, read from ``templates/`` and inlined so the page works from ``file://`` with no fetch,
no ES module and no CDN.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from leaderboard.views import Page

TEMPLATES = Path(__file__).parent / "templates"


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


def render_page(page: Page) -> str:
    """The HTML of ``index.html`` for ``page``."""
    template = environment().get_template("index.html.j2")
    return template.render(page=page, css=_static("site.css"), js=_static("site.js"))
