"""Admin pages: project teams and the audit log (admin: everything; a PM: the entries
of their own projects). User administration is app/users."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.admin import bp
from app.admin import services as admin
from app.core.errors import ValidationError
from app.core.htmx import lazy, redirect_to, render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.projects import services as projects


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
