"""Expense pages: a project's expenses (filters, totals by category, receipts; live), a
company expense's form, one expense (its receipt, the claim's review, approval,
rejection and payment), "My expenses" (the phone-first claim form and one's claims),
and the reviewers' queue of claims. Thin: parse, call the service, render."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number
from app.core.pagination import paginate
from app.core.permissions import can, permission_required
from app.core.transaction import attempt
from app.core.uploads import accepts_uploads, largest_upload
from app.core.versioning import StaleObject, meanwhile
from app.expenses import bp, services
from app.expenses.models import REIMBURSEMENT_STATUSES, Expense
from app.projects.services import get_project

VIEW = services.VIEW
FIELDS = services.EDITABLE


def _receipt():
    upload = request.files.get("receipt")
    if upload is None or not upload.filename:
        return None
    return upload.filename, upload.read(largest_upload() + 1)


def _typed() -> dict:
    return {key: request.form.get(key, "") for key in FIELDS}


# --- a project's expenses ----------------------------------------------------------------


@bp.get("/projects/<int:project_id>/expenses")
@login_required
@permission_required(VIEW)
def project_list(project_id):
    project = services.project_expenses(current_user, get_project(current_user, project_id))
    f, errors = services.filters_from(request.args, project.id)
    args = {
        k: request.args.get(k)
        for k in ("category", "date_from", "date_to", "budget_line", "status", "cost", "unallocated")
    }
    args = {k: v for k, v in args.items() if v}
    context = {
        "project": project,
        "args": args,
        "errors": errors,
        "categories": services.category_choices(),
        "statuses": services.status_choices(),
        "budget_lines": services.budget_line_choices(project.id),
        "may_create": not project.is_closed and can(current_user, "expense.create", project),
    }
    if errors:
        context |= {"page": None, "totals": []}
        return render_for({"expense-results": "expenses/_results.html"}, "expenses/list.html", 422, **context)
    page = paginate(services.expense_list(current_user, f), page_number(request.args.get("page")), 50)
    context |= {"page": page, "totals": services.totals_by_category(current_user, f)}
    return render_for({"expense-results": "expenses/_results.html"}, "expenses/list.html", **context)


def _render_form(project, e, data, errors, status=200, changed=None):
    return render_for(
        {"expense-form": "expenses/_form.html"},
        "expenses/form.html",
        status,
        project=project,
        expense=e,
        data=data,
        errors=errors,
        meanwhile=changed,
        categories=services.category_choices(),
        budget_lines=services.budget_line_choices(project.id) if services.may_see_budget(current_user, project) else [],
    )


@bp.get("/projects/<int:project_id>/expenses/new")
@login_required
@permission_required("expense.create")
def new(project_id):
    project = services.expense_project(current_user, project_id)
    return _render_form(project, None, {"expense_date": services.today().isoformat()}, {})


@bp.post("/projects/<int:project_id>/expenses/new")
@login_required
@permission_required("expense.create")
@accepts_uploads(1)
def create(project_id):
    project = services.expense_project(current_user, project_id)
    data = _typed()
    try:
        with attempt():
            e = services.create_expense(current_user, project, data, _receipt())
    except ValidationError as exc:
        return _render_form(project, None, data, exc.fields or {"form": exc.message}, 422)
    except ConflictError as exc:
        return _render_form(project, None, data, {"form": exc.message}, 409)
    flash(f"Expense of ${e.amount:,} recorded.", "success")
    return redirect_to(url_for("expenses.project_list", project_id=project.id))


# --- one expense --------------------------------------------------------------------------


def _context(e: Expense) -> dict:
    return {
        "expense": e,
        "project": e.project,
        "may_see_project": can(current_user, "costs.view", e.project),
        "may_edit": services.may_edit(current_user, e),
        "may_delete": services.may_delete(current_user, e),
        "may_start_review": services.may_start_review(current_user, e),
        "may_decide": services.may_decide(current_user, e),
        "may_pay": services.may_pay(current_user, e),
        "methods": services.method_choices(),
        "today": services.today(),
    }


def _detail(e: Expense, status: int = 200, **extra):
    context = _context(e) | {"problem": "", "errors": {}, "typed": {}} | extra
    return render_for({"expense": "expenses/_detail.html"}, "expenses/detail.html", status, **context)


@bp.get("/expenses/<int:expense_id>")
@login_required
@permission_required(VIEW)
def detail(expense_id):
    return _detail(services.get_expense(current_user, expense_id))


@bp.get("/expenses/<int:expense_id>/receipt")
@login_required
@permission_required(VIEW)
def receipt(expense_id):
    """The receipt (or ?size=thumb, a small copy of a photo) to whoever may see the expense."""
    e = services.get_expense(current_user, expense_id)
    key, name, content_type = services.receipt_of(current_user, e, thumb=request.args.get("size") == "thumb")
    return storage.send(key, name, content_type, inline=content_type.startswith("image/"))


@bp.get("/expenses/<int:expense_id>/edit")
@login_required
@permission_required(VIEW)
def edit(expense_id):
    e = services.get_expense(current_user, expense_id)
    if not services.may_edit(current_user, e):
        raise ConflictError("This expense can no longer be changed by you.")
    data = {key: getattr(e, key) for key in FIELDS} | {"version": e.version}
    return _render_form(e.project, e, data, {})


@bp.post("/expenses/<int:expense_id>/edit")
@login_required
@permission_required(VIEW)
@accepts_uploads(1)
def update(expense_id):
    e = services.get_expense(current_user, expense_id)
    data = _typed()
    version = request.form.get("version")
    try:
        with attempt():
            services.update_expense(current_user, e, data, _receipt(), version=version)
    except StaleObject as exc:
        changed = meanwhile(exc.obj, data, FIELDS)
        return _render_form(e.project, exc.obj, data | {"version": exc.obj.version}, {}, 409, changed)
    except ValidationError as exc:
        return _render_form(e.project, e, data | {"version": version}, exc.fields or {"form": exc.message}, 422)
    except ConflictError as exc:
        return _render_form(e.project, e, data | {"version": version}, {"form": exc.message}, 409)
    flash("Expense saved.", "success")
    return redirect_to(url_for("expenses.detail", expense_id=e.id))


@bp.post("/expenses/<int:expense_id>/delete")
@login_required
@permission_required(VIEW)
def delete(expense_id):
    e = services.get_expense(current_user, expense_id)
    project_id, claim = e.project_id, e.is_claim and e.paid_by_employee_id == current_user.id
    try:
        with attempt():
            services.delete_expense(current_user, e)
    except ConflictError as exc:
        return _detail(e, 409, problem=exc.message)
    flash("Claim withdrawn." if claim else "Expense deleted.", "success")
    if claim:
        return redirect_to(url_for("expenses.mine"))
    return redirect_to(url_for("expenses.project_list", project_id=project_id))


# --- a claim's review and payment ---------------------------------------------------------


def _act(e: Expense, do, done: str):
    typed = request.form.to_dict()
    try:
        with attempt():
            do()
    except ValidationError as exc:
        return _detail(e, 422, problem="Nothing was recorded. " + " ".join(exc.fields.values()), errors=exc.fields,
                       typed=typed)  # fmt: skip
    except ConflictError as exc:
        shown = exc.obj if isinstance(exc, StaleObject) else e
        return _detail(shown, 409, problem=exc.message, typed=typed)
    flash(done, "success")
    if request.form.get("back") == "claims":
        return redirect_to(url_for("expenses.claims"))
    return redirect_to(url_for("expenses.detail", expense_id=e.id))


@bp.post("/expenses/<int:expense_id>/review")
@login_required
@permission_required("reimbursement.review")
def review(expense_id):
    e = services.get_expense(current_user, expense_id)
    version = request.form.get("version")
    return _act(e, lambda: services.start_review(current_user, e, version=version), "The claim is under review.")


@bp.post("/expenses/<int:expense_id>/approve")
@login_required
@permission_required("reimbursement.review")
def approve(expense_id):
    e = services.get_expense(current_user, expense_id)
    version = request.form.get("version")
    return _act(e, lambda: services.approve(current_user, e, version=version), "Claim approved.")


@bp.post("/expenses/<int:expense_id>/reject")
@login_required
@permission_required("reimbursement.review")
def reject(expense_id):
    e = services.get_expense(current_user, expense_id)
    form = request.form
    return _act(e, lambda: services.reject(current_user, e, form.get("rejection_reason"), version=form.get("version")),
                "Claim rejected.")  # fmt: skip


@bp.post("/expenses/<int:expense_id>/reimburse")
@login_required
@permission_required("reimbursement.pay")
def reimburse(expense_id):
    e = services.get_expense(current_user, expense_id)
    form = request.form
    return _act(
        e,
        lambda: services.reimburse(
            current_user, e, form.get("method"), form.get("reference"), form.get("date"), version=form.get("version")
        ),  # fmt: skip
        "Claim marked paid.",
    )


# --- my expenses and the review queue -----------------------------------------------------


def _mine(data: dict, errors: dict, status: int = 200):
    page = paginate(services.my_claims(current_user), page_number(request.args.get("page")), 25)
    return render_for(
        {"claim-form": "expenses/_claim_form.html", "my-claims": "expenses/_my_claims.html"},
        "expenses/mine.html",
        status,
        page=page,
        data=data,
        errors=errors,
        projects=[(str(p.id), p.name) for p in services.claimable_projects(current_user)],
        categories=services.category_choices(),
        may_review=can(current_user, "reimbursement.review"),
    )


@bp.get("/expenses/mine")
@login_required
@permission_required("reimbursement.submit")
def mine():
    return _mine({"expense_date": services.today().isoformat()}, {})


@bp.post("/expenses/mine")
@login_required
@permission_required("reimbursement.submit")
@accepts_uploads(1)
def submit_claim():
    data = _typed() | {"project_id": request.form.get("project_id", "")}
    try:
        with attempt():
            project = services.claim_project(current_user, data["project_id"])
            e = services.submit_claim(current_user, project, data, _receipt())
    except ValidationError as exc:
        return _mine(data, exc.fields or {"form": exc.message}, 422)
    except ConflictError as exc:
        return _mine(data, {"form": exc.message}, 409)
    flash(f"Claim of ${e.amount:,} submitted for review.", "success")
    return redirect_to(url_for("expenses.mine"))


@bp.get("/expenses/claims")
@login_required
@permission_required("reimbursement.review")
def claims():
    status = request.args.get("status", "open")
    try:
        stmt = services.claims_queue(current_user, status)
    except ValidationError:
        status, stmt = "open", services.claims_queue(current_user, "open")
    page = paginate(stmt, page_number(request.args.get("page")), 25)
    return render_for(
        {"claims-queue": "expenses/_claims.html"},
        "expenses/claims.html",
        page=page,
        chosen=status,
        statuses=[("open", "Waiting (not paid or rejected)"), *REIMBURSEMENT_STATUSES.items()],
        methods=services.method_choices(),
        today=services.today(),
        may=services,
        waiting=status == "open",
    )
