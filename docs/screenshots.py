"""Regenerate the README's screenshots from the offline default run: ``python docs/screenshots.py``.

Runs ``editbench run``'s built-in default (``ads-abstract:size=12`` × ``edit-only``,
``rule-pipeline`` × ``ssim``, ``psnr``, plus ``checklist-heuristic`` for checklist verdicts when it
is available) into a temporary folder, builds the leaderboard and photographs it with headless
Chromium (``tests/browser.py``): ``docs/overview.png``, ``docs/suite.png``, ``docs/compare.png`` and
``docs/trajectory.png`` (its top: plan and verdicts). Needs Debian's ``chromium``; writes nothing
outside ``docs/`` and the temporary folder. Components not yet registered through entry points (the classical tools, the
heuristic judge) are registered here by name, the way a plug-in would be.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # a script run from a checkout: tests/ is not an installed package

from bench import registry  # noqa: E402
from bench.compose import load_suite_spec  # noqa: E402
from bench.defaults import DEFAULT_JUDGES, DEFAULT_SUITES, DEFAULT_SYSTEMS  # noqa: E402
from bench.runner import RunOptions, execute  # noqa: E402
from bench.spec import parse_spec  # noqa: E402
from leaderboard.site import build_site  # noqa: E402
from tests.browser import Browser  # noqa: E402

log = logging.getLogger("docs.screenshots")
# Every image in the viewport has loaded (lazy images below it never do until scrolled to).
VISIBLE_LOADED = "Array.from(document.images).filter(i => i.getBoundingClientRect().top < innerHeight).every(i => i.complete)"


def _register_missing() -> list[str]:
    """Register the classical tools and the heuristic judge if their entry points are not there yet."""
    judges = list(DEFAULT_JUDGES)
    if "color_grading" not in registry.names("tools"):
        from baselines.tools.classical import TOOLS

        for name, cls in TOOLS.items():
            registry.register("tools", name, cls)
    try:
        if "checklist-heuristic" not in registry.names("judges"):
            registry.register("judges", "checklist-heuristic", "judges.heuristic:HeuristicChecklistJudge")
        judges.append("checklist-heuristic")
    except Exception as err:  # noqa: BLE001 - optional: the screenshot is still worth taking without it
        log.warning("no heuristic judge: %s", err)
    return judges


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("EDITBENCH_PROGRESS", "0")
    judges = _register_missing()
    with tempfile.TemporaryDirectory(prefix="editbench-docs-") as tmp:
        os.environ.setdefault("EDITBENCH_CACHE", str(Path(tmp) / "cache"))
        suites = [load_suite_spec(s) for s in DEFAULT_SUITES]
        summary = execute(
            str(Path(tmp) / "runs"),
            suites,
            [parse_spec(s) for s in DEFAULT_SYSTEMS],
            [parse_spec(j) for j in judges],
            RunOptions(executor="thread"),
        )
        index = build_site([summary.run_dir], Path(tmp) / "site", title="editbench · offline default")
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
