"""The execution path: chapters, parameters, papermill failures, timings, results, offline HTML."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from infantpose.book import CHAPTERS, ChapterFailed, check_in_browser, remote_assets
from infantpose.book.results import results_markdown
from infantpose.book.run import check_parameters, run_chapter, to_ipynb
from infantpose.config import PROFILE_NAMES, load_profile
from infantpose.runs import read_metrics, record_metrics

ROOT = Path(__file__).resolve().parents[1]


def _parameters_cell(ipynb: Path) -> str:
    nb = json.loads(ipynb.read_text())
    cells = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, f"{ipynb.name}: expected exactly one cell tagged parameters"
    return "".join(cells[0]["source"])


def test_chapters_toc_and_sources_agree():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert [f.removeprefix("notebooks/") for f in files if f.startswith("notebooks/")] == list(
        CHAPTERS
    )
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.md")) == sorted(CHAPTERS)


def test_every_citation_has_a_bibliography_entry():
    # A missing key is a Sphinx warning, and the book build fails on warnings: catch it here,
    # in a second, rather than at the end of the smoke book.
    bib = (ROOT / "book" / "references.bib").read_text()
    known = set(re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.M))
    pages = [*(ROOT / "notebooks").glob("*.md"), *(ROOT / "book").glob("*.md")]
    cited = {
        (page.name, key.strip())
        for page in pages
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text())
        for key in keys.split(",")
    }
    assert cited, "no citations found: the pattern no longer matches the chapters"
    assert sorted((p, k) for p, k in cited if k not in known) == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_has_one_parameters_cell_of_literals(chapter, tmp_path):
    target = tmp_path / f"{chapter}.ipynb"
    to_ipynb(ROOT / "notebooks" / f"{chapter}.md", target)
    tree = ast.parse(_parameters_cell(target))
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), "only assignments in the parameters cell"
        ast.literal_eval(
            node.value
        )  # raises unless a literal: derived values belong in the next cell
        names |= {t.id for t in node.targets}
    assert {"profile", "device", "seed", "run_dir"} <= names
    for profile in PROFILE_NAMES:  # every profile parameter is declared by the chapter
        params = {**load_profile(profile).parameters_for(chapter), "run_dir": ""}
        check_parameters(target, params, where=profile)


#: Parameters whose cell value differs from the ``default`` profile on purpose, with the reason.
_CELL_DIFFERS_FROM_DEFAULT = {
    (
        "06-pose-explorer",
        "live",
    ): "papermill has no frontend; JupyterLab's run-all builds the widgets",
}


def _cell_values(chapter: str, tmp_path: Path) -> dict:
    target = tmp_path / f"{chapter}.ipynb"
    to_ipynb(ROOT / "notebooks" / f"{chapter}.md", target)
    return {
        t.id: ast.literal_eval(node.value)
        for node in ast.parse(_parameters_cell(target)).body
        for t in node.targets
    }


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_parameters_cell_equals_the_default_profile(chapter, tmp_path):
    """JupyterLab's "run all" on a chapter runs what the published book ran."""
    cell = _cell_values(chapter, tmp_path)
    default = load_profile("default").parameters_for(chapter)
    differ = {
        key: (cell.get(key), value)
        for key, value in default.items()
        if (chapter, key) not in _CELL_DIFFERS_FROM_DEFAULT
        and json.loads(json.dumps(cell.get(key))) != value
    }
    assert differ == {}, f"{chapter}: parameters cell vs configs/default.yaml (cell, profile)"


def test_every_key_a_profile_sets_is_a_parameter_some_chapter_declares(tmp_path):
    declared = {chapter: set(_cell_values(chapter, tmp_path)) for chapter in CHAPTERS}
    for name in PROFILE_NAMES:
        profile = load_profile(name)
        unused = sorted(k for k in profile.parameters if not any(k in d for d in declared.values()))
        assert unused == [], f"{name}: shared parameters no chapter declares"
        for chapter, spec in profile.notebooks.items():
            assert set(spec.parameters) <= declared[chapter], (name, chapter)


def test_a_profile_parameter_the_chapter_does_not_declare_is_rejected(tmp_path):
    target = tmp_path / "c.ipynb"
    to_ipynb(ROOT / "notebooks" / f"{CHAPTERS[0]}.md", target)
    with pytest.raises(ChapterFailed, match=r"passes \['num_epocs'\]"):
        check_parameters(target, {"num_epocs": 2}, where="smoke.yaml")


def test_a_text_notebook_without_parameters_cell_is_rejected(tmp_path):
    source = tmp_path / "x.md"
    source.write_text("# T\n\n```{code-cell} ipython3\nx = 1\n```\n")
    with pytest.raises(ChapterFailed, match="no cell tagged `parameters`"):
        to_ipynb(source, tmp_path / "x.ipynb")


# ------------------------------------------------------------ papermill runs in a scratch project


def _scratch_project(
    tmp_path: Path, body: str, *, notebook_timeout_s: float = 120
) -> tuple[Path, object]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "configs").mkdir()
    (tmp_path / "notebooks" / "00-demo.md").write_text(
        textwrap.dedent(
            """\
            ---
            jupytext:
              text_representation: {extension: .md, format_name: myst}
            kernelspec: {display_name: Python 3, language: python, name: python3}
            ---
            # Demo

            ```{code-cell} ipython3
            :tags: [parameters]
            seed = 0
            run_dir = ""
            ```
            """
        )
        + body
    )
    profile = tmp_path / "configs" / "t.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "description": "test",
                "data": "embedded",
                "device": "cpu",
                "book_budget_s": 100,
                "notebook_timeout_s": notebook_timeout_s,
                "cell_timeout_s": 60,
                "parameters": {"seed": 7},
                "notebooks": {"00-demo": {"budget_s": 0.001}},
            }
        )
    )
    return tmp_path, load_profile(profile)


