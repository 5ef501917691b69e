"""A trained prior kept under the data root, keyed by what made it: trained once, then loaded.

Chapter 05 trains its priors inside its own table; chapter 06's lifting explorer needs one
infant prior and must not spend its time budget retraining it on every run.
:func:`cached_prior` loads ``<data>/cache/lift3d/<name>_<key>.pt`` when it exists and reads
(:func:`~infantpose.lift3d.train.load_prior`: tensors only, no unpickling of objects), else
calls ``make`` and saves its prior there atomically. The key hashes the caller's settings and
the code that makes, saves and loads the prior (:func:`~infantpose.sources.code_fingerprint`
of this module and of ``make``'s, with everything they import): a changed setting or line of
that code is a new prior.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io import json_digest
from ..sources import code_fingerprint
from .train import CheckpointError, ScorePrior, load_prior, save_prior

__all__ = ["cached_prior", "prior_cache_path"]

log = logging.getLogger(__name__)


def prior_cache_path(
    name: str, key: Any, root: str | os.PathLike | None = None, *, make: Callable | None = None
) -> Path:
    """Where :func:`cached_prior` keeps the prior ``name`` made with settings ``key`` by
    ``make`` (a function of the package, or a :func:`functools.partial` of one, adds its
    module's code to the key; one defined elsewhere adds nothing)."""
    from ..config import data_root

    digest = json_digest([key, code_fingerprint(__name__, make)])
    folder = Path(root) if root is not None else data_root() / "cache" / "lift3d"
    return folder / f"{name}_{digest}.pt"


def cached_prior(
    name: str,
    key: Any,
    make: Callable[[], ScorePrior],
    *,
    root: str | os.PathLike | None = None,
    device: Any = "cpu",
) -> tuple[ScorePrior, bool]:
    """``(prior, loaded)``: the cached prior of ``name`` and ``key`` (JSON-able settings), or
    ``make()``'s, saved for next time. A damaged file is made again (and says so in the log)."""
    path = prior_cache_path(name, key, root, make=make)
    if path.is_file():
        try:
            return load_prior(path, device=device), True
        except CheckpointError as error:
            log.warning(f"{path} cannot be read ({error}); training the prior again")
    prior = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_prior(prior, path)
    return prior, False
