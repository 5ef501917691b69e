"""``book/results.md``: the book's numbers in one page, generated from the runs.

For the profile asked for, the page puts each chapter's table of results beside the papers'
numbers, in separate, labelled columns: ours as mean ± 95 % Student-t interval over the
training seeds (computed here from the per-seed rows the chapter writes, ``results.csv``,
with :func:`infantpose.tables.seed_table`), with the data source and the selection protocol
the chapter recorded in ``metrics.json``; the papers' numbers from the package
(:data:`infantpose.pose2d.TABLE_ROWS`, :data:`infantpose.shift.PAPER_PCK`,
:data:`infantpose.lift3d.PAPER_MPJPE`). It then lists every other recorded number,
the runtimes of every profile that has run (``runs/*/timings.json``) and the bibliography.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import load_profile, project_root, run_dir, runs_root
from ..io import write_text_atomic
from ..runs import read_metrics
from ..tables import seed_table
from .chapters import CHAPTERS
from .run import TIMINGS_FILE, read_timings

#: How each kind of data behind a number is named on the results page.
DATA_WORDS = {
    "embedded": "the embedded stand-in (rendered, not real infants)",
    "real": "a real dataset",
    "made-up": "made-up worked examples (no dataset, no model)",
}

#: The per-seed rows a chapter writes beside its ``metrics.json``.
SEED_ROWS_FILE = "results.csv"


@dataclass(frozen=True)
class PaperColumn:
    """One paper's numbers for a table: a label naming paper, data and unit; row → table text."""

    label: str
    values: Mapping[str, str]

    def cell(self, row: str | None) -> str:
        return self.values.get(row, "–") if row is not None else "–"


@dataclass(frozen=True)
class ResultsTable:
    """How a chapter's ``results.csv`` becomes a table: rows, metrics, units, papers."""

    chapter: str
    title: str
    by: tuple[str, ...]  # the columns naming a row (and, e.g., a training-set size)
    metrics: Mapping[str, str]  # csv column → header
    unit: str
    papers: Callable[[dict], list[PaperColumn]]  # from the run's metrics.json record
    scale: float = 1.0  # 100 turns fractions into %
    row_label: Callable[[tuple, dict], str] = lambda key, record: " ".join(str(k) for k in key)
    paper_row: Callable[[tuple, pd.DataFrame], str | None] = lambda key, frame: str(key[0])
    caption: str = ""


def _fidip_papers(record: dict) -> list[PaperColumn]:
    from ..pose2d import TABLE_ROWS

    values = {n: f"{spec.paper_ap:.1f}" for n, spec in TABLE_ROWS.items() if spec.paper_ap}
    return [PaperColumn("FiDIP paper: SyRIP Test100, AP (%)", values)]


def _shift_papers(record: dict) -> list[PaperColumn]:
    from ..shift import PAPER_PCK, paper_pck

    return [
        PaperColumn(f"SHIFT paper: SURREAL → {target}, PCK@0.05 Avg. (%)", paper_pck(target))
        for target in PAPER_PCK
    ]


def _zedoi_papers(record: dict) -> list[PaperColumn]:
    from ..lift3d import PAPER_MPJPE

    values = {method: f"{mm:.1f}" for method, mm in PAPER_MPJPE.items()}
    return [PaperColumn("ZeDO-i release: SyRIP, MPJPE (mm)", values)]


def _largest_size_only(key: tuple, frame: pd.DataFrame) -> str | None:
    """The release's number belongs beside the row trained on the most poses."""
    method, size = key
    return str(method) if size == frame.loc[frame["method"] == method, "size"].max() else None


def _lift_row(key: tuple, record: dict) -> str:
    """Chapter 05's own row name (``lift3d.method_names``) and the training-set size."""
    from ..lift3d import ExperimentProfile, method_names

    preset = getattr(ExperimentProfile, str(record.get("config", {}).get("experiment")), None)
    names = method_names(preset().mean_of if callable(preset) else ExperimentProfile().mean_of)
    return f"{names.get(key[0], key[0])}, {key[1]} training poses"


