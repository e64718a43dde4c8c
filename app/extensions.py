"""Extension instances, bare: the factory in app/__init__.py calls their init_app."""

from __future__ import annotations

import redis as redis_lib
from flask import Flask, current_app
from flask_caching import Cache
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects are not expired at the commit: it is the last thing a request does, and
# expiring every loaded row only to throw the session away costs time on big pages.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
cache = Cache()
csrf = CSRFProtect()


class RedisConnections:
    """One Redis client per app: the real server when REDIS_URL is set, else an
    in-process stand-in (fakeredis) so the embedded app needs nothing installed.

    The real client draws from a *blocking* pool sized for the worker's concurrency
    (REDIS_MAX_CONNECTIONS, by default GUNICORN_WORKER_CONNECTIONS): in a burst a greenlet
    waits up to REDIS_POOL_TIMEOUT seconds for a free connection instead of failing at
    once (redis-py's default pool raises MaxConnectionsError at 100). A wait that runs out
    raises redis's ConnectionError, which core/outage.py answers with the plain 503."""

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        if url:
            pool = redis_lib.BlockingConnectionPool.from_url(
                url,
                max_connections=app.config["REDIS_MAX_CONNECTIONS"],
                timeout=app.config["REDIS_POOL_TIMEOUT"],
                health_check_interval=30,
            )
            client = redis_lib.Redis(connection_pool=pool)
        else:
            import fakeredis

            client = fakeredis.FakeRedis(server=fakeredis.FakeServer.get_server("kibray", (7,), "redis"))
        app.extensions["kibray_redis"] = client

    @property
    def client(self) -> redis_lib.Redis:
        return current_app.extensions["kibray_redis"]

    def key(self, *parts: object) -> str:
        """A namespaced key, so several apps or test runs can share one Redis."""
        return ":".join([current_app.config["REDIS_KEY_PREFIX"], *map(str, parts)])


redis_store = RedisConnections()
