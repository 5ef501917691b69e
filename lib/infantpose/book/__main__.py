"""Command line: ``python -m infantpose.book {run,results,build,all,check,weight,screenshots}
--profile NAME``, and ``python -m infantpose.book ruff {check [--fix],format [--check]}
[NOTEBOOK ...]`` for the chapters' code cells (:mod:`.lint`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from ..config import ConfigError, project_root
from ..logs import OneLineArgumentParser, error_line
from . import __doc__ as package_doc
from .chapters import ChapterFailed
from .html import build_html, check_in_browser
from .lint import ruff_notebooks
from .results import write_results
from .run import StopRequested, run_book
from .screenshots import take_screenshots
from .weight import book_weight


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(
        prog="python -m infantpose.book", description=package_doc.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("run", "execute the chapters with papermill"),
        ("results", "write book/results.md from the runs"),
        ("build", "build the HTML book from the executed chapters"),
        ("all", "run, then results, then build"),
        (
            "check",
            "open every built page in headless Chromium; fail on a request leaving the machine, "
            "a figure that did not draw, an image that did not load or a broken link",
        ),
        ("weight", "print the built book's size and script bytes as one JSON line"),
        ("screenshots", "take the README's pictures of the built book into book/_static/"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        if name not in ("check", "weight", "screenshots"):
            cmd.add_argument(
                "--profile", default="default", help="smoke, default, paper or a YAML path"
            )
        if name in ("run", "all"):
            cmd.add_argument("--only", nargs="+", metavar="CHAPTER", help="run only these chapters")
    ruff = sub.add_parser(
        "ruff",
        help="ruff check / ruff format on the chapters' code cells, with the package's settings",
    )
    ruff.add_argument("action", choices=("check", "format"))
    ruff.add_argument("notebooks", nargs="*", help="MyST notebooks (default: notebooks/*.md)")
    ruff.add_argument("--fix", action="store_true", help="check: apply ruff's safe fixes")
    ruff.add_argument("--check", action="store_true", help="format: report, change nothing")
    args, extra = parser.parse_known_args(argv)
    if args.command == "ruff" and not [a for a in extra if a.startswith("-")]:
        args.notebooks += extra  # paths after a flag: `ruff format --check notebooks/x.md`
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "ruff":
        result = ruff_notebooks(args.action, args.notebooks, fix=args.fix, check=args.check)
        if result.output:
            print(result.output)
        for path in result.changed:
            print(f"rewrote the code cells of {path}")
        return result.returncode
    try:
        if args.command in ("run", "all"):
            run_book(args.profile, args.only)
        if args.command in ("results", "all"):
            print(f"wrote {write_results(args.profile)}")
        if args.command in ("build", "all"):
            print(f"book: {build_html() / 'index.html'}")
        if args.command == "check":
            for page in check_in_browser():
                print(
                    f"ok  {page.page}  ({page.plotly_figures} plotly figures drawn) → {page.screenshot}"
                )
        if args.command == "screenshots":
            for path in take_screenshots():
                print(f"wrote {path} ({path.stat().st_size / 1000:.0f} kB)")
        if args.command in ("check", "weight"):
            weight = book_weight(project_root() / "_build" / "html")
            print(weight.summary() if args.command == "check" else json.dumps(weight.to_dict()))
    except ChapterFailed as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    except ConfigError as err:  # a bad profile: one line saying the file, the field and the fix
        print(f"FAILED: {error_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP (StopRequested)
        signum = err.signum if isinstance(err, StopRequested) else signal.SIGINT
        print(
            f"STOPPED by {signal.Signals(signum).name}: the running chapter, papermill and "
            "its kernel were stopped",
            file=sys.stderr,
        )
        return 128 + signum
    except subprocess.CalledProcessError as err:
        print(
            f"FAILED: {' '.join(map(str, err.cmd[:2]))} exited with {err.returncode}",
            file=sys.stderr,
        )
        return 1
    except Exception as err:  # any other bad input: one line, never a traceback
        print(f"FAILED: {error_line(err)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
