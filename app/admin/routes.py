"""Admin pages: users (list, search, create, role, activation, invite), project teams,
and the audit log (admin: everything; a PM: the entries of their own projects)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from app.admin import bp
from app.admin import services as admin
from app.auth import services as accounts
from app.auth.models import User
from app.clients.models import Client
from app.core.errors import NotFound, ValidationError
from app.core.htmx import lazy, redirect_to, render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import permission_required
from app.core.roles import ROLES
from app.core.transaction import attempt
from app.extensions import db
from app.projects import services as projects
from app.projects.models import Project

USERS_PER_PAGE = 50


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("That user does not exist.")
    return user


@bp.get("/")
@login_required
@permission_required("user.manage")
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@login_required
@permission_required("user.manage")
def users():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.username)
    if q:
        term = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(term),
                func.lower(User.email).like(term),
                func.lower(User.full_name).like(term),
            )
        )
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    page_arg = request.args.get("page", "1")
    page = db.paginate(
        stmt,
        page=page_number(page_arg),
        per_page=USERS_PER_PAGE,
        error_out=False,
    )
    template = "admin/_users.html" if request.headers.get("HX-Target") == "user-results" else "admin/users.html"
    return render_template(template, page=page, q=q, role=role, roles=ROLES)


def _clients():
    return db.session.scalars(select(Client).order_by(Client.name)).all()


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
@permission_required("user.manage")
def new_user():
    data, errors = {}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            user, one_time = accounts.create_staff_or_client_user(
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
                url_for("auth.accept_invite", token=accounts.invite_token(user), _external=True)
                if one_time is None
                else None
            )
            return render_template("admin/user_created.html", user=user, one_time=one_time, invite=invite)
    return render_template("admin/user_form.html", data=data, errors=errors, roles=ROLES, clients=_clients()), (
        422 if errors else 200
    )


@bp.get("/users/<int:user_id>")
@login_required
@permission_required("user.manage")
def user_detail(user_id):
    user = _user(user_id)
    memberships = (
        db.session.scalars(
            select(Project)
            .join(Project.memberships)
            .where(Project.memberships.any(user_id=user.id))
            .order_by(Project.name)
        )
        .unique()
        .all()
    )
    return render_template(
        "admin/user_detail.html", user=user, roles=ROLES, memberships=memberships, clients=_clients(), errors={}
    )


@bp.post("/users/<int:user_id>/role")
@login_required
@permission_required("user.manage")
def change_role(user_id):
    user = _user(user_id)
    try:
        accounts.change_role(current_user, user, request.form.get("role", ""), to_int(request.form.get("client_id")))
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(exc.fields.values()), "error")
        return redirect_to(url_for("admin.user_detail", user_id=user_id))
    flash(f"{user.name} is now {user.role_label}. Their sessions have been ended.", "success")
    return redirect_to(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@login_required
@permission_required("user.manage")
def set_active(user_id):
    user = _user(user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(current_user, user, active)
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(exc.fields.values()), "error")
        return redirect_to(url_for("admin.user_detail", user_id=user_id))
    flash(f"{user.name} is {'active again' if active else 'deactivated; their sessions have been ended'}.", "success")
    return redirect_to(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/reset")
@login_required
@permission_required("user.manage")
def reset_password(user_id):
    """Issue a new one-time password (the user must change it at next sign-in)."""
    user = _user(user_id)
    one_time = accounts.issue_one_time_password(current_user, user)
    return render_template("admin/user_created.html", user=user, one_time=one_time, invite=None, reset=True)


@bp.post("/users/<int:user_id>/two-factor/reset")
@login_required
@permission_required("user.manage")
def reset_two_factor(user_id):
    """Lost phone: clear the user's second factor and end their sessions."""
    from app.auth import twofactor

    user = _user(user_id)
    twofactor.reset(current_user, user)
    flash(f"Two-factor sign-in reset for {user.name}. Their sessions have been ended.", "success")
    return redirect_to(url_for("admin.user_detail", user_id=user_id))


@bp.route("/projects/<int:project_id>/team", methods=["GET", "POST"])
@login_required
@permission_required("user.manage")
def team(project_id):
    project = projects.get_project(current_user, project_id)
    errors = {}
    if request.method == "POST":
        user_id = request.form.get("user_id", "")
        try:
            if to_int(user_id) is None:
                raise ValidationError({"user_id": "Choose a person to add."})
            with attempt():
                if request.form.get("remove"):
                    projects.remove_member(current_user, project, admin.team_user(user_id))
                    flash("Removed from the team.", "success")
                else:
                    projects.add_member(current_user, project, admin.team_user(user_id))
                    flash("Added to the team. They have been notified.", "success")
            return redirect_to(url_for("admin.team", project_id=project_id))
        except ValidationError as exc:
            errors = exc.fields
    return render_template(
        "admin/team.html", project=project, candidates=admin.team_candidates(project), errors=errors
    ), (422 if errors else 200)


@bp.get("/audit")
@login_required
@permission_required("audit.view")
def audit():
    args = request.args
    page = admin.audit_page(current_user, admin.AuditFilters.from_args(args), page_number(args.get("page", "1")))
    return render_for(
        {"audit-results": "admin/_audit.html"},
        "admin/audit.html",
        page=page,
        args=args.to_dict(),
        object_types=lazy(admin.audit_object_types),
    )
