"""The suite runs without the network: the guard in conftest.py refuses anything but loopback."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest


@pytest.mark.parametrize(
    "reach",
    [
        lambda: socket.create_connection(("192.0.2.1", 80), timeout=1),  # TEST-NET-1
        lambda: socket.create_connection(("2001:db8::1", 80), timeout=1),
        lambda: socket.getaddrinfo("pypi.org", 443),
        lambda: urllib.request.urlopen("https://download.pytorch.org/models/", timeout=1),
        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)),
    ],
)
def test_leaving_the_machine_is_refused(reach):
    with pytest.raises(RuntimeError, match="must not use the network"):  # conftest.no_network
        reach()


def test_loopback_still_works():
    # The book's Chromium check serves the built pages from 127.0.0.1 this way.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        accepted = threading.Thread(target=lambda: server.accept()[0].close())
        accepted.start()
        with socket.create_connection(("localhost", port), timeout=5):
            pass
        accepted.join(timeout=5)
