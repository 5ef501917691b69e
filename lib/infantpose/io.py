"""Files: atomic writes, and reads of untrusted arrays that never run code.

Every writer in the package goes through these helpers, so an interrupted run
(Ctrl-C, a crashed kernel, a full disk) never leaves a half-written JSON file,
checkpoint or dataset folder behind. What they write gets the permissions of the umask
(as ``open`` would give), not ``tempfile``'s private 0600/0700, so a dataset made by one
user can be read by their group. A temporary is named after its writer
(``.NAME.<host>-<pid>.XXXX.tmp``): one left by a killed writer on this machine is removed
by the next write of the same path (:func:`atomic_path` and :func:`atomic_dir`); one whose
writer cannot be told is reported with a warning.

Nothing of the user's is deleted: every folder :func:`atomic_dir` makes carries a marker file
(:data:`MADE_MARKER`), and it replaces only folders that carry it. Any other folder in the way
is refused (``overwrite=False``) or moved aside to a visible ``NAME.replaced-<time>`` sibling,
never removed; ``infantpose clean`` removes only marked folders.

:func:`path_under` keeps every path a data file names under its root.

:func:`json_digest` keys settings and record lists (caches, saved predictions).

:func:`read_npy` reads a user-supplied ``.npy`` without pickle: an object array (how
some datasets publish lists of names) is rebuilt by a restricted unpickler that knows
only numpy arrays and strings, so a tampered file is refused, never executed. Its header is
checked before anything is allocated: an object array must be small (:data:`MAX_OBJECT_ARRAY_BYTES`)
and a stated shape must fit the file's size.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import math
import os
import pickle
import re
import shutil
import socket
import tempfile
import time
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
    # A replaced folder of ours, parked while its successor moved in (killed before removal).
    old = re.compile(rf"^\.{re.escape(path.name)}\.old-(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)$")
    for entry in path.parent.glob(f".{glob.escape(path.name)}.old-*"):
        match = old.match(entry.name)
        if match and match["host"] == _host() and not _running(int(match["pid"])):
            if not os.path.lexists(path) and is_made(entry):
                os.replace(entry, path)  # killed between the two renames: put it back
            elif is_made(entry):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
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
    clean_stale_temporaries(path)  # a killed writer's file (SIGKILL runs no `finally`)
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


#: The file that marks a folder as made by the package (:func:`atomic_dir` writes it): only a
#: folder carrying it is ever replaced or cleaned away without asking.
MADE_MARKER = ".infantpose-made"


def mark_made(folder: str | os.PathLike, what: str = "") -> None:
    """Mark ``folder`` (which the package has just created) as made by the package."""
    note = f"made by infantpose{': ' + what if what else ''}; `infantpose clean` may remove it\n"
    (Path(folder) / MADE_MARKER).write_text(note, encoding="utf-8")


def is_made(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is a real folder (not a link) that the package made: it carries
    :data:`MADE_MARKER`, or, made before markers existed, the dataset cache's stamp
    (``synthesis.json`` with its ``engine`` fingerprint)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    if (folder / MADE_MARKER).is_file():
        return True
    with contextlib.suppress(OSError, ValueError, RecursionError):
        stamp = json.loads((folder / "synthesis.json").read_text(encoding="utf-8"))
        return isinstance(stamp, dict) and "engine" in stamp
    return False


def set_aside(path: str | os.PathLike) -> Path:
    """Move ``path`` (a folder, file or link the package did not make) to a visible sibling
    ``NAME.replaced-<YYYYmmdd-HHMMSS>`` and say so; returns where it went. Never deletes."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.replaced-{stamp}")
    n = 1
    while os.path.lexists(aside):
        n += 1
        aside = path.with_name(f"{path.name}.replaced-{stamp}-{n}")
    os.replace(path, aside)
    warnings.warn(
        f"{path} was not made by infantpose, so it was moved aside to {aside} rather than "
        "replaced; delete it yourself once you no longer need it",
        stacklevel=4,
    )
    return aside


