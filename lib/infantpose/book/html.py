"""Build the HTML book with Jupyter Book 1 and check that it is self-contained."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from ..config import project_root
from .chapters import ChapterFailed
from .devtools import CHROMIUM_FLAGS, INSTALL_HINT, find_chromium

_ASSET_TAG = re.compile(
    r"<(script|img|iframe|source|video|audio|embed|link)\b[^>]*>", re.IGNORECASE
)
_ATTRIBUTE = re.compile(r"""\b(src|href|rel)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "icon", "manifest"}


def remote_assets(html_dir: Path) -> list[str]:
    """Scripts, styles, images or frames that a built page would fetch from the network.

    A cheap static scan run after every build; :func:`check_in_browser` is the
    end-to-end check. Plain hyperlinks (``<a href>``, ``<link rel="canonical">``) are
    not requests and are not reported.
    """
    found = []
    for page in sorted(html_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for tag in _ASSET_TAG.finditer(text):
            attrs = {k.lower(): v for k, v in _ATTRIBUTE.findall(tag.group(0))}
            if tag.group(1).lower() == "link":
                if not _FETCHED_LINKS & set(attrs.get("rel", "").lower().split()):
                    continue
                url = attrs.get("href", "")
            else:
                url = attrs.get("src", "")
            if url.startswith(("http://", "https://", "//")):
                found.append(f"{page.relative_to(html_dir)}: <{tag.group(1)}> {url}")
    return found


def build_html(root: Path | None = None) -> Path:
    """Build the book with warnings as errors; fail if a page would load a remote asset."""
    root = root or project_root()
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(executable), "build", str(root / "book"), "--config", str(root / "_config.yml"),
        "--toc", str(root / "book" / "_toc.yml"), "--path-output", str(root), "--all", "-W", "-n", "--keep-going",
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=root)
    html_dir = root / "_build" / "html"
    remote = remote_assets(html_dir)
    if remote:
        raise ChapterFailed(
            "the built book would load assets from the network:\n  " + "\n  ".join(remote)
        )
    return html_dir


# ---------------------------------------------------------------- opened as a reader would

_CHROMIUM_FLAGS = (
    *CHROMIUM_FLAGS,
    "--virtual-time-budget=8000",
    "--enable-logging=stderr",
    "--v=0",
)
_LOCAL_SCHEMES = ("data:", "blob:", "about:", "chrome:", "chrome-extension:", "devtools:")


@dataclass
class PageCheck:
    page: str
    external_requests: list[str]
    js_errors: list[str]
    plotly_figures: int
    screenshot: Path
    missing_files: list[str] = field(default_factory=list)  # local requests answered 404
    unrendered_math: bool = False  # the page has formulas and MathJax typeset none of them

    @property
    def problems(self) -> list[str]:
        return (
            [f"request to {u}" for u in self.external_requests]
            + [f"JS error {e}" for e in self.js_errors]
            + [f"missing file {m}" for m in self.missing_files]
            + (["formulas were not typeset by MathJax"] if self.unrendered_math else [])
        )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # Chromium drops connections it no longer needs (e.g. its own favicon request) while we
        # answer; that is not an error of the book, and its traceback would only be noise.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _serve(html_dir: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = partial(_QuietHandler, directory=str(html_dir))
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the book silently and remembers every path it could not find."""

    missing: ClassVar[list[str]] = []

    def log_message(self, format, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        if code == 404 and self.path != "/favicon.ico":  # the browser asks for it by itself
            type(self).missing.append(self.path)
        super().send_error(code, message, explain)


def _page_requests(netlog: Path, origin: str) -> set[str]:
    """URLs the page itself requested, read from Chromium's network log.

    Chromium's own background traffic (update checks, account lookups) carries no
    network-isolation key of the page's site, so it is not held against the book.
    """
    try:
        events = json.loads(netlog.read_text(errors="replace"))["events"]
    except (OSError, json.JSONDecodeError, KeyError) as err:
        raise ChapterFailed(f"could not read Chromium's network log {netlog}: {err}") from None
    site = origin.rsplit(":", 1)[0]  # the key names the site (scheme + host), without the port
    return {
        params["url"]
        for params in (event.get("params") or {} for event in events)
        if "url" in params and str(params.get("network_isolation_key", "")).startswith(site)
    }


def open_page(url: str, origin: str, screenshot: Path, chromium: str = "chromium") -> PageCheck:
    """Load one page in headless Chromium; report requests leaving ``origin``, JS errors, plots."""
    runs, urls = [], set()
    for action in (f"--screenshot={screenshot}", "--dump-dom"):
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            netlog = Path(profile) / "netlog.json"
            flags = [*_CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}"]
            runs.append(
                subprocess.run(
                    [chromium, *flags, action, url], capture_output=True, text=True, timeout=120
                )
            )
            urls |= _page_requests(netlog, origin)
    shot, dom = runs
    external = sorted(
        u for u in urls if not u.startswith(origin) and not u.startswith(_LOCAL_SCHEMES)
    )
    errors = [
        line.strip()
        for line in (shot.stderr + dom.stderr).splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
    ]
    has_math = 'class="math' in dom.stdout
    typeset = 'class="MathJax' in dom.stdout
    return PageCheck(
        url,
        external,
        errors,
        dom.stdout.count('class="plotly-graph-div'),
        screenshot,
        unrendered_math=has_math and not typeset,
    )


def check_in_browser(
    html_dir: Path | None = None, screenshot_dir: Path | None = None
) -> list[PageCheck]:
    """Open every page of the built book in headless Chromium, served from localhost.

    Fails (``ChapterFailed``) when a page requests anything from another origin, asks
    for a file the book does not contain, logs a JavaScript error, or shows formulas
    that MathJax did not typeset; screenshots land in ``_build/screenshots/``.
    """
    root = project_root()
    html_dir = html_dir or root / "_build" / "html"
    screenshot_dir = screenshot_dir or root / "_build" / "screenshots"
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    if chromium is None:
        raise ChapterFailed(f"headless Chromium is needed to check the book: {INSTALL_HINT}")
    skip = {"genindex.html", "search.html"}
    pages = sorted(
        p for p in html_dir.rglob("*.html") if p.name not in skip and "_static" not in p.parts
    )
    server, origin = _serve(html_dir)
    try:
        checks = []
        for page in pages:
            rel = page.relative_to(html_dir).as_posix()
            shot = screenshot_dir / (rel.replace("/", "__").removesuffix(".html") + ".png")
            _QuietHandler.missing.clear()
            check = open_page(f"{origin}/{rel}", origin, shot, chromium)
            check.missing_files = sorted(set(_QuietHandler.missing))
            checks.append(check)
    finally:
        server.shutdown()
    problems = [f"{c.page}: " + "; ".join(c.problems) for c in checks if c.problems]
    if problems:
        raise ChapterFailed("the book does not work offline:\n  " + "\n  ".join(problems))
    return checks
