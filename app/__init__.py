"""Kibray ERP: the app factory. Extensions are bare in app/extensions.py; this only
configures them and registers the feature blueprints."""

from __future__ import annotations

import logging
import os
import sys
import uuid

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app.config import ROOT, load_config
from app.extensions import cache, csrf, db, login_manager, migrate, redis_store

_session_hooks_installed = False


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: ids beyond PostgreSQL's integer range do not match (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict | None = None, env_name: str | None = None) -> Flask:
    settings = load_config(env_name, overrides)
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.path.join(ROOT, "instance"),
    )
    app.config.update(settings)
    app.url_map.converters["int"] = DatabaseId
    if "*" not in app.config["ALLOWED_HOSTS"]:
        app.config["TRUSTED_HOSTS"] = app.config["ALLOWED_HOSTS"]
    _configure_logging(app)
    _configure_sentry(app)
    os.makedirs(app.instance_path, exist_ok=True)

    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    redis_store.init_app(app)
    cache.init_app(app, config=_cache_config(app))
    _install_session_hooks()

    from app.auth.sessions import RedisSessionInterface

    app.session_interface = RedisSessionInterface()

    _register_blueprints(app)
    from app.core.errors import register_error_handlers

    register_error_handlers(app)
    _register_request_hooks(app)
    _register_template_helpers(app)
    from app.cli import register_cli

    register_cli(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)
    return app


