"""Is a pooled PostgreSQL connection still alive? Asked at every checkout, without a
round trip.

SQLAlchemy's `pool_pre_ping` answers it by sending a statement and waiting for the
reply: one round trip per request, a tenth of a small page's time. A connection the
server has ended — a restart, `pg_terminate_backend`, an idle timeout — is told
apart without one: the server sends the client an error message and closes the socket,
so an idle connection's socket becomes readable, and one that is healthy and idle never
is (the app does not LISTEN). poll() with a zero timeout looks, and a readable,
closed or broken connection is refused with DisconnectionError, on which the pool drops
it and opens another — the same outcome as a failed pre-ping. A connection cut without
the server saying so (a network partition) would hang a pre-ping too; statement and
connect timeouts and the outage handler (core/outage.py) cover that case.

DB_LIVENESS_CHECK selects it ("socket", the default), SQLAlchemy's pre-ping ("ping") or
neither ("off", for the outage tests that need a dead connection to be handed out).
"""

from __future__ import annotations

import select

from sqlalchemy import event, exc

try:  # the operating system's poll(), not gevent's cooperative one (it only looks)
    from gevent.monkey import get_original

    _poll = get_original("select", "poll")
except ImportError:  # pragma: no cover - gevent is a dependency; without it, the stdlib's
    _poll = select.poll

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def _dead(connection) -> bool:
    if getattr(connection, "closed", False) or getattr(connection, "broken", False):
        return True
    try:
        poller = _poll()  # poll, not select(): a worker with 1,000 open sockets has
        poller.register(connection.fileno(), _READABLE)  # descriptors past select's 1,024
        return bool(poller.poll(0))
    except (OSError, ValueError):  # no socket any more
        return True


def install(app, engine) -> None:
    if app.config.get("DB_LIVENESS_CHECK", "socket") != "socket" or engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, connection_record, connection_proxy):
        if _dead(dbapi_connection):
            raise exc.DisconnectionError("the server ended this connection")
