"""Seed tables report mean ± a Student-t interval and say how many runs they average."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from infantpose.tables import format_mean_ci, paper_beside, seed_table


def test_format_mean_ci_matches_a_hand_computed_student_t_interval():
    values = [50.0, 52.0, 57.0]
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / np.sqrt(3)
    assert format_mean_ci(values, digits=2) == f"{np.mean(values):.2f} ± {half:.2f}"
    assert format_mean_ci([41.0]) == "41.0 (1 seed)"
    assert format_mean_ci([np.nan]) == "–"


def test_seed_table_groups_in_order_and_counts_seeds():
    rows = [
        {"method": m, "size": n, "seed": s, "mpjpe": base + s}
        for m, base in (("scratch", 60.0), ("finetune", 50.0))
        for n in (50, 200)
        for s in (0, 1, 2)
    ]
    table = seed_table(rows, ["method", "size"], ["mpjpe"])
    assert list(table.index) == [
        ("scratch", 50),
        ("scratch", 200),
        ("finetune", 50),
        ("finetune", 200),
    ]
    assert table.loc[("finetune", 50), "mpjpe"] == format_mean_ci([50.0, 51.0, 52.0])
    assert (table["seeds"] == 3).all()
    with pytest.raises(KeyError, match="no column"):
        seed_table(rows, ["method"], ["ap"])


def test_paper_beside_labels_both_sources():
    ours = seed_table([{"row": "FiDIP", "seed": 0, "ap": 0.5}], ["row"], ["ap"])
    table = paper_beside(
        ours, {"FiDIP": 90.8}, ours_label="ours (embedded)", paper_label="paper (SyRIP)"
    )
    assert table.columns[0] == ("paper (SyRIP)", "")
    assert table.loc["FiDIP", ("paper (SyRIP)", "")] == 90.8
    assert ("ours (embedded)", "ap") in table.columns


def test_paired_verdict_pairs_by_seed_and_reads_the_interval():
    from infantpose.tables import paired_verdict

    rows = []
    for seed, (x, y, z) in enumerate([(50.0, 60.0, 50.5), (70.0, 81.0, 69.0), (40.0, 49.0, 40.2)]):
        rows += [
            {"name": "x", "seed": seed, "mm": x},
            {"name": "y", "seed": seed, "mm": y},
            {"name": "z", "seed": seed, "mm": z},
        ]
    # Seeds move x and y together by 30 mm, but y is 9-11 mm worse in every seed: pairing sees it.
    lower = paired_verdict(rows, "x", "y", "mm", higher_is_better=False)
    assert lower["verdict"] == "x better" and lower["n"] == 3
    assert lower["estimate"] == pytest.approx(-10.0)
    diff = np.array([-10.0, -11.0, -9.0])
    half = stats.t.ppf(0.975, 2) * diff.std(ddof=1) / np.sqrt(3)
    assert lower["low"] == pytest.approx(-10.0 - half) and lower["high"] == pytest.approx(
        -10.0 + half
    )
    assert paired_verdict(rows, "x", "y", "mm", higher_is_better=True)["verdict"] == "y better"
    assert paired_verdict(rows, "x", "z", "mm")["verdict"] == "no difference the seeds can show"
    one = paired_verdict(rows[:3], "x", "y", "mm")
    assert one["verdict"] == "one seed, no interval" and one["n"] == 1
    with pytest.raises(KeyError, match="no rows with name = 'w'"):
        paired_verdict(rows, "x", "w", "mm")


def test_verdict_text_writes_the_difference_its_interval_and_the_verdict():
    from infantpose.tables import verdict_text

    paired = {"a": "x", "b": "y", "n": 3, "estimate": -10.0, "low": -12.48, "high": -7.5}
    assert (
        verdict_text({**paired, "verdict": "x better"}, "mm")
        == "x − y: -10.0 mm (95% CI -12.5 … -7.5): x better"
    )
    one = {**paired, "n": 1, "low": float("nan"), "high": float("nan"), "verdict": "one seed"}
    assert (
        verdict_text(one, "AP points", digits=2) == "x − y: -10.00 AP points (one seed): one seed"
    )


def test_glue_hands_plain_python_values_to_the_prose(monkeypatch):
    import myst_nb

    from infantpose.tables import glue

    glued = []
    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: glued.append((a, k)))
    glue("gap-mm", np.float64(2.5))
    glue("seeds", np.int64(3))
    glue("verdict", "better")
    assert glued == [
        (("gap-mm", 2.5), {"display": False}),
        (("seeds", 3), {"display": False}),
        (("verdict", "better"), {"display": False}),
    ]
    assert (
        type(glued[0][0][1]) is float and type(glued[1][0][1]) is int
    )  # repr '2.5', not 'np.float64(2.5)'
