"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

#: Tiny datasets in the published formats (tests/data/README.md says where each comes from).
FIXTURES = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/data``: read the fixtures in place (the loaders never write)."""
    return FIXTURES


@pytest.fixture
def fixture_copy(tmp_path):
    """Copy one fixture folder (``"coco"``, ``"syrip"``, ``"surreal"``, ``"minirgbd"``) to
    ``tmp_path`` and return the copy, for tests that damage or extend it."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(FIXTURES / name, tmp_path / name))

    return copy


@pytest.fixture(scope="session")
def anny_body():
    """The anny body model (float32, CPU), built once per test session.

    The first build ever parses anny's assets into ``<data root>/cache/anny`` (about 1.5
    minutes, 800 MB); later sessions load that cache in about a second. Tests must not
    move or modify it: copy it, or build their own ``AnnyBody()`` (cheap once built).
    """
    from infantpose.body import AnnyBody

    return AnnyBody()


@pytest.fixture(scope="session")
def small_poses():
    """Make ``n`` (at most 4) slightly bent bodies of infant ages, the same at every call."""
    import torch

    from infantpose.body import BodyPose

    def make(n: int = 2) -> BodyPose:
        g = torch.Generator().manual_seed(0)
        return BodyPose(
            global_orient=torch.randn(n, 3, generator=g) * 0.2,
            body_pose=torch.randn(n, 21, 3, generator=g) * 0.2,
            shape={"age": torch.tensor([0.0, 0.1, 0.05, 0.0][:n])},
        )

    return make


class NetworkAccessError(RuntimeError):
    """A test tried to reach the network; the package must never need it."""


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host: object) -> bool:
    import ipaddress

    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_network():
    """Forbid sockets to anything but this machine for the whole suite.

    Nothing in the package downloads at run time (weights, data and fonts are made or shipped);
    this keeps it so. Loopback stays open: the book's Chromium check serves the built pages
    from 127.0.0.1, and Jupyter kernels talk over localhost (in their own processes, which
    this in-process guard does not reach). Unix sockets are untouched.
    """
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_sendto, real_getaddrinfo = socket.socket.sendto, socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_local(host):
            raise NetworkAccessError(
                f"a test tried to reach {address!r}: tests (and the package) must not use the "
                "network; build what you need locally, or serve it from 127.0.0.1"
            )

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    def sendto(self, data, *args):
        check(self, args[-1])
        return real_sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            raise NetworkAccessError(
                f"a test tried to resolve {host!r}: tests (and the package) must not use the network"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket.socket, "sendto", sendto)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield
