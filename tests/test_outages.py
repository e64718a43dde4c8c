"""Outages (issue 6): with Redis or the database gone, pages answer a clean 503 page that
needs neither, the API `503 SERVICE_UNAVAILABLE` in its envelope, and `/health/` 503 with
its flags even with a session cookie. The Redis is one this test starts on its own port
and kills; the database connections are the test app's own, ended by pg_terminate_backend.
Never the machine's shared services."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def own_redis():
    """A Redis of this test's own, on another port; `kill()` ends it."""
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)

    class Handle:
        def kill(self):
            proc.kill()
            proc.wait(5)

    Handle.url = url
    try:
        yield Handle()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


_built: list = []


@pytest.fixture(autouse=True)
def _dispose_built_apps():
    """Close the database connections of the apps these tests built."""
    yield
    while _built:
        app = _built.pop()
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()


def outage_app(redis_url: str, **overrides):
    from app import create_app

    settings = {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"kibray-outage-{uuid.uuid4().hex[:8]}",
        "WTF_CSRF_ENABLED": False,
        "PROPAGATE_EXCEPTIONS": False,  # as in production: errors reach the handlers
        **overrides,
    }
    app = create_app(settings, env_name="test")
    _built.append(app)
    return app


def assert_clean_503_page(response):
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "temporarily unavailable" in body.lower() and "try again in a minute" in body.lower()
    assert "Traceback" not in body and "Internal Server Error" not in body
    assert response.headers["Retry-After"] == "60"


def assert_503_envelope(response):
    assert response.status_code == 503
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "SERVICE_UNAVAILABLE"


# --- Redis down --------------------------------------------------------------------------


def test_redis_down_pages_answer_a_clean_503(own_redis, caplog):
    app = outage_app(own_redis.url)
    web = app.test_client()
    assert web.get("/login").status_code == 200
    cookie = web.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None  # the page stored a session (its CSRF token) in our Redis
    own_redis.kill()
    caplog.set_level(logging.INFO)
    assert_clean_503_page(web.get("/login"))  # with the session cookie
    assert_clean_503_page(web.get("/projects"))
    assert_clean_503_page(app.test_client().get("/login"))  # without one
    assert_clean_503_page(app.test_client().post("/login", data={"username": "kim", "password": "x"}))
    messages = [r.getMessage() for r in caplog.records if r.name == "app.core.outage"]
    assert messages and all("service unavailable" in m and "\n" not in m for m in messages)


def test_redis_down_the_api_answers_503_service_unavailable(own_redis):
    app = outage_app(own_redis.url)
    api = app.test_client()
    assert api.get("/api/auth/me/").status_code == 401
    own_redis.kill()
    assert_503_envelope(api.get("/api/auth/me/"))
    assert_503_envelope(api.get("/api/projects/", headers={"Authorization": "Bearer x.y.z"}))
    assert_503_envelope(api.post("/api/auth/login/", json={"username": "kim", "password": "x"}))


def test_redis_down_health_answers_503_with_its_flags_even_with_a_session_cookie(own_redis):
    app = outage_app(own_redis.url)
    web = app.test_client()
    web.get("/login")
    assert web.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    assert web.get("/health/").status_code == 200
    own_redis.kill()
    response = web.get("/health/")
    assert response.status_code == 503
    assert response.json["status"] == "unhealthy"
    assert response.json["checks"]["redis"] is False and response.json["checks"]["database"] is True
    single = web.get("/api/health/redis/")
    assert single.status_code == 503 and single.json["checks"] == {"redis": False}


# --- the database's connections terminated ---------------------------------------------------


def terminate(application_name: str) -> int:
    """pg_terminate_backend on this test app's own connections (tagged by application_name)."""
    engine = create_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": application_name},
            ).scalar()
    finally:
        engine.dispose()
    return ended


@pytest.fixture()
def db_outage_app(own_redis):
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    name = f"kibray-outage-{uuid.uuid4().hex[:8]}"
    # No liveness check, one pooled connection: the next request meets the terminated
    # connection (with the check the pool would quietly replace it, which production does:
    # test_a_terminated_connection_is_replaced_at_checkout below).
    options = {"pool_pre_ping": False, "pool_size": 1, "max_overflow": 0, "connect_args": {"application_name": name}}
    return outage_app(own_redis.url, SQLALCHEMY_ENGINE_OPTIONS=options, DB_LIVENESS_CHECK="off"), name


def test_terminated_database_connections_give_a_clean_503_then_recover(db_outage_app, caplog):
    app, name = db_outage_app
    web = app.test_client()
    assert web.post("/login", data={"username": "nobody-here", "password": "x"}).status_code == 401
    assert terminate(name) >= 1
    caplog.set_level(logging.INFO)
    assert_clean_503_page(web.post("/login", data={"username": "nobody-here", "password": "x"}))
    assert any(r.name == "app.core.outage" for r in caplog.records)
    # the broken connection was dropped: the next request works again
    assert web.post("/login", data={"username": "nobody-here", "password": "x"}).status_code == 401


