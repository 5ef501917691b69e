"""Execute the chapters: jupytext → papermill on the named kernel, timed against budgets.

Per chapter the driver

1. reads the MyST text notebook ``notebooks/NN-name.md`` (the source of truth),
2. checks that every parameter the profile passes is declared in its ``parameters``
   cell (a typo in a profile is an error, not a silently ignored value),
3. executes it with papermill on the registered ``infantpose`` kernel, with a cell
   timeout and a whole-chapter timeout, writing the executed copy to ``book/notebooks/``,
4. records its wall time against the profile's budget in ``runs/<profile>/timings.json``.

A failing chapter stops the run with a message naming the chapter, the failing cell
and the error; the executed copy up to the failure is kept for inspection.

Stopping the driver stops the chapter too. papermill runs in its own session and starts the
kernel in another, so neither gets the terminal's Ctrl-C; whenever :func:`run_chapter` leaves
early (an error, a timeout, Ctrl-C, or SIGTERM/SIGHUP, which :func:`run_book` turns into
:class:`StopRequested`), :func:`stop_process_tree` stops papermill, the kernel and everything
they started. Only SIGKILL of the driver itself cannot be caught; the kernel then still exits
on its own once papermill is gone (ipykernel polls its parent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import (
    Profile,
    check_keys,
    data_root,
    load_profile,
    project_root,
    run_dir,
    runs_root,
)
from ..io import write_json_atomic
from ..logs import LOG_FILE_ENV, LOG_FILE_NAME
from ..progress import PROGRESS_ENV
from .chapters import CHAPTERS, ChapterFailed
from .outputs import slim_notebook, widget_manager_served

if TYPE_CHECKING:
    import psutil

KERNEL_NAME = "infantpose"
KERNEL_DISPLAY_NAME = "Python (infantpose)"
TIMINGS_FILE = "timings.json"
CHAPTER_TIMING_FILE = "timing.json"  # one chapter's entry, in its run folder

log = logging.getLogger(__name__)


@dataclass
class ChapterTiming:
    notebook: str
    seconds: float
    budget_s: float
    status: str  # "ok", "failed" or "timeout"

    @property
    def over_budget(self) -> bool:
        return self.seconds > self.budget_s

    def to_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 2),
            "budget_s": self.budget_s,
            "over_budget": self.over_budget,
            "status": self.status,
        }


# ---------------------------------------------------------------- processes


class StopRequested(KeyboardInterrupt):
    """The driver was asked to stop by a signal (SIGTERM, SIGHUP); ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`StopRequested` and SIGINT (Ctrl-C) into
    ``KeyboardInterrupt``, so that ``finally`` blocks stop the chapter's processes. SIGINT is
    set explicitly because a process started in the background by a non-interactive shell
    (``make test &``, some CI runners) inherits it *ignored*, and ``kill -INT`` would then do
    nothing at all."""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be installed from the main thread
        return

    def handler(signum: int, frame: object) -> None:
        raise StopRequested(signum)

    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {signum: signal.signal(signum, handler) for signum in wanted}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _alive(process: int | psutil.Process) -> bool:
    """Whether ``process`` (a pid) still runs: a zombie has exited, its parent has yet to reap it."""
    import psutil

    try:
        process = process if isinstance(process, psutil.Process) else psutil.Process(process)
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def stop_process_tree(proc: subprocess.Popen, *, grace_s: float = 5.0) -> None:
    """Stop ``proc`` (papermill), its kernel and their children: SIGTERM to each process and
    process group, then SIGKILL to whatever is left after ``grace_s``. Never signals the
    driver's own process group."""
    import psutil

    try:
        papermill = psutil.Process(proc.pid)
        tree = [papermill, *papermill.children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    for signum, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        _signal_tree(tree, signum)
        deadline = time.monotonic() + wait_s
        while True:
            proc.poll()  # reap papermill as soon as it exits
            if not any(_alive(pid) for pid in tree):
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)