#: The chapters whose tables have papers' numbers beside them, in reading order.
TABLES = (
    ResultsTable(
        "03-fidip-training",
        "2D adaptation: FiDIP",
        ("name",),
        {"ap": "AP", "ap50": "AP50", "mean_oks": "mean OKS"},
        "%",
        _fidip_papers,
        scale=100.0,
        caption=(
            "COCO keypoint AP on the test infants with ground-truth boxes. The paper's column is "
            "FiDIP v1 on SyRIP's 100 real test images with a COCO-trained ResNet-50 (its Tables 1 "
            "and 2); ours is a small Pose-ResNet on the book's data: the columns share a method, "
            "not data or scale {cite:p}`huang2020fidip,huang2021invariant`."
        ),
    ),
    ResultsTable(
        "04-shift-adaptation",
        "2D adaptation: SHIFT",
        ("name",),
        {
            "target-val:all/argmax": "PCK all, target-val",
            "label-free:all/argmax": "PCK all, label-free",
        },
        "%",
        _shift_papers,
        caption=(
            "PCK@0.05 over the 12 limb joints (the paper's Avg.), argmax decoding. Two selection "
            "protocols: *target-val* picks the checkpoint on a labelled target validation split "
            "(SHIFT's released protocol), *label-free* takes the last one. The paper's columns "
            "use a ResNet-101 at 256×256 trained on SURREAL; its mean-teacher entry is UDAPE "
            "{cite:p}`bose2025shift,kim2022udape`."
        ),
    ),
    ResultsTable(
        "05-zedoi-lifting",
        "3D lifting: ZeDO-i",
        ("method", "size"),
        {"mpjpe": "MPJPE", "pa_mpjpe": "PA-MPJPE"},
        "mm",
        _zedoi_papers,
        row_label=_lift_row,
        paper_row=_largest_size_only,
        caption=(
            "MPJPE and PA-MPJPE on the test infants, from ground-truth 2D keypoints, one "
            "hypothesis. ZeDO-i's abstract gives 43.6 mm on SyRIP and 21.2 mm on MINI-RGBD "
            "without naming the variant; its released SyRIP checkpoint (from scratch + "
            "augmentation) measures 45.1 mm {cite:p}`zhou2023zedoi`."
        ),
    ),
)


def results_markdown(profile_name: str) -> str:
    """``book/results.md``: the tables beside the papers, other numbers, runtimes, references."""
    profile = load_profile(profile_name)
    data = (
        "the embedded, rendered stand-in (no real infant images)."
        if profile.data == "embedded"
        else "the real datasets configured in the profile."
    )
    lines = [
        "# Results",
        "",
        f"Generated by `python -m infantpose.book results --profile {profile.name}` from the runs'",
        "`metrics.json`, `results.csv` and `timings.json` files; do not edit by hand.",
        "",
        f"**Profile `{profile.name}`**: {profile.description}. Data: {data}",
        "",
        "## How to read these tables",
        "",
        "- **Ours** is the mean ± the half-width of a 95 % Student-t interval over the training",
        "  seeds (the *seeds* column); the interval says how much a retrained model moves on the",
        "  same test set, not how much another sample of test infants would.",
        "- Each table names the data its numbers come from and how the model behind each row was",
        "  selected; no number was selected on a test split.",
        "- **The papers' columns** are the published numbers on the real datasets, labelled with",
        "  the paper, the data and the unit. They share a method with our rows, not data, backbone",
        "  or training length: read them side by side, never as a target.",
    ]
    for table in TABLES:
        lines += ["", *_table_section(table, profile.name)]
    lines += ["", *_other_numbers(profile.name)]
    lines += ["", *_runtimes()]
    lines += [
        "",
        "(book-references)=",
        "## References",
        "",
        "The three papers the book reproduces are FiDIP {cite:p}`huang2020fidip,huang2021invariant`,",
        "SHIFT {cite:p}`bose2025shift` and ZeDO-i {cite:p}`zhou2023zedoi`; the rest are the",
        "models, datasets and methods they build on.",
        "",
        "```{bibliography}",
        ":all:",
        "```",
    ]
    return "\n".join(lines) + "\n"


