"""User administration pages (/admin/users…): list, search, create, edit name and email,
role, activation, one-time password, two-factor reset. Queries and rules live in
app/users/services.py."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import services as auth
from app.core import labels
from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import permission_required, signed_in_user
from app.core.roles import CLIENT, ROLES
from app.core.templating import role_label
from app.core.transaction import attempt
from app.core.urls import url_pattern
from app.core.versioning import StaleObject, meanwhile
from app.users import bp, services


@bp.get("/users")
@login_required
@permission_required("user.manage")
def index():
    q, role = request.args.get("q", "").strip(), request.args.get("role", "")
    page = services.search_users(current_user, q, role, page_number(request.args.get("page", "1")))
    viewer = signed_in_user()
    return render_for(
        {"user-results": "users/_results.html"},
        "users/index.html",
        page=page,
        q=q,
        role=role,
        roles=ROLES,
        role_labels={code: labels.role_label(code, viewer) for code in ROLES},  # not a filter per row
        user_url=url_pattern("users.detail", "user_id"),
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


def _detail(user, errors=None, profile=None, status=200, profile_meanwhile=None, role=None, role_meanwhile=None):
    return render_template(
        "users/detail.html",
        user=user,
        roles=ROLES,
        memberships=services.projects_of(current_user, user),
        clients=services.client_choices(current_user),
        errors=errors or {},
        profile=profile or {"full_name": user.full_name, "email": user.email, "version": user.version},
        profile_meanwhile=profile_meanwhile,
        role=role or {"role": user.role, "client_id": user.client_id, "version": user.version},
        role_meanwhile=role_meanwhile,
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
    version = request.form.get("version")
    try:
        with attempt():
            services.update_profile(current_user, user, **profile, version=version)
    except ValidationError as exc:
        return _detail(services.managed_user(current_user, user_id), exc.fields, profile | {"version": version}, 422)
    except StaleObject:
        # Saved by someone else since the page was opened: nothing is overwritten.
        stale = meanwhile(user, profile, ("full_name", "email"))
        return _detail(user, None, profile | {"version": user.version}, 409, profile_meanwhile=stale)
    flash(f"Saved {user.name}'s name and email.", "success")
    return redirect_to(url_for("users.detail", user_id=user_id))


@bp.post("/users/<int:user_id>/role")
@login_required
@permission_required("user.manage")
def change_role(user_id):
    user = services.managed_user(current_user, user_id)
    typed = {"role": request.form.get("role", ""), "client_id": request.form.get("client_id", "")}
    try:
        with attempt():
            services.change_role(
                current_user, user, typed["role"], to_int(typed["client_id"]), version=request.form.get("version")
            )
    except StaleObject:
        # Someone else changed this user since the page was opened: nothing is changed.
        clients = {str(c.id): c.name for c in services.client_choices(current_user)}
        stale = meanwhile(
            user,
            typed if typed["role"] == CLIENT else {"role": typed["role"]},
            ("role", "client_id"),
            show={"role": role_label, "client_id": lambda v: clients.get(str(v), "")},
        )
        return _detail(user, status=409, role=typed | {"version": user.version}, role_meanwhile=stale)
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
