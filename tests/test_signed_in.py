"""The signed-in user kept in the worker's memory (app/auth/signed_in.py): read from the
database once, then rebuilt from the copy while the users and clients tables are
unchanged — and every committed change to them (a role change, an ended session) is
seen at the very next request.

These tests commit for real (the copy is trusted only under the generations that
committed writes raise; the `db` fixture's transaction never commits) and delete what
they made."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text

from app.auth import signed_in
from app.auth.models import User
from app.extensions import db
from tests.conftest import TEST_DATABASE_URL, signed_in_client


@pytest.fixture()
def user_reads(app):
    """The statements that read the users table, sent while the test runs."""
    seen: list[str] = []

    def _seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT USERS."):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _seen)
    yield seen
    event.remove(engine, "before_cursor_execute", _seen)


def _commit(app, user_id: int, change) -> None:
    with app.app_context():
        change(db.session.get(User, user_id))
        db.session.commit()
        db.session.remove()  # the connection goes back to the pool: the generation rises


def test_the_second_request_does_not_read_the_user(app, committed_pm, user_reads):
    web = signed_in_client(app, committed_pm)
    user_reads.clear()
    assert web.get("/notifications").status_code == 200
    assert web.get("/notifications").status_code == 200
    assert len(user_reads) == 1


def test_an_ended_session_is_refused_at_the_next_request(app, committed_pm, user_reads):
    from app.auth.services import end_sessions

    web = signed_in_client(app, committed_pm)
    assert web.get("/notifications").status_code == 200
    _commit(app, committed_pm, end_sessions)
    answer = web.get("/notifications")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_role_change_applies_at_the_next_request(app, committed_pm):
    web = signed_in_client(app, committed_pm)
    assert web.get("/admin/users").status_code == 403
    web.get("/admin/users")  # the copy is in use

    def promote(user):
        user.role = "admin"

    _commit(app, committed_pm, promote)
    assert web.get("/admin/users").status_code == 200


def test_a_deactivated_user_is_refused_at_the_next_request(app, committed_pm):
    web = signed_in_client(app, committed_pm)
    assert web.get("/notifications").status_code == 200

    def deactivate(user):
        user.is_active_flag = False

    _commit(app, committed_pm, deactivate)
    assert web.get("/notifications").status_code == 302


def test_a_change_nobody_announced_is_seen_within_max_age(app, committed_pm, monkeypatch):
    """A write the generations never heard of (made outside the app, or a bump lost to a
    Redis failure) is seen once the copy is MAX_AGE old."""
    import time

    monkeypatch.setattr(signed_in, "MAX_AGE", 0.3)
    web = signed_in_client(app, committed_pm)
    assert web.get("/admin/users").status_code == 403
    outside = create_engine(TEST_DATABASE_URL)
    try:
        with outside.begin() as conn:
            conn.execute(text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": committed_pm})
    finally:
        outside.dispose()
    assert web.get("/admin/users").status_code == 403  # the copy, still trusted
    time.sleep(0.35)
    assert web.get("/admin/users").status_code == 200


def test_a_change_to_the_user_in_one_request_never_reaches_another(app, committed_pm):
    with app.test_request_context("/"):
        db.session.remove()
        original = signed_in.signed_in_user(committed_pm).full_name
        db.session.remove()
    with app.test_request_context("/"):
        user = signed_in.signed_in_user(committed_pm)
        user.full_name = "Changed In A Failed Request"
        db.session.rollback()
        db.session.remove()
    with app.test_request_context("/"):
        assert signed_in.signed_in_user(committed_pm).full_name == original
        db.session.remove()
