"""core.numbering: INV/CO/EST-YYYY-NNNN from one counter row per kind and year, upserted in
the caller's transaction — unique under concurrency, gap-free (a rolled-back number is
taken again), never reused (deleting a document does not give its number back); and the
invoices service issuing numbers in order.

Tests of real transactions (rollback, 50 threads at once) run outside the test's rolled-back
transaction, on a year of their own far in the future, and delete its counters after."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import secrets
import tempfile
import threading
import time
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from app.core.errors import ConflictError
from app.core.numbering import PREFIXES, DocumentCounter, format_number, next_number
from app.extensions import db as _db
from app.invoices import services
from app.invoices.models import Invoice
from tests.factories import make_invoice, make_project, make_user


@pytest.fixture()
def counters(db):
    """No counters yet, inside the test's transaction (rolled back with it)."""
    db.session.execute(delete(DocumentCounter))
    return db


def counter(kind: str, year: int) -> int | None:
    return _db.session.scalar(
        select(DocumentCounter.last_value).where(DocumentCounter.kind == kind, DocumentCounter.year == year)
    )


@contextmanager
def scratch_year(app):
    """A year nobody else numbers in; its committed counters are deleted afterwards."""
    year = 3000 + secrets.randbelow(7000)

    def wipe():
        with app.app_context():
            _db.session.execute(delete(DocumentCounter).where(DocumentCounter.year == year))
            _db.session.commit()
            _db.session.remove()

    wipe()
    try:
        yield year
    finally:
        wipe()


# --- format and counters --------------------------------------------------------------------


def test_the_format_is_prefix_year_and_four_digits(counters):
    assert next_number("invoice", dt.date(2026, 3, 2)) == "INV-2026-0001"
    assert next_number("invoice", dt.date(2026, 12, 31)) == "INV-2026-0002"
    assert format_number("INV", 2026, 42) == "INV-2026-0042"
    assert format_number("INV", 2026, 12345) == "INV-2026-12345"  # past 9999 it grows, never wraps
    assert {kind: next_number(kind, dt.date(2026, 1, 1)) for kind in PREFIXES} == {
        "estimate": "EST-2026-0001",
        "change_order": "CO-2026-0001",
        "invoice": "INV-2026-0003",
        "pay_application": "PA-2026-0001",
    }
    with pytest.raises(KeyError):
        next_number("receipt", dt.date(2026, 1, 1))


def test_each_kind_and_year_counts_on_its_own(counters):
    day, next_year = dt.date(2026, 6, 1), dt.date(2027, 1, 1)
    taken = [
        next_number("invoice", day),
        next_number("invoice", day),
        next_number("estimate", day),
        next_number("invoice", next_year),
        next_number("change_order", day),
        next_number("invoice", day),
        next_number("estimate", next_year),
        next_number("invoice", dt.date(2025, 12, 31)),  # the document's year, not today's
    ]
    assert taken == [
        "INV-2026-0001",
        "INV-2026-0002",
        "EST-2026-0001",
        "INV-2027-0001",
        "CO-2026-0001",
        "INV-2026-0003",
        "EST-2027-0001",
        "INV-2025-0001",
    ]
    assert (counter("invoice", 2026), counter("invoice", 2027), counter("estimate", 2026)) == (3, 1, 1)


def test_a_rolled_back_savepoint_gives_its_number_back(counters):
    day = dt.date(2026, 3, 2)
    assert next_number("invoice", day) == "INV-2026-0001"
    savepoint = counters.session.begin_nested()
    assert next_number("invoice", day) == "INV-2026-0002"
    assert next_number("invoice", day) == "INV-2026-0003"
    savepoint.rollback()
    assert next_number("invoice", day) == "INV-2026-0002"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(PREFIXES)), st.sampled_from([2025, 2026, 2027])), max_size=25))
def test_any_sequence_of_draws_numbers_each_kind_and_year_one_by_one(counters, draws):
    savepoint = counters.session.begin_nested()
    try:
        counters.session.execute(delete(DocumentCounter))
        seen: dict[tuple[str, int], list[str]] = {}
        for kind, year in draws:
            seen.setdefault((kind, year), []).append(next_number(kind, dt.date(year, 7, 1)))
        for (kind, year), numbers in seen.items():
            assert numbers == [format_number(PREFIXES[kind], year, n) for n in range(1, len(numbers) + 1)]
            assert counter(kind, year) == len(numbers)
    finally:
        savepoint.rollback()


# --- real transactions ----------------------------------------------------------------------


@pytest.mark.parametrize("existing", [0, 4], ids=["first-of-the-year", "counter-exists"])
def test_a_rolled_back_transaction_gives_its_number_back_to_the_one_waiting(app, existing):
    """A takes a number and holds it; B, asking meanwhile, waits on the counter's row; A
    rolls back; B gets A's number (no gap) and commits; C gets the next."""
    with scratch_year(app) as year:
        day = dt.date(year, 5, 1)
        if existing:
            with app.app_context():
                for _ in range(existing):
                    next_number("invoice", day)
                _db.session.commit()
                _db.session.remove()
        a_took, a_may_end, b_done = threading.Event(), threading.Event(), threading.Event()
        got: dict[str, str] = {}
        errors: list[BaseException] = []

        def holder():
            try:
                with app.app_context():
                    got["a"] = next_number("invoice", day)
                    a_took.set()
                    a_may_end.wait(10)
                    _db.session.rollback()
                    _db.session.remove()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
                a_took.set()

        def waiter():
            try:
                with app.app_context():
                    got["b"] = next_number("invoice", day)
                    _db.session.commit()
                    _db.session.remove()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                b_done.set()

        a, b = threading.Thread(target=holder), threading.Thread(target=waiter)
        a.start()
        assert a_took.wait(10)
        b.start()
        assert not b_done.wait(0.5), "B got a number while A's was still uncommitted"
        a_may_end.set()
        a.join(10)
        b.join(10)
        assert not errors
        expected = format_number("INV", year, existing + 1)
        assert got == {"a": expected, "b": expected}
        with app.app_context():
            assert next_number("invoice", day) == format_number("INV", year, existing + 2)
            _db.session.commit()
            assert counter("invoice", year) == existing + 2
            _db.session.remove()


