"""Business errors raised by services, and how pages and the JSON API answer them."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.htmx import wants_fragment
from app.core.permissions import PermissionDenied

log = logging.getLogger(__name__)


class ValidationError(Exception):
    """Bad input. `fields` maps a field name to its message, shown beside the field."""

    def __init__(self, fields: dict[str, str] | None = None, message: str = "Please correct the errors below."):
        super().__init__(message)
        self.fields = fields or {}
        self.message = message


class ObjectNotFound(Exception):
    """The object does not exist, or the user may not know it does (answered 404)."""

    def __init__(self, message: str = "Not found."):
        super().__init__(message)
        self.message = message


class ConflictError(Exception):
    """The request is valid but the object's state forbids it (closed project, in use,
    changed meanwhile …). `details` go into the API's envelope (a stale write: the
    current object, see core/versioning.py)."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details


# A write that lost a race and was not caught where it happened (core/versioning.py).
CHANGED_MEANWHILE = "Someone else changed this meanwhile, so nothing was saved. Reload it and try again."


READS = ("GET", "HEAD", "OPTIONS")


def too_large_message() -> str:
    """What a 413 says (pages and API): the limit, from MAX_REQUEST_BYTES."""
    from flask import current_app, has_request_context

    # an upload route raises the limit for its own requests (request.max_content_length)
    limit = (
        (request.max_content_length if has_request_context() else None)
        or current_app.config.get("MAX_CONTENT_LENGTH")
        or 0
    )
    return f"The request is too large: at most {limit:,} bytes are accepted."


def _page(status: int, message: str):
    from app.core.outage import quiet_rollback

    quiet_rollback()
    if wants_fragment():
        return _notice(status, message)
    return render_template("errors/error.html", status=status, message=message), status


def _notice(status: int, message: str):
    """A small inline notice for a fragment request; a 403 or 404 on an object says it is
    gone or no longer available and links to its list (or home)."""
    from flask import current_app, url_for

    noun = next((key[:-3].replace("_", " ") for key in (request.view_args or {}) if key.endswith("_id")), None)
    if status in (403, 404) and noun:
        message = f"This {noun} was deleted or is no longer available to you."
    endpoints = [f"{noun.replace(' ', '_')}s.index"] if noun else []
    endpoints += [f"{request.blueprint}.index"] if request.blueprint else []
    back = next((e for e in endpoints if e in current_app.view_functions), None)
    link = (url_for(back), "Back to the list") if back else (url_for("home.index"), "Back to home")
    page = render_template("errors/_notice.html", status=status, message=message, link=link)
    return page, status, {"X-Kibray-Notice": "1"}


def record_refused_write(exc: Exception) -> None:
    """A refused write is audited (result `denied`), pages and API alike: a 403, or a 404
    for something the user may not even see."""
    refused = isinstance(exc, PermissionDenied | ObjectNotFound) or (isinstance(exc, HTTPException) and exc.code == 403)
    if refused and request.method not in READS:
        _record_denied()


def register_error_handlers(app: Flask) -> None:
    """The pages' answers. API requests get the envelope of app/api/errors.py: from the
    `api` blueprint's own handler, or from here when no API route matched (unknown path,
    wrong method, a route added straight on the app)."""
    from werkzeug.exceptions import SecurityError

    from app.api import errors as api_errors
    from app.core import outage
    from app.core.api import is_api_request

    def answer(exc, status: int, message: str):
        if outage.is_outage(exc) or status == 503:
            return unavailable(exc)
        if isinstance(exc, SecurityError) or request.url_rule is None and _no_url_adapter():
            return refused_host(exc)
        record_refused_write(exc)
        if is_api_request():
            return api_errors.answer(exc)
        return _page(status, message)

    def unavailable(exc):
        """Redis or the database is down: 503, answered without either (core/outage.py)."""
        outage.log_outage(exc, request.method, request.path)
        outage.quiet_rollback()
        outage.forget_session()
        if is_api_request():
            return api_errors.unavailable()
        return outage.plain_page(503, outage.TITLE, outage.MESSAGE)

    def refused_host(exc):
        """An untrusted Host / X-Forwarded-Host: no URL can be built for it, so the page is
        the plain one; logged in one line."""
        log.warning("refused %s %s: %s", request.method, request.path, getattr(exc, "description", exc))
        if is_api_request():
            return api_errors.answer(exc)
        return outage.plain_page(400, "Request problem", "This site does not answer to that host name.")

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc):
        return answer(exc, 403, exc.message)

    @app.errorhandler(ObjectNotFound)
    def not_found(exc):
        return answer(exc, 404, exc.message)

    @app.errorhandler(ConflictError)
    def conflict(exc):
        return answer(exc, 409, exc.message)

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(exc):
        # An UPDATE that matched no row: another request committed first. A service that
        # expects it answers with the current object (core.versioning.checks_version);
        # anywhere else it is still a conflict, never a server error.
        log.info("stale write on %s %s: %s", request.method, request.path, exc)
        return answer(exc, 409, CHANGED_MEANWHILE)

    @app.errorhandler(ValidationError)
    def validation(exc):
        return answer(exc, 400, exc.message + " " + " ".join(exc.fields.values()))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {
            403: "You do not have permission to see this page.",
            404: "We could not find that page.",
            413: too_large_message(),
        }
        status = exc.code or 500
        return answer(exc, status, messages.get(status, exc.description or exc.name))

    @app.errorhandler(Exception)
    def crash(exc):
        if outage.is_outage(exc):
            return unavailable(exc)
        g.unhandled_error = exc  # counted by its fingerprint (app/operations/recording.py)
        if is_api_request():
            return api_errors.answer(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _page(500, "Something went wrong on our side. It has been logged and we are on it.")


def _no_url_adapter() -> bool:
    from flask import globals as flask_globals

    ctx = flask_globals._cv_request.get(None)
    return ctx is not None and ctx.url_adapter is None


def _record_denied() -> None:
    from app.core.audit import record_denied
    from app.extensions import db

    db.session.rollback()
    try:
        record_denied(f"{request.method} {request.endpoint or request.path}"[:32], object_type="route", object_id="")
    except Exception:  # auditing a refusal must never turn a 403 into a 500
        log.exception("could not record a denied action")
