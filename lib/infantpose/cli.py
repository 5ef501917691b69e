"""Command line: ``python -m infantpose {status,validate,clean}`` (also the ``infantpose`` script).

* ``status``: the profile, the data and runs roots, the real datasets the profile configures
  and whether they are there, the datasets and models the book made (size, what made them,
  whether a rerun reuses them) and the device;
* ``validate FILE.json [--images DIR] [--syrip]``: the COCO (and SyRIP) checks of
  :mod:`infantpose.data.coco_checks`, one line per problem, exit status 1 on any;
* ``clean --caches`` or ``clean PATH…``: remove made datasets and cached models, only under
  the data root, only folders the package marked as made (:func:`infantpose.io.is_made`), never
  through a symlink, and never a path that any profile under ``configs/`` or given with
  ``--profile`` points to.

The book and the 2D models have commands of their own: ``python -m infantpose.book`` (run,
results, build, check) and ``python -m infantpose.pose2d`` (the adult model under torchrun).
Errors are one line, ``error: … (fix: …)``, with exit status 2; never a traceback, whatever
the exception (:func:`one_line_errors`, which the other command lines use too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import (
    DATASET_PATHS,
    MODEL_PATHS,
    ConfigError,
    Profile,
    data_root,
    load_profile,
    project_root,
    runs_root,
)
from .io import MADE_MARKER, is_made
from .logs import OneLineArgumentParser, error_line

__all__ = ["CliError", "cached_models", "made_datasets", "main", "status_report"]

#: The folders under the data root that hold what the book makes (``clean --caches``).
MADE_FOLDERS = ("synthetic", "standin", "cache/pose2d")


class CliError(Exception):
    """A command that cannot go on: ``what`` went wrong and the ``fix``."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what} (fix: {fix})")


# --------------------------------------------------------------------------- sizes


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass  # removed while we walk (a run is making it)
    return total


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


# --------------------------------------------------------------------------- status


@dataclass
class PathStatus:
    key: str
    value: str | None
    resolved: str | None
    found: bool
    note: str


def configured_paths(profile: Profile) -> list[PathStatus]:
    """Every ``paths:`` key of ``profile``: unset, found, or missing (with what it should hold)."""
    rows = []
    for key, expected in {**DATASET_PATHS, **MODEL_PATHS}.items():
        value = profile.paths.get(key)
        if not value:
            rows.append(PathStatus(key, None, None, False, f"not configured ({expected})"))
            continue
        path = Path(os.path.expanduser(value))
        path = path if path.is_absolute() else data_root() / path
        is_file = key in MODEL_PATHS
        found = path.is_file() if is_file else path.is_dir()
        note = (
            "found"
            if found
            else f"missing: no {'file' if is_file else 'folder'} there (fix: set `paths.{key}` "
            f"in {profile.source} to the {expected}, or to null)"
        )
        rows.append(PathStatus(key, value, str(path), found, note))
    return rows