def _signal_tree(tree: list[psutil.Process], signum: int) -> None:
    import psutil

    groups = set()
    for process in tree:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(process.pid))
    for group in groups - {os.getpgrp()}:
        with contextlib.suppress(OSError):
            os.killpg(group, signum)
    for process in tree:  # also any process that left its group (never a reused pid)
        with contextlib.suppress(psutil.Error):
            process.send_signal(signum)


# ---------------------------------------------------------------- kernel


def ensure_kernel() -> None:
    """Register the ``infantpose`` kernel for this interpreter (inside the venv) if needed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return
    except NoSuchKernel:
        pass
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL_NAME,
         "--display-name", KERNEL_DISPLAY_NAME],
        check=True,
        capture_output=True,
    )  # fmt: skip


# ---------------------------------------------------------------- notebooks


def notebook_source(notebook: str, root: Path | None = None) -> Path:
    path = (root or project_root()) / "notebooks" / f"{notebook}.md"
    if not path.is_file():
        raise ChapterFailed(f"chapter {notebook!r}: its source {path} does not exist")
    return path


def to_ipynb(source: Path, target: Path) -> None:
    """Convert a MyST text notebook to ``.ipynb`` on the named kernel."""
    import jupytext

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "python",
    }
    nb.metadata.pop("jupytext", None)  # the executed copy is not paired with anything
    if not any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells):
        raise ChapterFailed(
            f"{source}: no cell tagged `parameters`; add `:tags: [parameters]` to the cell of literals"
        )
    jupytext.write(nb, target, fmt="ipynb")


def check_parameters(notebook_path: Path, parameters: dict, *, where: str) -> None:
    """Every parameter the profile passes must be declared by the notebook."""
    import papermill

    declared = set(papermill.inspect_notebook(str(notebook_path)))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ChapterFailed(
            f"{where}: the profile passes {unknown}, which the chapter's `parameters` cell does "
            f"not declare (it declares {sorted(declared)}); fix the name in the profile or add "
            "the parameter to the notebook"
        )


def failing_cell(executed: Path) -> str:
    """Describe the cell papermill marked as failed (or still running) in an executed copy."""
    try:
        nb = json.loads(executed.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return "no executed copy was written"
    code_cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, start=1):
        meta = cell.get("metadata", {}).get("papermill", {})
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if meta.get("exception") or errors or meta.get("status") == "running":
            first = next(
                (ln for ln in "".join(cell.get("source", "")).splitlines() if ln.strip()), ""
            )
            what = f"code cell {number} (`{first.strip()[:80]}`)"
            if errors:
                what += f": {errors[0].get('ename')}: {errors[0].get('evalue')}"
            elif meta.get("status") == "running":
                what += ": still running when it was stopped"
            return what
    return "no cell: the kernel had not started a code cell yet"


def run_chapter(notebook: str, profile: Profile, *, root: Path, log_dir: Path) -> ChapterTiming:
    """Execute one chapter; raise :class:`ChapterFailed` with the failing cell on error."""
    spec = profile.chapter(notebook)
    out_dir = run_dir(profile.name, notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    parameters = {**profile.parameters_for(notebook), "run_dir": str(out_dir)}
    executed_tmp = out_dir / "executed.ipynb"
    with tempfile.TemporaryDirectory(prefix=f"{notebook}-") as tmp:
        source_nb = Path(tmp) / f"{notebook}.ipynb"
        params_file = Path(tmp) / "parameters.json"
        to_ipynb(notebook_source(notebook, root), source_nb)
        check_parameters(source_nb, parameters, where=f"{profile.source} → {notebook}")
        params_file.write_text(json.dumps(parameters), encoding="utf-8")
        command = [
            sys.executable, "-m", "papermill", str(source_nb), str(executed_tmp),
            "-f", str(params_file), "-k", KERNEL_NAME, "--cwd", str(root / "notebooks"),
            "--execution-timeout", str(int(profile.cell_timeout_s)), "--no-progress-bar",
        ]  # fmt: skip
        package_log = out_dir / LOG_FILE_NAME
        package_log.unlink(missing_ok=True)  # this run's messages only
        env = {
            **os.environ,
            "INFANTPOSE_DATA": str(data_root()),
            "INFANTPOSE_RUNS": str(runs_root()),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            # The package's messages and progress into the run folder, beside metrics.json;
            # no progress widgets in the executed pages (their state is not kept).
            LOG_FILE_ENV: str(package_log),
            PROGRESS_ENV: "off" if os.environ.get(PROGRESS_ENV) == "off" else "log",
        }
        log_path = log_dir / f"{notebook}.log"
        start = time.perf_counter()
        with open(log_path, "w", encoding="utf-8") as papermill_log:
            proc = subprocess.Popen(
                command,
                stdout=papermill_log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
            status = "stopped"
            try:
                code = proc.wait(timeout=profile.notebook_timeout_s)
                status = "ok" if code == 0 else "failed"
            except subprocess.TimeoutExpired:
                status = "timeout"
            finally:
                if status in ("timeout", "stopped"):  # also Ctrl-C, SIGTERM, any exception
                    stop_process_tree(proc, grace_s=0.0 if status == "timeout" else 5.0)
        seconds = time.perf_counter() - start
    timing = ChapterTiming(notebook, seconds, spec.budget_s, status)
    if status != "ok":
        kept = out_dir / "failed.ipynb"
        if executed_tmp.exists():
            os.replace(executed_tmp, kept)
        reason = (
            f"exceeded its {profile.notebook_timeout_s:.0f} s limit"
            if status == "timeout"
            else "raised an error"
        )
        where = failing_cell(kept)
        where = f"in {where}" if where.startswith("code cell") else f"({where})"
        raise ChapterFailed(
            f"chapter {notebook} {reason} {where}\n"
            f"  executed copy up to the failure: {kept}\n  log: {log_path}\n"
            f"  the package's messages and progress: {package_log}"
        )
    book_copy = root / "book" / "notebooks" / f"{notebook}.ipynb"
    write_json_atomic(
        book_copy,
        for_the_book(
            executed_tmp, profile, widget_manager=widget_manager_served(root / "_config.yml")
        ),
    )
    executed_tmp.unlink()
    (out_dir / "failed.ipynb").unlink(missing_ok=True)  # an older failure is no longer news
    return timing


def for_the_book(executed: Path, profile: Profile, *, widget_manager: bool = False) -> dict:
    """The executed notebook as the book shows it: the values that ran, once, and nothing
    that renders nothing.

    The defaults of the ``parameters`` cell are hidden (``remove-cell``); papermill's
    injected cell, which holds the values actually used, says where they came from.
    Inlined plotly.js and widget state that cannot render are dropped
    (:func:`.outputs.slim_notebook`).
    """
    nb = json.loads(executed.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if "injected-parameters" in tags:
            source = "".join(cell["source"]).replace(
                "# Parameters\n",
                f"# Parameters of profile `{profile.name}` ({Path(profile.source).name}), set by papermill\n",
                1,
            )
            cell["source"] = source
    return slim_notebook(nb, widget_manager=widget_manager)


# ---------------------------------------------------------------- timings


def timings_path(profile: str) -> Path:
    return runs_root() / profile / TIMINGS_FILE


def read_timings(profile: str) -> dict:
    path = timings_path(profile)
    if not path.is_file():
        return {"profile": profile, "chapters": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _chapter_timing_path(profile: str, notebook: str) -> Path:
    return run_dir(profile, notebook) / CHAPTER_TIMING_FILE


def _record_chapter(profile: str, notebook: str, timing: dict | None) -> None:
    """Keep one chapter's timing beside its metrics (``None``: it failed, forget the old one)."""
    path = _chapter_timing_path(profile, notebook)
    if timing is None:
        path.unlink(missing_ok=True)
    else:
        write_json_atomic(path, timing)


