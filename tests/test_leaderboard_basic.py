"""The first leaderboard page, built from a run store written by hand here (no runner, no suite code).

The store holds hostile strings (a goal with ``<script>``, a system name with ``<img onerror>``, a
rationale and an error with markup), a failed trajectory, an unscored judgement and real SSIM/PSNR
judgements, so the tests check escaping, the table's numbers and counts, and the image files.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench.model import ComponentRecord, Criterion, ImageRef, Judgement, Sample, SuiteInfo, Trajectory
from bench.protocols import JudgeItem
from bench.stats import group_means
from bench.store import RunStore
from judges.metrics import PSNRJudge, SSIMJudge
from leaderboard.formatting import format_value
from leaderboard.site import build_site

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SUITE = SuiteInfo(name="tiny", version="1", description="hand-made <b>suite</b>", hash="ab" * 32, size=3)
REF = SUITE.ref
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _scene(seed: int, size: tuple[int, int] = (96, 72)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, np.full_like(xx, 90 + 40 * seed)], axis=-1)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(3):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        d.ellipse((x0, y0, x0 + 18, y0 + 18), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    return img


def _brighten(img: Image.Image, amount: int) -> Image.Image:
    return Image.fromarray(np.clip(np.asarray(img).astype(int) + amount, 0, 255).astype(np.uint8))


SYSTEMS = [
    ComponentRecord(
        kind="systems",
        name="identity",
        args={},
        id="identity.aaaaaaaaaaaa",
        version="1",
        info={"track": "edit-only", "display": "identity"},
    ),
    ComponentRecord(
        kind="systems",
        name=IMG,
        args={"strength": 0.5},
        id="evil.bbbbbbbbbbbb",
        version="1",
        info={"track": "rule-pipeline", "display": f"{IMG}:strength=0.5", "description": SCRIPT},
    ),
    ComponentRecord(
        kind="systems",
        name="flaky",
        args={},
        id="flaky.cccccccccccc",
        version="1",
        info={"track": "planner+tools", "display": "flaky"},
    ),
]


def make_store(root: Path) -> dict:
    """Write a complete run store by hand; returns the SSIM/PSNR values by (system, sample)."""
    store = RunStore.open(root, create=True)
    judges = {"ssim.111111111111": SSIMJudge(), "psnr.222222222222": PSNRJudge()}
    judge_records = [
        ComponentRecord(
            kind="judges",
            name=j.name,
            args={},
            id=jid,
            version=j.version,
            info={"display": j.name, "description": j.description, "kind": "metric", "scope": "sample"},
        )
        for jid, j in judges.items()
    ]
    store.write_meta(
        {
            "name": "hand-made",
            "suites": [SUITE.to_dict()],
            "components": {
                "systems": [s.to_dict() for s in SYSTEMS],
                "judges": [r.to_dict() for r in judge_records],
            },
            "score_specs": {jid: [s.to_dict() for s in j.score_specs()] for jid, j in judges.items()},
            "seed": 0,
            "selection": {"limit": None, "samples": [], "shard": None},
            "started": "2025-01-02T03:04:05+00:00",
            "ended": "2025-01-02T03:09:00+00:00",
            "packages": {"numpy": np.__version__},
            "git": "0123456789abcdef",
        }
    )
    goals = [f"Make it warmer {SCRIPT}", "Add <i>snow</i> & fog", "Night time"]
    values: dict = {}
    with store:
        for k, goal in enumerate(goals):
            src = _scene(k)
            sid = f"s{k}"
            src_id = store.images.put(src)
            sample = Sample(
                id=sid,
                image=ImageRef(id=src_id),
                goal=goal,
                checklist=(
                    Criterion("c1", f"warm tones {IMG}"),
                    Criterion("c2", "keep the circles", kind="preserve"),
                ),
                tags={"complexity": "easy" if k < 2 else "hard", "theme": "<u>t</u>"},
            )
            store.append("samples", {"suite": REF, "sample": sample.to_dict()})
            finals = {
                "identity.aaaaaaaaaaaa": src,
                "evil.bbbbbbbbbbbb": _brighten(src, 10 + 15 * k),
                "flaky.cccccccccccc": None if k == 1 else _brighten(src, 40).resize((120, 90)),
            }
            for sys_id, final in finals.items():
                if final is None:
                    t = Trajectory(
                        suite=REF,
                        sample_id=sid,
                        system_id=sys_id,
                        status="failed",
                        error=f"ToolError: crashed on {SCRIPT}",
                    )
                else:
                    t = Trajectory(suite=REF, sample_id=sid, system_id=sys_id, final=store.images.put(final))
                store.append("trajectories", t)
                for jid, judge in judges.items():
                    if final is None:  # what the runner writes for a failed edit
                        j = Judgement(
                            suite=REF,
                            sample_id=sid,
                            system_id=sys_id,
                            judge_id=jid,
                            status="unscored",
                            error="no result to judge: trajectory failed",
                        )
                    elif sys_id == "flaky.cccccccccccc" and k == 2 and judge.name == "ssim":
                        j = Judgement(
                            suite=REF,
                            sample_id=sid,
                            system_id=sys_id,
                            judge_id=jid,
                            status="error",
                            error=f"judge crashed {IMG}",
                        )
                    else:
                        item = JudgeItem(suite=REF, sample=sample, source=src, final=final, trajectory=t)
                        [j] = judge.judge([item])
                        j = j.replace(judge_id=jid, rationale=f"{j.rationale} <b>markup</b>")
                        values[(sys_id, judge.name, sid)] = j.scores[judge.name]
                    store.append("judgements", j)
                if final is not None and sys_id == "identity.aaaaaaaaaaaa":
                    # A verdict-only judge with no record in run.json: shown by id, as chips.
                    store.append(
                        "judgements",
                        Judgement(
                            suite=REF,
                            sample_id=sid,
                            system_id=sys_id,
                            judge_id="checks.333333333333",
                            verdicts={"c1": "fail", "c2": "pass"},
                        ),
                    )
    return values


class _Tables(HTMLParser):
    """Rows of every ``table.scores``: per cell, its data-value and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str | None, str]]] = []
        self._in_body = False
        self._cell: list[str] | None = None
        self._value: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell, self._value = [], a.get("data-value")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((self._value, " ".join("".join(self._cell).split())))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


