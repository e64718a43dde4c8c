"""Sign-in pages: login, logout, change password, accept an invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services
from app.core.errors import ValidationError
from app.extensions import db


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    error, login_name = None, ""
    if request.method == "POST":
        login_name = request.form.get("username", "")
        try:
            user = services.authenticate(login_name, request.form.get("password", ""), request.remote_addr or "")
        except services.LoginFailed as exc:
            error = exc.message
        else:
            session.clear()
            session.regenerate()
            login_user(user)
            session.permanent = False
            if user.must_change_password:
                flash("Please choose a new password before you continue.", "info")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, login_name=login_name), status


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
