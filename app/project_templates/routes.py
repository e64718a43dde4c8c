"""Project template pages: the list (everyone who creates projects), and the form that
admins and full PMs add, edit and delete them with. Rules: services.py."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ValidationError
from app.core.htmx import redirect_to
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.project_templates import bp, services

BLANK_ROWS = 3  # empty rows under the steps, to add to them
MORE_ROWS = 5  # "More rows" adds this many


@bp.get("/project-templates")
@login_required
@permission_required("project.create")
def index():
    return render_template("project_templates/index.html", templates=services.templates(current_user))


def _rows_from_form() -> list[dict]:
    """The step rows as typed: step-<n>-<field> for n = 1 … the form's row count."""
    count = min(int(request.form.get("rows", "0") or 0) if request.form.get("rows", "").isdigit() else 0, 300)
    return [{key: request.form.get(f"step-{n}-{key}", "") for key in services.STEP_FIELDS} for n in range(1, count + 1)]


def _rows_of(steps: list[dict]) -> list[dict]:
    """Saved steps as form rows (numbers as text, "after" as "2, 3")."""
    return [
        {
            **{key: "" if step.get(key) is None else str(step.get(key)) for key in services.STEP_FIELDS},
            "after": ", ".join(str(n) for n in step.get("after") or ()),
        }
        for step in steps
    ]


def _render_form(template, data: dict, rows: list[dict], errors: dict, status: int = 200, stale=None):
    blank = dict.fromkeys(services.STEP_FIELDS, "")
    extra = MORE_ROWS if request.form.get("more") else BLANK_ROWS
    rows = rows + [dict(blank) for _ in range(extra)]
    return (
        render_template(
            "project_templates/form.html",
            template=template,
            data=data,
            rows=rows,
            errors=errors,
            bad_rows={int(key.split("-")[1]) for key in errors if key.startswith("step-")},
            meanwhile=stale,
            max_steps=services.MAX_STEPS,
        ),
        status,
    )


@bp.route("/project-templates/new", methods=["GET", "POST"])
@login_required
@permission_required("template.manage")
def new():
    if request.method == "GET":
        return _render_form(None, {}, [], {})
    data, rows = request.form.to_dict(), _rows_from_form()
    if request.form.get("more"):  # "More rows": the same form, longer, nothing saved
        return _render_form(None, data, rows, {})
    try:
        with attempt():
            template = services.create_template(current_user, {**data, "steps": rows})
    except ValidationError as exc:
        return _render_form(None, data, rows, exc.fields, 422)
    flash(f"Template {template.name} added.", "success")
    return redirect_to(url_for("project_templates.index"))


@bp.route("/project-templates/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("template.manage")
def edit(template_id):
    template = services.get_template(current_user, template_id, "template.manage")
    if request.method == "GET":
        data = {"name": template.name, "description": template.description, "version": template.version}
        return _render_form(template, data, _rows_of(template.steps), {})
    data, rows = request.form.to_dict(), _rows_from_form()
    if request.form.get("more"):
        return _render_form(template, data, rows, {})
    try:
        with attempt():
            services.update_template(current_user, template, {**data, "steps": rows}, version=data.get("version"))
    except ValidationError as exc:
        return _render_form(template, data, rows, exc.fields, 422)
    except StaleObject:
        # Saved by someone else since the form was opened: their steps are not overwritten.
        stale = meanwhile(template, data, ("name", "description"))
        return _render_form(template, data | {"version": template.version}, rows, {}, 409, stale)
    flash(f"Template {template.name} saved.", "success")
    return redirect_to(url_for("project_templates.index"))


@bp.post("/project-templates/<int:template_id>/delete")
@login_required
@permission_required("template.manage")
def delete(template_id):
    template = services.get_template(current_user, template_id, "template.manage")
    name = template.name
    try:
        with attempt():
            services.delete_template(current_user, template, version=request.form.get("version"))
    except StaleObject:
        flash(f"{name} was changed meanwhile; look at it again before deleting it.", "error")
        return redirect_to(url_for("project_templates.edit", template_id=template.id))
    flash(f"Template {name} deleted. Projects laid out from it keep their tasks.", "success")
    return redirect_to(url_for("project_templates.index"))
