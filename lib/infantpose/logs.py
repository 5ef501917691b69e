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
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOG_FILE_ENV", "LOG_FILE_NAME", "install", "log_to_file"]

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
