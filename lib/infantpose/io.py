"""Files: atomic writes, and reads of untrusted arrays that never run code.

Every writer in the package goes through these helpers, so an interrupted run
(Ctrl-C, a crashed kernel, a full disk) never leaves a half-written JSON file,
checkpoint or dataset folder behind. What they write gets the permissions of the umask
(as ``open`` would give), not ``tempfile``'s private 0600/0700, so a dataset made by one
user can be read by their group. A temporary is named after its writer
(``.NAME.<host>-<pid>.XXXX.tmp``): one left by a killed writer on this machine is removed
by the next :func:`atomic_dir` on the same path; one whose writer cannot be told is
reported with a warning.

:func:`json_digest` keys settings and record lists (caches, saved predictions).

:func:`read_npy` reads a user-supplied ``.npy`` without pickle: an object array (how
some datasets publish lists of names) is rebuilt by a restricted unpickler that knows
only numpy arrays and strings, so a tampered file is refused, never executed.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import pickle
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (``os.umask`` is the
    only portable way and briefly sets it, which races with other threads)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        lines = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in lines if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def temp_prefix(path: str | os.PathLike, *, pid: int | None = None) -> str:
    """``.NAME.<host>-<pid>.``: how temporaries of ``path`` start, naming their writer."""
    return f".{Path(path).name}.{_host()}-{os.getpid() if pid is None else pid}."


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary folders and files of ``path`` whose writer (a process on this
    machine) is gone; warn about ones whose writer cannot be told. Returns what was removed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    named = re.compile(
        rf"^\.{re.escape(path.name)}\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.[^.]+\.tmp$"
    )
    legacy = re.compile(rf"^\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    removed, unknown = [], []
    for entry in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = named.match(entry.name)
        if match and match["host"] == _host():
            if int(match["pid"]) != os.getpid() and not _running(int(match["pid"])):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(entry)
        elif not match and legacy.match(entry.name):
            unknown.append(entry)
    if unknown:
        warnings.warn(
            f"left over from interrupted writes of {path} (their writer is unknown): "
            f"{', '.join(str(u) for u in unknown)}; if no other run is writing {path.name} "
            "now, remove it by hand",
            stacklevel=3,
        )
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; move it into place on success.

    On any exception the temporary file is removed and ``path`` keeps its old content.
    The file gets the umask's permissions, as a plain ``open`` would give it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int | None = 1) -> Path:
    """Serialise ``obj`` as JSON and write it to ``path`` atomically.

    The object is serialised completely before the file is touched, so an
    unserialisable value raises without creating anything.
    """
    text = json.dumps(obj, indent=indent, default=_json_default)
    return write_text_atomic(path, text + "\n")


def _json_default(value: Any) -> Any:
    # NumPy scalars and arrays show up in metrics and annotations all the time.
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"object of type {type(value).__name__} is not JSON serialisable")


def json_digest(value: Any, length: int = 12) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``value`` as sorted-key JSON (values
    JSON cannot write go through ``str``): the package's one key for settings and record lists."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``path`` as a whole.

    Use it for datasets: the folder appears complete or not at all. A previous
    folder at ``path`` is only removed once the new one is fully written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- untrusted arrays


class FileFormatError(ValueError):
    """A file that is damaged, or that could run code if read naively; the message says which."""


# What numpy writes for an object array of strings; nothing here can run code.
_NPY_GLOBALS = {
    "numpy.ndarray": "ndarray",
    "numpy.dtype": "dtype",
    **{f"{core}.multiarray.{name}": name for core in ("numpy.core", "numpy._core")
       for name in ("_reconstruct", "scalar")},
}  # fmt: skip


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        import numpy as np
        from numpy._core import multiarray

        source = f"{module}.{name}"
        what = _NPY_GLOBALS.get(source)
        if what is None:
            raise FileFormatError(
                f"{self.path}: refusing to read it: its pickled content asks for {source!r}, "
                "which a plain array of numbers or strings never contains; the file has been "
                "tampered with or is not the published one: download it again"
            )
        return {"ndarray": np.ndarray, "dtype": np.dtype}.get(what) or getattr(multiarray, what)


def read_npy(path: str | os.PathLike, *, strings: bool = True) -> Any:
    """The array stored in a ``.npy`` file, read without running any code from it.

    Plain arrays load with ``allow_pickle=False``. Object arrays (``strings=True``) are
    rebuilt by a restricted unpickler and must hold only strings; they come back as a
    ``str`` array. Damaged, truncated or tampered files raise :class:`FileFormatError`
    naming the file.
    """
    import numpy as np

    path = Path(path)
    try:
        with open(path, "rb") as file:
            version = np.lib.format.read_magic(file)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(file)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(file)
            if not dtype.hasobject:
                file.seek(0)
                return np.load(file, allow_pickle=False)
            if not strings:
                raise FileFormatError(
                    f"{path}: holds Python objects (dtype {dtype}), which this file never "
                    "should; re-save it as a plain numeric array"
                )
            array = _ArrayUnpickler(file, path).load()
    except FileFormatError:
        raise
    except Exception as error:  # truncated files and garbage fail in many ways
        raise FileFormatError(
            f"{path}: not a readable .npy array ({type(error).__name__}: {error}); the file "
            "is truncated or damaged: download it again"
        ) from None
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise FileFormatError(f"{path}: the stored array does not match its header {shape}")
    odd = next((v for v in array.ravel() if not isinstance(v, str | bytes)), None)
    if odd is not None:
        raise FileFormatError(
            f"{path}: holds {type(odd).__name__} objects; only strings are read from object "
            "arrays (the published files store names as strings)"
        )
    return array.astype(str)