class _Tags(HTMLParser):
    """Every element and attribute name the browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: set[str] = set()
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attrs.update(name for name, _ in attrs)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.lazy: list[bool] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.refs.append(a["src"])
            self.lazy.append(a.get("loading") == "lazy")
        if tag == "a" and a.get("href") and not a["href"].startswith("#"):
            self.refs.append(a["href"])


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, str, dict]:
    root = tmp_path_factory.mktemp("lb")
    values = make_store(root / "run")
    index = build_site([root / "run"], root / "site", title="Tiny <em>board</em>")
    return index, index.read_text(encoding="utf-8"), values


def test_user_strings_are_escaped(site) -> None:
    _, html, _ = site
    for raw in (SCRIPT, IMG, "<b>markup</b>", "<i>snow</i>", "<u>t</u>", "<b>suite</b>", "<em>board</em>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Add &lt;i&gt;snow&lt;/i&gt; &amp; fog" in html
    assert "Tiny &lt;em&gt;board&lt;/em&gt;" in html
    # The only script element is the page's own sorter; no inline event handler anywhere.
    assert html.count("<script") == 1
    tags = _Tags()
    tags.feed(html)
    assert not [a for a in tags.attrs if a.startswith("on")]
    assert tags.counts["script"] == 1 and tags.counts["img"] == 3 + 9 - 1  # sources + results, one failed
    assert "http://" not in html and "https://" not in html  # nothing fetched from elsewhere
    assert 'type="module"' not in html and "fetch(" not in html


def test_table_numbers_and_counts(site) -> None:
    _, html, values = site
    parser = _Tables()
    parser.feed(html)
    rows = {r[0][0]: r for r in parser.rows}  # system display name (the sort key) -> cells
    evil = f"{IMG}:strength=0.5"
    assert set(rows) == {"identity", evil, "flaky"}
    # Columns: system, ssim, psnr, results, failed.
    for sys_id, name in (
        ("identity.aaaaaaaaaaaa", "identity"),
        ("evil.bbbbbbbbbbbb", evil),
        ("flaky.cccccccccccc", "flaky"),
    ):
        cells = rows[name]
        for col, judge, fmt in ((1, "ssim", "{:.3f}"), (2, "psnr", "{:.2f}")):
            got = [v for (s, j, _), v in values.items() if s == sys_id and j == judge]
            value, text = cells[col]
            assert float(value) == pytest.approx(float(np.mean(got)), rel=1e-12)
            assert text.startswith(format_value(float(np.mean(got)), fmt)), text
            assert f"n={len(got)}" in text
    # identity: SSIM 1 and the PSNR cap on every sample, a degenerate interval, nothing unscored.
    assert rows["identity"][1][1].startswith("1.000") and rows["identity"][2][1].startswith("100.00")
    assert "unscored" not in rows["identity"][1][1]
    assert rows["identity"][3] == ("3", "3") and rows["identity"][4] == ("0", "0")
    # flaky: one failed edit (unscored for both judges) and one judge error (unscored for ssim only).
    assert "2 unscored" in rows["flaky"][1][1] and "1 unscored" in rows["flaky"][2][1]
    assert rows["flaky"][4] == ("1", "1")
    # The interval shown is bench.stats' interval for the same values and seed.
    import pandas as pd

    got = [v for (s, j, _), v in values.items() if s == "evil.bbbbbbbbbbbb" and j == "psnr"]
    g = group_means(
        pd.DataFrame(
            {
                "suite": REF,
                "judge_id": "psnr.222222222222",
                "score": "psnr",
                "system_id": "evil.bbbbbbbbbbbb",
                "value": got,
            }
        ),
        ["suite", "judge_id", "score", "system_id"],
        "value",
        seed=0,
    ).iloc[0]
    assert f"{g['low']:.2f} – {g['high']:.2f}" in rows[evil][2][1]
    assert g["low"] < g["mean"] < g["high"]


def test_grid_shows_every_system_and_failure(site) -> None:
    index, html, _ = site
    assert html.count('class="sample"') == 3
    assert html.count('class="card result status-ok"') == 8
    assert html.count('class="card result status-failed"') == 1
    assert "Edit failed" in html and "ToolError: crashed on &lt;script&gt;" in html
    assert "keep the circles" in html and "warm tones &lt;img" in html
    assert "resized" in html  # flaky's larger result: the alignment note travels in the rationale
    assert html.count('class="v-pass"') == 3 and html.count('class="v-fail"') == 3
    assert 'title="checks.333333333333: warm tones &lt;img' in html
    assert "2025-01-02 03:09 UTC" in html and "abababababab" in html and "hand-made" in html


def test_every_referenced_image_exists(site) -> None:
    index, html, _ = site
    refs = _Refs()
    refs.feed(html)
    assert refs.refs and all(refs.lazy)
    for ref in refs.refs:
        assert not ref.startswith("/") and ".." not in ref
        assert (index.parent / ref).is_file(), ref
    thumbs = list((index.parent / "img").glob("*.thumb.jpg"))
    fulls = list((index.parent / "img").glob("*.png"))
    assert len(thumbs) == len(fulls) == 3 + 3 + 2  # sources (= identity results), evil, flaky
    for t in thumbs:
        with Image.open(t) as im:
            assert max(im.size) <= 256


def test_rebuild_and_merge_two_runs(tmp_path) -> None:
    make_store(tmp_path / "a")
    # A second run re-judges one key: a later run's record wins.
    store = RunStore.open(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    b = RunStore.open(tmp_path / "b")
    meta = b.read_meta()
    meta["name"] = "second"
    b.write_meta(meta)
    with b:
        b.append(
            "judgements",
            Judgement(
                suite=REF,
                sample_id="s0",
                system_id="identity.aaaaaaaaaaaa",
                judge_id="psnr.222222222222",
                scores={"psnr": 50.0},
                rationale="rejudged",
            ),
        )
    store.close()
    index = build_site([tmp_path / "a", tmp_path / "b"], tmp_path / "site")
    html = index.read_text()
    parser = _Tables()
    parser.feed(html)
    identity = next(r for r in parser.rows if r[0][0] == "identity")
    assert float(identity[2][0]) == pytest.approx((50.0 + 100.0 + 100.0) / 3)
    assert "second" in html and "hand-made" in html
    again = build_site([tmp_path / "a", tmp_path / "b"], tmp_path / "site")
    assert again.read_text() == html  # deterministic rebuild


def test_large_runs_page_the_grid(tmp_path) -> None:
    store = RunStore.open(tmp_path / "run", create=True)
    store.write_meta(
        {"name": "wide", "suites": [SUITE.to_dict()], "components": {"systems": [SYSTEMS[0].to_dict()]}}
    )
    with store:
        for k in range(65):
            img = Image.new("RGB", (16, 12), (k, 255 - k, 3 * k))
            iid = store.images.put(img)
            store.append(
                "samples",
                {
                    "suite": REF,
                    "sample": Sample(id=f"n{k:03d}", image=ImageRef(id=iid), goal=f"g{k}").to_dict(),
                },
            )
            store.append(
                "trajectories",
                Trajectory(suite=REF, sample_id=f"n{k:03d}", system_id=SYSTEMS[0].id, final=iid),
            )
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "samples-stale-9.html").write_text("old")
    index = build_site([tmp_path / "run"], tmp_path / "site")
    pages = sorted(p.name for p in index.parent.glob("samples-*.html"))
    assert len(pages) == 2  # 40 + 25 samples; the stale page is gone
    html = index.read_text()
    assert (
        'class="sample"' not in html and all(p in html for p in pages) and "1–40" in html and "41–65" in html
    )
    seen = []
    for name in pages:
        page = (index.parent / name).read_text()
        seen += re.findall(r'<h3><a href="#[^"]+">(n\d+)</a></h3>', page)
        refs = _Refs()
        refs.feed(page)
        assert all((index.parent / r).is_file() for r in refs.refs if not r.endswith(".html"))
        assert 'href="index.html"' in page
    assert seen == [f"n{k:03d}" for k in range(65)]


def test_missing_and_hostile_image_ids_become_placeholders(tmp_path) -> None:
    store = RunStore.open(tmp_path / "run", create=True)
    store.write_meta({"name": "holes", "components": {"systems": [s.to_dict() for s in SYSTEMS[:2]]}})
    src = store.images.put(_scene(0))
    with store:
        store.append(
            "samples", {"suite": REF, "sample": Sample(id="s", image=ImageRef(id=src), goal="g").to_dict()}
        )
        store.append(
            "trajectories", Trajectory(suite=REF, sample_id="s", system_id=SYSTEMS[0].id, final="f" * 64)
        )
        store.append(
            "trajectories", Trajectory(suite=REF, sample_id="s", system_id=SYSTEMS[1].id, final="../../x")
        )
    index = build_site([tmp_path / "run"], tmp_path / "site")
    html = index.read_text()
    assert html.count('class="card result status-no-image"') == 2 and "Image missing" in html
    assert sorted(p.name for p in (index.parent / "img").iterdir()) == [f"{src}.png", f"{src}.thumb.jpg"]
    assert not (tmp_path / "x").exists()


def test_not_a_run_is_a_clear_error(tmp_path) -> None:
    from bench.errors import StoreError

    with pytest.raises(StoreError):
        build_site([tmp_path], tmp_path / "site")


def test_empty_run_renders(tmp_path) -> None:
    RunStore.open(tmp_path / "run", create=True).write_meta({"name": "empty"})
    html = build_site([tmp_path / "run"], tmp_path / "site").read_text()
    assert "no trajectories yet" in html and math.isfinite(len(html))


# Clicks the SSIM header twice inside an iframe and reports the row order: no WebDriver needed.
_HARNESS = """<!doctype html><html><body><iframe id="f" src="site/index.html"></iframe><pre id="out">pending</pre>
<script>
document.getElementById("f").addEventListener("load", function () {
  try {
    var d = this.contentDocument, th = d.querySelectorAll("table.sortable thead th")[1];
    var order = function () { return Array.prototype.map.call(d.querySelectorAll("table.sortable tbody tr"),
      function (r) { return r.cells[0].getAttribute("data-value"); }); };
    var res = {};
    th.querySelector("button").click(); res.first = order(); res.aria1 = th.getAttribute("aria-sort");
    th.querySelector("button").click(); res.second = order(); res.aria2 = th.getAttribute("aria-sort");
    document.getElementById("out").textContent = JSON.stringify(res);
  } catch (e) { document.getElementById("out").textContent = "ERR " + e; }
});
</script></body></html>"""


def _chromium(*args: str) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=45)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium(site) -> None:
    index, _, _ = site
    shot = Path("/tmp/leaderboard_shot.png")
    shot.unlink(missing_ok=True)
    run = _chromium(f"--screenshot={shot}", "--window-size=1360,2000", index.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, run.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1360, 2000)
        assert len(np.unique(np.asarray(im.convert("L").resize((68, 100))))) > 20  # not a blank page
    dom = _chromium("--virtual-time-budget=3000", "--dump-dom", index.as_uri())
    assert ":CONSOLE" not in dom.stderr, dom.stderr[-2000:]  # no error, no log: the page is silent
    assert '<img src="x"' not in dom.stdout and "<script>alert" not in dom.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_sorting_in_headless_chromium(site) -> None:
    index, _, _ = site
    harness = index.parent.parent / "harness.html"
    harness.write_text(_HARNESS)
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", harness.as_uri())
    m = re.search(r'<pre id="out">(.*?)</pre>', dom.stdout)
    assert m, dom.stderr[-2000:]
    res = json.loads(unescape(m.group(1)))
    evil = f"{IMG}:strength=0.5"
    assert res["aria1"] == "descending" and res["first"] == ["identity", evil, "flaky"]  # best SSIM first
    assert res["aria2"] == "ascending" and res["second"] == ["flaky", evil, "identity"]
