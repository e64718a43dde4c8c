"""Admin pages: project teams and the audit log (admin: everything; a PM: the entries
of their own projects). User administration is app/users."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.admin import bp
from app.auth.models import User
from app.core.audit import AuditLog
from app.core.errors import ValidationError
from app.core.htmx import redirect_to
from app.core.numbers import page_number, to_int
from app.core.permissions import permission_required, scope_query
from app.core.roles import MEMBER_ROLES
from app.extensions import db
from app.projects import services as projects
from app.users.services import get_user


@bp.get("/")
@login_required
@permission_required("user.manage")
def index():
    return redirect(url_for("users.index"))


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
            if request.form.get("remove"):
                projects.remove_member(current_user, project, get_user(int(user_id)))
                flash("Removed from the team.", "success")
            else:
                projects.add_member(current_user, project, get_user(int(user_id)))
                flash("Added to the team. They have been notified.", "success")
            return redirect_to(url_for("admin.team", project_id=project_id))
        except ValidationError as exc:
            db.session.rollback()
            project = projects.get_project(current_user, project_id)
            errors = exc.fields
    candidates = db.session.scalars(
        select(User)
        .where(User.role.in_(MEMBER_ROLES), User.is_active_flag.is_(True), User.id.not_in(project.member_ids or {0}))
        .order_by(User.full_name, User.username)
    ).all()
    return render_template("admin/team.html", project=project, candidates=candidates, errors=errors), (
        422 if errors else 200
    )


def _parse_day(value: str, end: bool = False):
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@bp.get("/audit")
@login_required
@permission_required("audit.view")
def audit():
    args = request.args
    stmt = scope_query(select(AuditLog), current_user, "audit.view", AuditLog)
    if args.get("user"):
        stmt = stmt.where(func.lower(AuditLog.username) == args["user"].strip().lower())
    if args.get("action"):
        stmt = stmt.where(AuditLog.action == args["action"])
    if args.get("object_type"):
        stmt = stmt.where(AuditLog.object_type == args["object_type"])
    if to_int(args.get("project")):
        stmt = stmt.where(AuditLog.project_id == to_int(args["project"]))
    if args.get("result"):
        stmt = stmt.where(AuditLog.result == args["result"])
    start, end = _parse_day(args.get("from", "")), _parse_day(args.get("to", ""), end=True)
    if start:
        stmt = stmt.where(AuditLog.created_at >= start)
    if end:
        stmt = stmt.where(AuditLog.created_at <= end)
    page_arg = args.get("page", "1")
    page = db.paginate(
        stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()),
        page=page_number(page_arg),
        per_page=50,
        error_out=False,
    )
    types = db.session.scalars(select(AuditLog.object_type).distinct().order_by(AuditLog.object_type)).all()
    template = "admin/_audit.html" if request.headers.get("HX-Target") == "audit-results" else "admin/audit.html"
    return render_template(template, page=page, args=args.to_dict(), object_types=types)
