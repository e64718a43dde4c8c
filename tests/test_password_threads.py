"""Password hashing runs off the gevent event loop (app/auth/passwords.py). The suite is
not monkey-patched, so here the gevent path is switched on by hand: while a hash runs in
the hashing threads, other greenlets keep running (before, the loop stood still for the
whole hash). The whole-server proof is tests/e2e/test_hash_burst.py."""

from __future__ import annotations

import threading

import gevent
import pytest

from app.auth import passwords


@pytest.fixture
def under_gevent(monkeypatch):
    monkeypatch.setattr(passwords, "_under_gevent", lambda: True)
    monkeypatch.setattr(passwords, "_pool", None)
    yield
    if passwords._pool is not None:
        passwords._pool[1].kill()


def test_plain_call_without_monkey_patching(app):
    assert not passwords._under_gevent()  # the suite, the CLI and jobs: no threads involved
    stored = passwords.hash_password("Corr3ct-horse!")
    assert passwords.verify_password(stored, "Corr3ct-horse!")
    assert passwords._pool is None


def test_hashing_runs_in_its_threads_while_the_loop_goes_on(app, under_gevent, monkeypatch):
    # production cost (argon2-cffi's defaults): ~50-100 ms a hash
    for key, value in (
        ("PASSWORD_HASH_TIME_COST", 3),
        ("PASSWORD_HASH_MEMORY_COST", 65536),
        ("PASSWORD_HASH_THREADS", 2),
    ):
        monkeypatch.setitem(app.config, key, value)
    seen: list[int] = []
    real = passwords._hash

    def spy(costs, password):
        seen.append(threading.get_ident())
        return real(costs, password)

    ticks = []

    def ticker():
        while True:
            ticks.append(1)
            gevent.sleep(0.005)

    greenlet = gevent.spawn(ticker)
    try:
        with app.app_context():
            passwords._hash = spy
            try:
                stored = passwords.hash_password("Corr3ct-horse!")
            finally:
                passwords._hash = real
            ticked_while_hashing = len(ticks)
            assert passwords.verify_password(stored, "Corr3ct-horse!")
            assert not passwords.verify_password(stored, "wrong-horse!")
            assert not passwords.verify_password(None, "Corr3ct-horse!")  # the equaliser path
            assert not passwords.verify_password("not-a-hash", "Corr3ct-horse!")
    finally:
        greenlet.kill()
    assert seen and seen[0] != threading.get_ident()  # hashed in another (native) thread
    assert ticked_while_hashing >= 3  # the loop ran other greenlets meanwhile (0 on the loop)
    assert passwords._pool[1].maxsize == 2  # PASSWORD_HASH_THREADS


def test_a_long_password_is_refused_before_any_thread(app, under_gevent):
    with app.app_context():
        with pytest.raises(ValueError):
            passwords.hash_password("x" * (passwords.MAX_PASSWORD_LENGTH + 1))
        assert passwords.verify_password("anything", "x" * (passwords.MAX_PASSWORD_LENGTH + 1)) is False
    assert passwords._pool is None


def test_sign_in_gives_its_connection_back_only_when_nothing_was_written(db):
    from sqlalchemy import select

    from app.auth.models import User
    from app.core.transaction import release_connection
    from tests.factories import make_user

    db.session.scalar(select(User).limit(1))  # a read: ending its transaction changes nothing
    assert release_connection() is True
    assert not db.session().in_transaction()

    user = make_user(username="kept-write")  # a write (flushed): the transaction is kept
    assert release_connection() is False
    assert db.session().in_transaction()
    assert db.session.get(User, user.id) is not None