@contextmanager
def one_at_a_time(name: str):
    """A lock of this machine (so two xdist workers never hold 50 connections each at once)."""
    with open(os.path.join(tempfile.gettempdir(), f"kibray-{name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def test_fifty_numbers_taken_at_once_are_distinct_and_exactly_one_to_fifty(app):
    """50 threads, each in its own app context, session, connection and transaction (open
    before the barrier), take the next number at the same moment and hold their
    transaction a little before committing: PostgreSQL serialises them on the counter's
    row, so the numbers are 1…50, each once."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the concurrency proof needs PostgreSQL")
    from app import create_app

    n, hold = 50, 0.02
    # the same app with a pool wide enough for 50 transactions open at once
    options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_size": n, "max_overflow": 0, "pool_timeout": 30}
    wide = create_app({"SQLALCHEMY_ENGINE_OPTIONS": options, "REDIS_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"]},
                      env_name="test")  # fmt: skip
    barrier = threading.Barrier(n, timeout=30)
    numbers: list[str] = []
    waits: list[float] = []
    backends: set[int] = set()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take(day: dt.date):
        try:
            with wide.app_context():
                # the transaction is open (and its connection its own) before the race starts
                pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                barrier.wait()
                started = time.monotonic()
                number = next_number("invoice", day)
                waited = time.monotonic() - started
                time.sleep(hold)  # the row stays locked: the others queue behind it
                _db.session.commit()
                _db.session.remove()
            with lock:
                numbers.append(number)
                waits.append(waited)
                backends.add(pid)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            barrier.abort()

    try:
        with one_at_a_time("fifty-connections"), scratch_year(app) as year:
            day = dt.date(year, 1, 15)
            threads = [threading.Thread(target=take, args=(day,)) for _ in range(n)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert not errors, errors[:3]
            assert len(backends) == n  # fifty connections, so fifty transactions
            assert len(numbers) == n and len(set(numbers)) == n
            assert sorted(numbers) == [format_number("INV", year, i) for i in range(1, n + 1)]
            # they really raced: the last one waited for (nearly) all the others' transactions
            assert max(waits) > (n - 10) * hold
            with app.app_context():
                assert counter("invoice", year) == n
                _db.session.remove()
    finally:
        with wide.app_context():
            _db.engine.dispose()


# --- never reused; the invoices service -------------------------------------------------------


def test_a_committed_number_is_never_reused_after_its_invoice_is_deleted(app, counters):
    admin = make_user("admin")
    project = make_project()
    first = make_invoice(project)
    with app.test_request_context():
        services.send_invoice(admin, first)
        counters.session.commit()
        assert first.number == "INV-2026-0001"
        counters.session.delete(first)  # gone (as a bad import cleaned up by hand would be)
        counters.session.commit()
        assert counters.session.scalar(select(Invoice).where(Invoice.number == "INV-2026-0001")) is None
        second = make_invoice(project)
        services.send_invoice(admin, second)
        counters.session.commit()
    assert second.number == "INV-2026-0002"
    assert counter("invoice", 2026) == 2


def test_sending_drafts_issues_consecutive_numbers_of_each_issue_year(app, counters):
    admin = make_user("admin")
    project = make_project()
    march, april = dt.date(2026, 3, 2), dt.date(2026, 4, 1)
    drafts = [
        make_invoice(project, issue_date=march),
        make_invoice(project, issue_date=dt.date(2025, 12, 30)),
        make_invoice(project, issue_date=april),
        make_invoice(project, issue_date=march),
        make_invoice(project, issue_date=dt.date(2025, 11, 3)),
    ]
    for_review = make_invoice(project, issue_date=march, for_review=True)
    with app.test_request_context():
        services.send_invoice(admin, drafts[0])
        services.send_invoice(admin, drafts[1])
        with pytest.raises(ConflictError):
            services.send_invoice(admin, for_review)  # refused: takes no number
        services.send_invoice(admin, drafts[2])
        services.send_invoice(admin, drafts[3])
        services.send_invoice(admin, drafts[4])
        services.send_invoice(admin, drafts[0])  # sent again: keeps its number, takes none
        counters.session.commit()
    assert [d.number for d in drafts] == [
        "INV-2026-0001",
        "INV-2025-0001",
        "INV-2026-0002",
        "INV-2026-0003",
        "INV-2025-0002",
    ]
    assert all(d.status in ("SENT", "OVERDUE") for d in drafts)
    assert for_review.number is None and for_review.status == "DRAFT"
    assert (counter("invoice", 2026), counter("invoice", 2025)) == (3, 2)
    issued = counters.session.scalars(select(Invoice.number).where(Invoice.number.is_not(None)))
    assert sorted(issued) == sorted(d.number for d in drafts)
