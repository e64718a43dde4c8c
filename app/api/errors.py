"""The API's error envelope (SPEC.md §4): every error of an /api/ request answers
{"success": false, "error": {"code", "message", …}, "timestamp"} — never an HTML page,
never a traceback. Registered on the parent `api` blueprint; the app's handlers hand
over /api/ requests that no API route matched (app/core/errors.py)."""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.api import api_error
from app.core.errors import (
    CHANGED_MEANWHILE,
    ConflictError,
    ObjectNotFound,
    ValidationError,
    record_refused_write,
    too_large_message,
)
from app.core.permissions import PermissionDenied

log = logging.getLogger(__name__)

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
    503: "SERVICE_UNAVAILABLE",
}


def register(bp: Blueprint) -> None:
    bp.register_error_handler(Exception, handle)


def handle(exc: Exception):
    record_refused_write(exc)
    return answer(exc)


def _anonymous_unmatched() -> bool:
    from flask import request
    from flask_login import current_user

    return request.url_rule is None and not current_user.is_authenticated


def unavailable():
    """Redis or the database is down (app/core/outage.py)."""
    response = api_error("SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Retry in a minute.", 503)
    response[0].headers["Retry-After"] = "60"
    return response


def answer(exc: Exception):
    """The envelope for `exc`."""
    from flask import request

    from app.core import outage

    if outage.is_outage(exc):
        outage.log_outage(exc, request.method, request.path)
        outage.quiet_rollback()
        outage.forget_session()
        return unavailable()
    if isinstance(exc, PermissionDenied):
        return api_error("PERMISSION_DENIED", exc.message, 403)
    if isinstance(exc, ObjectNotFound):
        return api_error("NOT_FOUND", exc.message, 404)
    if isinstance(exc, ConflictError):
        response = api_error("CONFLICT", exc.message, 409, details=exc.details)
        current = getattr(exc, "obj", None)  # a stale write: the current version's tag
        if current is not None and getattr(current, "version", None) is not None:
            response[0].headers["ETag"] = f'"{current.version}"'
        return response
    if isinstance(exc, StaleDataError):
        from app.extensions import db

        db.session.rollback()  # the failed flush left the session unusable
        return api_error("CONFLICT", CHANGED_MEANWHILE, 409)
    if isinstance(exc, ValidationError):
        return api_error("VALIDATION_ERROR", exc.message, 400, details=exc.fields)
    if isinstance(exc, HTTPException) and exc.code == 404 and _anonymous_unmatched():
        # The API asks for credentials before it says what exists (no path probing).
        from app.api import authentication_required

        return authentication_required()
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        code = HTTP_CODES.get(status, "SERVER_ERROR" if status >= 500 else "VALIDATION_ERROR")
        message = too_large_message() if status == 413 else exc.description or exc.name
        response = api_error(code, message, status)
        if status == 405 and exc.get_headers():
            response[0].headers["Allow"] = dict(exc.get_headers()).get("Allow", "")
        return response
    from flask import g

    from app.extensions import db

    g.unhandled_error = exc  # counted by its fingerprint (app/operations/recording.py)
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    db.session.rollback()
    return api_error("SERVER_ERROR", "Something went wrong on our side. It has been logged.", 500)
