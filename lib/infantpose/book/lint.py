"""ruff on the chapters: the package's lint and format settings applied to the code cells.

The chapters are MyST text notebooks, which ruff cannot read; it reads ``.ipynb``. So each
chapter is converted by jupytext into a scratch folder, ruff runs there with the project's
``pyproject.toml`` (the same rules as ``lib``, ``tests`` and ``benchmarks``), and its messages
name the chapter and the cell (``notebooks/02-smil-synthesis.md:cell 7:3:1: F401 …``; cells
are counted from 1 over all cells, markdown included, as ruff counts them in a notebook).

With ``fix=True`` (``ruff check --fix``) or ``format`` without ``check``, the changed code is
written back into the ``.md``: only the code between a cell's options and its closing fence
changes, never the markdown or the cell options. ``python -m infantpose.book ruff check`` and
``python -m infantpose.book ruff format --check`` are what ``make lint`` and ``make test`` run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import project_root
from ..io import write_text_atomic

__all__ = ["RuffResult", "code_cell_spans", "ruff_notebooks"]

# A code cell of a MyST notebook: the opening fence with its language, then the body up to the
# closing fence at the start of a line. Options sit in a `---` YAML block or `:key: value` lines.
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)


@dataclass(frozen=True)
class RuffResult:
    """What ruff said about the chapters: its exit code and its messages, chapter-named."""

    returncode: int
    output: str
    changed: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _ruff() -> str:
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
        if found is None:
            raise FileNotFoundError(
                "ruff is not installed: `pip install -e .[dev]` (or `make setup`) installs it"
            ) from None
        return found


def code_cell_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of each code cell's *code* in a MyST notebook's text,
    in order: after the cell's options (a ``---`` block or ``:key: value`` lines and the blank
    line after them), up to the closing fence."""
    spans = []
    for match in _CELL.finditer(text):
        start, end = match.span("body")
        body = match.group("body")
        offset = 0
        if body.startswith("---\n"):
            close = body.find("\n---\n", 3)
            if close < 0:
                raise ValueError(
                    f"a code cell's `---` options block at offset {start} never closes"
                )
            offset = close + len("\n---\n")
        else:
            while re.match(r":[\w-]+:", body[offset:]):
                offset = body.index("\n", offset) + 1
            if offset and body[offset:].startswith("\n"):
                offset += 1
        spans.append((start + offset, end))
    return spans


def _write_code(source: Path, cells: Sequence[str]) -> bool:
    """Put ``cells`` (the code of every code cell, in order) into ``source``; True if it changed."""
    text = source.read_text(encoding="utf-8")
    spans = code_cell_spans(text)
    if len(spans) != len(cells):
        raise ValueError(
            f"{source}: {len(spans)} code cells in the text but {len(cells)} from jupytext; "
            "write each cell as ```{code-cell} ipython3 … ``` with its fence at a line start"
        )
    out, last = [], 0
    for (start, end), code in zip(spans, cells, strict=True):
        code = code.rstrip("\n")
        out += [text[last:start], code + "\n" if code else ""]
        last = end
    new = "".join(out) + text[last:]
    if new == text:
        return False
    write_text_atomic(source, new)
    return True


def ruff_notebooks(
    action: str,
    sources: Sequence[str | Path] | None = None,
    *,
    fix: bool = False,
    check: bool = False,
    root: str | Path | None = None,
) -> RuffResult:
    """``ruff check`` (``action="check"``, with ``fix``) or ``ruff format`` (with ``check``: only
    report) on the code cells of ``sources`` (default: every ``notebooks/*.md``), with the
    settings of ``root/pyproject.toml``. Fixed or formatted code is written back to the ``.md``."""
    import jupytext

    if action not in ("check", "format"):
        raise ValueError(f"ruff_notebooks: action {action!r}: 'check' or 'format'")
    root = Path(root) if root is not None else project_root()
    paths = [Path(s) for s in sources] if sources else sorted((root / "notebooks").glob("*.md"))
    if not paths:
        raise FileNotFoundError(f"no MyST notebooks to check under {root / 'notebooks'}")
    writes = (action == "check" and fix) or (action == "format" and not check)
    with tempfile.TemporaryDirectory(prefix="ruff-notebooks-") as tmp:
        names = {}
        for path in paths:
            target = Path(tmp) / f"{path.stem}.ipynb"
            if target.name in names:
                raise ValueError(f"two notebooks named {path.stem}: {names[target.name]}, {path}")
            jupytext.write(jupytext.read(path), target, fmt="ipynb")
            names[target.name] = path
        command = [_ruff(), action, "--config", str(root / "pyproject.toml"), "--no-cache"]
        if action == "check":
            command += ["--output-format", "concise"] + (["--fix"] if fix else [])
        elif check:
            command += ["--check"]
        done = subprocess.run(
            [*command, *sorted(names)], cwd=tmp, capture_output=True, text=True, check=False
        )
        output = done.stdout + done.stderr
        for name, path in names.items():
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            output = re.sub(rf"(?<![\w/.-])(?:\S*/)?{re.escape(name)}", str(shown), output)
        changed = []
        if writes:
            for name, path in names.items():
                notebook = jupytext.read(Path(tmp) / name)
                cells = [c.source for c in notebook.cells if c.cell_type == "code"]
                if _write_code(path, cells):
                    changed.append(path)
    return RuffResult(done.returncode, output.strip(), tuple(changed))
