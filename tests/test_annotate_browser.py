"""The annotation page in headless Chromium: rate and rank with the keyboard, reload, export, import.

Chromium is driven with the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (JSON
messages separated by NUL bytes on file descriptors 3 and 4): no websocket library, no driver
binary, no download at test time. Debian's ``chromium`` package is all it needs; without it the
test is skipped. ``EDITBENCH_CHROMIUM`` may name another binary.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bench.labels import blind_token, load_labels, read_labels, validate_labels
from bench.results import load_results
from bench.runner import RunOptions, execute
from bench.spec import parse_spec
from judges.calibration import calibrate
from leaderboard.annotate import build_annotation_page
from suites.folder import load_suite
from tests.fakes.components import make_tiny_suite

CHROMIUM = os.environ.get("EDITBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="headless chromium not installed (apt-get install chromium)"),
]


class Browser:
    """A headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, binary: str, downloads: Path) -> None:
        self.profile = tempfile.mkdtemp(prefix="editbench-chromium-")
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def wire() -> None:  # in the child: Chromium reads commands on fd 3 and answers on fd 4
            # Lift both ends above 4 first: either may itself be fd 3 or 4 and be overwritten.
            high_r, high_w = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}", "--window-size=1280,900", "about:blank"]
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=wire, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id, self.events = b"", 0, []
        self.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads),
                                                  "eventsEnabled": True})
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime"):
            self.send(f"{domain}.enable", session=self.session)

    def _read(self, deadline: float) -> list[dict]:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._r], [], [], max(0.0, deadline - time.time()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        *messages, self._buf = self._buf.split(b"\0")
        return [json.loads(m) for m in messages]

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}, **({"sessionId": session} if session else {})}
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            for m in self._read(deadline):
                if m.get("id") == self._id:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return m.get("result", {})
                self.events.append(m)

    def wait(self, method: str, ok=lambda p: True, timeout: float = 20) -> dict:
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and ok(m.get("params", {})):
                    return self.events.pop(i)["params"]
            self.events += self._read(deadline)

    # -- page helpers --------------------------------------------------------------------
    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url}, self.session)
        self.wait("Page.loadEventFired")

    def reload(self) -> None:
        self.events.clear()
        self.send("Page.reload", {}, self.session)
        self.wait("Page.loadEventFired")

    def js(self, expression: str):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def keys(self, *keys: str) -> None:
        """Press keys as a person would: printable characters, or names like ArrowRight / Enter."""
        codes = {"Enter": ("\r", 13), "Backspace": (None, 8), "ArrowRight": (None, 39), "ArrowLeft": (None, 37),
                 "ArrowDown": (None, 40), "ArrowUp": (None, 38), "Escape": (None, 27)}
        for key in keys:
            text, code = codes[key] if key in codes else (key, ord(key.upper()))
            down = {"type": "keyDown", "key": key, "windowsVirtualKeyCode": code, **({"text": text} if text else {})}
            self.send("Input.dispatchKeyEvent", down, self.session)
            self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "windowsVirtualKeyCode": code}, self.session)

    def type(self, text: str) -> None:
        self.send("Input.insertText", {"text": text}, self.session)

    def errors(self) -> list[dict]:
        return [m for m in self.events if m.get("method") == "Runtime.exceptionThrown"]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture()
def study(tmp_path):
    make_tiny_suite(tmp_path / "suite", n=4)
    systems = [parse_spec(s) for s in ("fake-brighten", "fake-brighten:factor=0.7", "fake-brighten:factor=0.4")]
    s = execute(str(tmp_path / "runs"), [load_suite(tmp_path / "suite")], systems, [parse_spec("fake-diff")],
                RunOptions(executor="inline"))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser = Browser(CHROMIUM, downloads)
    yield s.run_dir, browser, downloads
    browser.close()


def _export(browser: Browser, downloads: Path) -> Path:
    browser.js("document.getElementById('export').click()")
    done = browser.wait("Browser.downloadProgress", lambda p: p.get("state") in ("completed", "canceled"))
    assert done["state"] == "completed"
    path = Path(done.get("filePath") or max(downloads.iterdir(), key=lambda f: f.stat().st_mtime))
    kept = downloads.parent / f"export-{len(list(downloads.parent.glob('export-*')))}-{path.name}"
    shutil.move(path, kept)  # out of the download folder, so the next export cannot be confused with it
    return kept


def _progress(browser: Browser) -> str:
    return browser.js("document.getElementById('progress-text').textContent")


