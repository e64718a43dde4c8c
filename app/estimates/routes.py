"""Estimate pages: the list (live), one estimate (staff: lines with hours, gallons and
costs, send, the decision recorded for the client; the client: the review — options to
tick with a live total, the typed-name approval or a decline), the draft form (lines as
rows, problems inline, "changed meanwhile"), the PDF, and the public review link's
pages (the token is the authority; throttled like invitations). Thin: parse, call the
service, render."""

from __future__ import annotations

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.net import client_ip
from app.core.numbers import page_number, to_int
from app.core.pagination import paginate
from app.core.permissions import can, permission_required
from app.core.rows import line_rows
from app.core.signatures import signed
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.estimates import bp, delivery, services
from app.estimates.models import STATUSES, SURFACES, UNITS, Estimate

VIEW = services.VIEW
PER_PAGE = 25
LINE_FIELDS = ("surface", "description", "quantity", "unit", "coats", "production_rate", "labor_rate", "coverage",
               "price_per_gallon", "unit_price", "option")  # fmt: skip
OPTIONS = [("", "Included"), ("optional", "Optional"), ("chosen", "Optional, ticked")]
BLANK_ROWS = 3


@bp.get("/estimates")
@login_required
@permission_required(VIEW)
def index():
    status = request.args.get("status") or None
    client_id = to_int(request.args.get("client_id"))
    stmt = services.estimate_list(current_user, client_id, status if status in STATUSES else None)
    page = paginate(stmt, page_number(request.args.get("page")), PER_PAGE)
    client_view = services.for_client(current_user)
    return render_for(
        {"estimate-list": "estimates/_list.html"},
        "estimates/list.html",
        page=page,
        args={"status": status or "", "client_id": client_id or ""},
        statuses=[s for s in STATUSES.items() if not client_view or s[0] != "draft"],
        client_view=client_view,
        may_create=can(current_user, "estimate.edit"),
    )


def _context(estimate: Estimate) -> dict:
    client_view = services.for_client(current_user)
    return {
        "estimate": estimate,
        "client_view": client_view,
        "today": services.today(),
        "may_edit": services.may_edit(current_user, estimate),
        "may_send": services.may_send(current_user, estimate),
        "may_delete": services.may_delete(current_user, estimate),
        "may_decide": services.may_decide(current_user, estimate),
        "deliveries": [] if client_view else delivery.deliveries_of(estimate),
        "approve_url": url_for("estimates.approve", estimate_id=estimate.id),
        "decline_url": url_for("estimates.decline", estimate_id=estimate.id),
        "totals_url": url_for("estimates.totals", estimate_id=estimate.id),
        "pdf_url": url_for("estimates.pdf", estimate_id=estimate.id),
        "figures": services.preview(estimate, [line.id for line in estimate.lines if line.is_selected]),
    }


def _detail(estimate: Estimate, status: int = 200, **extra):
    context = _context(estimate) | {"problem": "", "decision": {}, "errors": {}, "link": ""} | extra
    return render_for({"estimate": "estimates/_detail.html"}, "estimates/detail.html", status, **context)


@bp.get("/estimates/<int:estimate_id>")
@login_required
@permission_required(VIEW)
def detail(estimate_id):
    return _detail(services.get_estimate(current_user, estimate_id))


@bp.get("/estimates/<int:estimate_id>/totals")
@login_required
@permission_required(VIEW)
def totals(estimate_id):
    """The review's live total for the options ticked (?line=<id>…); writes nothing."""
    estimate = services.get_estimate(current_user, estimate_id)
    figures = services.preview(estimate, request.args.getlist("line"))
    return render_template(
        "estimates/_totals.html", estimate=estimate, figures=figures, client_view=services.for_client(current_user)
    )


@bp.get("/estimates/<int:estimate_id>.pdf")
@login_required
@permission_required(VIEW)
def pdf(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id)
    return _pdf_response(estimate)


def _pdf_response(estimate: Estimate):
    response = make_response(delivery.render_pdf(estimate))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = storage.disposition(delivery.filename(estimate), inline=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the draft form ------------------------------------------------------------------


def _submitted() -> tuple[dict, list[dict]]:
    form = request.form
    data = {key: form.get(key, "") for key in services.EDITABLE}
    return data, line_rows(form, LINE_FIELDS, ("description", "quantity", "unit_price"))


def _lines_of(rows: list[dict]) -> list[dict]:
    """Form rows as the service's lines (the option column → is_optional/is_selected)."""
    return [row | {"is_optional": row.get("option") in ("optional", "chosen"), "is_selected": row.get("option") == "chosen"}
            for row in rows]  # fmt: skip


def _rows_of(estimate: Estimate) -> list[dict]:
    def text(value):
        return "" if value is None else format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)

    return [
        {
            "surface": line.surface,
            "description": line.description,
            "quantity": text(line.quantity),
            "unit": line.unit,
            "coats": text(line.coats),
            "production_rate": text(line.production_rate),
            "labor_rate": text(line.labor_rate),
            "coverage": text(line.coverage),
            "price_per_gallon": text(line.price_per_gallon),
            "unit_price": text(line.unit_price),
            "option": "chosen" if line.is_selected else "optional" if line.is_optional else "",
        }
        for line in estimate.lines
    ]


