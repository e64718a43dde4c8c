"""Test fixtures. The suite runs against the machine's real PostgreSQL and Redis (a
separate `kibray_test` database and Redis db 15); each test runs inside a transaction
that is rolled back at the end. Under CI (CI=true) unreachable services fail the run;
elsewhere the suite falls back to the embedded stand-ins and says so loudly."""

from __future__ import annotations

import contextvars
import os
import uuid
import warnings

import pytest
from flask.testing import FlaskClient


def _per_worker(database_url: str, redis_url: str) -> tuple[str, str]:
    """Under pytest-xdist (`make test` runs the unit tests on two workers) each worker has
    its own database (`kibray_test_gw1`) and Redis db (15, 14, …): a test's rollback, a
    flushed db and RQ's keys stay the worker's own. Without xdist, the URLs as given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return database_url, redis_url
    from sqlalchemy.engine import make_url

    index = int(worker[2:])
    url = make_url(database_url)
    database_url = url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)
    base, _, number = redis_url.rpartition("/")
    if number.isdigit():
        redis_url = f"{base}/{int(number) - index}"
    return database_url, redis_url


TEST_DATABASE_URL, TEST_REDIS_URL = _per_worker(
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kibray_test"),
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
)


def _services_up() -> tuple[bool, str]:
    import redis

    from scripts.pgtools import ensure_scratch_database

    try:
        ensure_scratch_database(TEST_DATABASE_URL)
    except Exception as exc:  # noqa: BLE001 - reported below
        return False, f"PostgreSQL unreachable: {exc}"
    try:
        probe = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3)
        probe.ping()
        probe.close()
    except Exception as exc:  # noqa: BLE001
        return False, f"Redis unreachable: {exc}"
    return True, ""


def pytest_configure(config):
    ok, why = _services_up()
    os.environ["APP_ENV"] = "test"
    if ok:
        os.environ["DATABASE_URL"] = TEST_DATABASE_URL
        os.environ["REDIS_URL"] = TEST_REDIS_URL
        config.kibray_backend = "postgresql+redis"
    else:
        if os.environ.get("CI"):
            raise pytest.UsageError(f"CI needs real PostgreSQL and Redis: {why}")
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        config.kibray_backend = "EMBEDDED FALLBACK (SQLite + fakeredis)"
        warnings.warn(f"!!! tests fell back to embedded stand-ins: {why}", stacklevel=1)


def pytest_report_header(config):
    return f"kibray test backend: {getattr(config, 'kibray_backend', '?')}"


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context,
    `g` and database session (on the test's connection, so it sees the test's rows).
    Afterwards the test's own session is expired so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        from flask import has_app_context

        if has_app_context():
            from app.extensions import db as _db

            _db.session.expire_all()
        return response


@pytest.fixture(scope="session", autouse=True)
def _schema_at_head(request):
    """The worker's database migrated before its first test, whichever file that is: tests
    that build an app of their own (outages, health) need the tables, and under xdist a
    worker may start with one of them on a brand-new database. Browser tests use their
    own database (tests/e2e/conftest.py) and skip this."""
    if request.node.get_closest_marker("e2e") is None and not all(
        item.get_closest_marker("e2e") for item in request.session.items
    ):
        request.getfixturevalue("app")


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from app import create_app
    from app.core.migrations import init_migrate
    from app.extensions import db as _db

    # A prefix of this run's own: Redis pub/sub channels ignore the database number, so two
    # test runs on one Redis (two worktrees, CI jobs) would otherwise hear each other's events.
    prefix = f"kibray-test-{uuid.uuid4().hex[:8]}"
    app = create_app({"WTF_CSRF_ENABLED": False, "REDIS_KEY_PREFIX": prefix}, env_name="test")
    init_migrate(app)  # flask_migrate.upgrade() below needs it (app/core/migrations.py)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            _db.drop_all()
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()  # close pooled connections now, not at interpreter exit


def _drop_keys(client, prefix: str) -> None:
    """This run's keys, and RQ's (its queues and registries are not under our prefix)."""
    for pattern in (f"{prefix}:*", "rq:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture()
def db(app):
    """The database, inside a transaction rolled back after the test. Commits made by
    requests and jobs become savepoints of it."""
    from app.extensions import db as _db
    from app.extensions import redis_store

    with app.app_context():
        engine = _db.engine
        connection = engine.connect()
        outer = connection.begin()
        engines = _db.engines
        engines[None] = connection
        _db.session.remove()
        _db.session.configure(join_transaction_mode="create_savepoint")
        # Only this run's keys: another run (xdist worker, worktree, CI job) may share the
        # Redis database, and FLUSHDB here would drop its signed-in sessions mid-test (a
        # home page answered with the sign-in redirect: test_home_counts.py's flake).
        _drop_keys(redis_store.client, app.config["REDIS_KEY_PREFIX"])
        try:
            yield _db
        finally:
            _db.session.remove()
            engines[None] = engine
            outer.rollback()
            connection.close()


@pytest.fixture()
def only_this_tests_audit_entries(request):
    """Refusals and failed sign-ins are audited in their own committed transaction, so
    other tests on this worker's database leave entries behind that would fill the audit
    pages; clear them inside this test's rolled-back transaction (audit-page tests use it)."""
    if "db" in request.fixturenames:
        from sqlalchemy import delete

        from app.core.audit import AuditLog

        request.getfixturevalue("db").session.execute(delete(AuditLog))


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def login_as(client, db):
    """login_as(role_or_user) → the user, signed in on `client` (a real session)."""
    from tests.factories import make_user

    def _login(who, **kwargs):
        user = make_user(who, **kwargs) if isinstance(who, str) else who
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return _login


@pytest.fixture()
def count_queries(app):
    """with count_queries() as counted: ...; counted.n is the number of SQL statements."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def _count():
        from app.extensions import db as _db

        class Counter:
            n = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []
        target = _db.engines[None]

        def _before(conn, cursor, statement, parameters, context, executemany):
            counter.n += 1
            counter.statements.append(statement)

        event.listen(target, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            event.remove(target, "before_cursor_execute", _before)

    return _count


def bearer(client, user, password=None):
    """Sign `user` in through the JSON API; the Authorization header for later calls."""
    from tests.factories import PASSWORD

    response = client.post("/api/auth/login/", json={"username": user.username, "password": password or PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": "Bearer " + response.json["data"]["access_token"]}


@pytest.fixture()
def committed_pm(app):
    """A project manager committed for real (for tests of what only commits trigger), and
    their audit entries, deleted afterwards. Yields the id."""
    from sqlalchemy import delete

    from app.auth import signed_in
    from app.auth.models import User
    from app.core.audit import AuditLog
    from app.extensions import db
    from tests.factories import make_user

    with app.app_context():
        user = make_user("project_manager_full")
        db.session.commit()
        user_id = user.id
        db.session.remove()
    yield user_id
    with app.app_context():
        db.session.execute(delete(AuditLog).where(AuditLog.object_type == "User", AuditLog.object_id == str(user_id)))
        db.session.execute(delete(AuditLog).where(AuditLog.user_id == user_id))
        db.session.execute(delete(User).where(User.id == user_id))
        db.session.commit()
        db.session.remove()
    signed_in._COPIES.pop(user_id, None)


def signed_in_client(app, user_id: int):
    """A test client whose session is signed in as `user_id` (a committed user)."""
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
        db.session.remove()
    web = app.test_client()
    with web.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return web