def test_rate_with_keyboard_reload_keeps_labels_export_imports(tmp_path, study):
    run_dir, browser, downloads = study
    index = build_annotation_page([run_dir], tmp_path / "page", mode="rate", limit=3)
    browser.open(index.as_uri())
    assert browser.js("document.getElementById('modal').hidden") is False  # asks who is annotating
    browser.type("alice")
    browser.keys("Enter")
    assert browser.js("document.getElementById('who-name').textContent") == "alice"
    assert _progress(browser) == "0 / 9 complete"
    order = browser.js("[0,1,2].map(function(i){return window.editbenchAnnotate.order(i)[0]})")
    browser.keys("1", "1", "2", "3")  # result 1: edit pass, plan pass, reasoning partial, overall fail -> next
    assert browser.js("window.editbenchAnnotate.position()") == 1
    browser.keys("3", "3", "3", "3", "2")  # result 2 all fail -> next; result 3: edit quality partial
    assert _progress(browser) == "2 / 9 complete"
    browser.keys("ArrowDown", "ArrowDown", "ArrowDown", "0")  # result 3: overall "can't judge"

    browser.reload()
    assert browser.js("document.getElementById('modal').hidden") is True  # the annotator is remembered
    assert _progress(browser) == "2 / 9 complete"
    assert browser.js("window.editbenchAnnotate.position()") == 2
    chosen = browser.js("Array.prototype.map.call(document.querySelectorAll('.dim'), function(d){"
                        "var c = d.querySelector('.chosen'); return c ? c.textContent : ''})")
    assert "partial" in chosen[0] and chosen[1] == chosen[2] == "" and "can't judge" in chosen[3]
    assert browser.js("[0,1,2].map(function(i){return window.editbenchAnnotate.order(i)[0]})") == order
    key = browser.js("window.editbenchAnnotate.storageKey()")
    assert key.startswith("editbench-annotate/v1/") and key.endswith("/rate/alice")

    exported = _export(browser, downloads)
    assert "labels-rate-alice-" in exported.name
    res = load_results([run_dir])
    labels = validate_labels(read_labels(exported), res)
    assert len(labels) == 10 and labels.annotators == ["alice"] and labels.files[0].blinded
    by_system = {}
    for lab in labels.labels:
        assert lab.system_id in res.systems and lab.task == "rate" and lab.sample_id == "s0"
        by_system.setdefault(lab.system_id, {})[lab.dimension] = lab.value
    assert sorted(by_system.values(), key=len, reverse=True) == [
        {"edit_quality": "pass", "plan_quality": "pass", "reasoning_quality": "partial", "overall": "fail"},
        {"edit_quality": "fail", "plan_quality": "fail", "reasoning_quality": "fail", "overall": "fail"},
        {"edit_quality": "partial", "overall": "undecidable"},
    ]

    # A second annotator on the same page: a fresh start, another order, and the exports merge.
    browser.js("document.getElementById('switch').click()")
    browser.js("document.getElementById('who-input').value = ''")
    browser.js("document.getElementById('who-input').focus()")
    browser.type("bob")
    browser.keys("Enter")
    assert _progress(browser) == "0 / 9 complete"
    orders = browser.js("[0,3,6].map(function(i){return window.editbenchAnnotate.order(i)[0]})")
    browser.keys("2", "2", "2", "2")
    bob = _export(browser, downloads)
    merged = validate_labels(load_labels([exported, bob]), res)
    assert merged.annotators == ["alice", "bob"] and len(merged) == 14
    assert browser.errors() == []
    # The item order is per annotator: alice's first three results (sample s0) start elsewhere.
    browser.js("document.getElementById('switch').click()")
    browser.js("document.getElementById('who-input').value = 'alice'")
    browser.js("document.getElementById('who-form').requestSubmit()")
    alice_orders = browser.js("[0,3,6].map(function(i){return window.editbenchAnnotate.order(i)[0]})")
    assert alice_orders != orders and _progress(browser) == "2 / 9 complete"


def test_rank_mode_shuffles_ranks_rates_winner_and_calibrates(tmp_path, study):
    run_dir, browser, downloads = study
    index = build_annotation_page([run_dir], tmp_path / "rank", mode="rank", top=2)
    browser.open(index.as_uri())
    browser.type("carol")
    browser.keys("Enter")
    assert _progress(browser) == "0 / 4 complete"
    shown = browser.js("window.editbenchAnnotate.order(0)")
    browser.keys("1")  # rating before ranking is refused
    assert "rank the best 2 first" in browser.js("document.getElementById('saved').textContent")
    browser.keys("c", "a", "Backspace", "b")  # C first, A second, take A back, B second
    browser.keys("1", "2", "1")  # the winner: visual pass, instruction partial, overall pass -> next sample
    assert browser.js("window.editbenchAnnotate.position()") == 1 and _progress(browser) == "1 / 4 complete"
    browser.keys("a", "b", "3", "3", "3")
    browser.reload()
    assert _progress(browser) == "2 / 4 complete"
    exported = _export(browser, downloads)
    res = load_results([run_dir])
    labels = validate_labels(read_labels(exported), res)
    rankings = {lab.sample_id: lab for lab in labels.labels if lab.is_ranking}
    assert set(rankings) == {"s0", "s1"} and len(labels) == 8
    s0 = rankings["s0"]
    assert len(s0.ranking) == 2 and len(s0.candidates) == 3 and s0.task == "rank"
    token_of = {blind_token("tiny@1", "s0", sid): sid for sid in res.systems}
    assert s0.ranking == (token_of[shown[2]], token_of[shown[1]])  # letters C then B
    winner = {lab.dimension: lab.value for lab in labels.labels if lab.sample_id == "s0" and not lab.is_ranking}
    assert {lab.system_id for lab in labels.labels if lab.sample_id == "s0" and not lab.is_ranking} == {s0.ranking[0]}
    assert winner == {"visual_quality": "pass", "instruction_following": "partial", "overall": "pass"}
    # Another annotator sees the candidates in other orders (seeded by annotator and sample).
    carol = [browser.js(f"window.editbenchAnnotate.order({i})") for i in range(4)]
    browser.js("document.getElementById('switch').click()")
    browser.js("document.getElementById('who-input').value = 'dave'")
    browser.js("document.getElementById('who-form').requestSubmit()")
    dave = [browser.js(f"window.editbenchAnnotate.order({i})") for i in range(4)]
    assert dave != carol and all(sorted(d) == sorted(c) for d, c in zip(dave, carol, strict=True))
    assert _progress(browser) == "0 / 4 complete"
    rep = calibrate(labels, res, n_resamples=20)
    assert set(rep.judges["source"]) == {"rankings"} and rep.wins["rankings"].sum() == 6
    assert browser.errors() == []
