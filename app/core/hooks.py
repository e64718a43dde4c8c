"""Request hooks every request goes through: a request id, NUL bytes refused once,
https redirect, who acts (for the audit), one commit per request, response headers."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, redirect, request
from flask_login import current_user

from app.core.api import endpoint_is, is_api_request
from app.core.headers import security_headers
from app.extensions import db

log = logging.getLogger(__name__)

# An incoming X-Request-ID is kept only when it is a short safe token; anything else (a
# newline that would forge a log line, 10 KB of text) is replaced by a fresh id.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(raw: str | None) -> str:
    return raw if raw and REQUEST_ID.fullmatch(raw) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    def _sessions_unavailable():
        """First of all hooks: a session Redis could not read means an outage; only the
        health probes go on (and report it)."""
        from flask import session
        from werkzeug.exceptions import ServiceUnavailable

        if getattr(session, "unavailable", False) and not endpoint_is("health_probe"):
            raise ServiceUnavailable()

    def _reads_in_autocommit():
        if request.method in ("GET", "HEAD"):
            from app.core.transaction import reads_in_autocommit

            reads_in_autocommit()

    from app.core.uploads import raise_upload_limit

    app.url_value_preprocessor(raise_upload_limit)  # before any hook parses an upload's body
    app.before_request_funcs.setdefault(None, []).insert(0, _sessions_unavailable)
    app.before_request_funcs[None].insert(1, _reads_in_autocommit)

    @app.before_request
    def _start():
        if "request_id" not in g:  # (core/logs.py gives it first, before any hook can fail)
            g.request_id = request_id(request.headers.get("X-Request-ID"))
        refuse_unsafe_text(request)
        probe = endpoint_is("health_probe")
        if app.config["SECURE_SSL_REDIRECT"] and not request.is_secure and not probe:
            return redirect(request.url.replace("http://", "https://", 1), 301)
        if not probe and not is_api_request() and current_user.is_authenticated:
            g.audit_user = current_user  # the API's own blueprint (app/api) names its caller
        return None  # (a probe has no session, so no one signed in: not looked up)

    @app.after_request
    def _finish(response):
        # Read before the commit: afterwards the user would be expired and reloaded.
        g.signed_in = request.endpoint != "static" and not endpoint_is("health_probe") and current_user_is_signed_in()
        # One commit per request: keep the work of successful requests, nothing else.
        from app.core.transaction import only_read, should_commit

        if only_read(db.session()):
            pass  # nothing to commit: the teardown returns the connection
        elif should_commit(response.status_code):
            db.session.commit()
        else:
            from app.core.outage import quiet_rollback

            quiet_rollback()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        security_headers(app, response)
        return response


def current_user_is_signed_in() -> bool:
    try:
        return current_user.is_authenticated
    except Exception:  # noqa: BLE001 - headers must never turn a response into an error
        return False


def refuse_unsafe_text(req) -> None:
    """The one gate for hostile text, before any route: NUL bytes and lone surrogates in
    the query, the form or the JSON body, and JSON nested too deep (core.api.request_json),
    refused with a 400 and one log line."""
    from app.core.api import HostileInput, bad_text, request_json

    try:
        problem = bad_text(list(req.args.items(multi=True)))
        if not problem and req.method in ("POST", "PUT", "PATCH", "DELETE"):
            body = request_json() if req.is_json else list(req.form.items(multi=True))
            problem = bad_text(body)
    except HostileInput as exc:
        log.warning("refused %s %s: %s", req.method, req.path, " ".join(exc.fields.values()))
        raise
    if problem:
        log.warning("refused %s %s: %s", req.method, req.path, problem)
        raise HostileInput({"request": problem}, "Invalid characters in the request.")