def made_datasets() -> list[dict[str, Any]]:
    """The datasets under ``<data>/synthetic`` and ``<data>/standin``, with what made them and
    whether :func:`~infantpose.synthesis.cache.load_or_make` would reuse them today."""
    from .synthesis.cache import is_current, read_stamp

    rows = []
    for group in ("synthetic", "standin"):
        folder = data_root() / group
        if not folder.is_dir():
            continue
        for root in sorted(
            p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            stamp = read_stamp(root)
            if stamp is None:
                reuse = "no: no readable synthesis.json (left by an interrupted run?); remade"
            elif is_current(root):
                reuse = "yes, when asked for with the same parameters"
            else:
                reuse = "no: the code that makes datasets changed since; remade on next use"
            made_with = {k: v for k, v in (stamp or {}).items() if k != "engine"}
            rows.append(
                {
                    "name": f"{group}/{root.name}",
                    "path": str(root),
                    "bytes": _size(root),
                    "made_with": made_with,
                    "reused": reuse,
                }
            )
    return rows


def cached_models() -> list[dict[str, Any]]:
    """The adult starting models under ``<data>/cache/pose2d`` (:func:`~infantpose.pose2d.
    cached_adult_model`): epochs trained and whether a run can still find them."""
    folder = data_root() / "cache" / "pose2d"
    if not folder.is_dir():
        return []
    from .pose2d.experiment import training_code_digest

    digest = training_code_digest()
    rows = []
    for root in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        epochs = _checkpoint_epochs(root / "last.pt")
        rows.append(
            {
                "name": f"cache/pose2d/{root.name}",
                "path": str(root),
                "bytes": _size(root),
                "made_with": epochs,
                # The folder name is a hash of the settings, the data and the training code
                # (adult_fingerprint); the code's share cannot be read back out of it.
                "reused": "by a run with the same settings and data, if the training code is "
                f"unchanged (its digest is now {digest})",
            }
        )
    return rows


def _checkpoint_epochs(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"state": "no last.pt: not trained yet or interrupted before the first epoch"}
    try:
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        config = state.get("config", {})
        done = int(state.get("epoch", -1)) + 1
        return {
            "epochs": f"{done}/{config.get('epochs', '?')}",
            "depth": config.get("model", {}).get("depth", "?"),
            "input_size": config.get("model", {}).get("input_size", "?"),
            "precision": config.get("precision", "?"),
        }
    except Exception as error:  # a status line, not a crash
        return {"state": f"unreadable last.pt ({type(error).__name__})"}


def _device(profile: Profile) -> str:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return "torch is not installed"
    cuda = torch.cuda.is_available()
    have = f"CUDA: {torch.cuda.get_device_name(0)}" if cuda else "no CUDA device, CPU only"
    return f"profile asks for {profile.device}; {have}; torch {torch.__version__}"


def status_report(profile_name: str) -> dict[str, Any]:
    """What ``status`` shows, as a dict (``--json`` prints it)."""
    from .logs import LOG_FILE_NAME

    profile = load_profile(profile_name)
    env = {k: os.environ.get(k) for k in ("INFANTPOSE_DATA", "INFANTPOSE_RUNS")}
    from .body.anny_backend import anny_cache_dir

    anny = anny_cache_dir()
    return {
        "profile": {"name": profile.name, "source": profile.source, "data": profile.data},
        "project": str(project_root()),
        "data_root": str(data_root()) + ("" if env["INFANTPOSE_DATA"] else " (default)"),
        "runs_root": str(runs_root()) + ("" if env["INFANTPOSE_RUNS"] else " (default)"),
        "logs": str(runs_root() / profile.name / "<chapter>" / LOG_FILE_NAME),
        "device": _device(profile),
        "paths": [vars(row) for row in configured_paths(profile)],
        "datasets": made_datasets(),
        "models": cached_models(),
        "anny_cache": {"path": str(anny), "bytes": _size(anny) if anny.is_dir() else 0},
    }


def _print_status(report: dict[str, Any]) -> None:
    p = report["profile"]
    print(f"profile    {p['name']} ({p['source']}), data: {p['data']}")
    for key in ("project", "data_root", "runs_root", "logs", "device"):
        print(f"{key.replace('_', ' '):<10} {report[key]}")
    print("\nreal datasets and model files (paths:)")
    for row in report["paths"]:
        where = f"{row['value']} → " if row["value"] else ""
        print(f"  {row['key']:<17} {where}{row['note']}")
    for title, rows in (
        ("made datasets", report["datasets"]),
        ("cached models", report["models"]),
    ):
        print(f"\n{title} ({len(rows)}, {_human(sum(r['bytes'] for r in rows))})")
        for row in rows:
            made = ", ".join(
                f"{k}=<{len(v)} settings>" if isinstance(v, dict) else f"{k}={v}"
                for k, v in row["made_with"].items()
            )
            print(f"  {row['name']}  {_human(row['bytes'])}\n      made with: {made}")
            print(f"      reused: {row['reused']}")
    anny = report["anny_cache"]
    print(f"\nanny asset cache  {anny['path']}  {_human(anny['bytes'])} (kept by clean)")


def cmd_status(args: argparse.Namespace) -> int:
    report = status_report(args.profile)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        _print_status(report)
    missing = [row["key"] for row in report["paths"] if row["value"] and not row["found"]]
    return 1 if missing else 0


# --------------------------------------------------------------------------- validate


def validate_file(path: Path, images: Path | None, syrip: bool) -> list[str]:
    """One line per problem of the COCO file ``path`` (empty: it is valid)."""
    from .data.coco import CocoFormatError, read_coco
    from .data.syrip import DatasetError, _check_is_synthetic

    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "no such file"
        raise CliError(f"{path}: {what}", "give the path of a COCO keypoint JSON file")
    lines = []
    if images is not None and not images.is_dir():
        lines.append(
            f"{images}: the image folder does not exist. Fix: give --images the folder that "
            "the file_name entries are relative to (SyRIP: images/train_infant)"
        )
        images = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            coco = read_coco(path, image_root=images, check_images=images is not None)
            if syrip or any("is_synthetic" in im for im in coco.images):
                _check_is_synthetic(coco)
    except CocoFormatError as error:
        lines += [str(problem) for problem in error.problems]
        if error.num_hidden:
            lines.append(
                f"{path}: … and {error.num_hidden} more problems of the kinds above; fix those "
                "and run again to see the rest"
            )
        return lines
    except DatasetError as error:
        return [*lines, " ".join(str(error).split())]
    lines += [f"warning: {' '.join(str(w.message).split())}" for w in caught]
    return lines


def cmd_validate(args: argparse.Namespace) -> int:
    lines = validate_file(Path(args.file), args.images and Path(args.images), args.syrip)
    problems = [line for line in lines if not line.startswith("warning: ")]
    for line in lines:
        print(line)
    if problems:
        print(f"{args.file}: {len(problems)} problem line(s); not valid", file=sys.stderr)
        return 1
    print(f"{args.file}: valid")
    return 0


# --------------------------------------------------------------------------- clean


def _profiles_to_protect(extra: list[str]) -> list[str | Path]:
    """Every profile whose paths ``clean`` must keep: each YAML file under ``configs/`` (the
    built-in ones and any a user wrote there) and each one given with ``--profile``."""
    found: list[str | Path] = []
    try:
        folder = project_root() / "configs"
    except ConfigError:
        folder = None
    if folder is not None and folder.is_dir():
        found += sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    return found + list(extra)


def _protected_paths(extra: list[str] = ()) -> list[Path]:
    """Every path a profile configures (real datasets and model files): a profile that cannot
    be read is an error, since what it protects cannot be told."""
    protected = []
    for name in _profiles_to_protect(list(extra)):
        try:
            profile = load_profile(name)
        except ConfigError as error:
            raise CliError(
                f"cannot tell which datasets profile {name} points to ({error})",
                "repair or move that profile; clean removes nothing while one cannot be read",
            ) from None
        for value in profile.paths.values():
            if value:
                path = Path(os.path.expanduser(value))
                protected.append((path if path.is_absolute() else data_root() / path).resolve())
    return protected


#: A cached adult model made before folders were marked: ``adult_<depth>_<fingerprint>``.
_LEGACY_MODEL = re.compile(r"adult_\d+_[0-9a-f]+")


def made_by_package(path: Path) -> bool:
    """Whether ``clean`` may remove the folder ``path``: the package marked it as made (or it
    is a dataset or adult model cached before markers existed)."""
    if is_made(path):
        return True
    return (
        path.parent.name == "pose2d"
        and path.parent.parent.name == "cache"
        and not path.is_symlink()
        and path.is_dir()
        and _LEGACY_MODEL.fullmatch(path.name) is not None
        and any((path / name).is_file() for name in ("last.pt", "best.pt"))
    )


def cleanable(path: Path, root: Path, protected: list[Path]) -> Path:
    """``path`` made absolute (its folder resolved, never the path itself: a link is not
    followed), if ``clean`` may remove it; else :class:`CliError` saying why."""
    absolute = Path(os.path.abspath(path))
    target = absolute.parent.resolve() / absolute.name
    if target == root or not target.is_relative_to(root) or absolute.name in ("", ".", ".."):
        raise CliError(
            f"{path} is not inside the data root {root}",
            "clean removes only made data under the data root (INFANTPOSE_DATA); delete other "
            "folders yourself",
        )
    for kept in protected:
        if kept == target or kept.is_relative_to(target) or target.is_relative_to(kept):
            raise CliError(
                f"{path} holds {kept}, which a profile configures under `paths:`",
                "clean never removes a configured dataset; move it or unset the key first",
            )
    if target.is_symlink():
        raise CliError(
            f"{path} is a symbolic link",
            "clean never follows or removes links; remove the link yourself if you mean to",
        )
    if os.path.lexists(target) and not made_by_package(target):
        raise CliError(
            f"{path} was not made by infantpose (no {MADE_MARKER} marker in it)",
            "clean removes only what the book made; delete your own folders yourself",
        )
    return target


def cmd_clean(args: argparse.Namespace) -> int:
    root = data_root().resolve()
    if root == Path(root.anchor) or root == Path.home().resolve():
        raise CliError(
            f"the data root is {root}", "set INFANTPOSE_DATA to the book's own data folder"
        )
    if not args.caches and not args.paths:
        raise CliError("nothing to clean", "pass --caches, or the made folders to remove")
    protected = _protected_paths(args.profile)
    targets = [Path(p) for p in args.paths]
    checked = [cleanable(t, root, protected) for t in targets]  # all checked before any removal
    if args.caches:
        for name in MADE_FOLDERS:
            folder = root / name
            if folder.is_symlink() or not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if entry.name.startswith("."):
                    continue  # a writer's temporary: swept by its next write
                try:
                    checked.append(cleanable(entry, root, protected))
                except CliError as error:
                    if "profile configures" in str(error):
                        raise
                    print(f"keeping {entry}: {_one_line(error)}")
    freed = 0
    for path in checked:
        if not path.exists():
            continue
        size = _size(path)
        freed += size
        print(f"{'would remove' if args.dry_run else 'removing'} {path}  ({_human(size)})")
        if not args.dry_run:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)  # removes links inside, never what they point to
            else:
                path.unlink()
    verb = "would free" if args.dry_run else "freed"
    print(f"{verb} {_human(freed)}; the anny asset cache and configured datasets are kept")
    return 0


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="infantpose",
        description="The Infant Pose Book's command line.",
        epilog="Also: `python -m infantpose.book {run,results,build,all,check}` runs and builds "
        "the book; `python -m infantpose.pose2d adult` trains the adult model (torchrun too). "
        "INFANTPOSE_PROGRESS=off|log|auto quiets or redirects progress bars.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    status = sub.add_parser("status", help="profile, roots, datasets, cached models, device")
    status.add_argument("--profile", default="default", help="smoke, default, paper or a YAML path")
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    status.set_defaults(func=cmd_status)

    validate = sub.add_parser("validate", help="check a COCO / SyRIP keypoint file")
    validate.add_argument("file", metavar="FILE.json")
    validate.add_argument("--images", metavar="DIR", help="also check every image file is there")
    validate.add_argument(
        "--syrip", action="store_true", help="require a bool is_synthetic on every image"
    )
    validate.set_defaults(func=cmd_validate)

    clean = sub.add_parser("clean", help="remove made datasets and cached models")
    clean.add_argument("paths", nargs="*", metavar="PATH", help="made folders to remove")
    clean.add_argument(
        "--caches", action="store_true", help=f"everything under {', '.join(MADE_FOLDERS)}"
    )
    clean.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    clean.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="PROFILE",
        help="also keep what this profile (a name or YAML path) points to; every profile under "
        "configs/ is always kept",
    )
    clean.set_defaults(func=cmd_clean)
    return parser


def _one_line(error: BaseException) -> str:
    return error_line(error)


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 file name never stops a print
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # any bad input: one line, never a traceback
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2