def _render_form(estimate, data, rows, errors, status=200, changed=None):
    return render_for(
        {"estimate-form": "estimates/_form.html"},
        "estimates/form.html",
        status,
        estimate=estimate,
        data=data,
        rows=list(rows) + [{}] * BLANK_ROWS,
        errors=errors,
        meanwhile=changed,
        clients=services.client_choices(current_user),
        surfaces=list(SURFACES.items()),
        units=list(UNITS.items()),
        options=OPTIONS,
        defaults=services.defaults(),
    )


@bp.get("/estimates/new")
@login_required
@permission_required("estimate.edit")
def new():
    fallback = services.defaults()
    data = {"client_id": request.args.get("client_id", ""), "markup_pct": format(fallback.markup_pct.normalize(), "f"),
            "terms": fallback.terms}  # fmt: skip
    return _render_form(None, data, [], {})


@bp.post("/estimates/new")
@login_required
@permission_required("estimate.edit")
def create():
    data, rows = _submitted()
    data["client_id"] = request.form.get("client_id", "")
    try:
        with attempt():
            client = services.client_for_estimate(current_user, data["client_id"])
            estimate = services.create_estimate(current_user, client, data, _lines_of(rows))
    except ValidationError as exc:
        return _render_form(None, data, rows, exc.fields or {"form": exc.message}, 422)
    flash(f"Estimate {estimate.number} saved as a draft.", "success")
    return redirect_to(url_for("estimates.detail", estimate_id=estimate.id))


