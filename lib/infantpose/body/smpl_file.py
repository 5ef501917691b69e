"""Read SMPL-format model files (SMPL ``basicModel`` pickles, SMIL's ``smil_web.pkl``) without chumpy.

The published files are Python-2 pickles of a dict of arrays. Some values are chumpy objects
(``chumpy.ch.Ch``) and ``J_regressor`` is a scipy sparse matrix, pickled under module paths that
newer scipy versions have renamed (``scipy.sparse.csc``). :func:`load_smpl_file` reads them with
a restricted unpickler: it rebuilds numpy arrays, turns chumpy and scipy-sparse objects into
dense numpy arrays through stand-in classes (chumpy is never imported, scipy's classes are never
instantiated), and refuses every other global, so a tampered file cannot run code.

Values come back as numpy arrays: float64 for ``v_template``, ``shapedirs``, ``posedirs``,
``J_regressor`` (dense) and ``weights``; int64 for ``f`` and ``kintree_table``. The schema is
checked (keys, shapes, SMPL's kinematic tree); errors name the file, the key and the fix.
"""

from __future__ import annotations

import codecs
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..keypoints import SMPL24

__all__ = [
    "NUM_POSE_BLENDS",
    "NUM_SMPL_JOINTS",
    "REQUIRED_KEYS",
    "SMPL_PARENTS",
    "SmplFileError",
    "SmplFileMissingError",
    "load_smpl_file",
]

#: SMPL's 24 joints: the pelvis and the 23 a full SMPL pose rotates.
NUM_SMPL_JOINTS = 24
#: Pose blend shapes: one per entry of the 23 non-root rotation matrices (``lrotmin``).
NUM_POSE_BLENDS = (NUM_SMPL_JOINTS - 1) * 9
#: The keys a model file must have.
REQUIRED_KEYS: tuple[str, ...] = (
    "v_template",
    "f",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "kintree_table",
)
_FLOAT_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights")
_INT_KEYS = ("f", "kintree_table")
_PARENT_OF = {child: parent for parent, child in SMPL24.bones}
#: SMPL's kinematic tree (parent index of each joint, -1 for the pelvis); SMIL shares it.
SMPL_PARENTS: tuple[int, ...] = tuple(
    SMPL24.joints.index(_PARENT_OF[j]) if j in _PARENT_OF else -1 for j in SMPL24.joints
)


class SmplFileError(ValueError):
    """A model file that cannot be used; the message names the file, the problem and the fix."""


class SmplFileMissingError(SmplFileError, FileNotFoundError):
    """A model file that is not there (or not configured); the message says where to get it."""


class _StandIn:
    """Takes the place of a chumpy or scipy-sparse object while unpickling: keeps its state only."""

    source = ""  # "module.Class" of the object it stands in for
    state: Any = None

    def __new__(cls, *args: Any, **kwargs: Any) -> _StandIn:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _Chumpy(_StandIn):
    pass


class _Sparse(_StandIn):
    pass


_STAND_INS: dict[str, type[_StandIn]] = {}


