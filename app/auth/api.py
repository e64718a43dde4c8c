"""JSON API authentication: /api/auth/login/, refresh/ (public), logout/, me/."""

from __future__ import annotations

from flask import Blueprint, g, request
from flask_login import current_user

from app.auth import services, tokens, twofactor
from app.auth.schemas import LoggedOut, LoginInput, LogoutInput, Me, RefreshInput, TokenPair
from app.core.api import api_error, api_ok, public, request_json
from app.core.errors import ValidationError
from app.core.net import client_ip
from app.core.openapi import operation
from app.core.schemas import parse, request_body

# Under the one /api blueprint (app/api): /api/auth/…
bp = Blueprint("auth", __name__)


# Token responses must never be kept by a browser, proxy or client-side cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
NO_STORE_DOC = {"Cache-Control": "no-store: never cache a token."}


def _token_response(pair: dict, user):
    body, status = api_ok({**pair, "user": user_json(user)})
    return body, status, NO_STORE


def user_json(user) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role}


@bp.post("/auth/login/")
@public
@operation("Sign in: an access and a refresh token", body=LoginInput, returns=TokenPair, headers=NO_STORE_DOC)
def api_login():
    body = request_body()
    username, password = body.username, body.password
    errors = {}
    if not username or not username.strip():
        errors["username"] = "This field is required."
    if not password:
        errors["password"] = "This field is required."  # noqa: S105 - a message, not a password
    if errors:
        raise ValidationError(errors)
    try:
        user = services.authenticate(username, password, client_ip())
    except services.LoginFailed as exc:
        if exc.retry_after:
            return api_error("RATE_LIMIT_EXCEEDED", exc.message, 429, retry_after=exc.retry_after)
        return api_error("AUTHENTICATION_REQUIRED", exc.message, 401)
    if user.totp_secret:
        code = body.otp_code
        if not code or not code.strip():
            return api_error(
                "AUTHENTICATION_REQUIRED",
                "This account uses two-factor sign-in: send the 6-digit code as otp_code.",
                401,
                details={"otp_code": "This field is required."},
            )
        try:
            services.check_second_factor(user, code, client_ip())
        except services.LoginFailed as exc:
            if exc.retry_after:
                return api_error("RATE_LIMIT_EXCEEDED", exc.message, 429, retry_after=exc.retry_after)
            return api_error("AUTHENTICATION_REQUIRED", exc.message, 401)
    elif twofactor.required_for(user):
        return api_error(
            "PERMISSION_DENIED", "Your role requires two-factor sign-in. Set it up on the website first.", 403
        )
    if user.must_change_password:
        # An admin-issued one-time password opens nothing until the user replaces it.
        return api_error(
            "PERMISSION_DENIED", "This account must choose a new password first. Sign in on the website to set it.", 403
        )
    g.audit_user = user
    pair = tokens.issue_pair(user)
    return _token_response(pair, user)


@bp.post("/auth/refresh/")
@public
@operation(
    "Trade a refresh token for a new pair (rotation)", body=RefreshInput, returns=TokenPair, headers=NO_STORE_DOC
)
def api_refresh():
    token = request_body().refresh_token
    if not token:
        raise ValidationError({"refresh_token": "This field is required."})
    try:
        user, pair = tokens.rotate(token)
    except tokens.TokenError as exc:
        # tokens.rotate kept its revocation (keep_on_error): it persists despite the 401.
        return api_error("AUTHENTICATION_REQUIRED", exc.message, 401)
    return _token_response(pair, user)


@bp.post("/auth/logout/")
@operation(
    "Sign out: end this token (and the refresh chain sent)", body=LogoutInput, body_optional=True, returns=LoggedOut
)
def api_logout():
    # The body is optional (no body: this access token alone is signed out); one that is
    # sent must be the documented object, like every other body.
    body = parse(LogoutInput, request_json()) if request.get_data(cache=True) else LogoutInput()
    tokens.revoke(g.get("api_token_claims") or {}, body.refresh_token, current_user)
    return api_ok({"logged_out": True})


@bp.get("/auth/me/")
@operation("The signed-in user", returns=Me)
def api_me():
    user = current_user
    return api_ok(
        {
            **user_json(user),
            "email": user.email,
            "full_name": user.full_name,
            "is_active": user.is_active,
            "client": {"id": user.client.id, "name": user.client.name} if user.client else None,
        }
    )