def _with_chapter_files(profile: str, chapters: dict[str, dict]) -> dict[str, dict]:
    """``chapters`` updated by every chapter's own timing file: two drivers running disjoint
    chapters of one profile (``--only``) each rewrite ``timings.json`` from what they saw,
    and the chapter files keep the other driver's newer entries from being lost."""
    merged = dict(chapters)
    for name in CHAPTERS:
        path = _chapter_timing_path(profile, name)
        if path.is_file():
            merged[name] = json.loads(path.read_text(encoding="utf-8"))
    return merged


def _write_timings(profile: Profile, chapters: dict[str, dict]) -> dict:
    ordered = {name: chapters[name] for name in CHAPTERS if name in chapters}
    total = sum(c["seconds"] for c in ordered.values())
    payload = {
        "profile": profile.name,
        "book_budget_s": profile.book_budget_s,
        "total_s": round(total, 2),
        "over_budget": total > profile.book_budget_s,
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "chapters": ordered,
    }
    write_json_atomic(timings_path(profile.name), payload)
    return payload


def run_book(profile_name: str, only: list[str] | None = None) -> dict:
    """Run the chapters (all, or ``only``) in order; return the timings written."""
    root = project_root()
    profile = load_profile(profile_name)
    chapters = list(CHAPTERS) if not only else [c for c in CHAPTERS if c in only]
    missing = sorted(set(only or []) - set(CHAPTERS))
    if missing:
        raise ChapterFailed(f"unknown chapter(s) {missing}; chapters: {', '.join(CHAPTERS)}")
    # Before anything runs: a misspelt chapter, a missing budget, real data without a path.
    check_keys(profile.notebooks, CHAPTERS, f"{profile.source}: notebooks")
    for notebook in chapters:
        profile.chapter(notebook)
    profile.check_data()
    with stop_on_signals():
        return _run_chapters(profile, chapters, root, only)


