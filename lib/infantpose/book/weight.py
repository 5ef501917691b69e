"""How heavy the built book is: bytes on disk, bytes of script, and what each page loads.

``python -m infantpose.book weight`` prints it as one JSON object, so that a change to the
book's assets (plotly.js, MathJax, widget state) can be measured before and after.

*Script* counts every ``.js`` file the book ships plus the text of every inline
``<script>`` element (plotly.js inlined into a page, the figures' ``Plotly.newPlot`` calls,
widget state JSON). *A page loads* its inline scripts and the local ``.js`` files its
``<script src>`` tags name (files loaded later on demand, e.g. MathJax's components, are
not counted there, but they are in the total).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(r"""\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)

__all__ = ["BookWeight", "book_weight"]


@dataclass
class BookWeight:
    total_bytes: int
    script_bytes: int  # .js files + inline <script> text, the whole book
    js_file_bytes: int
    inline_script_bytes: int
    pages: dict[str, int] = field(default_factory=dict)  # page → script bytes it loads

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        mb = 1e6
        heaviest = max(self.pages.items(), key=lambda kv: kv[1], default=("–", 0))
        return (
            f"book {self.total_bytes / mb:.1f} MB, script {self.script_bytes / mb:.1f} MB "
            f"({self.js_file_bytes / mb:.1f} MB in .js files, {self.inline_script_bytes / mb:.1f} MB "
            f"inline); heaviest page {heaviest[0]} loads {heaviest[1] / mb:.1f} MB of script"
        )


def book_weight(html_dir: Path) -> BookWeight:
    """Measure the built book in ``html_dir`` (``_build/html``)."""
    files = [p for p in html_dir.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    js = sum(p.stat().st_size for p in files if p.suffix == ".js")
    inline_total, pages = 0, {}
    for page in sorted(p for p in files if p.suffix == ".html"):
        text = page.read_text(encoding="utf-8", errors="replace")
        inline = loaded = 0
        for attrs, body in _SCRIPT.findall(text):
            inline += len(body.encode("utf-8"))
            src = _SRC.search(attrs)
            if src and not src.group(1).startswith(("http:", "https:", "//", "data:")):
                target = (page.parent / unquote(urlsplit(src.group(1)).path)).resolve()
                if target.is_file():
                    loaded += target.stat().st_size
        inline_total += inline
        pages[page.relative_to(html_dir).as_posix()] = inline + loaded
    return BookWeight(total, js + inline_total, js, inline_total, pages)
