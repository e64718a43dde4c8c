"""Sign-in: pages, server-side sessions, login throttling, two-factor and the JSON API's tokens."""

from flask import Blueprint, Flask

from app.core.features import Feature, LiveEvent, PeriodicJob, WalkRoute

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401
from app.auth.api import bp as api_bp  # noqa: E402


def init_app(app: Flask) -> None:
    """Server-side sessions and Flask-Login: one user loader, one answer to the anonymous."""
    from app.auth.services import user_from_session_id
    from app.auth.sessions import RedisSessionInterface
    from app.extensions import login_manager

    app.session_interface = RedisSessionInterface()
    login_manager.user_loader(user_from_session_id)
    login_manager.unauthorized_handler(routes.unauthorized)


feature = Feature(
    name="auth",
    blueprints=(bp,),
    api=(api_bp,),
    # Published by services.end_sessions() (app/live's stream also sends it when the session
    # behind it expired): the browser closes the stream and goes to sign in (static/js/app.js).
    live_events=(LiveEvent("session-ended"),),
    periodic=(PeriodicJob("purge-expired-tokens", "workers.maintenance.purge_expired_tokens", 6 * 3600),),
    encrypted_columns=(("users", "totp_secret"),),
    walk=(
        WalkRoute("GET", "/account/password", "200 200 200 200 200 200 200"),
        WalkRoute("GET", "/account/two-factor", "200 200 200 200 200 200 200"),
        WalkRoute("GET", "/api/auth/me/", "200 200 200 200 200 200 200"),
    ),
    walk_skip=(
        "/login",  # public (tests/test_sessions.py)
        "/login/code",  # second sign-in step (tests/test_two_factor.py)
        "/logout",
        "/invite/<token>",  # token-gated (tests/test_admin.py)
        "/api/auth/login/",  # tests/test_api_auth.py
        "/api/auth/refresh/",
        "/api/auth/logout/",
    ),
    init_app=init_app,
)
