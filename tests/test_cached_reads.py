"""Cached reads (app/core/cached_reads.py): a repeated count or short row list is answered
from Redis, and every committed write to a table it reads — through the ORM, a Core statement or raw
SQL, from any connection of the app — makes the next count read the database again.

These tests commit for real (the mechanism listens to commits and to connections going
back to the pool, which the `db` fixture's outer transaction never does) and delete
what they made."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, event, func, select, text

from app.clients.models import Client
from app.core.cached_reads import count_of, rows_of
from app.extensions import db


@pytest.fixture()
def ctx(app):
    made: list[str] = []
    with app.test_request_context("/"):
        db.session.remove()
        yield made
        db.session.rollback()
        if made:
            from app.core.audit import AuditLog

            db.session.execute(delete(Client).where(Client.name.in_(made)))
            # the creations were audited (committed): other tests count audit entries
            db.session.execute(delete(AuditLog).where(AuditLog.object_label.in_(made)))
            db.session.commit()
        db.session.remove()


@pytest.fixture()
def counts_run():
    """The count statements sent to the database while the test runs."""
    seen: list[str] = []

    def _seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT COUNT("):
            seen.append(statement)

    with_app_engine = db.engine
    event.listen(with_app_engine, "before_cursor_execute", _seen)
    yield seen
    event.remove(with_app_engine, "before_cursor_execute", _seen)


def _named(prefix: str):
    return select(Client).where(Client.name.like(f"{prefix}%"))


def _make(ctx, prefix: str, n: int = 1) -> None:
    for _ in range(n):
        name = f"{prefix} {uuid.uuid4().hex[:8]}"
        ctx.append(name)
        db.session.add(Client(name=name))
    db.session.commit()
    db.session.remove()  # the connection goes back to the pool: the generation rises


def test_a_repeated_count_is_not_sent_again(ctx, counts_run):
    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 2)
    assert count_of(_named(prefix), db.session) == 2
    assert count_of(_named(prefix), db.session) == 2
    assert len(counts_run) == 1


def test_a_committed_orm_write_is_counted_next_time(ctx, counts_run):
    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 1)
    assert count_of(_named(prefix), db.session) == 1
    _make(ctx, prefix, 2)
    assert count_of(_named(prefix), db.session) == 3
    assert len(counts_run) == 2


def test_a_raw_sql_write_is_counted_next_time(ctx):
    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 2)
    assert count_of(_named(prefix), db.session) == 2
    db.session.execute(text("DELETE FROM clients WHERE name = :name"), {"name": ctx[0]})
    db.session.commit()
    db.session.remove()
    assert count_of(_named(prefix), db.session) == 1


def test_a_write_to_another_table_keeps_the_entry(ctx, counts_run):
    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 1)
    assert count_of(_named(prefix), db.session) == 1
    db.session.execute(text("UPDATE users SET version = version WHERE false"))
    db.session.commit()
    db.session.remove()
    assert count_of(_named(prefix), db.session) == 1
    assert len(counts_run) == 1


def test_own_uncommitted_writes_are_counted_and_not_cached(ctx, counts_run):
    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 1)
    assert count_of(_named(prefix), db.session) == 1
    name = f"{prefix} {uuid.uuid4().hex[:8]}"
    db.session.add(Client(name=name))
    db.session.flush()
    assert count_of(_named(prefix), db.session) == 2  # this transaction sees its own row
    db.session.rollback()
    db.session.remove()
    assert count_of(_named(prefix), db.session) == 1  # the entry was never overwritten
    assert len(counts_run) == 2


def test_different_parameters_are_different_entries(ctx):
    first, second = f"Totals {uuid.uuid4().hex[:6]}", f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, first, 1)
    _make(ctx, second, 3)
    assert count_of(_named(first), db.session) == 1
    assert count_of(_named(second), db.session) == 3


def test_counts_that_depend_on_the_clock_are_never_cached(ctx, counts_run):
    stmt = select(Client).where(Client.created_at <= func.now())
    count_of(stmt, db.session)
    count_of(stmt, db.session)
    assert len(counts_run) == 2


def test_cached_rows_come_back_as_they_were_and_follow_writes(ctx):
    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 2)
    stmt = select(Client.name, Client.email, Client.id).where(Client.name.like(f"{prefix}%")).order_by(Client.name)
    first = rows_of(stmt, db.session)
    assert [row[0] for row in first] == sorted(ctx)
    statements: list[str] = []

    def _seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        assert rows_of(stmt, db.session) == first  # from the cache, the same tuples
        assert statements == []
        _make(ctx, prefix, 1)
        assert len(rows_of(stmt, db.session)) == 3
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)


def test_a_write_by_another_worker_is_seen_at_the_next_request(ctx, counts_run):
    """Each worker keeps its own copy of an entry, valid only while the generations read
    at the start of a request are the ones it was made under: another worker's write
    raises a generation in Redis, and the next request here counts again."""
    from flask import g

    from app.core.cached_reads import _generations_key
    from app.extensions import redis_store

    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 1)
    assert count_of(_named(prefix), db.session) == 1
    assert count_of(_named(prefix), db.session) == 1
    assert len(counts_run) == 1
    redis_store.client.hincrby(_generations_key(), "clients", 1)  # the other worker's bump
    g.pop("kibray_table_generations", None)  # a new request reads the generations again
    assert count_of(_named(prefix), db.session) == 1
    assert len(counts_run) == 2


def test_a_redis_that_lost_the_generations_does_not_revive_old_copies(ctx, counts_run):
    """After a Redis restart or flush the generations start again from 0; a random epoch
    in the hash keeps this worker's copies made before from matching the new numbers."""
    from flask import g

    from app.core.cached_reads import _generations_key
    from app.extensions import redis_store

    prefix = f"Totals {uuid.uuid4().hex[:6]}"
    _make(ctx, prefix, 1)
    for _ in range(2):  # two lives of the hash, both starting from 0
        redis_store.client.delete(_generations_key())  # Redis restarted or flushed
        g.pop("kibray_table_generations", None)  # the next request reads the generations
        assert count_of(_named(prefix), db.session) == 1
    assert len(counts_run) == 2  # counted again, not answered by the first life's copy
