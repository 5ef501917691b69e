"""One progress bar for every long loop of the package, in one style.

:func:`progress_bar` wraps ``tqdm``. Where it draws is chosen once, by ``INFANTPOSE_PROGRESS``:

* ``auto`` (the default): ``tqdm.auto``, a widget in JupyterLab and text in a terminal;
* ``log``: no bar on screen; the bar's text goes, at most every
  :data:`LOG_INTERVAL_S` seconds and once when it ends (also for ``leave=False`` bars), to the
  ``infantpose.progress`` logger,
  which writes only to the package's log files (:mod:`infantpose.logs`). The book's driver sets
  it for the chapters it executes, so the executed pages hold no bar widget (their state is not
  kept, so the built HTML would show it broken) and ``tail -f`` on a chapter's log shows how far
  it is;
* ``off``: no bar anywhere.

A caller asks for quiet with ``enabled=False`` (the ``progress=`` flags and
``TrainConfig.log``); the environment can only make a bar quieter, never louder.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["LOG_INTERVAL_S", "PROGRESS_ENV", "progress_bar", "progress_mode"]

PROGRESS_ENV = "INFANTPOSE_PROGRESS"
_MODES = ("auto", "log", "off")

#: How often (seconds) a bar in ``log`` mode writes a line.
LOG_INTERVAL_S = 10.0

_progress_log = logging.getLogger("infantpose.progress")
#: Terminal control sequences tqdm writes to place nested bars (cursor up: ``ESC[A``).
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def progress_mode() -> str:
    """``auto``, ``log`` or ``off``, from ``INFANTPOSE_PROGRESS`` (unset or empty: ``auto``)."""
    mode = os.environ.get(PROGRESS_ENV, "").strip().lower() or "auto"
    if mode not in _MODES:
        raise ValueError(
            f"{PROGRESS_ENV}={os.environ[PROGRESS_ENV]!r}: use one of {', '.join(_MODES)} "
            "(or unset it for the default, auto)"
        )
    return mode


class _LogLines:
    """A file-like target for tqdm that turns each redraw into one log record."""

    def write(self, text: str) -> None:
        line = _ANSI.sub("", text.replace("\r", "")).strip()
        if line:
            _progress_log.info(line)

    def flush(self) -> None:
        pass


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    enabled: bool = True,
    leave: bool = True,
    **kwargs: Any,
) -> Any:
    """A ``tqdm`` bar over ``iterable`` (or updated by hand up to ``total``) labelled ``desc``.

    Use it as tqdm: iterate it, or ``update()``/``set_postfix()`` it and ``close()`` it (or use
    it in a ``with`` block). Disabled bars cost nothing and print nothing.
    """
    mode = progress_mode()
    options = {"desc": desc, "total": total, "unit": unit, "leave": leave, **kwargs}
    if mode == "log":
        from tqdm.std import tqdm

        options["leave"] = True  # a finished bar's last line stays in the log, whatever leave
        return tqdm(
            iterable,
            disable=not enabled,
            file=_LogLines(),
            mininterval=LOG_INTERVAL_S,
            ascii=True,
            ncols=100,
            **options,
        )
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not enabled or mode == "off", dynamic_ncols=True, **options)
