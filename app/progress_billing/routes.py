"""Progress billing pages: a project's billing page (schedule summary, terms, applications,
retainage held and released), the schedule of values form, the pay application form (its
totals recomputed as lines are typed, an htmx fragment that writes nothing; "use the
suggestion" from the tied tasks), an application's page (G702 and G703), certify, delete,
the PDF. Thin: parse, call the service, render."""

from __future__ import annotations

from flask import make_response, request, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.permissions import can, permission_required
from app.core.rows import line_rows
from app.core.transaction import attempt
from app.core.versioning import StaleObject
from app.progress_billing import bp, delivery, releases, schedule, services
from app.progress_billing.models import PayApplication

VIEW, EDIT = services.VIEW, services.EDIT
SOV_FIELDS = ("id", "description", "scheduled_value", "retainage_pct", "estimate_line_id")
PAY_FIELDS = ("sov_line_id", "this_period", "this_period_pct", "materials_stored", "reason")
BLANK_ROWS = 3


@bp.get("/projects/<int:project_id>/billing")
@login_required
@permission_required(VIEW)
def project_billing(project_id):
    project = services.project_for_billing(current_user, project_id)
    client_view = services.for_client(current_user)
    apps = services.pay_applications_of(current_user, project.id)
    state = services.billing_state(current_user, project, apps)
    return render_for(
        {"billing-live": "progress_billing/_billing.html"},
        "progress_billing/billing.html",
        project=project,
        apps=apps,
        client_view=client_view,
        summary=None if client_view else schedule.summary(project),
        terms=None if client_view else schedule.terms_of(project.id),
        held=state.held,
        released=releases.released_for(current_user, project.id),
        release_rows=[] if client_view else releases.releases_of(project.id),
        may_edit=not client_view and can(current_user, EDIT, project),
        may_create=state.may_create,
        may_release=can(current_user, releases.RELEASE, project) and not project.is_closed,
        complete=state.complete,
        pct=schedule.pct_text,
        errors={},
    )


# --- the schedule of values ------------------------------------------------------------


def _sov_form(project, rows, errors, status=200, version=None):
    """The schedule's form; `version` the one the page was opened at (422), else the current one."""
    return render_for(
        {},
        "progress_billing/schedule.html",
        status=status,
        project=project,
        rows=rows,
        errors=errors,
        summary=schedule.summary(project),
        version=schedule.schedule_version(project.id) if version is None else version,
        tasks=schedule.project_tasks(project.id),
        has_estimate=bool(project.estimate_id),
    )


@bp.get("/projects/<int:project_id>/billing/schedule")
@login_required
@permission_required(EDIT)
def schedule_form(project_id):
    project = services.project_for_billing(current_user, project_id, EDIT)
    lines = schedule.lines_of(project.id, include_archived=False)
    if request.args.get("from") == "estimate":
        rows = schedule.estimate_prefill(project)
    else:
        rows = [{"id": li.id, "description": li.description, "scheduled_value": str(li.scheduled_value),
                 "retainage_pct": "" if li.retainage_pct is None else format(li.retainage_pct.normalize(), "f"),
                 "item": li.item, "from_change_order": li.change_order_id is not None,
                 "task_ids": [t.id for t in li.tasks]} for li in lines]  # fmt: skip
    rows += [{} for _ in range(BLANK_ROWS)]
    return _sov_form(project, rows, {})


@bp.post("/projects/<int:project_id>/billing/schedule")
@login_required
@permission_required(EDIT)
def save_schedule(project_id):
    project = services.project_for_billing(current_user, project_id, EDIT)
    all_rows = line_rows(request.form, SOV_FIELDS, ("description", "scheduled_value"), keep=lambda r: True)
    for index, row in enumerate(all_rows):
        row["task_ids"] = request.form.getlist(f"line_tasks_{index}")
    rows = [r for r in all_rows if str(r.get("description", "")).strip() or str(r.get("scheduled_value", "")).strip()]
    try:
        with attempt():
            schedule.save_schedule(current_user, project, rows, version=request.form.get("version") or None)
    except StaleObject as exc:
        return _sov_form(project, rows + [{}], {"lines": str(exc)}, 409)
    except ValidationError as exc:  # the version the page was opened at: a fix stays checked
        return _sov_form(project, rows + [{}], exc.fields, 422, version=request.form.get("version") or None)
    except ConflictError as exc:
        return _sov_form(project, rows, {"lines": str(exc)}, 409)
    return redirect_to(url_for("progress_billing.project_billing", project_id=project.id))


