"""The results page: our tables with seeds and intervals beside the papers' labelled columns,
runtimes of every profile, the pipeline's parts in the navigation, one bibliography."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from infantpose.book import CHAPTERS
from infantpose.book.results import results_markdown
from infantpose.lift3d import METHODS, PAPER_MPJPE
from infantpose.pose2d import TABLE_ROWS
from infantpose.runs import record_metrics
from infantpose.shift import PAPER_PCK

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("INFANTPOSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "data"))
    return tmp_path / "runs"


def _chapter(runs: Path, chapter: str, rows: list[dict], seeds: int, profile: str = "smoke"):
    folder = runs / profile / chapter
    record_metrics(
        folder, {"x": 1.0}, data="embedded", seeds=seeds, selection=f"{chapter} selection"
    )
    if rows:
        pd.DataFrame(rows).to_csv(folder / "results.csv", index=False)
    return folder


def _half_width(values: list[float]) -> float:
    values = np.asarray(values)
    return stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))


def _row(page: str, name: str) -> list[str]:
    line = next(ln for ln in page.splitlines() if ln.startswith(f"| {name} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def test_fidip_rows_show_the_paper_beside_our_mean_and_interval_over_seeds(runs):
    aps = [0.40, 0.50, 0.60]
    rows = [
        {"name": "FiDIP", "seed": s, "ap": ap, "ap50": 0.9, "mean_oks": 0.7}
        for s, ap in enumerate(aps)
    ] + [{"name": "real only", "seed": 0, "ap": 0.3, "ap50": 0.8, "mean_oks": 0.6}]
    _chapter(runs, "03-fidip-training", rows, seeds=3)
    page = results_markdown("smoke")
    assert "| row | FiDIP paper: SyRIP Test100, AP (%) | ours: AP (%) |" in page
    fidip = _row(page, "FiDIP")
    assert fidip[1] == f"{TABLE_ROWS['FiDIP'].paper_ap:.1f}" == "92.2"
    assert fidip[2] == f"50.0 ± {100 * _half_width(aps):.1f}"  # 24.8, computed independently
    assert fidip[-1] == "3"
    real_only = _row(page, "real only")
    assert real_only[1] == "–"  # no counterpart in the paper
    assert real_only[2] == "30.0 (1 seed)"
    assert "seeds: **3**; selection: 03-fidip-training selection." in page


def test_shift_rows_carry_both_papers_columns_and_name_udape(runs):
    columns = ("target-val:all/argmax", "label-free:all/argmax")
    rows = [
        {"name": name, "seed": seed, columns[0]: 10.0 + seed, columns[1]: 5.0}
        for name in ("source-only", "mean teacher", "+ prior")
        for seed in (0, 1)
    ]
    _chapter(runs, "04-shift-adaptation", rows, seeds=2)
    page = results_markdown("smoke")
    for target in PAPER_PCK:
        assert f"SHIFT paper: SURREAL → {target}, PCK@0.05 Avg. (%)" in page
    paper = dict(zip(PAPER_PCK, _row(page, "mean teacher")[1:3], strict=True))
    assert paper == {"SyRIP": "34.2 (UDAPE)", "MINI-RGBD": "51.5 (UDAPE)"}
    assert _row(page, "+ prior")[1:3] == ["–", "–"]
    assert _row(page, "source-only")[3] == f"10.5 ± {_half_width([10.0, 11.0]):.1f}"


def test_zedoi_release_number_stands_only_beside_the_largest_training_size(runs):
    rows = [
        {"method": "augmented", "size": size, "seed": 0, "mpjpe": mm, "pa_mpjpe": mm / 2}
        for size, mm in ((50, 60.0), (1000, 50.0))
    ]
    _chapter(runs, "05-zedoi-lifting", rows, seeds=1)
    page = results_markdown("smoke")
    assert _row(page, "+ augmentation, 1000 training poses")[1:3] == ["45.1", "50.0 (1 seed)"]
    assert _row(page, "+ augmentation, 50 training poses")[1] == "–"
    assert set(PAPER_MPJPE) <= set(METHODS)


def test_a_run_without_per_seed_rows_or_with_other_columns_says_so(runs):
    _chapter(runs, "03-fidip-training", [], seeds=3)
    _chapter(runs, "04-shift-adaptation", [{"name": "x", "seed": 0, "pck": 1.0}], seeds=1)
    page = results_markdown("smoke")
    assert "This run wrote no per-seed rows (`results.csv`)" in page
    assert "`results.csv` of this run has no column(s) ['target-val:all/argmax'" in page
    assert "Not run under profile `smoke` yet" in page  # chapter 05


def test_runtimes_list_every_profile_that_has_run(runs):
    def timings(profile, chapters, total):
        (runs / profile).mkdir(parents=True, exist_ok=True)
        (runs / profile / "timings.json").write_text(
            json.dumps(
                {"profile": profile, "total_s": total, "book_budget_s": 600, "chapters": chapters}
            )
        )

    entry = {"seconds": 12.4, "budget_s": 40, "over_budget": False, "status": "ok"}
    timings("smoke", {CHAPTERS[0]: entry}, 12.4)
    timings("default", {CHAPTERS[1]: {**entry, "seconds": 900.0, "over_budget": True}}, 900.0)
    page = results_markdown("smoke")
    assert "| chapter | `default` (s) | `smoke` (s) |" in page
    assert f"| {CHAPTERS[0]} | not run | 12 / 40 |" in page
    assert f"| {CHAPTERS[1]} | 900 / 40 **over** | not run |" in page
    assert "| **whole book** | 900 / 600 | 12 / 600 |" in page


def test_the_navigation_follows_the_pipeline_in_parts():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    part_of = {
        "00": "Measuring",
        "01": "Data",
        "02": "Data",
        "03": "2D adaptation",
        "04": "2D adaptation",
        "05": "3D lifting",
        "06": "Exploration",
    }
    placed = [
        (part["caption"], entry["file"]) for part in toc["parts"] for entry in part["chapters"]
    ]
    chapters = [(c, f.removeprefix("notebooks/")) for c, f in placed if f.startswith("notebooks/")]
    assert [f for _, f in chapters] == list(CHAPTERS)
    assert all(caption == part_of[name[:2]] for caption, name in chapters), chapters
    assert placed[-1] == ("Results", "results")


def test_one_bibliography_on_the_results_page_holds_the_three_papers(runs):
    page = results_markdown("smoke")
    assert "```{bibliography}\n:all:\n```" in page
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.M)
    assert len(keys) == len(set(keys)), "a key appears twice in references.bib"
    for paper in ("huang2020fidip", "bose2025shift", "zhou2023zedoi"):
        assert paper in keys
        assert re.search(r"\{cite:p\}`[^`]*\b" + paper + r"\b", page), f"{paper} is not cited"
    for entry in re.split(r"\n(?=@)", bib.strip()):
        assert all(f"{field}" in entry for field in ("title", "author", "year")), entry[:60]
    # A second bibliography would list the same entries twice (a warning, so a failed build).
    others = [
        p.name
        for p in [*(ROOT / "book").glob("*.md"), *(ROOT / "notebooks").glob("*.md")]
        if "{bibliography}" in p.read_text() and p.name != "results.md"
    ]
    assert others == []
