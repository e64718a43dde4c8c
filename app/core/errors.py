"""Business errors raised by services, and how pages and the JSON API answer them."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from app.core.permissions import PermissionDenied

log = logging.getLogger(__name__)


class ValidationError(Exception):
    """Bad input. `fields` maps a field name to its message, shown beside the field."""

    def __init__(self, fields: dict[str, str] | None = None, message: str = "Please correct the errors below."):
        super().__init__(message)
        self.fields = fields or {}
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str = "Not found."):
        super().__init__(message)
        self.message = message


class ConflictError(Exception):
    """The request is valid but the object's state forbids it (closed project, in use …)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "VALIDATION_ERROR",
    415: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    500: "SERVER_ERROR",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, message: str):
    from app.extensions import db

    db.session.rollback()
    if _wants_fragment():
        return _notice(status, message)
    return render_template("errors/error.html", status=status, message=message), status


def _wants_fragment() -> bool:
    """A request that swaps part of a page — an htmx request aimed at an element (not a
    boosted navigation, nor an HX-Location swap of the whole body), or a background
    refresh after a live event. A whole error page (second top bar and footer) must never
    be swapped into the page."""
    if request.headers.get("X-Kibray-Background") == "1":
        return True
    headers = request.headers
    return (
        headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true" and bool(headers.get("HX-Target"))
    )


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
    link = (url_for(back), "Back to the list") if back else (url_for("main.home"), "Back to home")
    page = render_template("errors/_notice.html", status=status, message=message, link=link)
    return page, status, {"X-Kibray-Notice": "1"}


def register_error_handlers(app: Flask) -> None:
    from app.core.api import api_error

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc):
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _record_denied()
        if is_api_request():
            return api_error("PERMISSION_DENIED", exc.message, 403)
        return _page(403, exc.message)

    @app.errorhandler(NotFound)
    def not_found(exc):
        # A write aimed at something the user may not even see is a refused write too.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _record_denied()
        if is_api_request():
            return api_error("NOT_FOUND", exc.message, 404)
        return _page(404, exc.message)

    @app.errorhandler(ConflictError)
    def conflict(exc):
        if is_api_request():
            return api_error("CONFLICT", exc.message, 409)
        return _page(409, exc.message)

    @app.errorhandler(ValidationError)
    def validation(exc):
        if is_api_request():
            return api_error("VALIDATION_ERROR", exc.message, 400, details=exc.fields)
        return _page(400, exc.message + " " + " ".join(exc.fields.values()))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        status = exc.code or 500
        if status == 403 and request.method not in ("GET", "HEAD", "OPTIONS"):
            _record_denied()
        if is_api_request():
            message = exc.description or exc.name
            response = api_error(
                HTTP_CODES.get(status, "SERVER_ERROR" if status >= 500 else "VALIDATION_ERROR"), message, status
            )
            if status == 405 and exc.get_headers():
                response[0].headers["Allow"] = dict(exc.get_headers()).get("Allow", "")
            return response
        messages = {
            403: "You do not have permission to see this page.",
            404: "We could not find that page.",
        }
        return _page(status, messages.get(status, exc.description or exc.name))

    @app.errorhandler(Exception)
    def crash(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from app.extensions import db

        db.session.rollback()
        if is_api_request():
            return api_error("SERVER_ERROR", "Something went wrong on our side. It has been logged.", 500)
        return _page(500, "Something went wrong on our side. It has been logged and we are on it.")


def _record_denied() -> None:
    from app.core.audit import record_denied
    from app.extensions import db

    db.session.rollback()
    try:
        record_denied(f"{request.method} {request.endpoint or request.path}"[:32], object_type="route", object_id="")
    except Exception:  # auditing a refusal must never turn a 403 into a 500
        log.exception("could not record a denied action")
