"""Budget pages: a project's budget (lines, actuals, variance, forecast; live), its
lines' form (rows, problems inline, "changed meanwhile"), and the admins' cost rates.
Thin: parse, call the service, render."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user, login_required

from app.budgets import bp, rates, services
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.permissions import permission_required
from app.core.rows import line_rows
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile

LINE_FIELDS = ("id", "version", "code", "name", "category", "amount", "estimated_hours")
BLANK_ROWS = 3


@bp.get("/projects/<int:project_id>/budget")
@login_required
@permission_required(services.VIEW)
def project_budget(project_id):
    project = services.project_for_budget(current_user, project_id)
    return render_for(
        {"budget": "budgets/_budget.html"},
        "budgets/budget.html",
        project=project,
        budget=services.budget_for(current_user, project),
        may_edit=services.may_edit(current_user, project),
        expenses_url=expenses_url,
    )


EXPENSES_LIST = "expenses.project_list"  # the expenses feature's list of a project's expenses


def expenses_url(project_id: int, row) -> str | None:
    """The expenses behind a budget row: its line's, or its category's when unallocated
    (None while the expenses list does not exist)."""
    from werkzeug.routing import BuildError

    # exactly the rows behind the figure: what counts as cost, on this line or unallocated
    if row.line is not None:
        args = {"budget_line": row.line.id, "cost": "1"}
    else:
        args = {"category": row.category, "unallocated": "1", "cost": "1"}
    try:
        return url_for(EXPENSES_LIST, project_id=project_id, **args)
    except BuildError:
        return None


# --- the lines' form -----------------------------------------------------------------------


def _rows_of(lines) -> list[dict]:
    return [
        {
            "id": str(line.id),
            "version": str(line.version),
            "code": line.code,
            "name": line.name,
            "category": line.category or "",
            "amount": str(line.amount),
            "estimated_hours": "" if line.estimated_hours is None else format(line.estimated_hours.normalize(), "f"),
        }
        for line in lines
    ]


def _render_form(project, rows, errors, status=200, changed=None, removed=(), version=None):
    return render_for(
        {"budget-form": "budgets/_form.html"},
        "budgets/form.html",
        status,
        project=project,
        version=version,
        rows=list(rows) + [{}] * BLANK_ROWS,
        errors=errors,
        meanwhile=changed,
        removed={str(i) for i in removed},
        categories=services.category_choices(),
    )


@bp.get("/projects/<int:project_id>/budget/edit")
@login_required
@permission_required(services.EDIT)
def edit(project_id):
    project = services.project_for_budget(current_user, project_id, services.EDIT)
    if project.is_closed:
        raise ConflictError("This project is closed: its budget no longer changes.")
    return _render_form(
        project, _rows_of(services.lines_of(project.id)), {}, version=services.lines_version(project.id)
    )


def _stale_lines_form(project, rows, removed):
    """The lines changed since the form was opened: the notice (what is saved now beside
    what was typed), the typed rows kept with their lines' current versions, a typed line
    deleted meanwhile as a new row (saving again adds it back), the lines added meanwhile
    shown as saved — and the set's current version, so that saving again saves."""
    changed = services.lines_meanwhile(project, rows)
    saved = {str(line.id): line for line in services.lines_of(project.id)}
    for row in rows:
        line = saved.get(row.get("id") or "")
        if line is not None:
            row["version"] = str(line.version)
        elif row.get("id"):
            row["id"] = row["version"] = ""
    typed = {row.get("id") for row in rows}
    added = _rows_of(line for key, line in saved.items() if key not in typed)
    return _render_form(project, rows + added, {}, 409, changed, removed, version=changed.version)


@bp.post("/projects/<int:project_id>/budget/edit")
@login_required
@permission_required(services.EDIT)
def update(project_id):
    project = services.project_for_budget(current_user, project_id, services.EDIT)
    filled = ("code", "name", "amount", "estimated_hours")
    rows = line_rows(
        request.form, LINE_FIELDS, filled, keep=lambda r: bool(r["id"]) or any(r[k].strip() for k in filled)
    )
    # not "remove": a control of that name would hide the form's own remove() from htmx
    removed = request.form.getlist("remove_line")
    kept = [row for row in rows if not row.get("id") or row["id"] not in removed]
    version = request.form.get("budget_version", "")
    try:
        with attempt():
            services.save_lines(current_user, project, kept, remove=removed, version=version)
    except services.StaleBudget:
        return _stale_lines_form(project, rows, removed)
    except StaleObject as exc:
        line = exc.obj
        typed = next((row for row in rows if row.get("id") == str(line.id)), {})
        changed = meanwhile(line, typed, services.FIELDS)
        for row in rows:
            if row.get("id") == str(line.id):
                row["version"] = str(line.version)
        return _render_form(project, rows, {}, 409, changed, removed, version=version)
    except ValidationError as exc:
        errors = exc.fields or {"form": exc.message}
        return _render_form(project, rows, errors, 422, removed=removed, version=version)
    except ConflictError as exc:
        return _render_form(project, rows, {"form": exc.message}, 409, removed=removed, version=version)
    flash("The budget's lines are saved.", "success")
    return redirect_to(url_for("budgets.project_budget", project_id=project.id))


