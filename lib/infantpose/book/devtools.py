"""Debian's headless Chromium, found and flagged once, and driven over the DevTools protocol.

:func:`find_chromium` and :data:`CHROMIUM_FLAGS` serve both browser checks: the book check
(:mod:`.html`, one Chromium run per page) and the interactive tests, which need a live page
(:class:`DevToolsPage`: navigate, evaluate JavaScript, wait for a condition, move the mouse,
click, press keys, take full-page screenshots; it keeps the page's exceptions, console errors and
requests). The protocol goes over a WebSocket (``websocket-client``, which
``jupyter_server`` already brings); everything stays on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM_FLAGS", "DevToolsError", "DevToolsPage", "find_chromium"]

#: Flags of every headless run: no network chatter of its own, a fixed window.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--hide-scrollbars", "--window-size=1280,1000",
)  # fmt: skip

INSTALL_HINT = "`make browser` (bash .ci/system-deps.sh chromium) installs Debian's chromium"


def find_chromium() -> str | None:
    """The Chromium executable on PATH (Debian: ``chromium``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class DevToolsError(RuntimeError):
    """The browser did not start, did not answer, or a condition was not met in time."""


#: Key → (code, Windows virtual key code) for the keys the tests press.
def _key_codes(key: str) -> tuple[str, int]:
    if len(key) == 1 and key.isalpha():
        return f"Key{key.upper()}", ord(key.upper())
    if len(key) == 1 and key.isdigit():
        return f"Digit{key}", ord(key)
    return key, 0


class DevToolsPage:
    """One headless Chromium with one page, driven over the DevTools protocol.

    Use it as a context manager; the browser and its temporary profile go away at the end.
    """

    def __init__(self, chromium: str | None = None, *, timeout_s: float = 20.0) -> None:
        import websocket  # jupyter_server's dependency

        chromium = chromium or find_chromium()
        if chromium is None:
            raise DevToolsError(f"headless Chromium is not installed: {INSTALL_HINT}")
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-devtools-")
        self.process = subprocess.Popen(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self._profile.name}",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its renderer and GPU processes go with it
        )
        self._ids = itertools.count(1)
        self.console: list[str] = []  # uncaught exceptions
        self.console_errors: list[str] = []  # console.error / console.assert messages
        self.requests: list[str] = []  # every URL the page asked for, once Network is enabled
        try:
            port = self._wait_for_port(Path(self._profile.name) / "DevToolsActivePort", timeout_s)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            page = next(t for t in targets if t.get("type") == "page")
            self._ws = websocket.create_connection(
                page["webSocketDebuggerUrl"], timeout=timeout_s, suppress_origin=True
            )
            self.send("Page.enable")
            self.send("Runtime.enable")
        except Exception:
            self.close()
            raise

    def _wait_for_port(self, path: Path, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DevToolsError(f"Chromium exited with status {self.process.returncode}")
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(path.read_text().splitlines()[0])
            time.sleep(0.05)
        raise DevToolsError(f"Chromium opened no DevTools port within {timeout_s:.0f} s")

    # ------------------------------------------------------------------ protocol

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result (events on the way are kept)."""
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            self._record(message.get("method"), message.get("params") or {})

    def _record(self, method: str | None, params: dict[str, Any]) -> None:
        """Keep the events the checks read: exceptions, console errors, requests."""
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.console.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            words = (str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console_errors.append(" ".join(words))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise DevToolsError(f"JavaScript error in {expression[:60]!r}: {text}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float = 30.0, what: str = "") -> Any:
        """Evaluate ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(DevToolsError):
                if value := self.evaluate(expression):
                    return value
            if time.monotonic() > deadline:
                raise DevToolsError(f"waited {timeout_s:.0f} s for {what or expression}")
            time.sleep(0.1)

    # ------------------------------------------------------------------ actions

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def move_mouse(self, x: float, y: float) -> None:
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)

    def click(self, x: float, y: float) -> None:
        """A left click at ``x, y`` (CSS pixels of the viewport), after moving there."""
        self.move_mouse(x, y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def press(self, key: str) -> None:
        """Press and release ``key`` (a letter, digit or a DOM key name such as ``Enter``)."""
        code, virtual = _key_codes(key)
        shift = 8 if len(key) == 1 and key.isupper() else 0
        text = key if len(key) == 1 else ""
        common = {"key": key, "code": code, "windowsVirtualKeyCode": virtual, "modifiers": shift}
        self.send("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    def screenshot(
        self, path: str | Path, *, full_page: bool = False, max_height: int = 30000
    ) -> Path:
        """A PNG of the viewport, or of the whole page (up to ``max_height`` CSS pixels)."""
        import base64

        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            height = min(int(size["height"]), max_height)
            params |= {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": int(size["width"]), "height": height, "scale": 1},
            }
        data = self.send("Page.captureScreenshot", **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ws.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # helpers it left behind, if any
        self._profile.cleanup()

    def __enter__(self) -> DevToolsPage:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