def _table_section(table: ResultsTable, profile: str) -> list[str]:
    folder = run_dir(profile, table.chapter)
    record = read_metrics(folder)
    head = [f"## {table.title} (chapter {table.chapter[:2]})", ""]
    if record is None:
        return [*head, f"Not run under profile `{profile}` yet (no `metrics.json`)."]
    head += [
        f"Data: **{DATA_WORDS.get(record['data'], record['data'])}**; "
        f"seeds: **{record['seeds']}**; selection: {record['selection'].rstrip('.')}.",
        "",
    ]
    rows_file = folder / SEED_ROWS_FILE
    if not rows_file.is_file():
        return [
            *head,
            f"This run wrote no per-seed rows (`{SEED_ROWS_FILE}`), so no interval can be shown; "
            "its means are listed under *Other recorded numbers* below.",
        ]
    frame = pd.read_csv(rows_file)
    missing = [c for c in (*table.by, *table.metrics, "seed") if c not in frame.columns]
    if missing:
        return [
            *head,
            f"`{rows_file.name}` of this run has no column(s) {missing}: the chapter and "
            "`infantpose.book.results.TABLES` disagree; fix the table spec.",
        ]
    for column in table.metrics:
        frame[column] = frame[column] * table.scale
    summary = seed_table(frame, list(table.by), list(table.metrics), digits=1)
    papers = table.papers(record)
    header = (
        ["row"]
        + [p.label for p in papers]
        + [f"ours: {name} ({table.unit})" for name in table.metrics.values()]
        + ["seeds"]
    )
    out = [*head, "| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for key, line in summary.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        paper_key = table.paper_row(key, frame)
        cells = [table.row_label(key, record)]
        cells += [p.cell(paper_key) for p in papers]
        cells += [str(line[m]) for m in table.metrics]
        cells.append(str(line["seeds"]))
        out.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    if table.caption:
        out += ["", table.caption]
    if record.get("notes"):
        out += ["", f"The chapter's notes: {record['notes']}"]
    return out


def _other_numbers(profile: str) -> list[str]:
    tabled = {t.chapter for t in TABLES}
    out = [
        "## Other recorded numbers",
        "",
        "Everything else the chapters recorded, as written in their `metrics.json` (means over "
        "the seeds stated; the tables above give the intervals).",
    ]
    for name in CHAPTERS:
        record = read_metrics(run_dir(profile, name))
        if record is None:
            continue
        out += [
            "",
            f"### {name}",
            "",
            f"Data: **{DATA_WORDS.get(record['data'], record['data'])}**; seeds: "
            f"**{record['seeds']}**; selection: {record['selection'].rstrip('.')}.",
        ]
        if record.get("notes") and name not in tabled:
            out += ["", record["notes"]]
        out += [
            "",
            "```{dropdown} " + f"{len(_flatten(record['metrics']))} numbers",
            "| metric | value |",
            "|---|---:|",
        ]
        out += [
            f"| {_escape(key)} | {_fmt(value)} |"
            for key, value in _flatten(record["metrics"]).items()
        ]
        out.append("```")
    return out


def _runtimes() -> list[str]:
    """Chapter × profile: seconds against budget, for every profile that has run."""
    profiles = sorted(
        p.parent.name for p in runs_root().glob(f"*/{TIMINGS_FILE}") if p.parent.is_dir()
    )
    out = ["## Runtimes", ""]
    if not profiles:
        return [*out, "No profile has run yet (no `runs/*/timings.json`)."]
    timings = {name: read_timings(name) for name in profiles}
    out += [
        "Wall time of each chapter under each profile that has run here, in seconds, against "
        "its budget (`runs/<profile>/timings.json`; *over* marks a chapter over budget).",
        "",
        "| chapter | " + " | ".join(f"`{p}` (s)" for p in profiles) + " |",
        "|---" + "|---:" * len(profiles) + "|",
    ]
    for name in CHAPTERS:
        cells = []
        for profile in profiles:
            entry = timings[profile].get("chapters", {}).get(name)
            if entry is None:
                cells.append("not run")
                continue
            cell = f"{entry['seconds']:.0f} / {entry['budget_s']:.0f}"
            if entry.get("status", "ok") != "ok":
                cell += f" ({entry['status']})"
            if entry.get("over_budget"):
                cell += " **over**"
            cells.append(cell)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    totals = []
    for profile in profiles:
        t = timings[profile]
        totals.append(f"{t['total_s']:.0f} / {t['book_budget_s']:.0f}" if "total_s" in t else "–")
    out.append("| **whole book** | " + " | ".join(totals) + " |")
    updated = [f"`{p}` {timings[p]['updated_at']}" for p in profiles if "updated_at" in timings[p]]
    if updated:
        out += ["", "Last updated: " + ", ".join(updated) + "."]
    return out


def _flatten(metrics: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _fmt(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def write_results(profile_name: str, root: Path | None = None) -> Path:
    return write_text_atomic(
        (root or project_root()) / "book" / "results.md", results_markdown(profile_name)
    )
