"""Run artifacts: every chapter writes ``metrics.json`` into its run folder.

A number in the book is only as good as its provenance, so :func:`record_metrics`
refuses to write one without saying which data it came from (the embedded
stand-in or a real dataset), how many seeds it averages, and how the model or
setting behind it was selected.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .config import DATA_KINDS
from .io import write_json_atomic

#: Where reported numbers may come from: a profile's data, or made-up worked examples.
METRIC_DATA_KINDS = (*DATA_KINDS, "made-up")

METRICS_FILE = "metrics.json"


def record_metrics(
    run_dir: str | os.PathLike,
    metrics: dict[str, Any],
    *,
    data: str,
    seeds: int,
    selection: str,
    config: dict[str, Any] | None = None,
    notes: str = "",
) -> Path:
    """Write ``<run_dir>/metrics.json`` atomically and return its path.

    ``data`` is ``"embedded"`` (the rendered stand-in), ``"real"`` (a real dataset) or
    ``"made-up"`` (hand-made worked examples, no dataset at all); ``seeds`` the
    number of seeds each number averages; ``selection`` how anything tuned was
    chosen (e.g. ``"best validation AP; validation carved from train"``, or
    ``"none: fixed worked example"``).
    """
    from .env import environment

    run_dir = Path(run_dir)
    if data not in METRIC_DATA_KINDS:
        raise ValueError(
            f"data={data!r}: say where the numbers come from, one of {METRIC_DATA_KINDS}"
        )
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds={seeds!r}: the number of seeds behind each number (an int ≥ 1)")
    if not selection.strip():
        raise ValueError("selection is empty: say how the reported model/setting was chosen")
    payload = {
        "notebook": run_dir.name,
        "profile": run_dir.parent.name,
        "data": data,
        "seeds": seeds,
        "selection": selection,
        "notes": notes,
        "metrics": metrics,
        "config": config or {},
        "environment": environment(),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return write_json_atomic(run_dir / METRICS_FILE, payload)


def read_metrics(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The chapter's ``metrics.json`` as a dict, or ``None`` when it has none."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
