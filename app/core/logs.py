"""Logs as JSON lines on stdout, and Sentry when SENTRY_DSN is set.

Every log record is one JSON object (`time`, `level`, `logger`, `message`, `request_id`
inside a request or a job, `exc` with the traceback). Each request adds one line of its
own (logger `kibray.request`: method, path, endpoint, status, duration_ms, sql_count,
user_id) and each job one (logger `kibray.job`: job_id, queue, func, duration_ms,
outcome ok/failed/retried). A job carries the request id of the request that enqueued it
(`core.jobs` puts it in the job's meta, `workers/base.py` binds it again), so a
request's lines and its jobs' lines share one id. gunicorn's access log is off: the
app's request line replaces it (gunicorn.conf.py); gunicorn's own messages use the same
JSON formatter.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, g, has_app_context, has_request_context, request

# What a job (or a thread of the embedded app) runs on behalf of: {"request_id": …}.
_bound: contextvars.ContextVar[dict | None] = contextvars.ContextVar("kibray_log_context", default=None)

REQUEST_LOGGER = logging.getLogger("kibray.request")
JOB_LOGGER = logging.getLogger("kibray.job")
SENTRY_OFF = "disabled"  # SENTRY_DSN=disabled: Sentry knowingly off (flask check-deploy accepts it)


def init_app(app: Flask) -> None:
    _configure_logging(app)
    _configure_sentry(app)
    _install_sql_counter()

    # First of all hooks: the id (and the clock) exist before anything can fail, so the
    # 503 of an outage and the request's own line carry it too.
    app.url_value_preprocessors.setdefault(None, []).insert(0, _start_request)
    # Registered first, so it runs last of the app's after_request hooks: the status is final.
    app.after_request_funcs.setdefault(None, []).insert(0, _request_line)


# --- context -----------------------------------------------------------------------


def current_request_id() -> str:
    """The request id of the running request, or the one a job runs on behalf of ("")."""
    if has_request_context():
        found = g.get("request_id")
        if found:
            return found
    bound = _bound.get()
    return (bound or {}).get("request_id", "")


@contextmanager
def bound(**fields):
    """Log records (and Sentry events) inside carry `fields` (e.g. request_id=…)."""
    token = _bound.set({**(_bound.get() or {}), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _bound.reset(token)


# --- formatting ----------------------------------------------------------------------

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record. Fields passed as `extra={"fields": {...}}` join the
    object; `exc` holds the formatted traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = _record_request_id()
        if rid:
            entry["request_id"] = rid
        fields = record.__dict__.get("fields")
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _record_request_id() -> str:
    try:
        return current_request_id()
    except RuntimeError:  # a record from a thread with a torn-down context
        return ""


def stdout_handler() -> logging.Handler:
    """The JSON-lines handler (also gunicorn's, through gunicorn.conf.py's logconfig_dict)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler._kibray = True
    return handler


def _configure_logging(app: Flask) -> None:
    """JSON lines to stdout, one handler on the root logger however many apps are built."""
    root = logging.getLogger()
    if not any(getattr(h, "_kibray", False) for h in root.handlers):
        root.addHandler(stdout_handler())
    root.setLevel(app.config["LOG_LEVEL"])


# --- the request's line --------------------------------------------------------------


def _start_request(endpoint, values) -> None:
    from app.core.hooks import request_id

    if "request_id" not in g:
        g.request_id = request_id(request.headers.get("X-Request-ID"))
        g.request_started = time.perf_counter()
        g.sql_count = 0


def _request_line(response):
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    status = response.status_code
    path = logged_path()
    fields = {
        "method": request.method,
        "path": path,
        "endpoint": request.endpoint,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "sql_count": g.get("sql_count", 0),
        "user_id": _user_id(),
    }
    level = logging.ERROR if status >= 500 else logging.INFO
    REQUEST_LOGGER.log(level, "%s %s %s", request.method, path, status, extra={"fields": fields})
    from app.core import metrics

    metrics.observe_request(request.endpoint, request.method, status, duration, fields["sql_count"])
    return response


