"""Where the package's messages go: the screen, and a chapter run's log file.

Every module logs through ``logging.getLogger(__name__)`` (below the ``infantpose`` logger);
nothing prints. :func:`install` (run on ``import infantpose``) gives that logger

* a handler that writes INFO and above to the *current* ``sys.stdout`` (so the lines show
  under the cell that made them in a notebook, as the prints they replace did), unless
  the application has configured logging itself (the root logger has a handler); progress
  lines (:mod:`infantpose.progress`, ``log`` mode) never go to the screen;
* a file handler when ``INFANTPOSE_LOG_FILE`` names a file: the book's driver sets it to
  ``<run folder>/infantpose.log``, beside the chapter's ``metrics.json``, so a failed run can
  be read after the fact. :func:`log_to_file` attaches one for a block of code.

The command lines print an error as one line and exit with status 2, whatever the exception:
:func:`error_line` makes that line (whitespace folded, any character the terminal cannot
show escaped, never a traceback) and :class:`OneLineArgumentParser` makes argparse's own
usage errors one line too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "LOG_FILE_ENV",
    "LOG_FILE_NAME",
    "OneLineArgumentParser",
    "error_line",
    "install",
    "log_to_file",
]

LOG_FILE_ENV = "INFANTPOSE_LOG_FILE"
#: The package log of a chapter run, in its run folder.
LOG_FILE_NAME = "infantpose.log"

_FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_package = logging.getLogger("infantpose")


class _ScreenHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is when a record comes (a notebook swaps it);
    warnings and errors to ``sys.stderr``."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self._level = logging.INFO

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr if self._level >= logging.WARNING else sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        self._level = record.levelno
        super().emit(record)


def _not_progress(record: logging.LogRecord) -> bool:
    return not record.name.startswith("infantpose.progress")


def _file_handler(path: str | os.PathLike) -> logging.FileHandler:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FILE_FORMAT))
    handler.setLevel(logging.DEBUG)
    return handler


def install() -> None:
    """Attach the screen handler and, with ``INFANTPOSE_LOG_FILE``, the file handler (once)."""
    if getattr(_package, "_infantpose_installed", False):
        return
    _package._infantpose_installed = True  # type: ignore[attr-defined]
    _package.setLevel(logging.DEBUG)  # DEBUG records reach the log files only
    if not logging.getLogger().handlers:
        screen = _ScreenHandler()
        screen.setLevel(logging.INFO)
        screen.addFilter(_not_progress)
        _package.addHandler(screen)
        # the application did not configure logging: do not print these twice
        _package.propagate = False
    if path := os.environ.get(LOG_FILE_ENV, "").strip():
        _package.addHandler(_file_handler(path))


@contextlib.contextmanager
def log_to_file(path: str | os.PathLike) -> Iterator[Path]:
    """Copy the package's messages (progress lines included) into ``path`` inside the block."""
    handler = _file_handler(path)
    _package.addHandler(handler)
    try:
        yield Path(path)
    finally:
        _package.removeHandler(handler)
        handler.close()


# --------------------------------------------------------------------------- command lines


def printable(text: str) -> str:
    """``text`` with what UTF-8 cannot encode (a file name's undecodable bytes, kept by Python
    as lone surrogates) escaped, so printing it can never raise."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_line(error: BaseException, limit: int = 2000) -> str:
    """One line for a command line's error: the message with its whitespace folded (the
    exception's kind when the message is empty or says little), cut at ``limit`` characters."""
    try:
        text = " ".join(str(error).split())
    except Exception:  # a message that cannot even be made
        text = ""
    known = isinstance(error, OSError | ValueError | LookupError) and text
    text = text if known else f"{type(error).__name__}: {text}" if text else type(error).__name__
    if isinstance(error, RecursionError | MemoryError):
        text += " (the input is nested too deeply or is too large to read)"
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, whose usage errors are one line (``error: … (see --help)``), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(
            f"error: {printable(' '.join(message.split()))} (see {self.prog} --help)",
            file=sys.stderr,
        )
        raise SystemExit(2)
