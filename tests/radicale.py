"""A real CalDAV server for the sync tests: Radicale (scripts/radicale_server.py),
started once per session — each xdist worker its own — with one user, its data in a
temporary folder."""

from __future__ import annotations

import pytest

from scripts.radicale_server import Server, running

__all__ = ["Server", "radicale"]


@pytest.fixture(scope="session")
def radicale(tmp_path_factory) -> Server:
    with running(tmp_path_factory.mktemp("radicale")) as server:
        yield server


def account_on(user, server: Server, remote):
    """`user`'s CalDAV account for the calendar `remote` (a `caldav` collection) on `server`."""
    from app.calendar_sync.models import CalendarAccount
    from app.extensions import db

    account = CalendarAccount(
        user_id=user.id,
        server_url=server.url,
        username=server.username,
        password=server.password,
        calendar_url=str(remote.url),
        calendar_name=remote.name,
    )
    db.session.add(account)
    db.session.flush()
    return account
