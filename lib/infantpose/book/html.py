"""Build the HTML book with Jupyter Book 1 and check that it is self-contained."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from ..config import project_root
from .chapters import ChapterFailed
from .devtools import INSTALL_HINT, DevToolsError, DevToolsPage, find_chromium
from .outputs import slim_executed_copies, widget_manager_served

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
    """Build the book with warnings as errors; fail if a page would load a remote asset.

    The executed chapters are slimmed first (:func:`.outputs.slim_executed_copies`), so that
    copies executed before the book dropped inlined plotly.js and dead widget state build
    as light as new ones.
    """
    root = root or project_root()
    slim_executed_copies(
        root / "book" / "notebooks", widget_manager=widget_manager_served(root / "_config.yml")
    )
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(executable), "build", str(root / "book"), "--config", str(root / "_config.yml"),
        "--toc", str(root / "book" / "_toc.yml"), "--path-output", str(root), "--all", "-W", "-n", "--keep-going",
    ]  # fmt: skip
    html_dir = root / "_build" / "html"
    # Every page is rebuilt anyway (--all); starting empty leaves no file of an earlier
    # build behind (a removed page, _sources/, assets the book no longer ships).
    shutil.rmtree(html_dir, ignore_errors=True)
    subprocess.run(command, check=True, cwd=root)
    remote = remote_assets(html_dir)
    if remote:
        raise ChapterFailed(
            "the built book would load assets from the network:\n  " + "\n  ".join(remote)
        )
    return html_dir


# ---------------------------------------------------------------- opened as a reader would

_LOCAL_SCHEMES = ("data:", "blob:", "about:", "chrome:", "chrome-extension:", "devtools:")
_WAIT_S = 20.0  # for figures, formulas and images to appear once the page has loaded
_LOAD_S = 240.0  # for a page to load: a chapter of figures takes ~90 s on 2 busy cores

# Every plotly figure on the page, and why it did not draw ("" when it did): plotly ran
# (`_fullLayout`), there is a visible trace, its SVG exists, every 3D scene has a WebGL plot
# and every 2D trace left marks in the SVG.
_FIGURES_JS = """
[...document.querySelectorAll('.plotly-graph-div')].map((gd, i) => {
  const name = gd.id ? `figure ${i + 1} (#${gd.id})` : `figure ${i + 1}`;
  const full = gd._fullLayout;
  if (!full) return [name, 'plotly never drew it'];
  const traces = (gd._fullData || []).filter(t => t.visible === true);
  if (!traces.length) return [name, 'it has no visible trace'];
  if (!gd.querySelector('svg.main-svg')) return [name, 'it has no SVG'];
  const scenes = Object.keys(full).filter(k => /^scene\\d*$/.test(k));
  for (const key of scenes) {
    const scene = full[key]._scene;
    if (!scene || !scene.glplot) return [name, `its 3D ${key} has no WebGL plot`];
  }
  const flat = traces.filter(t => !(t._module && t._module.basePlotModule &&
                                    t._module.basePlotModule.name === 'gl3d'));
  const marks = gd.querySelectorAll(
    '.main-svg .trace, .main-svg .hm, .main-svg .slice, .main-svg .table-control-view');
  if (flat.length && !marks.length) return [name, 'its SVG holds no trace'];
  return [name, ''];
})
"""
_READY_JS = """
document.readyState === 'complete'
  && [...document.querySelectorAll('.plotly-graph-div')].every(gd => gd._fullLayout)
  && (!document.querySelector('.math') || !!document.querySelector('mjx-container'))
  && [...document.images].every(img => img.complete)
"""
_IMAGES_JS = """
[...document.images].filter(img => !(img.complete && img.naturalWidth > 0))
                    .map(img => img.getAttribute('src'))
