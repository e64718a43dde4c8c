"""The one JSON API blueprint: /api and everything every API route shares.

Each feature's `api.py` defines a child blueprint (declared in its `Feature(api=…)`);
the factory hangs them all off this parent, which owns bearer-token authentication,
the CSRF exemption (the API ignores cookies, so there is nothing to forge), rate limits
and their headers, the error envelope (app/api/errors.py), and which endpoints are
public (`@public` / `@probe` on the view, app/core/api.py). (CTFd's `CTFd/api/__init__.py`.)
"""

from __future__ import annotations

from flask import Blueprint, Flask, g
from flask_login import current_user

from app.api import errors
from app.core.api import API_PREFIX, api_error, endpoint_is, is_api_request
from app.core.openapi import check_declarations, check_response
from app.extensions import csrf, login_manager


def build(children) -> Blueprint:
    """A fresh parent blueprint for one app, with the features' API blueprints under it."""
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    csrf.exempt(api)
    for child in children:
        csrf.exempt(child)  # Flask-WTF matches the exact (nested) blueprint name
        api.register_blueprint(child)
    api.before_request(_authenticate_and_count)
    api.after_request(_rate_limit_headers)
    api.after_request(check_response)
    errors.register(api)
    return api


def init_app(app: Flask, children) -> None:
    app.register_blueprint(build(children))
    login_manager.request_loader(load_from_bearer)
    check_declarations(app)


def _authenticate_and_count():
    from app.core.ratelimit import check_api_rate

    if endpoint_is("health_probe"):
        return None  # the platform's probes: never limited, never dependent on Redis
    g.audit_user = current_user if current_user.is_authenticated else None
    limited = check_api_rate()
    if limited is not None:
        return limited
    if not endpoint_is("public_endpoint") and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _rate_limit_headers(response):
    from app.core.ratelimit import add_headers

    return add_headers(response)


def load_from_bearer(req):
    """Flask-Login's request loader: an API request is signed in by its bearer token only
    (its session is stateless, see app/auth/sessions.py)."""
    from app.auth.tokens import TokenError, decode_access, queue_revocation_check, user_for
    from app.core import cached_reads, ratelimit
    from app.extensions import redis_store

    if not is_api_request(req):
        return None
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    try:
        claims = decode_access(token)
        # One Redis round trip for what every API request asks of Redis: is the token
        # revoked, this hour's count of the caller's requests, the table generations.
        pipe = redis_store.client.pipeline(transaction=False)
        queue_revocation_check(pipe, claims)
        hit = ratelimit.queue_hourly_hit(pipe, f"user:{claims['sub']}")
        cached_reads.queue_generations(pipe)
        revoked, count, _, generations = pipe.execute()
        ratelimit.remember_hit(hit, count)
        cached_reads.use_generations(generations)
        user = user_for(claims, revoked)
        g.api_token_claims = claims
    except TokenError as exc:
        g.api_token_error = exc.message
        return None
    return user


def authentication_required():
    """Flask-Login's answer to an anonymous API request."""
    return api_error(
        "AUTHENTICATION_REQUIRED", g.get("api_token_error") or "Authentication credentials were not provided.", 401
    )
