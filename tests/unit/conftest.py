"""Unit tests open no sockets: any attempt fails the test, so a unit test cannot quietly depend on
a server, the network or a real AWS endpoint."""

from __future__ import annotations

import socket

import pytest


class SocketOpened(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise SocketOpened("unit tests must not open sockets: move this test to tests/integration")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
