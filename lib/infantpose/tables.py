"""Tables of results over seeds: every number with its spread, never a lone best run.

Chapters train each configuration with several seeds and report the mean with a 95 % Student-t
interval (:func:`infantpose.metrics.mean_ci`). :func:`seed_table` does that for a list of
result rows (one per configuration × seed); :func:`paper_beside` puts a paper's numbers next
to ours with both sources named in the column headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .metrics import mean_ci

__all__ = ["format_mean_ci", "paper_beside", "seed_table"]


def format_mean_ci(values: Sequence[float], digits: int = 1, confidence: float = 0.95) -> str:
    """``"52.3 ± 1.4"`` (mean ± half-width of the interval); one run: ``"52.3 (1 seed)"``."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (1 seed)"
    ci = mean_ci(values, confidence=confidence)
    return f"{ci.estimate:.{digits}f} ± {ci.half_width:.{digits}f}"


def seed_table(
    rows: Sequence[Mapping[str, Any]] | pd.DataFrame,
    by: Sequence[str],
    metrics: Sequence[str],
    *,
    digits: int = 1,
    confidence: float = 0.95,
    seed_column: str = "seed",
) -> pd.DataFrame:
    """One line per group of ``by``: each metric as ``mean ± CI`` over the group's seeds.

    Adds ``seeds`` (how many runs each line averages). Groups keep their first-seen order, so
    a table reads in the order the experiments were listed.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    missing = [c for c in (*by, *metrics) if c not in frame.columns]
    if missing:
        raise KeyError(f"seed_table: rows have no column(s) {missing}; they have {list(frame)}")
    out = []
    for key, group in frame.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        line = dict(zip(by, key, strict=True))
        for metric in metrics:
            line[metric] = format_mean_ci(group[metric].to_numpy(), digits, confidence)
        line["seeds"] = group[seed_column].nunique() if seed_column in group else len(group)
        out.append(line)
    return pd.DataFrame(out).set_index(list(by))


def paper_beside(
    ours: pd.DataFrame, paper: Mapping[Any, Any], *, ours_label: str, paper_label: str
) -> pd.DataFrame:
    """``ours`` with a first column of the paper's numbers (``paper``: index → value, or "–").

    The labels name the data of each side, e.g. ``"paper, SyRIP Test100"`` and
    ``"ours, embedded stand-in, 3 seeds"``, so no reader mistakes one for the other.
    """
    table = ours.copy()
    table.columns = pd.MultiIndex.from_product([[ours_label], table.columns])
    column = pd.Series({index: paper.get(index, "–") for index in table.index}, dtype=object)
    table.insert(0, (paper_label, ""), column)
    return table
