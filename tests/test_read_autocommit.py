"""Read-only requests run without a transaction (no BEGIN/COMMIT round trips), and a
read-only request that writes after all still writes in one transaction
(app/core/transaction.py reads_in_autocommit). These tests use the real engine — not
the `db` fixture's outer transaction, where the mechanism stands aside — and commit
nothing: every write is rolled back and checked gone from another connection."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, func, select, text, update

from app.clients.models import Client
from app.core.transaction import reads_in_autocommit
from app.extensions import db


def _driver():
    return db.session.connection().connection.driver_connection


def _clients_named(app, name: str) -> int:
    with db.engine.connect() as other:
        return other.execute(select(func.count()).select_from(Client).where(Client.name == name)).scalar_one()


@pytest.fixture()
def request_ctx(app):
    with app.test_request_context("/", method="GET"):
        db.session.remove()
        yield app
        db.session.rollback()
        db.session.remove()


def test_reads_use_no_transaction(request_ctx):
    statements = []

    def _seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement.split()[0].upper(), conn.connection.driver_connection.autocommit))

    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        reads_in_autocommit()
        db.session.execute(select(func.count()).select_from(Client))
        db.session.execute(select(Client.id).limit(1))
        assert _driver().info.transaction_status.name == "IDLE"  # no BEGIN was sent
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)
    assert statements == [("SELECT", True), ("SELECT", True)]


def test_a_core_read_of_a_list_page_uses_no_transaction_either(request_ctx):
    """core.pagination reads a page of columns on the session's connection without the
    ORM (core.transaction.read_connection): still in autocommit, and nothing to commit."""
    from app.core.pagination import paginate_rows
    from app.core.transaction import only_read

    reads_in_autocommit()
    page = paginate_rows(select(Client.id, Client.name).order_by(Client.id), 1, 5)
    assert page.total >= len(page.items)
    assert _driver().autocommit is True
    assert _driver().info.transaction_status.name == "IDLE"
    assert only_read(db.session())


def test_a_core_read_of_a_page_sees_the_requests_own_pending_changes(request_ctx):
    """read_connection flushes pending changes first, as the ORM's autoflush would."""
    from app.core.pagination import paginate_rows
    from app.core.transaction import read_connection

    name = f"Pending {uuid.uuid4().hex}"
    db.session.add(Client(name=name))
    read_connection(db.session)
    assert not db.session.new  # flushed before the connection is handed out
    db.session.add(Client(name=name + " 2"))
    page = paginate_rows(select(Client.id, Client.name).where(Client.name.like(f"{name}%")).order_by(Client.name), 1, 5)
    assert [row.name for row in page.items] == [name, name + " 2"]
    db.session.rollback()
    assert _clients_named(request_ctx, name) == 0


def test_a_flush_in_a_read_only_request_is_one_transaction(request_ctx):
    reads_in_autocommit()
    db.session.execute(select(Client.id).limit(1))
    assert _driver().autocommit is True
    first, second = f"Probe {uuid.uuid4().hex}", f"Probe {uuid.uuid4().hex}"
    db.session.add(Client(name=first))
    db.session.flush()
    assert _driver().autocommit is False
    assert _driver().info.transaction_status.name == "INTRANS"
    db.session.add(Client(name=second))
    db.session.flush()
    db.session.rollback()  # the request failed: neither write stays
    assert _clients_named(request_ctx, first) == 0
    assert _clients_named(request_ctx, second) == 0


def test_a_statement_write_leaves_autocommit_first(request_ctx):
    name = f"Probe {uuid.uuid4().hex}"
    reads_in_autocommit()
    db.session.execute(select(Client.id).limit(1))
    db.session.add(Client(name=name))
    db.session.flush()
    db.session.execute(update(Client).where(Client.name == name).values(notes="changed"))
    db.session.rollback()
    assert _clients_named(request_ctx, name) == 0


def test_a_write_as_the_first_statement_is_an_ordinary_transaction(request_ctx):
    reads_in_autocommit()
    db.session.execute(text("UPDATE clients SET notes = notes WHERE false"))
    assert _driver().autocommit is False
    assert _driver().info.transaction_status.name == "INTRANS"


def test_the_pool_gets_its_connection_back_transactional(request_ctx):
    reads_in_autocommit()
    db.session.execute(select(Client.id).limit(1))
    raw = _driver()
    assert raw.autocommit is True
    db.session.commit()
    db.session.remove()
    assert raw.autocommit is False  # reset when the pool took it back
    # the next (writing) request on the same pooled connection is transactional
    db.session.execute(text("UPDATE clients SET notes = notes WHERE false"))
    assert _driver().info.transaction_status.name == "INTRANS"


def test_a_page_that_only_read_ends_without_a_commit(app, committed_pm):
    """The request's end skips the commit when the session only read
    (core.transaction.only_read); a request that wrote still commits."""
    from tests.conftest import signed_in_client

    commits = []

    def _committed(conn):
        commits.append(1)

    with app.app_context():
        engine = db.engine
    web = signed_in_client(app, committed_pm)
    event.listen(engine, "commit", _committed)
    try:
        reads = []
        event.listen(engine, "before_cursor_execute", lambda *args: reads.append(args[2]))
        assert web.get("/notifications").status_code == 200
        assert reads, commits  # it did read the database
        assert commits == []
        assert web.post("/notifications/read-all").status_code in (200, 204, 302, 303)  # writes
        assert commits
    finally:
        event.remove(engine, "commit", _committed)


def test_a_connection_taken_by_hand_is_committed_as_before(request_ctx):
    """A read-only request that took its connection itself (transactional, outside the
    ORM's statements) may have written through it: its end commits, as before."""
    from app.core.transaction import only_read

    reads_in_autocommit()
    assert only_read(db.session())  # nothing done yet: nothing to commit
    db.session.connection().execute(text("SELECT 1"))
    assert _driver().autocommit is False
    assert not only_read(db.session())