def logged_path() -> str:
    """The request's path with every secret URL part masked: a route's `<token>` (calendar
    feeds, invitations, estimate reviews) is a key in itself, so logs never hold one."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "[token]")
    return path


def _user_id():
    """The signed-in user's id if this request loaded one — without loading it (nor
    reloading it after the commit expired it)."""
    from sqlalchemy import inspect

    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is None or not state.identity:
        return None
    return state.identity[0]


# --- a job's line --------------------------------------------------------------------


@contextmanager
def job_line(func_name: str, job_id: str | None, queue: str | None, request_id: str = "", will_retry=None):
    """Around a job's run: its request id bound, then one line with its outcome.
    `will_retry()` says whether a failure will be retried."""
    started = time.perf_counter()
    outcome = "ok"
    with bound(request_id=request_id, job_id=job_id or ""):
        _sentry_tag(request_id)
        try:
            yield
        except BaseException:
            outcome = "retried" if will_retry is not None and will_retry() else "failed"
            raise
        finally:
            fields = {
                "job_id": job_id,
                "queue": queue,
                "func": func_name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "outcome": outcome,
                "sql_count": g.get("sql_count", 0) if has_app_context() else 0,
            }
            level = logging.ERROR if outcome == "failed" else logging.WARNING if outcome == "retried" else logging.INFO
            JOB_LOGGER.log(level, "job %s %s", func_name, outcome, extra={"fields": fields})


# --- SQL statements per request (and job) ---------------------------------------------

_sql_counter_installed = False


def _install_sql_counter() -> None:
    global _sql_counter_installed
    if _sql_counter_installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _count_statement)
    _sql_counter_installed = True


def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_app_context():
        g.sql_count = g.get("sql_count", 0) + 1


# --- Sentry --------------------------------------------------------------------------


@functools.cache
def release() -> str:
    """The running commit: what the platform says (Railway, Heroku-style builders, or
    GIT_COMMIT), else `git rev-parse HEAD` of a checkout, else "unknown"."""
    for name in ("RAILWAY_GIT_COMMIT_SHA", "SOURCE_VERSION", "GIT_COMMIT"):
        if os.environ.get(name):
            return os.environ[name]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.exists(os.path.join(root, ".git")):
        try:
            found = subprocess.run(  # noqa: S603 - a fixed command
                ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    return "unknown"


def sentry_enabled(app: Flask) -> bool:
    dsn = (app.config.get("SENTRY_DSN") or "").strip()
    return bool(dsn) and dsn.lower() != SENTRY_OFF


def _configure_sentry(app: Flask) -> None:
    if not sentry_enabled(app):
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import ignore_logger
    from sentry_sdk.integrations.rq import RqIntegration

    # a 5xx request's line and a failed job's line are ERROR records, but the error itself
    # is already an event (its exception): not a second one
    ignore_logger(REQUEST_LOGGER.name)
    ignore_logger(JOB_LOGGER.name)
    sentry_sdk.init(
        dsn=app.config["SENTRY_DSN"].strip(),
        release=release(),
        environment=app.config["APP_ENV"],
        integrations=[FlaskIntegration(), RqIntegration()],
        # only these two (and the defaults: logging, dedupe …): the auto-enabled ones would
        # import every library they find installed at start (openai alone ~3 s of a cold start)
        auto_enabling_integrations=False,
        # no personal data: send_default_pii stays at its default (off, so the SDK's
        # scrubber also strips the PII denylist); sentry-sdk 2.75 deprecates passing it
        traces_sample_rate=0.0,
        before_send=_tag_request_id,
    )


def _masked(value, secrets: list[str]):
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "[token]")
        return value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item, secrets) for item in value]
    return value


def _tag_request_id(event, hint):
    """Every event names the request (or the job's request) it happened in, and carries
    a route's `<token>` masked wherever the event copied it, as the log line does (logged_path)."""
    if has_request_context():
        secrets = [v for k, v in (request.view_args or {}).items() if "token" in k and isinstance(v, str) and v]
        if secrets:  # the URL, the frames' variables, the breadcrumbs: wherever it was copied
            event = _masked(event, secrets)
    rid = _record_request_id()
    if rid:
        event.setdefault("tags", {})
        if isinstance(event["tags"], dict):
            event["tags"].setdefault("request_id", rid)
    return event


def _sentry_tag(request_id: str) -> None:
    """The job's scope (RQ's integration opens one per job) carries its request id, for
    the event the integration sends after the job failed for good."""
    if not request_id or "sentry_sdk" not in sys.modules:
        return
    import sentry_sdk

    if sentry_sdk.get_client().is_active():
        sentry_sdk.get_current_scope().set_tag("request_id", request_id)