def check_replaceable(path: str | os.PathLike, *, overwrite: bool) -> None:
    """Raise :class:`FileExistsError` when ``path`` exists, was not made by the package and
    ``overwrite`` is False: what :func:`atomic_dir` checks, for callers that check first."""
    path = Path(path)
    if not overwrite and os.path.lexists(path) and not is_made(path):
        _refuse_foreign(path)


def _refuse_foreign(path: Path) -> None:
    what = "a link" if path.is_symlink() else "a folder" if path.is_dir() else "a file"
    raise FileExistsError(
        f"{path} exists and is {what} that infantpose did not make (it has no {MADE_MARKER} "
        "marker), so it is not replaced: choose another folder, move it away, or pass "
        "overwrite=True to move it aside (it is renamed, never deleted)"
    )


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``path`` as a whole.

    Use it for datasets: the folder appears complete or not at all, carrying
    :data:`MADE_MARKER`. A previous folder at ``path`` that the package made (:func:`is_made`)
    is removed once the new one is in place. Anything else at ``path`` is the user's: with
    ``overwrite=False`` it is refused (:class:`FileExistsError`, before any work); otherwise it
    is moved aside (:func:`set_aside`), never deleted. Callers that take an ``overwrite``
    argument refuse an existing folder themselves or pass it on.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    check_replaceable(path, overwrite=overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        mark_made(tmp, path.name)
        old = None
        if os.path.lexists(path):
            if is_made(path):
                old = path.with_name(f".{path.name}.old-{_host()}-{os.getpid()}")
                os.replace(path, old)
            elif overwrite:
                set_aside(path)
            else:  # it appeared while we wrote
                _refuse_foreign(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- paths in data files


def path_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a path inside a root (None: it can); lexical, no file is read."""
    from pathlib import PurePosixPath, PureWindowsPath

    if not isinstance(name, str) or not name.strip():
        return "not a non-empty string"
    if "\x00" in name:
        return "it holds a NUL character"
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("~"):
        return "an absolute path, which leaves the folder it must be in"
    if ".." in posix.parts or ".." in windows.parts:
        return "a `..` part, which leaves the folder it must be in"
    return None


def path_under(root: str | os.PathLike, name: Any, *, where: str, field: str) -> Path:
    """``root / name`` for a relative path ``name`` read from a data file, refused with
    :class:`FileFormatError` (naming ``where`` and ``field``) when it could leave ``root``: an
    absolute path, a drive, a ``..`` part, or a NUL character."""
    problem = path_problem(name)
    if problem:
        raise FileFormatError(
            f"{where}: field `{field}` is {name!r}: {problem}; write the path relative to "
            f"{root}, without `..`"
        )
    return Path(root) / name


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


#: The largest object array (a list of names) :func:`read_npy` rebuilds: published name lists
#: are kilobytes; more is refused before anything is unpickled.
MAX_OBJECT_ARRAY_BYTES = 64 * 2**20


class _PickledArray:
    """What a pickled ndarray is rebuilt into: its state is checked against the header's
    element count before numpy sees it (``ndarray.__setstate__`` allocates the shape the
    pickle states, 1.4 GB from a 60-byte stream)."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit, self.array = path, limit, None

    def __setstate__(self, state: Any) -> None:
        import numpy as np

        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise FileFormatError(f"{self.path}: the pickled array's state is not numpy's")
        shape, _dtype, fortran, data = state[-4:]
        if (
            not isinstance(shape, tuple)
            or not all(isinstance(n, int) and 0 <= n <= self.limit for n in shape)
            or math.prod(shape) > self.limit
            or not isinstance(data, list)
            or len(data) != math.prod(shape)
        ):
            raise FileFormatError(
                f"{self.path}: the pickled array states shape {shape!r} for "
                f"{len(data) if isinstance(data, list) else '?'} values, beyond its header "
                f"({self.limit} values); the file is damaged or tampered with: download it again"
            )
        array = np.empty(len(data), dtype=object)
        array[:] = data
        self.array = array.reshape(shape, order="F" if fortran else "C")


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, path: Path, limit: int) -> None:
        super().__init__(file, encoding="latin1")
        self.path, self.limit = path, limit

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
        if what == "_reconstruct":
            return lambda *args: _PickledArray(self.path, self.limit)
        return {"ndarray": np.ndarray, "dtype": np.dtype}.get(what) or getattr(multiarray, what)


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """The JSON document in ``path``, or :class:`FileFormatError` naming the file and what is
    wrong: missing, not UTF-8 (with the byte), bad syntax (with line and column), nested too
    deeply for Python (a 20,000-deep list), or an integer too long to convert (5,000 digits)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    except OSError as error:
        raise FileFormatError(
            f"{what} {path}: cannot be read ({error.strerror or error})"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileFormatError(
            f"{what} {path}: not UTF-8 text (byte {error.start}); JSON files are UTF-8: check "
            "that this is the right file"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FileFormatError(
            f"{what} {path}, line {error.lineno}, column {error.colno}: not valid JSON "
            f"({error.msg}); repair it there, or write the file again"
        ) from None
    except RecursionError:
        raise FileFormatError(
            f"{what} {path}: nested too deeply to read (thousands of levels); no file of this "
            "package nests more than a few levels: it is damaged or not the right file"
        ) from None
    except ValueError as error:  # Python refuses integers of more than 4300 digits
        raise FileFormatError(
            f"{what} {path}: a value cannot be read ({' '.join(str(error).split())[:200]}); "
            "write plain numbers"
        ) from None


def read_npz(path: str | os.PathLike) -> dict[str, Any]:
    """The arrays of an ``.npz`` file, read without pickle: every member's header is checked
    before anything is allocated (no object arrays, no stated shape larger than the member),
    and a truncated or damaged archive raises :class:`FileFormatError` naming the file."""
    import zipfile

    import numpy as np

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
                    shape, _, dtype = read(member)
                    needed = math.prod(shape) * dtype.itemsize
                    if dtype.hasobject or needed > info.file_size:
                        raise FileFormatError(
                            f"{path}: member {info.filename} states shape {shape} of {dtype} "
                            f"in {info.file_size} bytes; the file is damaged or was not written "
                            "by this package: make it again"
                        )
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
    except FileFormatError:
        raise
    except Exception as error:  # truncated archives and garbage fail in many ways
        raise FileFormatError(
            f"{path}: not a readable .npz file ({type(error).__name__}: "
            f"{' '.join(str(error).split())[:200]}); it is truncated or damaged: make it again"
        ) from None


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
            available = os.fstat(file.fileno()).st_size - file.tell()
            count = math.prod(shape)
            if not dtype.hasobject:
                if count * dtype.itemsize > available:
                    raise FileFormatError(
                        f"{path}: its header states shape {shape} of {dtype} "
                        f"({count * dtype.itemsize} bytes) but the file holds {available}; it "
                        "is truncated or damaged: download it again"
                    )
                file.seek(0)
                return np.load(file, allow_pickle=False)
            if not strings:
                raise FileFormatError(
                    f"{path}: holds Python objects (dtype {dtype}), which this file never "
                    "should; re-save it as a plain numeric array"
                )
            if available > MAX_OBJECT_ARRAY_BYTES or count > available:
                raise FileFormatError(
                    f"{path}: an object array of shape {shape} in {available} bytes; a list of "
                    f"names is at most {MAX_OBJECT_ARRAY_BYTES} bytes with a byte or more per "
                    "name: the file is damaged or not the published one"
                )
            rebuilt = _ArrayUnpickler(file, path, count).load()
            array = rebuilt.array if isinstance(rebuilt, _PickledArray) else rebuilt
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
