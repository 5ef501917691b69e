"""The package's own source: what each module imports, and a fingerprint of the code that runs.

A cache (a made dataset, a trained model, a prior) is keyed on its settings, its data and the
code that makes it. That code is not a hand-kept list of files, which goes stale the day a
module imports one more: it is the **import closure** of the modules that make it, every module
of the package they import, directly or through others. Imports are read from the source with
``ast``, function-local and ``TYPE_CHECKING`` ones included (``tests/test_layers.py`` holds the
layering on the same graph, :func:`import_graph`). A package's ``__init__`` is in a closure when
it is imported by name; the parent packages Python runs on the way are not.

:func:`code_fingerprint` hashes the closure's files: each one's path inside the package and its
bytes, in sorted order, so one commit gives one fingerprint on every machine and checkout.
Released artifacts carry a version instead of a fingerprint (:mod:`infantpose.pose2d.release`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import types
from pathlib import Path
from typing import Any

__all__ = ["PACKAGE", "code_fingerprint", "import_closure", "import_graph", "submodules"]

#: The folder of the ``infantpose`` package.
PACKAGE = Path(__file__).resolve().parent
_NAME = "infantpose"


def _module_name(path: Path, root: Path) -> str:
    parts = [_NAME, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_file(name: str, root: Path) -> Path | None:
    """The file of module ``name`` (``infantpose.a.b`` → ``a/b.py`` or ``a/b/__init__.py``)."""
    relative = Path(*name.split(".")[1:])
    for path in (root / relative).with_suffix(".py"), root / relative / "__init__.py":
        if path.is_file():
            return path
    return None


def _imports(path: Path, root: Path) -> frozenset[str]:
    stat = path.stat()
    return _read_imports(path, root, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)
def _read_imports(path: Path, root: Path, mtime_ns: int, size: int) -> frozenset[str]:
    """The package modules ``path`` imports, wherever the import statement stands (the file's
    time and size in the key: an edited file is read again)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == _NAME}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != _NAME:
                continue
            for alias in node.names:  # `from x import module` imports the module itself
                child = f"{target}.{alias.name}"
                found.add(child if _module_file(child, root) else target)
    found.discard(name)
    return frozenset(found)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Every module of the package (under ``root``) → the package modules it imports."""
    return {
        _module_name(path, root): set(_imports(path, root)) for path in sorted(root.rglob("*.py"))
    }


def submodules(package: str, root: Path = PACKAGE) -> list[str]:
    """Every module of ``package`` (``"infantpose.synthesis"``: its ``__init__`` and the modules
    below it), sorted."""
    folder = root.joinpath(*package.split(".")[1:])
    return sorted(_module_name(path, root) for path in folder.rglob("*.py"))


def _root_name(root: Any) -> str | None:
    """A module name for ``root``: a name, a module, or a function, class or
    :func:`functools.partial` (the module that defines it); None outside the package."""
    while isinstance(root, functools.partial):
        root = root.func
    if isinstance(root, types.ModuleType):
        name = root.__name__
    elif isinstance(root, str):
        name = root
    else:
        name = getattr(inspect.unwrap(root), "__module__", None) or ""
    return name if name.split(".")[0] == _NAME else None


def import_closure(*roots: Any, root: Path = PACKAGE) -> list[str]:
    """The modules of ``roots`` (names, modules, or functions and classes, by the module that
    defines them; those outside the package are left out) and every package module they import,
    directly or not: sorted names."""
    todo = [name for name in map(_root_name, roots) if name is not None]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name, root)
        if path is None:
            raise ValueError(f"{name}: no such module in the package ({root})")
        seen.add(name)
        todo.extend(_imports(path, root))
    return sorted(seen)


def code_fingerprint(*roots: Any, length: int = 16, root: Path = PACKAGE) -> str:
    """A hash of the code ``roots`` run: each file of their :func:`import_closure`, by its path
    in the package and its bytes. The one rule by which a cache (a made dataset, a trained
    model, a prior) tells that the code that made it changed."""
    digest = hashlib.sha256()
    for name in import_closure(*roots, root=root):
        path = _module_file(name, root)
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:length]