# --- cost rates (admins) -------------------------------------------------------------------


def _rates_page(data: dict, errors: dict, status: int = 200, existing=None):
    return render_for(
        {"cost-rate-form": "budgets/_rate_form.html"},
        "budgets/rates.html",
        status,
        people=rates.people_rates(current_user),
        choices=[(str(p.id), f"{p.name} ({p.role_label})") for p in rates.staff(current_user)],
        data=data,
        errors=errors,
        existing=existing,
    )


@bp.get("/admin/cost-rates")
@login_required
@permission_required(rates.PAYROLL)
def cost_rates():
    data = {"user_id": request.args.get("user_id", ""), "effective_from": rates.today().isoformat()}
    return _rates_page(data, {})


@bp.post("/admin/cost-rates")
@login_required
@permission_required(rates.PAYROLL)
def set_cost_rate():
    data = {key: request.form.get(key, "") for key in ("user_id", "hourly_cost", "effective_from")}
    try:
        with attempt():
            person = rates.person_for_rates(current_user, data["user_id"])
            rate = rates.set_rate(current_user, person, data)
    except rates.RateExists as exc:  # the date has a rate: named, with a link to its edit
        return _rates_page(data, exc.fields, 422, existing=exc.rate)
    except ValidationError as exc:
        return _rates_page(data, exc.fields or {"form": exc.message}, 422)
    except ObjectNotFound:  # a person who does not exist (or a client): the field says so
        return _rates_page(data, {"user_id": "Choose a member of staff."}, 422)
    flash(f"{person.name}'s cost from {rate.effective_from.isoformat()} is saved.", "success")
    return redirect_to(url_for("budgets.person_rates", user_id=person.id))


@bp.get("/admin/cost-rates/<int:user_id>")
@login_required
@permission_required(rates.PAYROLL)
def person_rates(user_id):
    person = rates.person_for_rates(current_user, user_id)
    return render_for(
        {},
        "budgets/person_rates.html",
        person=person,
        history=rates.history(current_user, person),
        today=rates.today(),
        data={"user_id": str(person.id), "effective_from": rates.today().isoformat()},
        errors={},
    )


RATE_FIELDS = ("hourly_cost", "effective_from")


def _rate_edit_page(rate, data: dict, errors: dict, status: int = 200, changed=None, existing=None):
    return render_for(
        {"cost-rate-edit-form": "budgets/_rate_edit_form.html"},
        "budgets/rate_edit.html",
        status,
        rate=rate,
        person=rates.person_for_rates(current_user, rate.user_id),
        data=data,
        errors=errors,
        meanwhile=changed,
        existing=existing,
    )


@bp.get("/admin/cost-rates/rate/<int:rate_id>/edit")
@login_required
@permission_required(rates.PAYROLL)
def edit_cost_rate(rate_id):
    rate = rates.get_rate(current_user, rate_id)
    data = {
        "hourly_cost": str(rate.hourly_cost),
        "effective_from": rate.effective_from.isoformat(),
        "version": str(rate.version),
    }
    return _rate_edit_page(rate, data, {})


@bp.post("/admin/cost-rates/rate/<int:rate_id>/edit")
@login_required
@permission_required(rates.PAYROLL)
def update_cost_rate(rate_id):
    rate = rates.get_rate(current_user, rate_id)
    data = {key: request.form.get(key, "") for key in (*RATE_FIELDS, "version")}
    try:
        rates.edit_rate(current_user, rate, data, data["version"])
    except StaleObject as exc:  # saved (or moved) by someone else since the form was opened
        changed = meanwhile(exc.obj, data, RATE_FIELDS)
        return _rate_edit_page(exc.obj, data | {"version": str(exc.obj.version)}, {}, 409, changed)
    except rates.RateExists as exc:
        return _rate_edit_page(rate, data, exc.fields, 422, existing=exc.rate)
    except ValidationError as exc:
        return _rate_edit_page(rate, data, exc.fields or {"form": exc.message}, 422)
    flash(f"The cost from {rate.effective_from.isoformat()} is saved.", "success")
    return redirect_to(url_for("budgets.person_rates", user_id=rate.user_id))


@bp.post("/admin/cost-rates/rate/<int:rate_id>/delete")
@login_required
@permission_required(rates.PAYROLL)
def delete_cost_rate(rate_id):
    rate = rates.get_rate(current_user, rate_id)
    person_id = rate.user_id
    try:
        rates.delete_rate(current_user, rate, request.form.get("version", ""))
    except StaleObject:
        flash(
            "This rate was changed by someone else since you opened the page: nothing was deleted. "
            "Here it is as it is now; delete it again if you still mean to.",
            "error",
        )
        return redirect_to(url_for("budgets.person_rates", user_id=person_id))
    flash("The cost rate is deleted.", "success")
    return redirect_to(url_for("budgets.person_rates", user_id=person_id))