@bp.post("/projects/<int:project_id>/billing/terms")
@login_required
@permission_required(EDIT)
def save_terms(project_id):
    project = services.project_for_billing(current_user, project_id, EDIT)
    data = {key: request.form.get(key, "") for key in ("retainage_pct", "step_down_at_pct", "step_down_pct")}
    sent = request.form.get("version") or None
    try:
        with attempt():
            schedule.save_terms(current_user, project, data, version=sent)
    except StaleObject as exc:  # changed meanwhile: the current version, the typed figures to review
        return _terms_page(project, data, {"form": str(exc)}, 409, schedule.schedule_version(project.id))
    except ValidationError as exc:  # the version the page was opened at: a fix stays checked
        return _terms_page(project, data, exc.fields, 422, sent)
    return redirect_to(url_for("progress_billing.project_billing", project_id=project.id))


def _terms_page(project, data, errors, status, version):
    return render_for({}, "progress_billing/terms.html", status=status, project=project, data=data, errors=errors,
                      version=version if version is not None else "")  # fmt: skip


@bp.post("/projects/<int:project_id>/billing/release")
@login_required
@permission_required(releases.RELEASE)
def release(project_id):
    project = services.project_for_billing(current_user, project_id, releases.RELEASE)
    final = request.form.get("final") == "1"
    try:
        with attempt():
            row = releases.release(current_user, project, request.form.get("amount", ""), final,
                                   request.form.get("note", ""))  # fmt: skip
    except (ValidationError, ConflictError) as exc:
        message = " ".join(exc.fields.values()) if isinstance(exc, ValidationError) else str(exc)
        return render_for({}, "progress_billing/release_refused.html", status=422, project=project, message=message)
    return redirect_to(url_for("invoices.detail", invoice_id=row.invoice_id))


# --- pay applications ------------------------------------------------------------------


def _entries(form) -> list[dict]:
    return line_rows(form, PAY_FIELDS, ("sov_line_id",))


def _pay_form(project, app: PayApplication | None, entries, errors, status=200, period="", notes="", version=None):
    try:
        result, problems = services.preview(project, entries, app)
    except ValidationError as exc:
        result, problems = None, {}
        errors = {**exc.fields, **errors}
    typed = {int(e["sov_line_id"]): e for e in entries if str(e.get("sov_line_id", "")).isdigit()}
    return render_for(
        {"pay-totals": "progress_billing/_totals.html"},
        "progress_billing/form.html",
        status=status,
        project=project,
        app=app,
        result=result,
        problems=problems,
        typed=typed,
        errors=errors,
        period=period,
        notes=notes,
        suggestions=schedule.LazySuggestions(project.id),
        version=version or (app.version if app is not None else ""),
    )


@bp.get("/projects/<int:project_id>/pay-applications/new")
@login_required
@permission_required(EDIT)
def new(project_id):
    project = services.project_for_billing(current_user, project_id, EDIT)
    return _pay_form(project, None, [], {}, period=services.today().isoformat())


@bp.post("/projects/<int:project_id>/pay-applications/new")
@login_required
@permission_required(EDIT)
def create(project_id):
    project = services.project_for_billing(current_user, project_id, EDIT)
    entries = _entries(request.form)
    period, notes = request.form.get("period_to", ""), request.form.get("notes", "")
    if request.form.get("suggest"):
        return _pay_form(
            project,
            None,
            services.suggest_this_period(project, entries, request.form.get("suggest")),
            {},
            period=period,
            notes=notes,
        )
    try:
        with attempt():
            app = services.create_pay_application(current_user, project, {"period_to": period, "notes": notes},
                                                  entries)  # fmt: skip
    except ValidationError as exc:
        return _pay_form(project, None, entries, exc.fields, 422, period, notes)
    except ConflictError as exc:
        return _pay_form(project, None, entries, {"lines": str(exc)}, 409, period, notes)
    return redirect_to(url_for("progress_billing.detail", pay_application_id=app.id))


@bp.get("/projects/<int:project_id>/pay-applications/totals")
@login_required
@permission_required(EDIT)
def totals(project_id):
    """The form's live figures as typed (a GET of the form's fields): a fragment, nothing written."""
    project = services.project_for_billing(current_user, project_id, EDIT)
    app = None
    if request.args.get("pay_application_id", "").isdigit():
        app = services.get_pay_application(current_user, request.args["pay_application_id"], EDIT, lines=False)
    return _pay_form(project, app, _entries(request.args), {})


