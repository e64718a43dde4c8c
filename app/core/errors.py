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


class ObjectNotFound(Exception):
    """The object does not exist, or the user may not know it does (answered 404)."""

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


def _page(status: int, message: str):
    from app.extensions import db

    db.session.rollback()
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    from app.core.api import api_error, is_api_request

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc):
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _record_denied()
        if is_api_request():
            return api_error("PERMISSION_DENIED", exc.message, 403)
        return _page(403, exc.message)

    @app.errorhandler(ObjectNotFound)
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
