"""Shared pytest fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anny_body():
    """The anny body model (float32, CPU), built once per test session.

    The first build ever parses anny's assets into ``<data root>/cache/anny`` (about 1.5
    minutes, 800 MB); later sessions load that cache in about a second. Tests must not
    move or modify it: copy it, or build their own ``AnnyBody()`` (cheap once built).
    """
    from infantpose.body import AnnyBody

    return AnnyBody()
