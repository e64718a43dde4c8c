"""A real CalDAV server for the sync tests: Radicale (scripts/radicale_server.py),
started once per session — each xdist worker its own — with one user, its data in a
temporary folder."""

from __future__ import annotations

import pytest

from scripts.radicale_server import Server, account_on, running

__all__ = ["Server", "account_on", "radicale"]


@pytest.fixture(scope="session")
def radicale(tmp_path_factory) -> Server:
    with running(tmp_path_factory.mktemp("radicale")) as server:
        yield server
