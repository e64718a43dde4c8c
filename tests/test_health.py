"""Health endpoints exactly as SPEC.md §4: 200 when every check passes, 503 otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app import create_app


def test_single_checks(client):
    for path, name in (("/api/health/db/", "database"), ("/api/health/redis/", "redis")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json["checks"] == {name: True}
        assert response.json["status"] == "healthy"


def test_unapplied_migrations_make_it_unhealthy(client, db):
    db.session.execute(text("UPDATE alembic_version SET version_num = 'not_the_head'"))
    db.session.flush()
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json["status"] == "unhealthy"
    assert response.json["checks"]["migrations"] is False
    assert response.json["checks"]["database"] is True


def test_redis_and_storage_outage_is_reported(app, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the media folder should be")
    broken = create_app(
        {"REDIS_URL": "redis://127.0.0.1:1/0", "MEDIA_ROOT": str(blocked / "media"), "EMBEDDED": False}, env_name="test"
    )
    web = broken.test_client()
    response = web.get("/health/")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["redis"] is False and checks["storage"] is False and checks["database"] is True
    assert web.get("/api/health/redis/").status_code == 503
    assert web.get("/api/health/db/").status_code == 200
    with broken.app_context():
        from app.extensions import db

        db.engine.dispose()  # close this app's own pool now, not at garbage collection


def test_storage_and_migrations_are_remembered_only_while_they_pass(monkeypatch, tmp_path):
    """The probe writes to storage at most once per HEALTH_CACHE_SECONDS, and a failure
    is never remembered: the next probe checks again."""
    from app.core import storage

    probe_app = create_app({"HEALTH_CACHE_SECONDS": 60, "MEDIA_ROOT": str(tmp_path / "media")}, env_name="test")
    writes = []
    real_save = storage.save
    monkeypatch.setattr(storage, "save", lambda *a, **k: writes.append(a[0]) or real_save(*a, **k))
    web = probe_app.test_client()
    for _ in range(5):
        assert web.get("/health/").status_code == 200
    assert len(writes) == 1
    # storage breaks: the remembered pass hides it until it expires …
    probe_app.extensions["kibray.health"]["storage"] = 0.0  # expired
    monkeypatch.setattr(storage, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    assert web.get("/health/").json["checks"]["storage"] is False
    assert web.get("/health/").json["checks"]["storage"] is False  # not remembered: checked again
    monkeypatch.setattr(storage, "save", real_save)
    assert web.get("/health/").json["checks"]["storage"] is True
    with probe_app.app_context():
        from app.extensions import db

        db.engine.dispose()


@pytest.mark.parametrize("liveness", ["socket", "ping"])
def test_the_database_check_is_one_round_trip(monkeypatch, liveness):
    """One round trip, no ORM session: with the default liveness check (the socket,
    app/core/pool_check.py) its own `SELECT 1` in autocommit; with DB_LIVENESS_CHECK=ping
    the pool's ping of the connection it hands out, and no statement of its own."""
    from sqlalchemy import event

    from app.health.checks import check_database

    monkeypatch.setenv("DB_LIVENESS_CHECK", liveness)
    probe_app = create_app(env_name="test")
    with probe_app.app_context():
        from app.extensions import db

        engine = db.engine
        assert bool(engine.pool._pre_ping) is (liveness == "ping")
        with engine.connect():
            pass  # one connection in the pool, not fresh: the next checkout pings it (ping)
        pings, statements = [], []
        real_ping = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert check_database() is True
        if liveness == "ping":
            assert (len(pings), statements) == (1, [])
        else:
            assert (len(pings), [s.strip().upper() for s in statements]) == (0, ["SELECT 1"])
        assert not db.session.registry.has()  # no ORM session made for it
        # the connection went back to the pool transactional, as it came: no BEGIN was
        # needed for the probe, and the next user's writes are one transaction again
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver.autocommit is False and driver.info.transaction_status.name == "IDLE"
        engine.dispose()


def test_probes_neither_read_nor_make_a_session(app):
    """A probe answers without the session machinery: no Redis read for a sent cookie,
    no new session id, no cookie set, no `Vary: Cookie`."""
    web = app.test_client()
    web.get("/login")  # a session cookie, as a browser would send to any path
    assert web.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    calls = []
    client = app.extensions["kibray_redis"]
    real = client.execute_command
    client.execute_command = lambda *args, **kw: calls.append(args[0]) or real(*args, **kw)
    try:
        response = web.get("/health/")
    finally:
        del client.execute_command
    assert response.status_code == 200
    assert calls == ["PING"]  # the Redis check itself; no GETEX of the session
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.vary


def test_every_answer_says_the_apps_own_time(app):
    import re

    web = app.test_client()
    for path in ("/health/", "/login", "/api/health/db/", "/no-such-page"):
        timing = web.get(path).headers.get("Server-Timing", "")
        assert re.fullmatch(r"app;dur=\d+\.\d\d", timing), (path, timing)
    quiet = create_app({"SERVER_TIMING": False}, env_name="test")
    assert "Server-Timing" not in quiet.test_client().get("/login").headers