@bp.get("/estimates/<int:estimate_id>/edit")
@login_required
@permission_required("estimate.edit")
def edit(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.edit")
    if not estimate.is_draft:
        raise ConflictError(f"{estimate.number} has been sent: only a draft changes.")
    data = {key: getattr(estimate, key) for key in services.EDITABLE} | {"version": estimate.version}
    data["markup_pct"] = format(estimate.markup_pct.normalize(), "f")
    data["valid_until"] = estimate.valid_until.isoformat() if estimate.valid_until else ""
    return _render_form(estimate, data, _rows_of(estimate), {})


@bp.post("/estimates/<int:estimate_id>/edit")
@login_required
@permission_required("estimate.edit")
def update(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.edit")
    data, rows = _submitted()
    version = request.form.get("version")
    try:
        with attempt():
            services.update_estimate(current_user, estimate, data, _lines_of(rows), version=version)
    except StaleObject as exc:
        changed = meanwhile(exc.obj, data, services.EDITABLE)
        return _render_form(exc.obj, data | {"version": exc.obj.version}, rows, {}, 409, changed)
    except ValidationError as exc:
        return _render_form(estimate, data | {"version": version}, rows, exc.fields or {"form": exc.message}, 422)
    except ConflictError as exc:
        return _render_form(estimate, data | {"version": version}, rows, {"form": exc.message}, 409)
    flash("Draft saved.", "success")
    return redirect_to(url_for("estimates.detail", estimate_id=estimate.id))


# --- actions ---------------------------------------------------------------------------


def _act(estimate: Estimate, do, done: str, decision: dict | None = None):
    try:
        with attempt():
            result = do()
    except ValidationError as exc:
        return _detail(estimate, 422, problem="Nothing was recorded. " + " ".join(exc.fields.values()),
                       errors=exc.fields, decision=decision or {})  # fmt: skip
    except ConflictError as exc:
        shown = exc.obj if isinstance(exc, StaleObject) else estimate
        return _detail(shown, 409, problem=exc.message)
    flash(done if not callable(done) else done(result), "success")
    return redirect_to(url_for("estimates.detail", estimate_id=estimate.id))


@bp.post("/estimates/<int:estimate_id>/send")
@login_required
@permission_required("estimate.send")
def send(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.send")

    def said(result):
        _estimate, token = result
        if services.email_configured():
            return "Sent: the client's billing contact gets the review link (valid 30 days) and the PDF."
        return ("This installation sends no email (EMAIL_HOST). Send the client this review link yourself, it works "
                f"for 30 days: {services.review_link(token)}")  # fmt: skip

    return _act(estimate, lambda: services.send_estimate(current_user, estimate, version=request.form.get("version")),
                said)  # fmt: skip


def _decision() -> tuple[dict, services.Signature]:
    form = request.form
    decision = {key: form.get(key, "") for key in ("signature_name", "on_behalf_reason", "decline_reason")}
    decision["line"] = form.getlist("line")
    signature = signed(decision["signature_name"])
    return decision, signature


@bp.post("/estimates/<int:estimate_id>/approve")
@login_required
@permission_required("estimate.approve")
def approve(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.approve")
    decision, signature = _decision()
    return _act(
        estimate,
        lambda: services.approve(
            current_user,
            estimate,
            signature,
            decision["on_behalf_reason"],
            decision["line"],
            version=request.form.get("version"),
        ),  # fmt: skip
        lambda project: f"Approved: the project {project.name} is created with its tasks.",
        decision,
    )


@bp.post("/estimates/<int:estimate_id>/decline")
@login_required
@permission_required("estimate.approve")
def decline(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.approve")
    decision, signature = _decision()
    return _act(
        estimate,
        lambda: services.decline(
            current_user,
            estimate,
            decision["decline_reason"],
            signature,
            decision["on_behalf_reason"],
            version=request.form.get("version"),
        ),  # fmt: skip
        "Declined.",
        decision,
    )


@bp.post("/estimates/<int:estimate_id>/delete")
@login_required
@permission_required("estimate.delete")
def delete(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.delete")
    try:
        with attempt():
            services.delete_estimate(current_user, estimate)
    except ConflictError as exc:
        return _detail(estimate, 409, problem=exc.message)
    flash("Estimate deleted. Its number stays used.", "success")
    return redirect_to(url_for("estimates.index"))


# --- the public review link --------------------------------------------------------------


def _public(render):
    """The review link's answers are never cached and never name their address to another site."""
    response = make_response(render)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _by_token(token: str, lock: bool = False):
    """(estimate, None) or (None, the refusal page: 404 unknown, 410 expired, 429 locked out)."""
    from app.auth.services import LockedOut

    try:
        return services.from_token(token, lock=lock), None
    except LockedOut as exc:
        page = render_template("estimates/review.html", gone=exc.fields["token"])
        return None, (page, 429, {"Retry-After": str(exc.retry_after)})
    except services.ReviewGone as exc:
        return None, (render_template("estimates/review.html", gone=exc.message), exc.status)


def _review_page(token: str, estimate: Estimate, status: int = 200, **extra):
    context = {
        "estimate": estimate,
        "client_view": True,
        "today": services.today(),
        "may_decide": not estimate.is_decided and estimate.is_sent,
        "approve_url": url_for("estimates.review_approve", token=token),
        "decline_url": url_for("estimates.review_decline", token=token),
        "totals_url": url_for("estimates.review_totals", token=token),
        "pdf_url": url_for("estimates.review_pdf", token=token),
        "figures": services.preview(estimate, [line.id for line in estimate.lines if line.is_selected]),
        "problem": "",
        "decision": {},
        "errors": {},
        "gone": None,
    } | extra
    return render_template("estimates/review.html", **context), status


@bp.get("/estimates/review/<token>")
def review(token):
    estimate, refused = _by_token(token)
    return _public(refused or _review_page(token, estimate))


@bp.get("/estimates/review/<token>/totals")
def review_totals(token):
    estimate, refused = _by_token(token)
    if refused:
        return _public(refused)
    figures = services.preview(estimate, request.args.getlist("line"))
    return _public(render_template("estimates/_totals.html", estimate=estimate, figures=figures, client_view=True))


@bp.get("/estimates/review/<token>.pdf")
def review_pdf(token):
    estimate, refused = _by_token(token)
    if refused:
        return _public(refused)
    return _pdf_response(estimate)


def _review_act(token: str, do, done: str):
    from app.core.audit import acting_as

    estimate, refused = _by_token(token, lock=True)
    if refused:
        return _public(refused)
    decision, signature = _decision()
    try:
        with attempt(), acting_as("review link", "client", via="the emailed review link") as acting:
            acting.actor["ip"] = client_ip()
            do(estimate, decision, signature)
    except ValidationError as exc:
        problem = "Nothing was recorded. " + " ".join(exc.fields.values())
        return _public(_review_page(token, estimate, 422, problem=problem, errors=exc.fields, decision=decision))
    except ConflictError as exc:
        return _public(_review_page(token, estimate, 409, problem=exc.message))
    return _public(_review_page(token, estimate, 200, done=done))


@bp.post("/estimates/review/<token>/approve")
def review_approve(token):
    return _review_act(
        token,
        lambda estimate, decision, signature: services.approve(
            None, estimate, signature, "", decision["line"], version=request.form.get("version"), via_link=True
        ),
        "Thank you: your approval is recorded. We will be in touch to schedule the work.",
    )


@bp.post("/estimates/review/<token>/decline")
def review_decline(token):
    return _review_act(
        token,
        lambda estimate, decision, signature: services.decline(
            None,
            estimate,
            decision["decline_reason"],
            signature,
            "",
            version=request.form.get("version"),
            via_link=True,
        ),
        "Thank you: your answer is recorded.",
    )
