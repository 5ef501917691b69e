"""Cache keys from the code that really runs: import closures, not hand-kept lists of files."""

from __future__ import annotations

import functools
import shutil
import textwrap

import pytest

from infantpose.sources import code_fingerprint, import_closure, submodules


def _package(root, files: dict[str, str]):
    """A tiny package named ``infantpose`` under ``root`` (the walker reads that name)."""
    package = root / "infantpose"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return package


FILES = {
    "a.py": """
        from .b import helper

        def run():
            from .sub import c  # inside a function: still imported when it runs
            return helper(), c
    """,
    "b.py": "from . import keys\n\ndef helper():\n    return 1\n",
    "keys.py": "FLIP = (1, 2)\n",
    "sub/__init__.py": "",
    "sub/c.py": "import infantpose.keys\n",
    "unused.py": "from .a import run\n",
}


def test_the_closure_follows_every_import_and_only_those(tmp_path):
    package = _package(tmp_path, FILES)
    closure = import_closure("infantpose.a", root=package)
    assert closure == ["infantpose.a", "infantpose.b", "infantpose.keys", "infantpose.sub.c"]
    assert submodules("infantpose.sub", root=package) == ["infantpose.sub", "infantpose.sub.c"]
    with pytest.raises(ValueError, match=r"infantpose\.missing: no such module"):
        import_closure("infantpose.missing", root=package)


def test_the_fingerprint_moves_with_the_closure_and_nothing_else(tmp_path):
    package = _package(tmp_path / "one", FILES)
    key = code_fingerprint("infantpose.a", root=package)
    assert code_fingerprint("infantpose.a", root=package) == key  # stable
    # the same commit elsewhere: no absolute path in the key
    elsewhere = tmp_path / "two" / "infantpose"
    shutil.copytree(package, elsewhere)
    assert code_fingerprint("infantpose.a", root=elsewhere) == key
    (package / "unused.py").write_text("# edited, but a does not import it\n")
    assert code_fingerprint("infantpose.a", root=package) == key
    (package / "keys.py").write_text("FLIP = (2, 1)\n")  # two imports away
    assert code_fingerprint("infantpose.a", root=package) != key


def test_roots_may_be_functions_partials_or_modules_and_outsiders_add_nothing():
    from infantpose.pose2d import train

    by_name = code_fingerprint("infantpose.pose2d.train")
    assert code_fingerprint(train) == by_name
    assert code_fingerprint(train.train_adult_model) == by_name
    assert code_fingerprint(functools.partial(train.fit, epochs=1)) == by_name
    assert code_fingerprint(train.fit, len, lambda: None) == by_name  # not the package's code


def test_the_caches_cover_what_the_hand_kept_lists_left_out():
    from infantpose.pose2d.train import train_adult_model
    from infantpose.shift.prior import make_prior_data, train_prior
    from infantpose.shift.visibility import train_segmenter
    from infantpose.synthesis.cache import engine_modules

    adult = import_closure(train_adult_model)
    for module in ("metrics", "keypoints", "data.coco", "images", "pose2d.model"):
        assert f"infantpose.{module}" in adult, module
    assert "infantpose.synthesis.adults" not in adult  # what it does not import is not in it
    assert "infantpose.pose2d.model" in import_closure(make_prior_data, train_prior)
    assert "infantpose.pose2d.model" in import_closure(train_segmenter)
    engine = engine_modules()
    for module in ("body.fit", "camera", "optim", "render.scene", "synthesis.writer", "data.coco"):
        assert f"infantpose.{module}" in engine, module