@bp.get("/pay-applications/<int:pay_application_id>")
@login_required
@permission_required(VIEW)
def detail(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id)
    return _detail_page(app)


def _detail_page(app: PayApplication, refused: str = "", status: int = 200):
    return render_for(
        {"pay-application-live": "progress_billing/_detail.html"},
        "progress_billing/detail.html",
        status=status,
        refused=refused,
        app=app,
        project=app.project,
        result=services.figures(app),
        client_view=services.for_client(current_user),
        may_edit=services.may_edit(current_user, app),
        may_certify=services.may_certify(current_user, app),
        may_see_invoice=services.may_see_invoice(current_user, app),
        may_recreate_invoice=services.may_recreate_invoice(current_user, app),
    )


@bp.get("/pay-applications/<int:pay_application_id>/edit")
@login_required
@permission_required(EDIT)
def edit(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, EDIT)
    if not services.may_edit(current_user, app):
        raise ConflictError(f"{app.number or 'This pay application'} is certified: it is locked and never changes.")
    entries = [{"sov_line_id": str(li.sov_line_id), "this_period": str(li.this_period),
                "materials_stored": str(li.materials_stored), "reason": li.reason} for li in app.lines]  # fmt: skip
    return _pay_form(app.project, app, entries, {}, period=app.period_to.isoformat(), notes=app.notes)


@bp.post("/pay-applications/<int:pay_application_id>/edit")
@login_required
@permission_required(EDIT)
def update(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, EDIT)
    entries = _entries(request.form)
    period, notes = request.form.get("period_to", ""), request.form.get("notes", "")
    if request.form.get("suggest"):
        return _pay_form(
            app.project,
            app,
            services.suggest_this_period(app.project, entries, request.form.get("suggest")),
            {},
            period=period,
            notes=notes,
        )
    try:
        with attempt():
            services.update_pay_application(current_user, app, {"period_to": period, "notes": notes}, entries,
                                            version=request.form.get("version") or None)  # fmt: skip
    except ValidationError as exc:  # the version the page was opened at: a fix stays checked
        return _pay_form(app.project, app, entries, exc.fields, 422, period, notes, request.form.get("version"))
    except ConflictError as exc:
        return _pay_form(app.project, services.get_pay_application(current_user, pay_application_id), entries,
                         {"lines": str(exc)}, 409, period, notes)  # fmt: skip
    return redirect_to(url_for("progress_billing.detail", pay_application_id=app.id))


@bp.post("/pay-applications/<int:pay_application_id>/certify")
@login_required
@permission_required(services.CERTIFY)
def certify(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, services.CERTIFY)
    try:
        with attempt():
            services.certify(current_user, app, version=request.form.get("version") or None)
    except ValidationError as exc:  # refused for its figures: nothing written, the reason shown
        return _detail_page(services.get_pay_application(current_user, pay_application_id),
                            " ".join(exc.fields.values()), 422)  # fmt: skip
    return redirect_to(url_for("progress_billing.detail", pay_application_id=app.id))


@bp.post("/pay-applications/<int:pay_application_id>/invoice")
@login_required
@permission_required(services.CERTIFY)
def recreate_invoice(pay_application_id):
    """ "Create its invoice again" (its invoice was deleted or cancelled)."""
    app = services.get_pay_application(current_user, pay_application_id, services.CERTIFY)
    services.recreate_invoice(current_user, app)
    return redirect_to(url_for("invoices.detail", invoice_id=app.invoice_id))


@bp.post("/pay-applications/<int:pay_application_id>/delete")
@login_required
@permission_required(EDIT)
def delete(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, EDIT)
    project_id = app.project_id
    try:
        services.delete_pay_application(current_user, app, version=request.form.get("version") or None)
    except StaleObject as exc:  # changed meanwhile: its page as it is now, to decide again
        return _detail_page(exc.obj, str(exc), 409)
    return redirect_to(url_for("progress_billing.project_billing", project_id=project_id))


@bp.get("/pay-applications/<int:pay_application_id>.pdf")
@login_required
@permission_required(VIEW)
def pdf(pay_application_id):
    """The G702/G703 as PDF, drawn now (a GET stores nothing)."""
    app = services.get_pay_application(current_user, pay_application_id)
    response = make_response(delivery.render_pdf(app, services.for_client(current_user)))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = storage.disposition(delivery.filename(app), inline=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response
