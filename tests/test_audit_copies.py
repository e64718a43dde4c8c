"""A worker keeps the sentences of audit entries it worded, and their raw diffs
(app/core/audit_text.py `describe`): read again, a page fetches no names — until a table
a name comes from is written, when the next page words the entry anew with the new name.
These tests commit for real (the generations rise when a connection that wrote goes back
to the pool, which the `db` fixture's outer transaction never does) and delete what they
made."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, event, select

from app.auth.models import User
from app.clients.models import Client
from app.core.audit import AuditLog, acting_as
from app.core.audit_text import describe
from app.core.models import utcnow
from app.extensions import db


def _entries(name: str) -> list:
    return db.session.execute(
        select(AuditLog.__table__).where(AuditLog.object_label.like(f"{name}%")).order_by(AuditLog.id)
    ).all()


def test_sentences_are_kept_until_a_name_they_read_changes(app):
    """The actor is named by their current name (read from users): kept while no table a
    name comes from is written; renamed, the next page says the new name."""
    started = utcnow()
    tag = uuid.uuid4().hex[:8]
    name, username = f"Copies {tag}", f"copier-{tag}"
    statements: list[str] = []

    def _seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.test_request_context("/"):
        db.session.remove()
        try:
            actor = User(username=username, email=f"{username}@example.com", full_name="Kim Bray",
                         role="admin", password_hash="x")  # fmt: skip
            db.session.add(actor)
            db.session.commit()
            actor_id = actor.id
            with acting_as(username, "admin", actor_id):
                db.session.add(Client(name=name))
                db.session.commit()
            db.session.remove()  # back to the pool: the generations rise
            first = describe(_entries(name))
            assert [line.sentence for line in first] == [f"Kim Bray created the client {name}"]
            assert "<li>" in first[0].raw_items
            entries = _entries(name)
            event.listen(db.engine, "before_cursor_execute", _seen)
            try:
                again = describe(entries)
            finally:
                event.remove(db.engine, "before_cursor_execute", _seen)
            assert [line.sentence for line in again] == [f"Kim Bray created the client {name}"]
            assert statements == []  # no name fetched, nothing worded anew
            assert again[0].raw_items is first[0].raw_items  # made once
            # a change not committed is never kept: worded with it, then rolled back
            db.session.get(User, actor_id).full_name = "Kim Uncommitted"
            assert [line.sentence for line in describe(entries)] == [f"Kim Uncommitted created the client {name}"]
            assert not describe(entries)[0].keep
            db.session.rollback()
            db.session.remove()
            assert [line.sentence for line in describe(_entries(name))] == [f"Kim Bray created the client {name}"]
            db.session.get(User, actor_id).full_name = "Kim Bray-Hughes"
            db.session.commit()
            db.session.remove()  # users written: every kept sentence is stale
            assert [line.sentence for line in describe(_entries(name))] == [
                f"Kim Bray-Hughes created the client {name}"
            ]
        finally:
            db.session.rollback()
            db.session.execute(delete(Client).where(Client.name == name))
            db.session.execute(delete(User).where(User.username == username))
            db.session.execute(delete(AuditLog).where(AuditLog.created_at >= started))
            db.session.commit()
            db.session.remove()