def test_a_terminated_connection_is_replaced_at_checkout_without_a_round_trip(own_redis):
    """The default liveness check (app/core/pool_check.py): the server's goodbye makes the
    pooled connection's socket readable, the checkout refuses it, the pool opens another —
    the request after pg_terminate_backend just works, and no ping is ever sent."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    from sqlalchemy import event

    from app.extensions import db as _db

    name = f"kibray-outage-{uuid.uuid4().hex[:8]}"
    options = {"pool_pre_ping": False, "pool_size": 1, "max_overflow": 0, "connect_args": {"application_name": name}}
    app = outage_app(own_redis.url, SQLALCHEMY_ENGINE_OPTIONS=options)
    assert app.config["DB_LIVENESS_CHECK"] == "socket"
    web = app.test_client()
    statements = []
    with app.app_context():
        event.listen(_db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert web.post("/login", data={"username": "nobody-here", "password": "x"}).status_code == 401
    assert terminate(name) >= 1
    time.sleep(0.2)  # the server's message reaches the idle socket
    assert web.post("/login", data={"username": "nobody-here", "password": "x"}).status_code == 401
    assert not any(s.strip().lower() == "select 1" for s in statements)


def test_terminated_database_connections_give_the_api_503(db_outage_app):
    app, name = db_outage_app
    api = app.test_client()
    assert api.post("/api/auth/login/", json={"username": "nobody-here", "password": "x"}).status_code == 401
    assert terminate(name) >= 1
    assert_503_envelope(api.post("/api/auth/login/", json={"username": "nobody-here", "password": "x"}))
    assert api.post("/api/auth/login/", json={"username": "nobody-here", "password": "x"}).status_code == 401


def test_the_503_page_needs_nothing_but_its_template(own_redis):
    """Rendered from the Jinja environment: no context processor, session or user."""
    from app.core.outage import MESSAGE, TITLE, plain_page

    app = outage_app(own_redis.url)
    with app.app_context():
        body, status, headers = plain_page(503, TITLE, MESSAGE)
    assert status == 503 and headers["Retry-After"] == "60" and "try again in a minute" in body
    assert "{{" not in body and "url_for" not in body


# --- a burst: every pooled connection busy -----------------------------------------------------


def test_the_redis_pool_is_blocking_and_sized_for_the_worker(own_redis, monkeypatch):
    import redis

    monkeypatch.setenv("GUNICORN_WORKER_CONNECTIONS", "700")
    from app.config import load_config

    settings = load_config("test")
    assert settings["GUNICORN_WORKER_CONNECTIONS"] == 700 and settings["REDIS_MAX_CONNECTIONS"] == 700
    app = outage_app(own_redis.url, REDIS_MAX_CONNECTIONS=700, REDIS_POOL_TIMEOUT=7)
    pool = app.extensions["kibray_redis"].connection_pool
    assert isinstance(pool, redis.BlockingConnectionPool)
    assert pool.max_connections == 700 and pool.timeout == 7


def test_no_free_redis_connection_waits_then_answers_the_clean_503(own_redis, caplog):
    app = outage_app(own_redis.url, REDIS_MAX_CONNECTIONS=1, REDIS_POOL_TIMEOUT=0.2)
    web = app.test_client()
    assert web.get("/login").status_code == 200
    pool = app.extensions["kibray_redis"].connection_pool
    held = pool.get_connection()  # the one connection, busy elsewhere
    try:
        caplog.set_level(logging.INFO)
        started = time.monotonic()
        assert_clean_503_page(web.get("/login"))  # with the session cookie
        assert time.monotonic() - started >= 0.2  # it waited for a connection first
        assert_503_envelope(app.test_client().post("/api/auth/login/", json={"username": "kim", "password": "x"}))
        assert any(r.name == "app.core.outage" for r in caplog.records)
    finally:
        pool.release(held)
    assert web.get("/login").status_code == 200  # a free connection again: back to normal


def test_no_free_database_connection_answers_the_clean_503(own_redis):
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    app = outage_app(own_redis.url, SQLALCHEMY_ENGINE_OPTIONS=options)
    web = app.test_client()
    assert web.post("/login", data={"username": "nobody-here", "password": "x"}).status_code == 401
    with app.app_context():
        from app.extensions import db

        held = db.engine.connect()  # the pool's only connection, busy elsewhere
        try:
            assert_clean_503_page(web.post("/login", data={"username": "nobody-here", "password": "x"}))
            assert_503_envelope(
                app.test_client().post("/api/auth/login/", json={"username": "nobody-here", "password": "x"})
            )
        finally:
            held.close()
    assert web.post("/login", data={"username": "nobody-here", "password": "x"}).status_code == 401


def test_the_liveness_check_works_past_a_thousand_open_descriptors():
    """A gevent worker holding 1,000 client sockets opens its database connections on
    descriptors past 1,024, which select() cannot watch: the check must not call them dead
    (a 1,000-request burst once answered 500s that way)."""
    import os
    import resource

    import psycopg

    from app.core.pool_check import _dead

    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip(f"needs 1,200 open files, the limit is {soft}")
    pipes = [os.pipe() for _ in range(540)]
    try:
        with psycopg.connect(TEST_DATABASE_URL.replace("postgresql+psycopg", "postgresql")) as conn:
            assert conn.fileno() > 1024
            assert not _dead(conn)
            with psycopg.connect(TEST_DATABASE_URL.replace("postgresql+psycopg", "postgresql")) as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            time.sleep(0.2)
            assert _dead(conn)
    finally:
        for read_end, write_end in pipes:
            os.close(read_end)
            os.close(write_end)