def _stand_in(base: type[_StandIn], module: str, name: str) -> type[_StandIn]:
    source = f"{module}.{name}"
    if source not in _STAND_INS:
        _STAND_INS[source] = type(name, (base,), {"source": source})
    return _STAND_INS[source]


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` for stand-ins only (Python-2 protocol 0/1 objects)."""
    if not (isinstance(cls, type) and issubclass(cls, _StandIn)) or base is not object:
        raise pickle.UnpicklingError(f"refusing to rebuild {cls!r} on {base!r}")
    return cls()


def _numpy_globals() -> dict[str, Any]:
    from numpy._core import multiarray, numeric

    names = {
        "multiarray._reconstruct": multiarray._reconstruct,
        "multiarray.scalar": multiarray.scalar,
        "numeric._frombuffer": numeric._frombuffer,
    }
    allowed: dict[str, Any] = {
        "numpy.ndarray": np.ndarray,
        "numpy.dtype": np.dtype,
        "_codecs.encode": codecs.encode,  # bytes in Python-3 protocol-2 pickles
        "copy_reg._reconstructor": _reconstructor,
        "copyreg._reconstructor": _reconstructor,
    }
    # Plain containers some pickled objects carry in their state (chumpy keeps sets).
    for builtin in (object, set, frozenset, slice, complex, bytearray):
        for module in ("__builtin__", "builtins"):
            allowed[f"{module}.{builtin.__name__}"] = builtin
    for core in ("numpy.core", "numpy._core"):  # numpy 1 and numpy 2 pickles
        for name, value in names.items():
            allowed[f"{core}.{name}"] = value
    return allowed


_SPARSE_CLASSES = ("csc_matrix", "csr_matrix", "coo_matrix", "csc_array", "csr_array", "coo_array")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self.path = path
        self.allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        source = f"{module}.{name}"
        if source in self.allowed:
            return self.allowed[source]
        if module == "chumpy" or module.startswith("chumpy."):
            return _stand_in(_Chumpy, module, name)
        if module.startswith("scipy.sparse") and name in _SPARSE_CLASSES:
            return _stand_in(_Sparse, module, name)
        raise SmplFileError(
            f"{self.path}: refusing to load it: the pickle asks for the global {source!r}, which "
            "an SMPL/SMIL model file never contains (only numpy arrays, scipy sparse matrices and "
            "chumpy arrays are allowed). The file is not a model file or has been tampered with; "
            "download it again from its official source"
        )


def _dense(value: Any, path: Path, key: str) -> Any:
    """``value`` with chumpy and sparse stand-ins replaced by dense numpy arrays."""
    if isinstance(value, _Chumpy):
        state = value.state
        if isinstance(state, dict) and "x" in state:
            return _dense(state["x"], path, key)
        raise SmplFileError(
            f"{path}: {key!r} is a chumpy {value.source} without a stored value (a chumpy "
            "expression, not an array); convert the file once in an environment with chumpy, "
            "e.g. with smplx's tools/clean_ch.py, which saves every value as a numpy array"
        )
    if isinstance(value, _Sparse):
        return _sparse_to_dense(value, path, key)
    return value


def _sparse_to_dense(value: _Sparse, path: Path, key: str) -> np.ndarray:
    import scipy.sparse

    state = value.state if isinstance(value.state, dict) else {}
    shape = state.get("_shape", state.get("shape"))
    kind = value.source.rsplit(".", 1)[1][:3]
    try:
        if kind == "coo":
            coords = (np.asarray(state["row"]), np.asarray(state["col"]))
            if "coords" in state:
                coords = tuple(np.asarray(c) for c in state["coords"])
            matrix = scipy.sparse.coo_matrix((np.asarray(state["data"]), coords), shape=shape)
        else:
            build = scipy.sparse.csc_matrix if kind == "csc" else scipy.sparse.csr_matrix
            matrix = build(
                (
                    np.asarray(state["data"]),
                    np.asarray(state["indices"]),
                    np.asarray(state["indptr"]),
                ),
                shape=shape,
            )
        return matrix.toarray()
    except (KeyError, TypeError, ValueError) as error:
        raise SmplFileError(
            f"{path}: {key!r} is a {value.source} that cannot be rebuilt ({error}); "
            "the file is damaged or was written by an unusual scipy: download it again"
        ) from None


def _read_pickle(path: Path) -> Any:
    if not path.exists():
        raise SmplFileMissingError(
            f"{path}: no such file; pass the path of an SMPL-format model file (.pkl)"
        )
    if path.is_dir():
        raise SmplFileMissingError(
            f"{path} is a folder; pass the model file itself (e.g. .../smil_web.pkl)"
        )
    with path.open("rb") as file:
        head = file.read(4)
        if head.startswith(b"PK"):
            raise SmplFileError(
                f"{path} is a zip archive, not a model file; unpack it and pass the .pkl inside "
                "(SMIL: smil/smil_web.pkl in smil.zip)"
            )
        file.seek(0)
        try:
            return _RestrictedUnpickler(file, path).load()
        except SmplFileError:
            raise
        except Exception as error:  # truncated files and garbage fail in many ways
            raise SmplFileError(
                f"{path}: not a readable SMPL-format pickle ({type(error).__name__}: {error}); "
                "the file is truncated or not a model file: download it again"
            ) from None


def _check(data: dict[str, Any], path: Path) -> None:
    def fail(key: str, problem: str) -> SmplFileError:
        return SmplFileError(
            f"{path}: {key!r} {problem}; this is not an SMPL-format model file (SMPL basicModel "
            "schema, as SMPL and SMIL's smil_web.pkl use): check that you passed the right file"
        )

    v_template = data["v_template"]
    if v_template.ndim != 2 or v_template.shape[1] != 3 or v_template.shape[0] < 1:
        raise fail("v_template", f"has shape {v_template.shape}, expected (V, 3)")
    num = v_template.shape[0]
    expected = {
        "shapedirs": (num, 3, None),
        "posedirs": (num, 3, NUM_POSE_BLENDS),
        "J_regressor": (NUM_SMPL_JOINTS, num),
        "weights": (num, NUM_SMPL_JOINTS),
        "kintree_table": (2, NUM_SMPL_JOINTS),
        "f": (None, 3),
    }
    for key, shape in expected.items():
        value = data[key]
        if value.ndim != len(shape) or any(
            want is not None and have != want for have, want in zip(value.shape, shape, strict=True)
        ):
            text = ", ".join("K" if s is None else str(s) for s in shape)
            raise fail(key, f"has shape {value.shape}, expected ({text}) for V = {num} vertices")
    if data["shapedirs"].shape[2] < 1:
        raise fail("shapedirs", "has no shape components")
    faces = data["f"]
    if faces.size and (faces.min() < 0 or faces.max() >= num):
        raise fail("f", f"has vertex indices outside [0, {num})")
    parents = tuple(int(p) for p in data["kintree_table"][0, 1:])
    if parents != SMPL_PARENTS[1:]:
        raise fail("kintree_table", f"has parents {parents}, not SMPL's {SMPL_PARENTS[1:]}")
    for key in _FLOAT_KEYS:
        if not np.isfinite(data[key]).all():
            raise fail(key, "has NaN or infinite values")


def load_smpl_file(path: str | os.PathLike) -> dict[str, Any]:
    """The arrays of an SMPL-format model file, dense and checked (see the module docstring).

    Raises :class:`SmplFileMissingError` (a ``FileNotFoundError``) for a missing file and
    :class:`SmplFileError` for anything else wrong with it, including forbidden globals.
    """
    path = Path(path).expanduser()
    raw = _read_pickle(path)
    if not isinstance(raw, dict):
        raise SmplFileError(
            f"{path}: holds a {type(raw).__name__}, not the dict of arrays of an SMPL-format "
            "model file; check that you passed the right file"
        )
    data = {str(key): _dense(value, path, str(key)) for key, value in raw.items()}
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise SmplFileError(
            f"{path}: missing {', '.join(repr(k) for k in missing)} (has {sorted(data)}); an "
            f"SMPL-format model file has {', '.join(REQUIRED_KEYS)}: check that you passed the "
            "model file itself (SMIL: smil_web.pkl, not smil_pose_prior.pkl)"
        )
    for key in REQUIRED_KEYS:
        dtype = np.float64 if key in _FLOAT_KEYS else np.int64
        try:
            data[key] = np.asarray(data[key]).astype(dtype)
        except (TypeError, ValueError) as error:
            raise SmplFileError(
                f"{path}: {key!r} is not a numeric array ({error}); this is not an SMPL-format "
                "model file or it is damaged: download it again"
            ) from None
    _check(data, path)
    return data
