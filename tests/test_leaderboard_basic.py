"""The leaderboard built from a run store written by hand here (no runner, no suite code).

The store holds hostile strings (a goal with ``<script>``, a system name with ``<img onerror>``, a
rationale and an error with markup), a failed trajectory, an unscored judgement and real SSIM/PSNR
judgements, so the tests check escaping, the score table's numbers and counts, the comparison data
and the image files. Pages: ``index.html`` (overview), ``suite-*.html`` (the per-score table),
``compare.html`` with its data in ``data-cmp-*.js`` (the comparison rows the page draws).
"""

from __future__ import annotations

import json
import math
import shutil
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
from tests.browser import CHROMIUM

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SUITE = SuiteInfo(name="tiny", version="1", description="hand-made <b>suite</b>", hash="ab" * 32, size=3)
REF = SUITE.ref


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
        self._depth = 0  # > 0 inside a table.scores
        self._in_body = False
        self._cell: list[str] | None = None
        self._value: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            if self._depth or "scores" in (a.get("class") or "").split():
                self._depth += 1
            return
        if not self._depth:
            return
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell, self._value = [], a.get("data-value")

    def handle_endtag(self, tag):
        if tag == "table" and self._depth:
            self._depth -= 1
        elif tag == "tbody":
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
            self.refs.append(a["href"].split("#", 1)[0])
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])


def read_chunk(path: Path) -> object:
    """The JSON value a ``data-*.js`` file assigns (the file is ``(...)["name"] = <json>;``)."""
    text = path.read_text(encoding="ascii")
    body = text[text.index("] = ") + 4 :].rstrip().rstrip(";")
    return json.loads(body)


def compare_rows(site_dir: Path) -> list[dict]:
    rows = []
    for chunk in sorted(site_dir.glob("data-cmp-*.js")):
        rows += read_chunk(chunk)["samples"]
    return rows


def suite_page(site_dir: Path) -> str:
    [page] = site_dir.glob("suite-*.html")
    return page.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, str, dict]:
    root = tmp_path_factory.mktemp("lb")
    values = make_store(root / "run")
    index = build_site([root / "run"], root / "site", title="Tiny <em>board</em>")
    return index, index.read_text(encoding="utf-8"), values


def test_user_strings_are_escaped(site) -> None:
    index, html, _ = site
    pages = {p.name: p.read_text(encoding="utf-8") for p in index.parent.glob("*.html")}
    chunks = {p.name: p.read_text(encoding="ascii") for p in index.parent.glob("data-*.js")}
    assert {"index.html", "compare.html", "trajectory.html"} <= set(pages) and len(pages) == 4
    for raw in (SCRIPT, IMG, "<b>markup</b>", "<i>snow</i>", "<u>t</u>", "<b>suite</b>", "<em>board</em>"):
        for name, text in {**pages, **chunks}.items():
            assert raw not in text, (raw, name)
    for text in chunks.values():  # data chunks hold no markup character at all
        assert "<" not in text and ">" not in text and "&" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # a system's description on the overview
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Tiny &lt;em&gt;board&lt;/em&gt;" in html
    goals = [r["goal"] for r in compare_rows(index.parent)]
    assert "Add <i>snow</i> & fog" in goals  # kept as text in the data; the page sets it as text
    assert f"Make it warmer {SCRIPT}" in goals
    for name, text in pages.items():
        # The only inline script is the page's own (its hash is in the page's policy), plus data
        # chunks loaded from the site's own files; no inline event handler anywhere.
        tags = _Tags()
        tags.feed(text)
        assert not [a for a in tags.attrs if a.startswith("on")], name
        assert text.count("<script>") == 1, name
        assert (
            "Content-Security-Policy" in text
            and "'unsafe-inline'" not in text.split("script-src")[1].split(";")[0]
        )
        assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere
        assert 'type="module"' not in text and "fetch(" not in text
    assert html.count("<script") == 1
    tags = _Tags()
    tags.feed(html)
    assert tags.counts["script"] == 1 and "img" not in tags.counts  # the overview shows numbers, no images
    rows = compare_rows(index.parent)
    images = sum(1 for r in rows if r["src"]) + sum(1 for r in rows for x in r["res"] if x.get("img"))
    assert images == 3 + 9 - 1  # sources + results, one failed


def test_table_numbers_and_counts(site) -> None:
    index, _, values = site
    parser = _Tables()
    parser.feed(suite_page(index.parent))
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
    rows = compare_rows(index.parent)
    meta = read_chunk(index.parent / "data-meta.js")
    results = [r for row in rows for r in row["res"]]
    assert len(rows) == 3
    assert sum(r["st"] == "ok" for r in results) == 8
    assert sum(r["st"] == "failed" for r in results) == 1
    [failed] = [r for r in results if r["st"] == "failed"]
    assert failed["err"] == f"ToolError: crashed on {SCRIPT}"
    checklist = [c[2] for row in rows for c in row["checklist"]]
    assert "keep the circles" in checklist and f"warm tones {IMG}" in checklist
    trj = read_chunk(next(index.parent.glob("data-trj-*.js")))
    notes = [j["rationale"] for t in trj["trajectories"].values() for j in t["judgements"]]
    assert any(
        "resized" in n for n in notes
    )  # flaky's larger result: the alignment note travels in the rationale
    verdicts = [v for r in results for v in r.get("vd", [])]
    assert sum(v[1] == "pass" for v in verdicts) == 3 and sum(v[1] == "fail" for v in verdicts) == 3
    assert {meta["judges"][v[2]]["name"] for v in verdicts} == {"checks.333333333333"}
    assert "2025-01-02 03:09 UTC" in html and "abababababab" in html and "hand-made" in html


