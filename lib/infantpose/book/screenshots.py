"""The README's pictures of the book, taken from the built book with headless Chromium.

``python -m infantpose.book screenshots`` serves ``_build/html`` on 127.0.0.1, opens a few
pages as a reader would (1280×800 window) and saves small JPEGs (at most
:data:`MAX_BYTES` each) under ``book/_static/``, where the README links to them. Run it after
``make book`` so the pictures show the published book; commit the files it writes.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import project_root
from ..io import atomic_path
from .chapters import ChapterFailed
from .devtools import DevToolsPage

__all__ = ["MAX_BYTES", "SHOTS", "Shot", "take_screenshots"]

MAX_BYTES = 150_000
_VIEW = (1280, 800)


@dataclass(frozen=True)
class Shot:
    file: str  # under book/_static/
    page: str  # under _build/html/
    selector: str | None = None  # scrolled to the top of the window (None: the page's top)
    above_px: int = 64  # how much of the page above the element stays in view (header: 48)


#: The README's pictures: a chapter's figure, the results page's first table.
SHOTS = (
    Shot("readme-chapter.jpg", "notebooks/00-measuring-pose.html", "figure", 260),
    Shot("readme-results.jpg", "results.html", "#d-adaptation-fidip-chapter-03", 64),
)


def _jpeg_under(png: bytes, max_bytes: int) -> bytes:
    """The screenshot as the best JPEG quality (then a smaller size) that fits ``max_bytes``."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    while True:
        for quality in (85, 75, 65, 55):
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue()
        image = image.resize((image.width * 4 // 5, image.height * 4 // 5), Image.LANCZOS)


def take_screenshots(
    html_dir: Path | None = None, out_dir: Path | None = None, shots=SHOTS
) -> list[Path]:
    """Take :data:`SHOTS` of the built book; return the files written."""
    import base64

    from .html import _serve

    root = project_root()
    html_dir = html_dir or root / "_build" / "html"
    out_dir = out_dir or root / "book" / "_static"
    if not (html_dir / "index.html").is_file():
        raise ChapterFailed(f"no built book in {html_dir}: run `python -m infantpose.book build`")
    out_dir.mkdir(parents=True, exist_ok=True)
    server, origin = _serve(html_dir)
    written = []
    try:
        with DevToolsPage(timeout_s=60) as page:
            page.send(
                "Emulation.setDeviceMetricsOverride",
                width=_VIEW[0],
                height=_VIEW[1],
                deviceScaleFactor=1,
                mobile=False,
            )
            for shot in shots:
                page.evaluate("window.__leaving = true")
                page.navigate(f"{origin}/{shot.page}")
                page.wait_for("!window.__leaving && document.readyState === 'complete'", 60)
                page.wait_for(
                    "[...document.querySelectorAll('.plotly-graph-div')].every(g => g._fullLayout)"
                    " && (!document.querySelector('.math') || !!document.querySelector('mjx-container'))",
                    30,
                    what="figures and formulas",
                )
                if shot.selector:
                    found = page.evaluate(
                        f"(() => {{ const e = document.querySelector({json.dumps(shot.selector)});"
                        f" if (!e) return false; window.scrollTo(0, e.getBoundingClientRect().top"
                        f" + scrollY - {shot.above_px}); return true; }})()"
                    )
                    if not found:
                        raise ChapterFailed(f"{shot.page}: no element {shot.selector!r} to show")
                page.evaluate("new Promise(r => setTimeout(r, 500))")  # let the scroll settle
                png = base64.b64decode(page.send("Page.captureScreenshot", format="png")["data"])
                target = out_dir / shot.file
                with atomic_path(target) as tmp:
                    tmp.write_bytes(_jpeg_under(png, MAX_BYTES))
                written.append(target)
    finally:
        server.shutdown()
    return written
