"""User administration pages (/admin/users…): list, search, create, edit name and email,
role, activation, one-time password, two-factor reset. Queries and rules live in
app/users/services.py."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import services as auth
from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import permission_required
from app.core.roles import ROLES
from app.core.transaction import attempt
from app.users import bp, services


@bp.get("/users")
@login_required
@permission_required("user.manage")
def index():
    q, role = request.args.get("q", "").strip(), request.args.get("role", "")
    page = services.search_users(current_user, q, role, page_number(request.args.get("page", "1")))
    return render_for(
        {"user-results": "users/_results.html"}, "users/index.html", page=page, q=q, role=role, roles=ROLES
    )


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
@permission_required("user.manage")
def new():
    data, errors = {}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            user, one_time = services.create_staff_or_client_user(
                current_user,
                username=data.get("username", ""),
                email=data.get("email", ""),
                role=data.get("role", ""),
                full_name=data.get("full_name", ""),
                client_id=to_int(data.get("client_id")),
                invite=data.get("method") == "invite",
            )
        except ValidationError as exc:
            errors = exc.fields
        else:
            invite = (
                url_for("auth.accept_invite", token=auth.invite_token(user), _external=True)
                if one_time is None
                else None
            )
            return render_template("users/created.html", user=user, one_time=one_time, invite=invite)
    return render_template(
        "users/form.html", data=data, errors=errors, roles=ROLES, clients=services.client_choices(current_user)
    ), (422 if errors else 200)


def _detail(user, errors=None, profile=None, status=200):
    return render_template(
        "users/detail.html",
        user=user,
        roles=ROLES,
        memberships=services.projects_of(current_user, user),
        clients=services.client_choices(current_user),
        errors=errors or {},
        profile=profile or {"full_name": user.full_name, "email": user.email},
    ), status


@bp.get("/users/<int:user_id>")
@login_required
@permission_required("user.manage")
def detail(user_id):
    return _detail(services.managed_user(current_user, user_id))


@bp.post("/users/<int:user_id>/profile")
@login_required
@permission_required("user.manage")
def update_profile(user_id):
    user = services.managed_user(current_user, user_id)
    profile = {"full_name": request.form.get("full_name", ""), "email": request.form.get("email", "")}
    try:
        with attempt():
            services.update_profile(current_user, user, **profile)
    except ValidationError as exc:
        return _detail(services.managed_user(current_user, user_id), exc.fields, profile, 422)
    flash(f"Saved {user.name}'s name and email.", "success")
    return redirect_to(url_for("users.detail", user_id=user_id))


@bp.post("/users/<int:user_id>/role")
@login_required
@permission_required("user.manage")
def change_role(user_id):
    user = services.managed_user(current_user, user_id)
    try:
        with attempt():
            services.change_role(
                current_user, user, request.form.get("role", ""), to_int(request.form.get("client_id"))
            )
    except ValidationError as exc:
        flash(" ".join(exc.fields.values()), "error")
        return redirect_to(url_for("users.detail", user_id=user_id))
    flash(f"{user.name} is now {user.role_label}. Their sessions have been ended.", "success")
    return redirect_to(url_for("users.detail", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@login_required
@permission_required("user.manage")
def set_active(user_id):
    user = services.managed_user(current_user, user_id)
    active = request.form.get("active") == "1"
    try:
        with attempt():
            services.set_active(current_user, user, active)
    except ValidationError as exc:
        flash(" ".join(exc.fields.values()), "error")
        return redirect_to(url_for("users.detail", user_id=user_id))
    flash(f"{user.name} is {'active again' if active else 'deactivated; their sessions have been ended'}.", "success")
    return redirect_to(url_for("users.detail", user_id=user_id))


@bp.post("/users/<int:user_id>/reset")
@login_required
@permission_required("user.manage")
def reset_password(user_id):
    """Issue a new one-time password (the user must change it at next sign-in)."""
    user = services.managed_user(current_user, user_id)
    one_time = services.issue_one_time_password(current_user, user)
    return render_template("users/created.html", user=user, one_time=one_time, invite=None, reset=True)


@bp.post("/users/<int:user_id>/two-factor/reset")
@login_required
@permission_required("user.manage")
def reset_two_factor(user_id):
    """Lost phone: clear the user's second factor and end their sessions."""
    from app.auth import twofactor

    user = services.managed_user(current_user, user_id)
    twofactor.reset(current_user, user)
    flash(f"Two-factor sign-in reset for {user.name}. Their sessions have been ended.", "success")
    return redirect_to(url_for("users.detail", user_id=user_id))
