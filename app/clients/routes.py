"""Client pages: list with search, create, detail (billing, contacts, project history,
communication log, users and invitations), edit, contacts, the log's inline form, and
the public invitation page."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from app.clients import bp, communications, invitations, services
from app.clients.models import CONTACT_ROLES, ENTRY_KINDS, PAYMENT_TERMS
from app.core.errors import ValidationError
from app.core.htmx import is_htmx, redirect_to, render_for
from app.core.numbers import page_number
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.core.urls import url_pattern
from app.core.versioning import StaleObject, meanwhile


@bp.get("/clients")
@login_required
@permission_required("client.view")
def index():
    q = request.args.get("q", "").strip()[:100]
    page = services.client_page(current_user, q, page_number(request.args.get("page", "1")))
    return render_for(
        {"client-results": "clients/_results.html"},
        "clients/index.html",
        page=page,
        q=q,
        client_url=url_pattern("clients.detail", "client_id"),
    )


@bp.route("/clients/new", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def new():
    data, errors = {}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with attempt():
                client = services.create_client(current_user, data)
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash(f"Client {client.name} added.", "success")
            target = request.args.get("next")
            if target == "new-project":
                draft = {"draft": 1} if request.args.get("draft") else {}  # the project form kept
                return redirect_to(url_for("projects.new", client_id=client.id, **draft))
            return redirect_to(url_for("clients.detail", client_id=client.id))
    back = url_for("projects.new", draft=1) if request.args.get("draft") else None
    return render_template(
        "clients/form.html", client=None, data=data, errors=errors, back_to_project=back, terms=PAYMENT_TERMS
    ), (422 if errors else 200)


LABELS = {"terms": PAYMENT_TERMS, "contact_roles": CONTACT_ROLES, "entry_kinds": ENTRY_KINDS}


def _detail(client_id: int, status: int = 200, **forms):
    """The client page; `forms`: the errors and typed values of one of its forms
    (errors/data: the contact form; log_errors/log_data; invite_errors/invite_data)."""
    page = services.client_page_data(current_user, client_id)
    context = {"errors": {}, "data": {}, "log_errors": {}, "log_data": {}, "invite_errors": {}, "invite_data": {}}
    context.update(forms)
    return render_template(
        "clients/detail.html", page=page, client=page.client, labels_=LABELS, **_log_rules(), **context
    ), status


def _log_rules() -> dict:
    """What the log's template asks of each entry, answered by the service's rules."""
    today = communications.today()
    return {
        "today": today,
        "may_mark_done": lambda entry: communications.may_mark_done(current_user, entry),
        "is_due": lambda entry: communications.is_due(entry, today),
    }


@bp.get("/clients/<int:client_id>")
@login_required
def detail(client_id):
    return _detail(client_id)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def edit(client_id):
    client = services.get_client(current_user, client_id)
    fields = (*services.FIELDS, "payment_terms", "notes")
    data, errors, stale = {k: getattr(client, k) for k in fields} | {"version": client.version}, {}, None
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with attempt():
                services.update_client(current_user, client, data, version=data.get("version"))
        except ValidationError as exc:
            errors = exc.fields
        except StaleObject:
            # Saved by someone else since the form was opened: nothing is overwritten;
            # both values side by side, and the current version for a second submit.
            stale = meanwhile(client, data, fields)
            data = data | {"version": client.version}
        else:
            flash("Client saved.", "success")
            return redirect_to(url_for("clients.detail", client_id=client.id))
    status = 409 if stale else 422 if errors else 200
    return render_template(
        "clients/form.html",
        client=client,
        data=data,
        errors=errors,
        meanwhile=stale,
        terms=PAYMENT_TERMS,
        tax_id_masked=services.mask_tax_id(client.tax_id),
    ), status


def _contact_form() -> dict:
    data = request.form.to_dict()
    data["roles"] = request.form.getlist("roles")
    return data


@bp.post("/clients/<int:client_id>/contacts")
@login_required
@permission_required("client.edit")
def add_contact(client_id):
    client = services.get_client(current_user, client_id)
    data = _contact_form()
    try:
        with attempt():
            services.add_contact(current_user, client, data)
    except ValidationError as exc:
        return _detail(client.id, 422, errors=exc.fields, data=data)
    flash("Contact added.", "success")
    return redirect_to(url_for("clients.detail", client_id=client.id))


@bp.route("/clients/<int:client_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def edit_contact(client_id, contact_id):
    contact = services.get_contact(current_user, client_id, contact_id, "client.edit")
    fields = ("name", "title", "email", "phone", "roles")
    data = {k: getattr(contact, k) for k in fields} | {"version": contact.version, "roles": contact.role_list}
    data["is_primary"] = contact.is_primary
    errors, stale = {}, None
    if request.method == "POST":
        data = _contact_form()
        try:
            with attempt():
                services.update_contact(current_user, contact, data, version=data.get("version"))
        except ValidationError as exc:
            errors = exc.fields
        except StaleObject:
            stale = meanwhile(contact, data | {"roles": ",".join(data["roles"])}, fields)
            data = data | {"version": contact.version}
        else:
            flash(f"Contact {contact.name} saved.", "success")
            return redirect_to(url_for("clients.detail", client_id=client_id))
    status = 409 if stale else 422 if errors else 200
    return render_template(
        "clients/contact_form.html",
        contact=contact,
        client_id=client_id,
        data=data,
        errors=errors,
        meanwhile=stale,
        roles=CONTACT_ROLES,
    ), status


@bp.post("/clients/<int:client_id>/contacts/<int:contact_id>/primary")
@login_required
@permission_required("client.edit")
def primary_contact(client_id, contact_id):
    contact = services.get_contact(current_user, client_id, contact_id, "client.edit")
    try:
        with attempt():
            services.make_primary(current_user, contact, version=request.form.get("version"))
    except StaleObject:
        flash("This contact was changed meanwhile: look again before making it primary.", "error")
        return _detail(client_id, 409)
    flash(f"{contact.name} is now the primary contact.", "success")
    return redirect_to(url_for("clients.detail", client_id=client_id))


@bp.post("/clients/<int:client_id>/contacts/<int:contact_id>/delete")
@login_required
@permission_required("client.edit")
def remove_contact(client_id, contact_id):
    contact = services.get_contact(current_user, client_id, contact_id, "client.edit")
    try:
        with attempt():
            message = services.remove_contact(current_user, contact, version=request.form.get("version"))
    except StaleObject:
        flash("This contact was changed meanwhile: look again before removing it.", "error")
        return _detail(client_id, 409)
    flash(message, "success")
    return redirect_to(url_for("clients.detail", client_id=client_id))


# --- the communication log (an inline htmx form) -------------------------------------


def _log(client_id: int, status: int = 200, errors=None, data=None):
    """The log section alone (htmx) or the whole page."""
    if is_htmx():
        page = services.client_page_data(current_user, client_id)
        return render_template(
            "clients/_log.html",
            page=page,
            client=page.client,
            labels_=LABELS,
            **_log_rules(),
            log_errors=errors or {},
            log_data=data or {},
        ), status
    return _detail(client_id, status, log_errors=errors or {}, log_data=data or {})


@bp.post("/clients/<int:client_id>/communications")
@login_required
@permission_required("client.edit")
def add_communication(client_id):
    client = services.get_client(current_user, client_id)
    data = request.form.to_dict()
    try:
        with attempt():
            communications.add_entry(current_user, client, data)
    except ValidationError as exc:
        return _log(client.id, 422, exc.fields, data)
    if is_htmx():
        return _log(client.id)
    flash("Added to the communication log.", "success")
    return redirect_to(url_for("clients.detail", client_id=client.id))


@bp.post("/clients/<int:client_id>/communications/<int:entry_id>/done")
@login_required
@permission_required("client.view")
def follow_up_done(client_id, entry_id):
    entry = communications.get_entry(current_user, client_id, entry_id)
    try:
        with attempt():
            communications.mark_done(current_user, entry)
    except ValidationError as exc:
        return _log(client_id, 422, exc.fields)
    if is_htmx():
        return _log(client_id)
    flash("Follow-up marked done.", "success")
    return redirect_to(url_for("clients.detail", client_id=client_id))


# --- invitations ---------------------------------------------------------------------


@bp.post("/clients/<int:client_id>/invitations")
@login_required
@permission_required("client.invite")
def invite(client_id):
    client = services.get_client(current_user, client_id)
    data = request.form.to_dict()
    email = data.get("invite_email", data.get("email", ""))  # the page's field is invite_email (one id per page)
    try:
        with attempt():
            invitation, token = invitations.invite(current_user, client, data | {"email": email})
    except ValidationError as exc:
        errors = {("invite_email" if key == "email" else key): message for key, message in exc.fields.items()}
        return _detail(client.id, 422, invite_errors=errors, invite_data=data)
    if invitations.email_configured():
        flash(f"Invitation sent to {invitation.email}. The link works for 7 days.", "success")
    else:
        # No mail server: the inviter passes the link on (shown once, like a one-time password).
        flash(
            f"This installation sends no email (EMAIL_HOST). Send {invitation.email} this link yourself, "
            f"it works for 7 days: {invitations.link(token)}",
            "info",
        )
    return redirect_to(url_for("clients.detail", client_id=client.id))


@bp.post("/clients/<int:client_id>/invitations/<int:invitation_id>/revoke")
@login_required
@permission_required("client.invite")
def revoke_invitation(client_id, invitation_id):
    invitation = invitations.get_invitation(current_user, client_id, invitation_id)
    try:
        with attempt():
            invitations.revoke(current_user, invitation)
    except ValidationError as exc:
        flash(exc.fields["invitation"], "error")
        return _detail(client_id, 422)
    flash(f"The invitation of {invitation.email} is withdrawn.", "success")
    return redirect_to(url_for("clients.detail", client_id=client_id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """Public (the token is the authority): choose a username and password, become a
    client user, signed in; then two-factor is offered. The page is never cached and
    never names its address to another site."""
    response = make_response(_accept_invitation(token))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _accept_invitation(token):
    from app.auth.services import LockedOut

    try:
        invitation = invitations.from_token(token)
    except LockedOut as exc:
        page = render_template("clients/invitation.html", gone=exc.fields["token"], errors={}, data={})
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except invitations.InvitationGone as exc:
        return render_template("clients/invitation.html", gone=exc.message, errors={}, data={}), exc.status
    errors, data = {}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with attempt():
                user = invitations.accept(token, data)
        except LockedOut as exc:
            page = render_template("clients/invitation.html", gone=exc.fields["token"], errors={}, data={})
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except invitations.InvitationGone as exc:
            return render_template("clients/invitation.html", gone=exc.message, errors={}, data={}), exc.status
        except ValidationError as exc:
            errors = exc.fields
        else:
            session.clear()
            session.regenerate()
            login_user(user)
            session.permanent = False
            return redirect(url_for("clients.welcome"), 303)
    data.pop("password", None)
    data.pop("confirm_password", None)
    return render_template("clients/invitation.html", invitation=invitation, gone=None, errors=errors, data=data), (
        422 if errors else 200
    )


@bp.get("/invitations/welcome")
@login_required
def welcome():
    """Where a newly invited client user lands: two-factor sign-in offered, not forced."""
    return render_template("clients/welcome.html")
