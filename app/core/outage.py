"""Redis or the database unreachable: a clean 503 instead of gunicorn's bare error.

The answer is rendered without the session, the user, the database or Redis (a template
straight from the Jinja environment, no context processors, no url_for), so it cannot
fail the way the request did. The API answers 503 SERVICE_UNAVAILABLE in its envelope."""

from __future__ import annotations

import logging

import redis.exceptions
from flask import current_app
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

OUTAGE_ERRORS = (
    redis.exceptions.ConnectionError,  # includes redis's TimeoutError-free connection failures
    redis.exceptions.TimeoutError,
    sa_exc.TimeoutError,  # no pooled database connection came free within DB_POOL_TIMEOUT
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
)
TITLE = "Temporarily unavailable"
MESSAGE = "Kibray is temporarily unavailable. Please try again in a minute."


def is_outage(exc: BaseException | None) -> bool:
    """Is `exc` (or what caused it) a lost connection to Redis or the database?"""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        exc = getattr(exc, "original_exception", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def plain_page(status: int, title: str, message: str):
    """errors/plain.html, touching nothing but the template."""
    from flask import g, has_app_context

    request_id = g.get("request_id", "") if has_app_context() else ""  # (core/logs.py: the first hook)
    template = current_app.jinja_env.get_template("errors/plain.html")
    body = template.render(status=status, title=title, message=message, request_id=request_id)
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if status == 503:
        headers["Retry-After"] = "60"
    return body, status, headers


def log_outage(exc: BaseException, method: str, path: str) -> None:
    root = exc
    while getattr(root, "original_exception", None) is not None:
        root = root.original_exception
    log.error(
        "service unavailable on %s %s: %s: %s",
        method,
        path,
        type(root).__name__,
        (str(root).splitlines() or [""])[0][:200],
    )


def quiet_rollback() -> None:
    """Roll back, ignoring a connection that is already gone."""
    from app.extensions import db

    try:
        db.session.rollback()
    except OUTAGE_ERRORS + (sa_exc.DBAPIError,):
        log.warning("rollback failed: the database connection is gone")


def forget_session() -> None:
    """The 503 saves no session (saving would meet the same outage again)."""
    from flask import session

    if hasattr(session, "stateless"):
        session.stateless = True
