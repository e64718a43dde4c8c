"""GET /metrics: the Prometheus figures (app/core/metrics.py), never public.

`Authorization: Bearer <METRICS_TOKEN>` (compared in constant time), or an admin's API
access token (verified as the API verifies it: signature, expiry, revocation, the
account still active); a valid token of anyone else is a 403, none or a bad one a 401,
both in the API's error envelope. The caller's address grants nothing."""

from __future__ import annotations

import hmac

from flask import Response, current_app, request

from app.core.api import api_error
from app.health import bp

PERMISSION = "settings.manage"  # the admin's (as rq-dashboard)


@bp.get("/metrics")
def metrics():
    refused = _refused()
    if refused is not None:
        return refused
    from app.core.metrics import CONTENT_TYPE, exposition

    return Response(exposition(), headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def _refused():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        return _unauthorized("Authentication credentials were not provided.")
    token = header[7:].strip()
    expected = current_app.config.get("METRICS_TOKEN") or ""
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return None
    user, problem = _token_user(token)
    if user is None:
        return _unauthorized(problem)
    from app.core.permissions import can

    if not can(user, PERMISSION):
        return api_error("PERMISSION_DENIED", "Only an admin's token (or METRICS_TOKEN) reads the metrics.", 403)
    return None


def _token_user(token: str):
    """The user an API access token signs in, or (None, why)."""
    from app.auth.tokens import TokenError, decode_access, queue_revocation_check, user_for
    from app.extensions import redis_store

    try:
        claims = decode_access(token)
        pipe = redis_store.client.pipeline(transaction=False)
        queue_revocation_check(pipe, claims)
        (revoked,) = pipe.execute()
        return user_for(claims, revoked), ""
    except TokenError as exc:
        return None, exc.message


def _unauthorized(message: str):
    response = api_error("AUTHENTICATION_REQUIRED", message, 401)
    response[0].headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response
