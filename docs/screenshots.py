"""Regenerate the README's screenshots: ``python docs/screenshots.py [RUN_DIR]``.

Builds the leaderboard of RUN_DIR (or of a fresh run of ``editbench run``'s built-in default, in a
temporary folder) and photographs it with headless Chromium (``tests/browser.py``):
``docs/overview.png``, ``docs/suite.png``, ``docs/compare.png`` and ``docs/trajectory.png``. Needs
Debian's ``chromium``; writes nothing outside ``docs/`` and the temporary folder.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # a script run from a checkout: tests/ is not an installed package

from bench.compose import load_suite_spec  # noqa: E402
from bench.defaults import DEFAULT_JUDGES, DEFAULT_SUITES, DEFAULT_SYSTEMS  # noqa: E402
from bench.runner import RunOptions, execute  # noqa: E402
from bench.spec import parse_spec  # noqa: E402
from leaderboard.site import build_site  # noqa: E402
from tests.browser import Browser  # noqa: E402

log = logging.getLogger("docs.screenshots")
# Every image in the viewport has loaded (lazy images below it never do until scrolled to).
VISIBLE_LOADED = "Array.from(document.images).filter(i => i.getBoundingClientRect().top < innerHeight).every(i => i.complete)"


def main(argv: list[str] | None = None) -> None:
    """``python docs/screenshots.py [RUN_DIR]``: photograph RUN_DIR's site, or a fresh default run's."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("EDITBENCH_PROGRESS", "0")
    argv = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory(prefix="editbench-docs-") as tmp:
        os.environ.setdefault("EDITBENCH_CACHE", str(Path(tmp) / "cache"))
        if argv:
            run_dir = argv[0]
        else:
            suites = [load_suite_spec(s) for s in DEFAULT_SUITES]
            run_dir = execute(
                str(Path(tmp) / "runs"),
                suites,
                [parse_spec(s) for s in DEFAULT_SYSTEMS],
                [parse_spec(j) for j in DEFAULT_JUDGES],
                RunOptions(executor="process"),
            ).run_dir
        index = build_site([Path(run_dir)], Path(tmp) / "site", title="editbench · offline default")
        site = index.parent
        out = ROOT / "docs"
        with Browser(width=1280, height=860) as b:
            b.open(index.as_uri())
            b.screenshot(out / "overview.png")
            b.open(next(site.glob("suite-*.html")).as_uri())
            b.eval(
                "window.scrollTo(0, document.querySelector('.charts').getBoundingClientRect().top + scrollY - 110)"
            )
            b.screenshot(out / "suite.png")
            b.open((site / "compare.html").as_uri() + "#sort=spread")
            b.wait_for("document.querySelectorAll('article.sample img').length > 0")
            b.wait_for(VISIBLE_LOADED)
            b.screenshot(out / "compare.png")
            href = b.eval(
                "Array.from(document.querySelectorAll('figure.result')).find(f => f.dataset.system === 'rule-pipeline')"
                ".querySelector('a.traj-link').getAttribute('href')"
            )
            b.open((site / "trajectory.html").as_uri() + "#" + href.split("#", 1)[1])
            b.wait_for("document.querySelectorAll('.step img').length > 0")
            b.wait_for(VISIBLE_LOADED)
            b.screenshot(out / "trajectory.png")
            if b.errors:
                raise SystemExit(f"the pages logged errors: {b.errors}")
    log.info("screenshots written to %s", out)


if __name__ == "__main__":
    main()