def _cell(source: str) -> str:
    return f"\n```{{code-cell}} ipython3\n{source}\n```\n"


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("INFANTPOSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "data"))
    return tmp_path / "runs"


def test_a_chapter_runs_with_its_parameters_and_is_timed(tmp_path, runs):
    body = _cell("assert seed == 7, seed\nprint('seed', seed)")
    root, profile = _scratch_project(tmp_path / "p", body)
    timing = run_chapter("00-demo", profile, root=root, log_dir=tmp_path)
    assert timing.status == "ok" and timing.over_budget  # the 1 ms budget is flagged
    executed = json.loads((root / "book" / "notebooks" / "00-demo.ipynb").read_text())
    assert any(
        "seed 7" in "".join(o.get("text", ""))
        for c in executed["cells"]
        for o in c.get("outputs", [])
    )


def test_a_book_over_its_budgets_is_reported_not_failed(tmp_path, runs, caplog, monkeypatch):
    """CI is not a timer: a chapter over budget (here 1 ms) is a recorded, printed figure; only
    the hard limits (the profile's timeouts) stop a run."""
    from infantpose.book import run

    monkeypatch.setattr(run, "CHAPTERS", ("00-demo",))
    root, profile = _scratch_project(tmp_path / "p", _cell("print('hi')"))
    payload = run._run_chapters(profile, ["00-demo"], root, None)
    assert payload["chapters"]["00-demo"]["over_budget"]
    assert "over budget: 00-demo" in caplog.text


def test_a_chapter_keeps_its_log_and_shows_no_progress_widget(tmp_path, runs):
    body = _cell(
        "import logging\nfrom infantpose.progress import progress_bar\n"
        "for _ in progress_bar(range(3), desc='demo loop', unit='step'):\n    pass\n"
        "logging.getLogger('infantpose.demo').info('epoch 1/1  loss 0.5')"
    )
    root, profile = _scratch_project(tmp_path / "p", body)
    run_chapter("00-demo", profile, root=root, log_dir=tmp_path)
    executed = json.loads((root / "book" / "notebooks" / "00-demo.ipynb").read_text())
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    # A bar widget's state is not kept in the executed copy: the built page would show it broken.
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert not any("demo loop" in "".join(o.get("text", "")) for o in outputs)
    assert any("epoch 1/1  loss 0.5" in "".join(o.get("text", "")) for o in outputs)
    log = (runs / "t" / "00-demo" / "infantpose.log").read_text()  # beside metrics.json
    assert "infantpose.demo: epoch 1/1  loss 0.5" in log
    assert "demo loop" in log and "3/3" in log


def test_a_failing_chapter_names_the_notebook_and_the_cell(tmp_path, runs):
    body = _cell("x = 1") + _cell("ratio = 1 / 0  # the bug")
    root, profile = _scratch_project(tmp_path / "p", body)
    with pytest.raises(ChapterFailed) as err:
        run_chapter("00-demo", profile, root=root, log_dir=tmp_path)
    message = str(err.value)
    assert "chapter 00-demo raised an error" in message
    assert "`ratio = 1 / 0  # the bug`" in message and "ZeroDivisionError" in message
    assert (runs / "t" / "00-demo" / "failed.ipynb").exists()
    assert not (root / "book" / "notebooks" / "00-demo.ipynb").exists()
    # Once the bug is fixed, the kept copy of the old failure goes away.
    source = root / "notebooks" / "00-demo.md"
    source.write_text(source.read_text().replace("ratio = 1 / 0  # the bug", "ratio = 1"))
    run_chapter("00-demo", profile, root=root, log_dir=tmp_path)
    assert not (runs / "t" / "00-demo" / "failed.ipynb").exists()


def test_a_chapter_over_its_time_limit_is_stopped(tmp_path, runs):
    body = _cell("import time\ntime.sleep(120)")
    # 20 s: a kernel on two busy cores can take more than 8 s to reach its first cell
    root, profile = _scratch_project(tmp_path / "p", body, notebook_timeout_s=20)
    with pytest.raises(
        ChapterFailed, match=r"exceeded its 20 s limit in code cell \d+ \(`import time`\)"
    ):
        run_chapter("00-demo", profile, root=root, log_dir=tmp_path)


# ------------------------------------------------------------ stopping: no orphaned kernel


def _driver(root: Path, runs: Path, *args: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "INFANTPOSE_RUNS": str(runs), "INFANTPOSE_DATA": str(runs.parent / "d")}
    return subprocess.Popen(
        [sys.executable, "-m", "infantpose.book", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGINT, inherited ignored"])
def test_stopping_the_driver_stops_papermill_its_kernel_and_their_children(tmp_path, runs, signame):
    import signal

    if not signame.endswith("ignored"):
        _stop_the_driver(tmp_path, runs, signame)
        return
    # A background job of a non-interactive shell (`make test &`, some CI runners) starts with
    # SIGINT ignored; the driver inherits that and must still stop on `kill -INT`.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _stop_the_driver(tmp_path, runs, "SIGINT")
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_the_driver(tmp_path, runs, signame):
    import os
    import signal
    import time

    from infantpose.book.run import _alive

    pids_file = tmp_path / "pids"
    body = _cell(
        "import os, pathlib, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '300'])  # like a DataLoader worker\n"
        f"pathlib.Path({str(pids_file)!r}).write_text(f'{{os.getppid()}} {{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(300)"
    )
    root, _ = _scratch_project(tmp_path / "p", body, notebook_timeout_s=300)
    (root / "notebooks" / "00-demo.md").rename(root / "notebooks" / f"{CHAPTERS[0]}.md")
    profile = root / "configs" / "t.yaml"
    profile.write_text(profile.read_text().replace("00-demo", CHAPTERS[0]))
    driver = _driver(root, runs, "run", "--profile", "t", "--only", CHAPTERS[0])
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not pids_file.exists() or len(pids_file.read_text().split()) < 3:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "the chapter never started"
            time.sleep(0.2)
        pids = [int(p) for p in pids_file.read_text().split()]  # papermill, kernel, child
        os.kill(driver.pid, getattr(signal, signame))  # what Ctrl-C or `kill` does to it
        _, stderr = driver.communicate(timeout=60)
        signum = getattr(signal, signame)
        assert driver.returncode == 128 + signum, stderr
        assert f"STOPPED by {signame}" in stderr and "Traceback" not in stderr
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pids if _alive(pid)], "left running after the driver stopped"
    finally:
        for pid in [driver.pid, *pids]:  # never leave anything behind, pass or fail
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_a_bad_profile_is_one_line_on_the_command_line(tmp_path, runs):
    root, _ = _scratch_project(tmp_path / "p", "")
    profile = root / "configs" / "t.yaml"
    profile.write_text(profile.read_text() + "paths: {syrp: /data/SyRIP}\n")
    driver = _driver(root, runs, "run", "--profile", "t")
    _, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 2
    assert stderr.count("\n") == 1 and stderr.startswith("FAILED: ") and "Traceback" not in stderr
    assert "t.yaml: paths: unknown field(s) `syrp` (did you mean `syrip`?)" in stderr


def test_the_book_checks_chapter_names_and_real_data_before_running(tmp_path, runs, monkeypatch):
    from infantpose.book.run import run_book
    from infantpose.config import ConfigError

    root, _ = _scratch_project(tmp_path / "p", "")
    monkeypatch.chdir(root)
    profile = root / "configs" / "t.yaml"
    text = profile.read_text().replace("00-demo", CHAPTERS[0])
    profile.write_text(text.replace(CHAPTERS[0], CHAPTERS[0].replace("measuring", "mesuring")))
    with pytest.raises(ConfigError, match=rf"notebooks: .*did you mean `{CHAPTERS[0]}`"):
        run_book("t", [CHAPTERS[0]])
    profile.write_text(text.replace("data: embedded", "data: real"))
    with pytest.raises(ConfigError, match="`data: real` but no dataset"):
        run_book("t", [CHAPTERS[0]])
    assert not runs.exists()  # nothing ran


# ------------------------------------------------------------ metrics and the results page


def test_record_metrics_requires_provenance(tmp_path):
    with pytest.raises(ValueError, match="data="):
        record_metrics(tmp_path, {"ap": 1.0}, data="synthetic-ish", seeds=1, selection="x")
    with pytest.raises(ValueError, match="seeds="):
        record_metrics(tmp_path, {"ap": 1.0}, data="embedded", seeds=0, selection="x")
    with pytest.raises(ValueError, match="selection"):
        record_metrics(tmp_path, {"ap": 1.0}, data="embedded", seeds=3, selection=" ")
    assert read_metrics(tmp_path) is None


def test_results_page_lists_timings_and_metrics_with_their_provenance(runs):
    chapter = CHAPTERS[0]
    record_metrics(
        runs / "smoke" / chapter,
        {"ap": {"mean": 0.91234}},
        data="embedded",
        seeds=3,
        selection="best validation AP",
    )
    (runs / "smoke" / "timings.json").write_text(
        json.dumps(
            {
                "total_s": 70.0,
                "book_budget_s": 600,
                "chapters": {
                    chapter: {"seconds": 70.0, "budget_s": 60, "over_budget": True, "status": "ok"}
                },
            }
        )
    )
    page = results_markdown("smoke")
    assert f"| {chapter} | 70 / 60 **over** |" in page
    assert (
        "Data: **the embedded stand-in (rendered, not real infants)**; seeds: **3**; selection: best validation AP."
        in page
    )
    assert "| ap.mean | 0.9123 |" in page
    assert "embedded, rendered stand-in" in page


# ------------------------------------------------------------ offline HTML


def test_remote_assets_finds_scripts_and_styles_but_not_links(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//cdn.example/s.css">'
        '<a href="https://example.org">a link is not a request</a>'
        '<link rel="canonical" href="https://example.org/a.html">'
        '<script src="_static/local.js"></script>'
    )
    found = remote_assets(tmp_path)
    assert len(found) == 2
    assert "x.js" in found[0] and "s.css" in found[1]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian chromium (make browser)")
def test_browser_check_catches_a_request_leaving_the_page_origin(tmp_path):
    html = tmp_path / "html"
    html.mkdir()
    (html / "ok.html").write_text("<html><body><p>offline</p></body></html>")
    # Another loopback origin stands in for a CDN: nothing leaves the machine.
    (html / "bad.html").write_text(
        '<html><body><img src="http://127.0.0.2:9/cdn.png"></body></html>'
    )
    with pytest.raises(ChapterFailed) as err:
        check_in_browser(html, tmp_path / "shots")
    assert "bad.html: request to http://127.0.0.2:9/cdn.png" in str(err.value)
    assert "ok.html" not in str(err.value)
    assert (tmp_path / "shots" / "ok.png").exists()


# ------------------------------------------------------------ the anatomy of every chapter
#
# Chapter 00 sets the standard (STYLE.md, point 5): one title, every figure captioned, named,
# its plotting code hidden and cited by {numref} in the prose, the environment report last, and
# no function of the chapter's own outside a hidden figure cell (the package holds the logic).
#
# A *figure cell* is a code cell that carries `mystnb: figure:` metadata, or whose code shows
# a figure: it calls `show()` (matplotlib's `plt.show()`, a plotly figure's `.show()`),
# `plt.subplots`/`plt.figure`, or one of `infantpose.viz`'s figure makers (`plot_*`,
# `*_figure`, `*_figure_3d`). Such a cell makes one figure: at most one `show()`, never in a
# loop, since MyST-NB gives a cell's figure one caption and one name.

_FIGURE_CALLS = {"show", "subplots", "figure", "colabel_figure"}
_FIGURE_NAME = re.compile(r"fig-(?P<chapter>\d\d)-[a-z0-9-]+")
_NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?(?P<target>[^`>]+)>?`")


def _figure_makers() -> set[str]:
    import infantpose.viz as viz

    return _FIGURE_CALLS | {
        name for name in viz.__all__ if name.startswith("plot_") or name.endswith("_figure_3d")
    }


def _called(tree: ast.AST) -> list[tuple[str, bool]]:
    """(name, inside a loop) of every call: `f(...)` and `x.f(...)` both give `f`."""
    found = []

    def visit(node: ast.AST, in_loop: bool) -> None:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((name, in_loop))
        for child in ast.iter_child_nodes(node):
            visit(child, in_loop or isinstance(node, ast.For | ast.While | ast.comprehension))

    visit(tree, False)
    return found


def _chapter_problems(source: Path, known_targets: set[str] | None = None) -> list[str]:
    """What breaks the anatomy of the MyST notebook ``source`` (empty: none)."""
    import jupytext

    nb = jupytext.read(source)
    chapter = source.stem[:2]
    problems = []
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)  # not inside fenced blocks
    titles = re.findall(r"^# \S.*$", prose, flags=re.M)
    if len(titles) != 1:
        problems.append(f"{len(titles)} title headings (`# ...`), expected one: {titles}")
    makers = _figure_makers()
    names, code_cells = [], [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        where = f"code cell {number} ({cell.source.strip().splitlines()[0][:50] if cell.source.strip() else ''!r})"
        tree = ast.parse(cell.source)
        calls = _called(tree)
        figure = cell.metadata.get("mystnb", {}).get("figure")
        is_figure = figure is not None or any(name in makers for name, _ in calls)
        hidden = "hide-input" in cell.metadata.get("tags", [])
        if is_figure:
            figure = figure or {}
            if not str(figure.get("caption", "")).strip():
                problems.append(f"{where}: a figure cell without `mystnb: figure: caption:`")
            name = str(figure.get("name", ""))
            match = _FIGURE_NAME.fullmatch(name)
            if match is None or match["chapter"] != chapter:
                problems.append(f"{where}: figure name {name!r} is not fig-{chapter}-<kebab-case>")
            names.append(name)
            if not hidden:
                problems.append(f"{where}: a figure cell without `tags: [hide-input]`")
            shows = [in_loop for called, in_loop in calls if called == "show"]
            if len(shows) > 1 or any(shows):
                problems.append(f"{where}: a figure cell shows more than one figure; split it")
        defined = [
            node.name if not isinstance(node, ast.Assign) else "a lambda"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            or (isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda))
        ]
        if defined and not (is_figure and hidden):
            problems.append(f"{where}: defines {defined}: move it into the package")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        problems.append(f"figure names used twice: {duplicated}")
    cited = {m["target"].strip() for m in _NUMREF.finditer(markdown)}
    problems += [f"figure {n} is never cited by {{numref}}" for n in names if n not in cited]
    targets = set(names) | (known_targets or set())
    problems += [f"{{numref}} `{t}` has no target" for t in sorted(cited - targets)]
    last = code_cells[-1] if code_cells else None
    if (
        last is None
        or last.source.strip() != "ip.env.env_report()"
        or "remove-input" not in last.metadata.get("tags", [])
    ):
        problems.append(
            "the last code cell is not the hidden environment report (ip.env.env_report())"
        )
    return problems


def _all_figure_names() -> set[str]:
    names = set()
    for page in (ROOT / "notebooks").glob("*.md"):
        names |= set(re.findall(r"^\s*name:\s*(fig-\S+)\s*$", page.read_text(), flags=re.M))
    return names


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_has_the_anatomy_of_chapter_00(chapter):
    source = ROOT / "notebooks" / f"{chapter}.md"
    assert _chapter_problems(source, _all_figure_names()) == []


_GOOD_CHAPTER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A title

{numref}`fig-07-curve` shows it.

```{code-cell} ipython3
import matplotlib.pyplot as plt

import infantpose as ip
```

```{code-cell} ipython3
x = [1, 2]
```

```{code-cell} ipython3
---
tags: [hide-input]
mystnb:
  figure:
    caption: |
      A curve.
    name: fig-07-curve
---
def style(ax):
    ax.grid()


fig, ax = plt.subplots()
style(ax)
plt.show()
```

```{code-cell} ipython3
:tags: [remove-input]

ip.env.env_report()
```
"""


def _write_chapter(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "07-demo.md"
    path.write_text(text)
    return path


def test_the_anatomy_check_passes_a_good_chapter(tmp_path):
    assert _chapter_problems(_write_chapter(tmp_path, _GOOD_CHAPTER)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("# A title", "# A title\n\n# Another title"), "2 title headings"),
        (("    caption: |\n      A curve.\n", ""), "without `mystnb: figure: caption:`"),
        (("name: fig-07-curve", "name: fig-08-curve"), "is not fig-07-<kebab-case>"),
        (("tags: [hide-input]\n", "tags: []\n"), "without `tags: [hide-input]`"),
        (("plt.show()", "plt.show()\nfig.show()"), "shows more than one figure"),
        (("x = [1, 2]", "def helper():\n    return 1"), "defines ['helper']"),
        (("x = [1, 2]", "helper = lambda: 1"), "defines ['a lambda']"),
        (("x = [1, 2]", "plt.plot([1, 2])\nplt.show()"), "a figure cell without"),
        (("{numref}`fig-07-curve` shows it.", "It shows it."), "never cited by {numref}"),
        (
            ("shows it.", "shows it, as {numref}`fig-07-other` does."),
            "`fig-07-other` has no target",
        ),
        (("ip.env.env_report()", "print('done')"), "not the hidden environment report"),
    ],
)
def test_the_anatomy_check_fails_a_chapter_that_breaks_a_rule(tmp_path, change, expected):
    old, new = change
    assert old in _GOOD_CHAPTER
    problems = _chapter_problems(_write_chapter(tmp_path, _GOOD_CHAPTER.replace(old, new, 1)))
    assert any(expected in p for p in problems), problems


# ------------------------------------------------------------ chapters that teach
#
# STYLE.md point 13 and issue 28 add four rules to the anatomy, for the chapters rewritten to
# teach. Each chapter below is held to the rules it names; 01, 03, 04 and 06 join as their
# rewrites land (add the chapter and its rules here, nothing else).
#
# - "source": a method chapter shows the package's own code for its core step, included from
#   the file by `{literalinclude}` with `:pyobject:` (or `:start-after:`/`:end-before:`), so it
#   cannot drift; the list after it quotes lines that are still in that code and cites the
#   chapter's equations with {eq}.
# - "glue": conclusions are computed: every `{glue:...}` has its `glue()` in the chapter, every
#   `glue()` is pasted somewhere, and the summary pastes at least one value and types no
#   measurement (a number with mm, px, %, s, ...).
# - "links": other chapters are linked with {doc}, never named as plain "chapter NN" text, and
#   every {doc} target exists.
# - "solutions": every exercise is followed by its solution in a collapsed `{dropdown}`.

TEACHING_RULES: dict[str, tuple[str, ...]] = {
    "00-measuring-pose": ("glue", "links", "solutions"),
    "02-smil-synthesis": ("glue", "links", "solutions"),
    "05-zedoi-lifting": ("source", "glue", "links", "solutions"),
}
_ALL_RULES = ("source", "glue", "links", "solutions")

# Directives whose body is code, not prose ({dropdown} and the admonitions hold prose).
_CODE_DIRECTIVE = re.compile(r"\{(code|code-block|code-cell|literalinclude|math|eval-rst)\}")
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<marks>`{3,}|:{3,})(?P<info>.*)$")
_SPAN = re.compile(r"(?P<role>\{[\w:-]+\})?`(?P<text>[^`\n]*)`")
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
_PLAIN_CHAPTER = re.compile(r"\bchapters?[\s\u00a0-]+\d\d\b", re.I)
_TYPED_MEASURE = re.compile(
    r"(?<![\w.@$-])[-+−]?\d+(?:[.,]\d+)?\s?"
    r"(?:(?:mm|cm|px|ms|min|minutes|seconds|s|m)\b|%(?!\s*(?:CI|confidence|interval)))"
)
_INCLUDE = re.compile(
    r"^(?P<fence>`{3,})\{literalinclude\}\s+(?P<path>\S+)[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_EQ_LABEL = re.compile(r"^\$\$\s*\((?P<label>[\w-]+)\)\s*$", re.M)


def _inline_code(text: str) -> list[str]:
    """The inline code spans of ``text`` (not the text of roles such as {eq}`label`)."""
    return [m["text"] for m in _SPAN.finditer(text) if not m["role"]]


def _prose(markdown: str) -> str:
    """``markdown`` without code: fenced code blocks and inline code dropped, the bodies of
    prose directives ({dropdown}, admonitions) kept, roles kept."""
    out, directives, skipping = [], [], None
    for line in markdown.splitlines():
        fence = _FENCE.match(line)
        if skipping is not None:
            if fence and fence["marks"] == skipping and not fence["info"].strip():
                skipping = None
            continue
        if fence:
            info = fence["info"].strip()
            if not info and directives and directives[-1] == fence["marks"]:
                directives.pop()  # the end of a prose directive
            elif info.startswith("{") and not _CODE_DIRECTIVE.match(info):
                directives.append(fence["marks"])  # a prose directive: its body is kept
            else:
                skipping = fence["marks"]  # a code block
            continue
        if directives and re.match(r"^\s*:[\w-]+:", line):
            continue  # a directive's option
        out.append(line)
    return _SPAN.sub(lambda m: m[0] if m["role"] else "", "\n".join(out))


def _section(markdown: str, title: str) -> str:
    """The text of the ``## title`` section ('' when there is none)."""
    match = re.search(rf"^## {re.escape(title)}\s*$(?P<body>.*?)(?=^## |\Z)", markdown, re.M | re.S)
    return match["body"] if match else ""


def _pyobject_source(path: Path, name: str) -> str | None:
    """The source of ``name`` (``func`` or ``Class.method``) in the Python file ``path``."""
    text = path.read_text(encoding="utf-8")
    scope: list[ast.stmt] = ast.parse(text).body
    node = None
    for part in name.split("."):
        node = next(
            (
                n
                for n in scope
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        scope = node.body
    return ast.get_source_segment(text, node)


def _glue_keys(code_cells) -> tuple[set[str], list[re.Pattern]]:
    """Keys glued by ``glue("key", ...)`` calls: literal ones, and f-string ones as patterns."""
    literal, patterns = set(), []
    for cell in code_cells:
        for node in ast.walk(ast.parse(cell.source)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name != "glue":
                continue
            key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                literal.add(key.value)
            elif isinstance(key, ast.JoinedStr):
                parts = [
                    re.escape(v.value) if isinstance(v, ast.Constant) else ".+?" for v in key.values
                ]
                patterns.append(re.compile("".join(parts)))
    return literal, patterns


def _glue_references(text: str) -> list[str]:
    """The keys of every `{glue}`/`{glue:text}`/... role in ``text`` (``doc::key`` kept whole)."""
    keys = []
    for role in _ROLE.finditer(text):
        if role["role"].split(":")[0] != "glue":
            continue
        key = role["text"]
        if role["role"] == "glue:text" and ":" in key.split("::")[-1]:
            key = key.rsplit(":", 1)[0]  # the format spec
        keys.append(key)
    return keys


def _doc_exists(target: str, from_dir: str, root: Path = ROOT) -> bool:
    """Whether the {doc} ``target`` written in a page built in ``book/<from_dir>`` exists."""
    target = re.sub(r"^.*<(.+)>$", r"\1", target.strip())
    relative = target[1:] if target.startswith("/") else str(Path(from_dir) / target)
    doc = Path(os.path.normpath(relative))
    if doc.parts[:1] == ("notebooks",) and len(doc.parts) == 2:
        return (root / "notebooks" / f"{doc.name}.md").is_file()
    return (root / "book" / f"{doc}.md").is_file() or str(doc) == "results"


def _link_problems(
    markdown: str, captions: list[str], from_dir: str, root: Path = ROOT
) -> list[str]:
    problems = []
    for text in [_prose(markdown), *captions]:
        unlinked = _ROLE.sub(lambda m: "" if m["role"] == "doc" else m[0], text)
        problems += [
            f"plain {m[0]!r}: link the chapter with {{doc}}"
            for m in _PLAIN_CHAPTER.finditer(unlinked)
        ]
        problems += [
            f"{{doc}} `{m['text']}` has no page"
            for m in _ROLE.finditer(text)
            if m["role"] == "doc" and not _doc_exists(m["text"], from_dir, root)
        ]
    return problems


def _teaching_problems(
    source: Path,
    rules: tuple[str, ...] = _ALL_RULES,
    *,
    root: Path = ROOT,
    pasted_elsewhere: set[str] = frozenset(),
) -> list[str]:
    """What breaks issue 28's rules in the MyST chapter ``source`` (empty: none).

    ``root`` is the project (the included files are under ``root/lib/infantpose``, and the
    chapter is built in ``root/book/notebooks``); ``pasted_elsewhere`` are this chapter's glue
    keys that other pages paste (``{glue:text}`chapter.ipynb::key```).
    """
    import jupytext

    nb = jupytext.read(source)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    problems = []
    if "source" in rules:
        built_in, package = root / "book" / "notebooks", (root / "lib" / "infantpose").resolve()
        labels = set(_EQ_LABEL.findall(markdown))
        includes = list(_INCLUDE.finditer(markdown))
        if not includes:
            problems.append("no {literalinclude} of the package's own code for the core step")
        for n, include in enumerate(includes):
            where = f"{{literalinclude}} {include['path']}"
            path = (built_in / include["path"]).resolve()
            if not path.is_relative_to(package) or not path.is_file():
                problems.append(
                    f"{where}: not a file of the package (paths are relative to book/notebooks/)"
                )
                continue
            options = dict(re.findall(r"^:([\w-]+):\s*(.*?)\s*$", include["body"], re.M))
            if "pyobject" in options:
                code = _pyobject_source(path, options["pyobject"])
                if code is None:
                    problems.append(f"{where}: no function or class {options['pyobject']!r} in it")
                    continue
            elif {"start-after", "end-before"} <= set(options):
                text = path.read_text(encoding="utf-8")
                if options["start-after"] not in text or options["end-before"] not in text:
                    problems.append(f"{where}: a marker is not in the file")
                    continue
                code = text.split(options["start-after"], 1)[1].split(options["end-before"], 1)[0]
            else:
                problems.append(f"{where}: neither :pyobject: nor :start-after:/:end-before:")
                continue
            # The annotation: the first list after the include, before the next include/heading.
            after = markdown[
                include.end() : includes[n + 1].start() if n + 1 < len(includes) else None
            ]
            after = re.split(r"^#", after, maxsplit=1, flags=re.M)[0]
            listed = re.search(r"^(?:- |\d+\. ).*?(?=\n\n(?![ ]{2})|\Z)", after, re.M | re.S)
            annotation = listed[0] if listed else ""
            quotes = _inline_code(annotation)
            flat = " ".join(code.split())
            missing = [q for q in quotes if " ".join(q.split()) not in flat]
            if not quotes:
                problems.append(f"{where}: no annotation quoting its lines (a list after it)")
            problems += [
                f"{where}: the annotation quotes `{q}`, which is not in the code" for q in missing
            ]
            cited = [m["text"] for m in _ROLE.finditer(annotation) if m["role"] == "eq"]
            if not cited:
                problems.append(f"{where}: the annotation cites no equation with {{eq}}")
            problems += [
                f"{where}: {{eq}} `{c}` is not an equation of the chapter"
                for c in cited
                if c not in labels
            ]
    if "glue" in rules:
        literal, patterns = _glue_keys(code_cells)
        pasted = set(_glue_references(markdown))
        problems += [
            f"{{glue}} `{k}` is never glued in the chapter"
            for k in sorted(pasted)
            if k not in literal and not any(p.fullmatch(k) for p in patterns)
        ]
        used = pasted | set(pasted_elsewhere)
        problems += [f"glue('{k}') is never pasted" for k in sorted(literal - used)]
        problems += [
            f"glue(f'{p.pattern}') is never pasted"
            for p in patterns
            if not any(p.fullmatch(k) for k in used)
        ]
        summary = _section(markdown, "Summary")
        if not _glue_references(summary):
            problems.append("the summary pastes no computed value with {glue}")
        typed = _ROLE.sub("", _MATH.sub("", _prose(summary)))
        problems += [
            f"the summary types the measurement {m[0]!r}: glue it"
            for m in _TYPED_MEASURE.finditer(typed)
        ]
    if "links" in rules:
        captions = [
            str(c.metadata.get("mystnb", {}).get("figure", {}).get("caption", ""))
            for c in code_cells
        ]
        problems += _link_problems(markdown, captions, "notebooks", root)
    if "solutions" in rules:
        exercises = _section(markdown, "Exercises")
        items = re.split(r"^\d+\.\s", exercises, flags=re.M)[1:]
        if not items:
            problems.append("no numbered exercises")
        problems += [
            f"exercise {n} has no collapsed solution (a {{dropdown}} after it)"
            for n, item in enumerate(items, start=1)
            if not re.search(r"^\s*`{3,}\{dropdown\}", item, re.M)
        ]
    return problems


def _pasted_from_other_pages(chapter: str) -> set[str]:
    """The keys of ``chapter`` that the book's other pages paste (``chapter.ipynb::key``)."""
    pages = [*(ROOT / "book").glob("*.md"), *(ROOT / "notebooks").glob("*.md")]
    keys = set()
    for page in pages:
        for key in _glue_references(page.read_text(encoding="utf-8")):
            doc, _, name = key.rpartition("::")
            if doc and Path(doc).stem == chapter:
                keys.add(name)
    return keys


def test_the_teaching_rules_name_real_chapters():
    assert set(TEACHING_RULES) <= set(CHAPTERS)
    assert all(set(rules) <= set(_ALL_RULES) for rules in TEACHING_RULES.values())


@pytest.mark.parametrize("chapter", sorted(TEACHING_RULES))
def test_each_rewritten_chapter_teaches(chapter):
    source = ROOT / "notebooks" / f"{chapter}.md"
    problems = _teaching_problems(
        source, TEACHING_RULES[chapter], pasted_elsewhere=_pasted_from_other_pages(chapter)
    )
    assert problems == []


def test_the_introduction_links_chapters_and_pastes_what_they_glued():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert _link_problems(intro, [], ".") == []
    # myst-nb 1.4 splits `doc::key` at its last ':' and takes `key` for the format: a pasted
    # value from another page needs its format spec (`doc.ipynb::key:.1f`, `...:s`).
    bare = [
        m["text"]
        for m in _ROLE.finditer(intro)
        if m["role"] == "glue:text" and ":" not in m["text"].split("::")[-1]
    ]
    assert bare == [], f"give these pastes a format spec: {bare}"
    import jupytext

    for key in _glue_references(intro):
        doc, _, name = key.rpartition("::")
        assert doc, f"the introduction pastes {key!r}, which is no chapter's (`chapter.ipynb::key`)"
        chapter = ROOT / "notebooks" / f"{Path(doc).stem}.md"
        assert chapter.is_file(), f"{key!r}: no chapter {chapter.name}"
        cells = [c for c in jupytext.read(chapter).cells if c.cell_type == "code"]
        literal, patterns = _glue_keys(cells)
        assert name in literal or any(p.fullmatch(name) for p in patterns), (
            f"the introduction pastes {name!r}, which {chapter.name} does not glue"
        )


def test_every_term_used_is_in_the_glossary():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert "glossary" in files
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(?P<body>.*?)^```", glossary, re.M | re.S)
    assert block, "book/glossary.md has no {glossary} directive"
    terms = {line.strip().lower() for line in block["body"].splitlines() if re.match(r"^\S", line)}
    pages = [*(ROOT / "book").glob("*.md"), *(ROOT / "notebooks").glob("*.md")]
    used = {
        (page.name, re.sub(r"^.*<(.+)>$", r"\1", m["text"]).strip())
        for page in pages
        for m in _ROLE.finditer(page.read_text(encoding="utf-8"))
        if m["role"] == "term"
    }
    assert used, "no {term} role found: the pattern no longer matches the pages"
    assert sorted((p, t) for p, t in used if t.lower() not in terms) == []


_GOOD_TEACHING_CHAPTER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A title

$$
y = 2 x
$$ (eq-double)

```{literalinclude} ../../lib/infantpose/demo.py
:pyobject: double
:lineno-match:
```

- `return 2 * x` is {eq}`eq-double`.

See {doc}`00-measuring-pose` for the metrics.

```{code-cell} ipython3
from myst_nb import glue

glue("doubled", 2 * 21, display=False)
for name in ("a", "b"):
    glue(f"part-{name}", 1, display=False)
```

It gives {glue:text}`doubled:d`, and {glue:text}`part-a:d`.

## Summary

- Doubling gives {glue:text}`doubled:d`, with a 95 % CI.

## Exercises

1. Double 3.

   ```{dropdown} Solution
   Six.
   ```

2. Double 4.

   ```{dropdown} Solution
   Eight.
   ```
"""


def _teaching_project(tmp_path: Path, text: str) -> Path:
    package = tmp_path / "lib" / "infantpose"
    package.mkdir(parents=True)
    (package / "demo.py").write_text('def double(x):\n    """Twice x."""\n    return 2 * x\n')
    (tmp_path / "book" / "notebooks").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00-measuring-pose.md").write_text("# Measuring\n")
    chapter = tmp_path / "notebooks" / "07-demo.md"
    chapter.write_text(text)
    return chapter


def test_the_teaching_rules_pass_a_good_chapter(tmp_path):
    assert (
        _teaching_problems(_teaching_project(tmp_path, _GOOD_TEACHING_CHAPTER), root=tmp_path) == []
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # source: included, from the package, an object that exists, annotated against equations
        (("```{literalinclude} ../../lib/infantpose/demo.py\n:pyobject: double\n:lineno-match:\n```\n", ""), "no {literalinclude}"),
        (("../../lib/infantpose/demo.py", "../../lib/infantpose/other.py"), "not a file of the package"),
        ((":pyobject: double", ":pyobject: triple"), "no function or class 'triple'"),
        ((":pyobject: double\n", ""), "neither :pyobject:"),
        (("- `return 2 * x` is", "- `return 3 * x` is"), "quotes `return 3 * x`, which is not in the code"),
        (("- `return 2 * x` is {eq}`eq-double`.", "It doubles."), "no annotation quoting its lines"),
        (("is {eq}`eq-double`.", "doubles."), "cites no equation"),
        (("is {eq}`eq-double`.", "is {eq}`eq-triple`."), "`eq-triple` is not an equation"),
        # glue: pasted values are glued, glued values are pasted, the summary is computed
        (("and {glue:text}`part-a:d`.", "and {glue:text}`part-a:d`, {glue:text}`missing:.1f`."), "`missing` is never glued"),
        (('glue("doubled", 2 * 21, display=False)', 'glue("doubled", 2 * 21, display=False)\nglue("spare", 0, display=False)'), "glue('spare') is never pasted"),
        (("and {glue:text}`part-a:d`.", "and more."), "glue(f'part\\-.+?') is never pasted"),
        (("- Doubling gives {glue:text}`doubled:d`, with a 95 % CI.", "- Doubling works."), "the summary pastes no computed value"),
        (("with a 95 % CI.", "with a 95 % CI, 12.5 mm better."), "types the measurement '12.5 mm'"),
        (("with a 95 % CI.", "with a 95 % CI in 80 % of runs."), "types the measurement '80 %'"),
        # links: {doc}, never plain "chapter NN"; the target exists
        (("See {doc}`00-measuring-pose` for", "See chapter 00 for"), "plain 'chapter 00'"),
        (("See {doc}`00-measuring-pose` for", "See {doc}`01-data` for"), "{doc} `01-data` has no page"),
        # solutions: one collapsed solution per exercise
        (("2. Double 4.\n\n   ```{dropdown} Solution\n   Eight.\n   ```\n", "2. Double 4.\n"), "exercise 2 has no collapsed solution"),
    ],
)  # fmt: skip
def test_the_teaching_rules_fail_a_chapter_that_breaks_one(tmp_path, change, expected):
    old, new = change
    assert old in _GOOD_TEACHING_CHAPTER
    chapter = _teaching_project(tmp_path, _GOOD_TEACHING_CHAPTER.replace(old, new, 1))
    problems = _teaching_problems(chapter, root=tmp_path)
    assert any(expected in p for p in problems), problems


# ------------------------------------------------------------ ruff on the chapters' code cells


def test_ruff_reads_the_chapters_through_jupytext_and_names_the_cell(tmp_path):
    from infantpose.book.lint import ruff_notebooks

    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    chapter = _write_chapter(tmp_path, _GOOD_CHAPTER.replace("x = [1, 2]", "import os\nx = [1,2]"))
    checked = ruff_notebooks("check", [chapter], root=tmp_path)
    assert not checked.ok and "07-demo.md:cell 3:1:8: F401" in checked.output, checked.output
    assert not ruff_notebooks("format", [chapter], check=True, root=tmp_path).ok
    assert chapter.read_text().count("import os\nx = [1,2]") == 1  # --check changed nothing

    fixed = ruff_notebooks("check", [chapter], fix=True, root=tmp_path)
    formatted = ruff_notebooks("format", [chapter], root=tmp_path)
    assert fixed.ok and formatted.ok and formatted.changed == (chapter,)
    text = chapter.read_text()
    assert text == _GOOD_CHAPTER  # the code fixed and formatted, nothing else touched
    assert ruff_notebooks("format", [chapter], check=True, root=tmp_path).ok


def test_the_chapters_pass_ruff_with_the_package_settings():
    from infantpose.book.lint import ruff_notebooks

    checked = ruff_notebooks("check", root=ROOT)
    assert checked.ok, checked.output
    formatted = ruff_notebooks("format", check=True, root=ROOT)
    assert formatted.ok, formatted.output


# ------------------------------------------------------------ citations of documents we do not ship

# Notes outside the repository ("anchors §2.3", "../shared/reference/…") mean nothing to a
# reader: cite the paper or the public repository by name instead.
_PRIVATE_CITATION = re.compile(r"anchors?\s*§|anchors_\w+\.md|shared/reference|\.\./reference/")


def _private_citations(paths) -> list[str]:
    return [
        f"{path}:{n}: {line.strip()}"
        for path in paths
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _PRIVATE_CITATION.search(line)
    ]


def test_nothing_cites_notes_that_are_not_in_the_repository(tmp_path):
    shipped = [
        *(ROOT / "lib").rglob("*.py"),
        *(ROOT / "notebooks").glob("*.md"),
        *(ROOT / "book").glob("*.md"),
        *(ROOT / "benchmarks").glob("*.py"),
        ROOT / "README.md",
    ]
    assert _private_citations(shipped) == []
    bad = tmp_path / "bad.py"
    bad.write_text('"""As the anchors §1.4 say, and ../shared/reference/anchors_fidip.md."""\n')
    assert len(_private_citations([bad])) == 1
