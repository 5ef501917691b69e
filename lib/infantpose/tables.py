"""Tables of results over seeds: every number with its spread, never a lone best run.

Chapters train each configuration with several seeds and report the mean with a 95 % Student-t
interval (:func:`infantpose.metrics.mean_ci`). :func:`seed_table` does that for a list of
result rows (one per configuration × seed); :func:`paper_beside` puts a paper's numbers next
to ours with both sources named in the column headers; :func:`paired_verdict` says whether
one configuration beats another from their differences paired by seed, so that every
"better", "worse" or "no difference" in a chapter is computed, never written in advance;
:func:`verdict_text` writes one such verdict as a sentence, and :func:`glue` hands a computed
value to the chapter's prose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .metrics import mean_ci

__all__ = [
    "format_mean_ci",
    "glue",
    "paired_verdict",
    "paper_beside",
    "seed_table",
    "verdict_text",
]


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


def paired_verdict(
    rows: Sequence[Mapping[str, Any]] | pd.DataFrame,
    a: Any,
    b: Any,
    metric: str,
    *,
    by: str = "name",
    seed_column: str = "seed",
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """``a − b`` on ``metric``, paired by seed, with its Student-t interval and a verdict.

    ``rows`` hold one line per configuration (column ``by``) and seed; only seeds that ran
    both enter. The verdict is ``"<a> better"`` or ``"<b> better"`` when the interval of the
    difference excludes zero (in the direction ``higher_is_better`` says), ``"no difference
    the seeds can show"`` when it straddles zero, and ``"one seed, no interval"`` with fewer
    than 2 paired seeds. Returns estimate, low, high, n (paired seeds) and verdict.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    missing = [c for c in (by, seed_column, metric) if c not in frame.columns]
    if missing:
        raise KeyError(f"paired_verdict: rows have no column(s) {missing}; they have {list(frame)}")
    wide = frame.pivot_table(index=seed_column, columns=by, values=metric, aggfunc="mean")
    for name in (a, b):
        if name not in wide.columns:
            raise KeyError(f"paired_verdict: no rows with {by} = {name!r}; there are {list(wide)}")
    difference = (wide[a] - wide[b]).dropna().to_numpy()
    out: dict[str, Any] = {"a": a, "b": b, "metric": metric, "n": len(difference)}
    if len(difference) < 2:
        estimate = float(difference.mean()) if len(difference) else float("nan")
        return {
            **out,
            "estimate": estimate,
            "low": float("nan"),
            "high": float("nan"),
            "verdict": "one seed, no interval",
        }
    ci = mean_ci(difference, confidence=confidence)
    sign = 1.0 if higher_is_better else -1.0
    if sign * ci.low > 0 and sign * ci.high > 0:
        verdict = f"{a} better"
    elif sign * ci.low < 0 and sign * ci.high < 0:
        verdict = f"{b} better"
    else:
        verdict = "no difference the seeds can show"
    return {**out, "estimate": ci.estimate, "low": ci.low, "high": ci.high, "verdict": verdict}


def verdict_text(verdict: Mapping[str, Any], unit: str, digits: int = 1) -> str:
    """A :func:`paired_verdict` as one line: ``"a − b: +1.2 mm (95% CI +0.3 … +2.1): a better"``;
    ``"one seed"`` in place of the interval when fewer than 2 seeds paired."""
    if verdict["n"] >= 2:
        interval = f"95% CI {verdict['low']:+.{digits}f} … {verdict['high']:+.{digits}f}"
    else:
        interval = "one seed"
    return (
        f"{verdict['a']} − {verdict['b']}: {verdict['estimate']:+.{digits}f} {unit} "
        f"({interval}): {verdict['verdict']}"
    )


def glue(name: str, value: Any) -> None:
    """Hand ``value`` to the chapter's prose as ``name`` (myst-nb's ``glue``, not displayed).

    A chapter states its conclusions in sentences that paste computed values
    (``{glue:text}`name:.1f```), never typed numbers. numpy scalars become Python ones first:
    their repr (``np.float64(2.5)``) is text the book cannot format as a number.
    """
    from myst_nb import glue as myst_glue

    if isinstance(value, np.generic):
        value = value.item()
    myst_glue(name, value, display=False)