def _run_chapters(
    profile: Profile,
    chapters: list[str],
    root: Path,
    only: list[str] | None,
) -> dict:
    ensure_kernel()
    log_dir = runs_root() / profile.name / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    recorded = dict(read_timings(profile.name).get("chapters", {})) if only else {}
    for notebook in chapters:
        follow = run_dir(profile.name, notebook) / LOG_FILE_NAME
        log.info(f"[{profile.name}] {notebook} … (to watch it: tail -f {follow})")
        try:
            timing = run_chapter(notebook, profile, root=root, log_dir=log_dir)
        except ChapterFailed:
            _record_chapter(profile.name, notebook, None)
            if only:
                recorded = _with_chapter_files(profile.name, read_timings(profile.name)["chapters"])
            recorded.pop(notebook, None)
            _write_timings(profile, recorded)
            raise
        recorded[notebook] = timing.to_dict()
        _record_chapter(profile.name, notebook, recorded[notebook])
        flag = "  OVER BUDGET" if timing.over_budget else ""
        log.info(
            f"[{profile.name}] {notebook} done in {timing.seconds:.1f} s (budget {timing.budget_s:.0f} s){flag}"
        )
    if only:  # what another driver recorded since this one started stays
        recorded = _with_chapter_files(profile.name, read_timings(profile.name)["chapters"])
    payload = _write_timings(profile, recorded)
    over = [name for name, c in payload["chapters"].items() if c["over_budget"]]
    log.info(
        f"[{profile.name}] book: {payload['total_s']:.0f} s of {profile.book_budget_s:.0f} s budget"
    )
    if over or payload["over_budget"]:  # a figure to read, never a failure: CI is not a timer
        log.warning(
            f"WARNING: over budget: {', '.join(over) or 'the whole book'} (recorded in "
            f"{timings_path(profile.name)}; the hard limits are the profile's timeouts)"
        )
    return payload