"""


@dataclass
class PageCheck:
    page: str
    external_requests: list[str]
    js_errors: list[str]
    plotly_figures: int
    screenshot: Path
    missing_files: list[str] = field(default_factory=list)  # local requests answered 404
    unrendered_math: bool = False  # the page has formulas and MathJax typeset none of them
    loaded: bool = True  # the page finished loading within _LOAD_S
    figures_not_drawn: list[str] = field(default_factory=list)  # "figure 2 did not draw: why"
    broken_images: list[str] = field(default_factory=list)  # <img> that did not load
    broken_links: list[str] = field(default_factory=list)  # local <a href> with no target

    @property
    def problems(self) -> list[str]:
        return (
            ([] if self.loaded else [f"it did not finish loading within {_LOAD_S:.0f} s"])
            + [f"request to {u}" for u in self.external_requests]
            + [f"JS error {e}" for e in self.js_errors]
            + [f"missing file {m}" for m in self.missing_files]
            + (["formulas were not typeset by MathJax"] if self.unrendered_math else [])
            + [f"plotly {f}" for f in self.figures_not_drawn]
            + [f"image {i} did not load" for i in self.broken_images]
            + [f"broken link {link}" for link in self.broken_links]
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


class _Anchors:
    """The ids and names a built page offers as link targets, read once per file."""

    _ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")

    def __init__(self) -> None:
        self._cache: dict[Path, set[str]] = {}

    def __call__(self, page: Path) -> set[str]:
        if page not in self._cache:
            text = page.read_text(encoding="utf-8", errors="replace")
            self._cache[page] = set(self._ID.findall(text))
        return self._cache[page]


def broken_links(
    links: list[str], page_url: str, origin: str, html_dir: Path, anchors: _Anchors, here: set[str]
) -> list[str]:
    """Links into the book whose file does not exist or whose ``#fragment`` names no element.

    ``here`` holds the ids of the page as the browser built it (script-made anchors count).
    Links to other sites are not followed: the book is checked offline.
    """
    broken = []
    for link in dict.fromkeys(links):
        if not link.startswith(origin + "/"):
            continue
        parts = urlsplit(link)
        path = unquote(parts.path).lstrip("/")
        target = html_dir / path
        if path == "" or path.endswith("/"):
            target = target / "index.html"
        same_page = link.split("#", 1)[0] == page_url.split("#", 1)[0]
        if not target.is_file():
            broken.append(f"{link.removeprefix(origin)} (no such file)")
        elif parts.fragment and unquote(parts.fragment) not in (
            here if same_page else anchors(target)
        ):
            broken.append(f"{link.removeprefix(origin)} (no element #{unquote(parts.fragment)})")
    return broken


def open_page(
    page: DevToolsPage,
    url: str,
    origin: str,
    screenshot: Path,
    html_dir: Path,
    anchors: _Anchors | None = None,
) -> PageCheck:
    """Load one page as a reader would and report what did not work (see :class:`PageCheck`)."""
    anchors = anchors or _Anchors()
    page.evaluate("1")  # read the previous page's last events before counting this one's
    n_exceptions, n_errors = len(page.console), len(page.console_errors)
    page.requests.clear()
    page.evaluate("window.__leaving = true")  # gone once the new page (or its redirect) is in
    page.navigate(url)
    try:
        page.wait_for("!window.__leaving && document.readyState === 'complete'", _LOAD_S)
        loaded = True
    except DevToolsError:  # reported; what did load is still checked
        loaded = False
    page.evaluate("document.querySelectorAll('img[loading]').forEach(i => i.loading = 'eager')")
    with contextlib.suppress(DevToolsError):  # a page that never settles is reported below
        page.wait_for(_READY_JS, _WAIT_S, what="figures, formulas and images")
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    figures = page.evaluate(_FIGURES_JS) or []
    images = page.evaluate(_IMAGES_JS) or []
    unrendered_math = page.evaluate(
        "!!document.querySelector('.math') && !document.querySelector('mjx-container')"
    )
    links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)") or []
    here = set(page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)") or [])
    here |= set(page.evaluate("[...document.querySelectorAll('a[name]')].map(e => e.name)") or [])
    page.screenshot(screenshot, full_page=True)
    page.evaluate("1")
    external = sorted({u for u in page.requests if not u.startswith((origin, *_LOCAL_SCHEMES))})
    errors = page.console[n_exceptions:] + [
        f"console.error: {e}" for e in page.console_errors[n_errors:]
    ]
    return PageCheck(
        url,
        external,
        errors,
        len(figures),
        screenshot,
        unrendered_math=bool(unrendered_math),
        loaded=loaded,
        figures_not_drawn=[f"{name} did not draw: {why}" for name, why in figures if why],
        broken_images=images,
        broken_links=broken_links(links, url, origin, html_dir, anchors, here),
    )


def check_in_browser(
    html_dir: Path | None = None, screenshot_dir: Path | None = None
) -> list[PageCheck]:
    """Open every page of the built book in headless Chromium, served from localhost.

    Fails (``ChapterFailed``) when a page requests anything from another origin, asks for
    a file the book does not contain, logs a JavaScript error, shows formulas MathJax did
    not typeset, has a plotly figure that did not draw, an image that did not load, or a
    link into the book that leads nowhere. Full-page screenshots land in
    ``_build/screenshots/`` (git-ignored with the rest of ``_build``).
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
    anchors = _Anchors()
    try:
        with DevToolsPage(chromium, timeout_s=_LOAD_S) as browser:
            browser.send("Network.enable")
            checks = []
            for page in pages:
                rel = page.relative_to(html_dir).as_posix()
                shot = screenshot_dir / (rel.replace("/", "__").removesuffix(".html") + ".png")
                _QuietHandler.missing.clear()
                check = open_page(browser, f"{origin}/{rel}", origin, shot, html_dir, anchors)
                check.missing_files = sorted(set(_QuietHandler.missing))
                checks.append(check)
    finally:
        server.shutdown()
    problems = [f"{c.page}: " + "; ".join(c.problems) for c in checks if c.problems]
    if problems:
        raise ChapterFailed("the book does not work offline:\n  " + "\n  ".join(problems))
    return checks
