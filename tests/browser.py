"""A small driver for headless Chromium, for browser tests: no WebDriver, no websocket, no download.

Chromium speaks the DevTools protocol over ``--remote-debugging-pipe``: JSON messages separated by
NUL bytes, read from file descriptor 3 and written to 4. :class:`Browser` starts it with one
page (a fresh profile in a temporary folder), and collects what tests need to see: console
messages and uncaught exceptions (``errors``), failed resource loads, and JavaScript dialogs
(``dialogs`` — an ``alert()`` from an XSS payload lands here and is dismissed at once).

Usage::

    with Browser() as b:
        b.open(index.as_uri())
        assert b.eval("document.querySelectorAll('tr').length") > 3
        b.screenshot(path)
        assert not b.errors

``CHROMIUM`` is Debian's ``/usr/bin/chromium`` or whatever ``EDITBENCH_CHROMIUM`` names; tests
skip themselves when it is ``None``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM: str | None = (
    os.environ.get("EDITBENCH_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
)


class BrowserError(RuntimeError):
    """The browser died, timed out, or answered a command with an error."""


class Browser:
    """One headless Chromium with one page, driven over the DevTools pipe (a context manager)."""

    def __init__(
        self, *, width: int = 1360, height: int = 900, binary: str | None = None, timeout: float = 30.0
    ) -> None:
        binary = binary or CHROMIUM
        if not binary:
            raise BrowserError("no chromium binary (install Debian's chromium or set EDITBENCH_CHROMIUM)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="editbench-chromium-")
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def wire() -> None:  # in the child, before exec: commands on fd 3, replies on fd 4
            # Lift both ends above 4 first: either may itself be fd 3 or 4 and be overwritten.
            r = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--hide-scrollbars",
            "--mute-audio",
            "--allow-file-access-from-files",
            "--remote-debugging-pipe",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0
        self._events: list[dict[str, Any]] = []
        self.errors: list[str] = []  # console errors/warnings, uncaught exceptions, failed loads
        self.console: list[str] = []  # every console message, as "type: text"
        self.dialogs: list[str] = []  # alert/confirm/prompt messages (each dismissed)
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    # -- protocol --------------------------------------------------------------------------
    def _send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._w, data)
            data = data[n:]

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("timed out waiting for chromium")
            ready, _, _ = select.select([self._r], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed the pipe (crashed?)")
                self._buf += chunk
            elif self.proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self.proc.returncode}")
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _handle(self, msg: dict[str, Any]) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append(f"{p.get('type')}: {text}")
            if p.get("type") in ("error", "warning", "assert"):
                self.errors.append(f"console.{p.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") in ("error", "warning"):
                self.errors.append(f"log.{e.get('level')}: {e.get('text')} {e.get('url', '')}".strip())
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(str(p.get("message")))
            self._send(
                {
                    "id": self._next(),
                    "method": "Page.handleJavaScriptDialog",
                    "params": {"accept": False},
                    "sessionId": self.session,
                }
            )
        self._events.append(msg)

    def _next(self) -> int:
        self._id += 1
        return self._id

    def _call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        mid = self._next()
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._send(msg)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == mid:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._handle(reply)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command on the page's session; returns its result."""
        return self._call(method, params, self.session)

    def pump(self, seconds: float = 0.05) -> None:
        """Let events arrive (console messages, dialogs) for a moment."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            self._buf += os.read(self._r, 1 << 20)
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "method" in msg:
                    self._handle(msg)

    # -- page ------------------------------------------------------------------------------
    def eval(self, expression: str, *, await_promise: bool = False) -> Any:
        """Evaluate JavaScript in the page and return its value (JSON-serialisable results)."""
        r = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError(
                f"evaluation failed: {d.get('exception', {}).get('description') or d.get('text')}"
            )
        return r.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Poll ``expression`` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for: {expression}")
            self.pump(0.05)

    def open(self, url: str, *, timeout: float = 20.0) -> float:
        """Navigate and wait for the load event (and pending lazy work); returns seconds to load."""
        t0 = time.monotonic()
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {r['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout)
        self.pump(0.1)
        return time.monotonic() - t0

    def click(self, selector: str) -> None:
        """``element.click()`` on the first match of ``selector`` (an error when there is none)."""
        ok = self.eval(
            f"(function(){{var e=document.querySelector({json.dumps(selector)}); if(!e) return false; e.click(); return true;}})()"
        )
        if not ok:
            raise BrowserError(f"nothing matches {selector!r}")
        self.pump(0.05)

    def screenshot(self, path: str | os.PathLike, *, full_page: bool = False) -> Path:
        """A PNG of the viewport (or the whole page) at ``path``."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], 16000),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        try:
            self._call("Browser.close")
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