def _configure_logging(app: Flask) -> None:
    """Structured (key=value) logs to stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"))
    root = logging.getLogger()
    if not any(getattr(h, "_kibray", False) for h in root.handlers):
        handler._kibray = True
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


def _configure_sentry(app: Flask) -> None:
    if app.config.get("SENTRY_DSN"):
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration
        from sentry_sdk.integrations.rq import RqIntegration

        sentry_sdk.init(
            dsn=app.config["SENTRY_DSN"],
            environment=app.config["APP_ENV"],
            integrations=[FlaskIntegration(), RqIntegration()],
            send_default_pii=False,
            traces_sample_rate=0.0,
        )


def _cache_config(app: Flask) -> dict:
    ttl = app.config["CACHE_TTL"]
    if app.config.get("REDIS_URL"):
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": app.config["REDIS_URL"],
            "CACHE_DEFAULT_TIMEOUT": ttl,
            "CACHE_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"] + ":cache:",
        }
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": ttl}


def _install_session_hooks() -> None:
    global _session_hooks_installed
    if _session_hooks_installed:
        return
    from flask_sqlalchemy.session import Session

    from app.core import audit, permissions, transaction

    audit.install(Session)
    transaction.install(Session)
    permissions.install(Session)
    _session_hooks_installed = True


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _fk_on(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.admin import register_rq_dashboard
    from app.auth import bp as auth_bp
    from app.clients import bp as clients_bp
    from app.events import bp as events_bp
    from app.health import bp as health_bp
    from app.main import bp as main_bp
    from app.notifications import bp as notifications_bp
    from app.projects import bp as projects_bp

    for blueprint in (main_bp, auth_bp, projects_bp, clients_bp, notifications_bp, events_bp, health_bp, admin_bp):
        app.register_blueprint(blueprint)
    register_rq_dashboard(app)


def _register_request_hooks(app: Flask) -> None:
    from app.auth.models import User
    from app.auth.tokens import TokenError, access_claims, user_from_access
    from app.core.api import api_error
    from app.core.ratelimit import add_headers, check_api_rate

    public_api = {"/api/auth/login/", "/api/auth/refresh/", "/api/health/db/", "/api/health/redis/"}

    @login_manager.user_loader
    def load_user(token: str):
        user_id, _, epoch = token.partition(":")
        if not user_id.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.is_active or user.session_epoch != int(epoch):
            return None  # ended by logout elsewhere, password change, role change or deactivation
        return user

    @login_manager.request_loader
    def load_from_bearer(req):
        if not req.path.startswith("/api/"):
            return None
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header[7:].strip()
        try:
            user = user_from_access(token)
            g.api_token_claims = access_claims(token)
        except TokenError as exc:
            g.api_token_error = exc.message
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        if request.path.startswith("/api/"):
            return api_error(
                "AUTHENTICATION_REQUIRED",
                g.get("api_token_error") or "Authentication credentials were not provided.",
                401,
            )
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if request.headers.get("HX-Request"):
            from flask import make_response

            response = make_response("", 401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)

    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        if _contains_nul(request):
            from app.core.errors import ValidationError

            # PostgreSQL text cannot hold NUL; refuse it here, once, for every route.
            raise ValidationError(
                {"request": "Remove the invalid (NUL) character."}, "Invalid characters in the request."
            )
        if (
            app.config["SECURE_SSL_REDIRECT"]
            and not request.is_secure
            and not request.path.startswith(("/health/", "/api/health/"))
        ):
            from flask import redirect

            return redirect(request.url.replace("http://", "https://", 1), 301)
        if request.path.startswith("/api/health/"):
            return None  # the platform's probes: never limited, never dependent on Redis
        if request.path.startswith("/api/"):
            g.audit_user = current_user if current_user.is_authenticated else None
            limited = check_api_rate()
            if limited is not None:
                return limited
            if request.path not in public_api and not current_user.is_authenticated:
                return unauthorized()
        elif current_user.is_authenticated:
            g.audit_user = current_user
        return None

    @app.after_request
    def _finish(response):
        # Read before the commit: afterwards the user would be expired and reloaded.
        g.signed_in = request.endpoint != "static" and current_user_is_signed_in()
        # One commit per request: keep the work of successful requests, nothing else.
        from app.core.transaction import should_commit

        if should_commit(response.status_code):
            db.session.commit()
        else:
            db.session.rollback()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        _security_headers(app, response)
        if request.path.startswith("/api/"):
            add_headers(response)
        return response


def _contains_nul(req) -> bool:
    def walk(value) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, dict):
            return any(walk(k) or walk(v) for k, v in value.items())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return False

    if any(walk(k) or walk(v) for k, v in req.args.items(multi=True)):
        return True
    if req.method in ("POST", "PUT", "PATCH", "DELETE"):
        if req.is_json:
            return walk(req.get_json(silent=True))
        return any(walk(k) or walk(v) for k, v in req.form.items(multi=True))
    return False


def _security_headers(app: Flask, response) -> None:
    headers = response.headers
    if request.path.startswith("/admin/rq"):
        # rq-dashboard ships inline scripts and renders its tables with underscore
        # templates (new Function); it is admin-only and same-origin.
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        )
    else:
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if app.config["SECURE_HSTS_SECONDS"]:
        headers.setdefault(
            "Strict-Transport-Security", f"max-age={app.config['SECURE_HSTS_SECONDS']}; includeSubDomains"
        )
    if g.get("signed_in"):
        headers.setdefault("Cache-Control", "no-store")


def current_user_is_signed_in() -> bool:
    try:
        return current_user.is_authenticated
    except Exception:  # noqa: BLE001 - headers must never turn a response into an error
        return False


def _register_template_helpers(app: Flask) -> None:
    from app.core.audit_text import describe as audit_lines
    from app.core.money import to_money
    from app.core.permissions import template_can
    from app.core.roles import ROLE_LABELS
    from app.core.views import template_shows

    app.jinja_env.globals.update(
        can=template_can, shows=template_shows, ROLE_LABELS=ROLE_LABELS, app_env=app.config["APP_ENV"]
    )
    app.jinja_env.globals.update(audit_lines=audit_lines)  # entries as sentences, names fetched per page

    @app.template_filter("money")
    def money(value):
        """$12,345.60 — formatted from the Decimal, never through a float."""
        if value is None:
            return "—"
        return f"${to_money(value):,}"

    @app.template_filter("status_label")
    def status_label(status):
        """A project status in the contractor's words."""
        return {"created": "not started", "active": "active", "closed": "closed"}.get(status, status)

    @app.template_filter("date")
    def fmt_date(value):
        return value.strftime("%b %d, %Y").replace(" 0", " ") if value else "—"