def test_every_referenced_image_exists(site) -> None:
    index, html, _ = site
    for page in index.parent.glob("*.html"):
        refs = _Refs()
        refs.feed(page.read_text(encoding="utf-8"))
        assert all(refs.lazy)
        for ref in refs.refs:
            assert not ref.startswith("/") and ".." not in ref
            assert (index.parent / ref).is_file(), (page.name, ref)
    ids = set()
    for row in compare_rows(index.parent):
        ids |= {row["src"]["id"]} | {r["img"]["id"] for r in row["res"] if r.get("img")}
    for image_id in ids:
        assert (index.parent / "img" / f"{image_id}.png").is_file()
        assert (index.parent / "img" / f"{image_id}.thumb.jpg").is_file()
    thumbs = list((index.parent / "img").glob("*.thumb.jpg"))
    fulls = list((index.parent / "img").glob("*.png"))
    assert len(thumbs) == len(fulls) == len(ids) == 3 + 3 + 2  # sources (= identity results), evil, flaky
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
    parser.feed(suite_page(index.parent))
    identity = next(r for r in parser.rows if r[0][0] == "identity")
    assert float(identity[2][0]) == pytest.approx((50.0 + 100.0 + 100.0) / 3)
    assert "second" in html and "hand-made" in html

    def snapshot() -> dict[str, bytes]:
        return {
            str(p.relative_to(index.parent)): p.read_bytes()
            for p in sorted(index.parent.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    again = build_site([tmp_path / "a", tmp_path / "b"], tmp_path / "site")
    assert again.read_text() == html and snapshot() == before  # deterministic rebuild, data included


def test_large_runs_chunk_the_data(tmp_path) -> None:
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
    (tmp_path / "site" / "data-cmp-999.js").write_text("old")
    (tmp_path / "site" / "samples-stale-9.html").write_text("old")
    index = build_site([tmp_path / "run"], tmp_path / "site")
    chunks = sorted(p.name for p in index.parent.glob("data-cmp-*.js"))
    assert chunks == ["data-cmp-000.js", "data-cmp-001.js"]  # 50 + 15 samples; the stale files are gone
    assert not (index.parent / "samples-stale-9.html").exists()
    assert sorted(p.name for p in index.parent.glob("data-trj-*.js")) == [
        "data-trj-000.js",
        "data-trj-001.js",
    ]
    compare = (index.parent / "compare.html").read_text()
    assert all(f'<script src="{c}"></script>' in compare for c in chunks)
    seen = [row["id"] for row in compare_rows(index.parent)]
    assert seen == [f"n{k:03d}" for k in range(65)]
    assert [row["i"] for row in compare_rows(index.parent)] == list(range(65))


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
    [row] = compare_rows(index.parent)
    assert [r["st"] for r in row["res"]] == ["no-image", "no-image"]
    assert all(r["img"] is None and "not found" in r["err"] for r in row["res"])
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


@pytest.fixture(scope="module")
def browser():
    from tests.browser import Browser

    with Browser(width=1360, height=2000) as b:
        yield b


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium(site, browser) -> None:
    index, _, _ = site
    shot = index.parent.parent / "leaderboard_shot.png"
    shot.unlink(missing_ok=True)
    browser.open(index.as_uri())
    browser.screenshot(shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    with Image.open(shot) as im:
        assert im.size == (1360, 2000)
        assert len(np.unique(np.asarray(im.convert("L").resize((68, 100))))) > 20  # not a blank page
    dom = browser.eval("document.documentElement.outerHTML")
    assert not browser.console and not browser.errors, browser.errors  # no error, no log: the page is silent
    assert '<img src="x"' not in dom and "<script>alert" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_sorting_in_headless_chromium(site, browser) -> None:
    """Clicks the SSIM header of the suite's score table twice and reads the row order."""
    index, _, _ = site
    browser.open(next(index.parent.glob("suite-*.html")).as_uri())
    order = "Array.from(document.querySelectorAll('table.scores tbody tr')).map(r => r.cells[0].getAttribute('data-value'))"
    th = "document.querySelectorAll('table.scores thead th')[1]"
    res = {}
    browser.eval(f"{th}.querySelector('button').click()")
    res["first"], res["aria1"] = browser.eval(order), browser.eval(f"{th}.getAttribute('aria-sort')")
    browser.eval(f"{th}.querySelector('button').click()")
    res["second"], res["aria2"] = browser.eval(order), browser.eval(f"{th}.getAttribute('aria-sort')")
    evil = f"{IMG}:strength=0.5"
    assert res["aria1"] == "descending" and res["first"] == ["identity", evil, "flaky"]  # best SSIM first
    assert res["aria2"] == "ascending" and res["second"] == ["flaky", evil, "identity"]
    assert not browser.errors
