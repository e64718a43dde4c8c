"""Sign-in pages: login, logout, change password, accept an invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services
from app.core.errors import ValidationError


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
    return url_for("main.home")


# What a user holding an admin-issued one-time password may open before choosing a new one.
_BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "auth.login", "static"}


@bp.before_app_request
def _password_change_first():
    """A one-time password (seen by the admin who issued it) opens nothing but the
    change-password page until the user has chosen their own."""
    if request.path.startswith(("/api/", "/health/")) or request.endpoint in _BEFORE_PASSWORD_CHANGE:
        return None
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.endpoint == "events.stream":
        return "", 204  # tells EventSource not to reconnect
    target = url_for("auth.change_password")
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    error, login_name, retry_after = None, "", None
    if request.method == "POST":
        login_name = request.form.get("username", "")
        try:
            user = services.authenticate(login_name, request.form.get("password", ""), request.remote_addr or "")
        except services.LoginFailed as exc:
            error, retry_after = exc.message, exc.retry_after
        else:
            session.clear()
            session.regenerate()
            login_user(user)
            session.permanent = False
            if user.must_change_password:
                flash("Please choose a new password before you continue.", "info")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    page = render_template("auth/login.html", error=error, login_name=login_name)
    if retry_after:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, (401 if error else 200)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    session.regenerate()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors = {}
    if request.method == "POST":
        try:
            services.change_password(
                current_user,
                request.form.get("current_password", ""),
                request.form.get("new_password", ""),
                request.form.get("confirm_password", ""),
            )
        except ValidationError as exc:
            errors = exc.fields
        else:
            user = current_user._get_current_object()
            session.regenerate()
            login_user(user)  # this browser stays signed in; every other session ends
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", errors=errors), (422 if errors else 200)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    errors = {}
    try:
        invited = services.user_from_invite(token)
    except ValidationError as exc:
        return render_template("auth/invite.html", invalid=exc.fields["token"], errors={}), 400
    if request.method == "POST":
        try:
            services.accept_invite(token, request.form.get("password", ""), request.form.get("confirm_password", ""))
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash("Your password is set. Sign in to continue.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/invite.html", invited=invited, errors=errors, invalid=None), (422 if errors else 200)
