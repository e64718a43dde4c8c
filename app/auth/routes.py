"""Sign-in pages: login, logout, change password, accept an invitation."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services, twofactor
from app.core.api import is_api_request
from app.core.errors import ValidationError
from app.core.htmx import is_htmx
from app.core.net import client_ip


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths (no open redirect). Browsers read a backslash as a
    slash, so "/\\evil.example" would be protocol-relative: refused like "//"."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(ch) < 32 for ch in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("home.index")


# What a user holding an admin-issued one-time password may open before choosing a new one.
_BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "auth.login", "static"}
# …and what a user whose role requires two-factor may open before setting it up.
_BEFORE_TWO_FACTOR = {"auth.two_factor_setup", "auth.logout", "auth.login", "static"}


@bp.before_app_request
def _password_change_first():
    """A one-time password (seen by the admin who issued it) opens nothing but the
    change-password page until the user has chosen their own; a role that requires
    two-factor sign-in opens nothing but its set-up page until it is on."""
    if is_api_request() or request.blueprint == "health" or request.endpoint in _BEFORE_PASSWORD_CHANGE:
        return None
    if not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        target = url_for("auth.change_password")
    elif (
        twofactor.required_for(current_user)
        and not current_user.totp_secret
        and request.endpoint not in _BEFORE_TWO_FACTOR
    ):
        target = url_for("auth.two_factor_setup")
    else:
        return None
    if request.endpoint == "live.stream":
        return "", 204  # tells EventSource not to reconnect
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def unauthorized():
    """Flask-Login's answer to an anonymous request: the API's 401 envelope, or the
    sign-in page (htmx: a full-page redirect)."""
    if is_api_request():
        from app.api import authentication_required

        return authentication_required()
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error, login_name, retry_after = None, "", None
    if request.method == "POST":
        login_name = request.form.get("username", "")
        try:
            user = services.authenticate(login_name, request.form.get("password", ""), client_ip())
        except services.LoginFailed as exc:
            error, retry_after = exc.message, exc.retry_after
        else:
            session.clear()
            session.regenerate()
            if user.totp_secret:
                # The password was right; the session is not signed in until the code is.
                session[PENDING_KEY] = {"uid": user.get_id(), "at": time.time(), "next": request.args.get("next")}
                return redirect(url_for("auth.two_factor_code"))
            return _signed_in(user, request.args.get("next"))
    page = render_template("auth/login.html", error=error, login_name=login_name)
    if retry_after:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, (401 if error else 200)


def _signed_in(user, next_url: str | None):
    login_user(user)
    session.permanent = False
    if user.must_change_password:
        flash("Please choose a new password before you continue.", "info")
        return redirect(url_for("auth.change_password"))
    if twofactor.required_for(user) and not user.totp_secret:
        flash("Your role requires two-factor sign-in. Set it up to continue.", "info")
        return redirect(url_for("auth.two_factor_setup"))
    return redirect(_safe_next(next_url))


PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 300


@bp.route("/login/code", methods=["GET", "POST"])
def two_factor_code():
    """Second step of sign-in for users with two-factor: the 6-digit code."""
    pending = session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash("Sign in again to continue.", "info")
        return redirect(url_for("auth.login"))
    error, retry_after = None, None
    if request.method == "POST":
        user = services.user_from_session_id(pending["uid"])
        try:
            services.check_second_factor(user, request.form.get("code", ""), client_ip())
        except services.LoginFailed as exc:
            error, retry_after = exc.message, exc.retry_after
        else:
            next_url = pending.get("next")
            session.clear()
            session.regenerate()
            return _signed_in(user, next_url)
    page = render_template("auth/two_factor_code.html", error=error)
    if retry_after:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, (401 if error else 200)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Turn two-factor sign-in on (scan, confirm a code) or off."""
    user = current_user._get_current_object()
    errors, retry_after = {}, None
    if request.method == "POST" and request.form.get("action") == "disable":
        try:
            twofactor.disable(user, request.form.get("password", ""), request.form.get("code", ""))
        except ValidationError as exc:
            errors, retry_after = exc.fields, _retry_after(exc)
        else:
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("auth.two_factor_setup"))
    elif request.method == "POST":
        secret = session.get("two_factor_secret")
        if not secret:
            return redirect(url_for("auth.two_factor_setup"))
        try:
            twofactor.enable(user, secret, request.form.get("code", ""))
        except ValidationError as exc:
            errors = exc.fields
        else:
            session.pop("two_factor_secret", None)
            # A session opened with a stolen password before enrolment must not survive it.
            services.end_sessions(user)
            session.regenerate()
            login_user(user)
            flash("Two-factor sign-in is on. You will be asked for a code each time you sign in.", "success")
            return redirect(_safe_next(None))
    secret = None
    if not user.totp_secret:
        secret = session.get("two_factor_secret") or twofactor.new_secret()
        session["two_factor_secret"] = secret
    uri = twofactor.provisioning_uri(user, secret) if secret else None
    page = render_template(
        "auth/two_factor.html",
        secret=secret,
        uri=uri,
        qr=twofactor.qr_svg(uri) if uri else None,
        required=twofactor.required_for(user),
        errors=errors,
    )
    return _answer(page, errors, retry_after)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    session.regenerate()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


def _retry_after(exc: ValidationError) -> int | None:
    """Seconds until a throttled secret check may be tried again (services.LockedOut)."""
    return exc.retry_after if isinstance(exc, services.LockedOut) else None


def _answer(page: str, errors: dict, retry_after: int | None):
    """A form page: 429 with Retry-After when locked out (as sign-in), 422 with errors."""
    if retry_after:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, (422 if errors else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors, retry_after = {}, None
    if request.method == "POST":
        try:
            services.change_password(
                current_user,
                request.form.get("current_password", ""),
                request.form.get("new_password", ""),
                request.form.get("confirm_password", ""),
            )
        except ValidationError as exc:
            errors, retry_after = exc.fields, _retry_after(exc)
        else:
            user = current_user._get_current_object()
            session.regenerate()
            login_user(user)  # this browser stays signed in; every other session ends
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("home.index"))
    return _answer(render_template("auth/password.html", errors=errors), errors, retry_after)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    errors = {}
    try:
        invited = services.user_from_invite(token)
    except ValidationError as exc:
        page = render_template("auth/invite.html", invalid=exc.fields["token"], errors={})
        if retry_after := _retry_after(exc):
            return page, 429, {"Retry-After": str(retry_after)}
        return page, 400
    if request.method == "POST":
        # The one who sets the password is the invited user (the audit entry names them).
        g.audit_user = invited
        try:
            services.accept_invite(token, request.form.get("password", ""), request.form.get("confirm_password", ""))
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash("Your password is set. Sign in to continue.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/invite.html", invited=invited, errors=errors, invalid=None), (422 if errors else 200)
