"""Data builders for tests: real rows in the test database, flushed, never committed."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from app.auth.models import User
from app.auth.passwords import hash_password
from app.clients.models import Client
from app.core.roles import CLIENT
from app.extensions import db
from app.projects.models import Project, ProjectMembership

PASSWORD = "Paint&Stain1"
_HASH: list[str] = []
_seq = itertools.count(1)


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def make_client(**kwargs) -> Client:
    n = next(_seq)
    client = Client(
        name=kwargs.pop("name", f"Client {n}"), email=kwargs.pop("email", f"client{n}@example.com"), **kwargs
    )
    db.session.add(client)
    db.session.flush()
    return client


def make_user(role: str = "employee", **kwargs) -> User:
    n = next(_seq)
    if role == CLIENT and "client" not in kwargs and "client_id" not in kwargs:
        kwargs["client"] = make_client()
    user = User(
        username=kwargs.pop("username", f"{role.replace('_', '-')}-{n}"),
        email=kwargs.pop("email", f"{role}{n}@example.com"),
        full_name=kwargs.pop("full_name", f"{role.replace('_', ' ').title()} {n}"),
        role=role,
        password_hash=kwargs.pop("password_hash", password_hash()),
        **kwargs,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_project(client: Client | None = None, members=(), **kwargs) -> Project:
    n = next(_seq)
    start = kwargs.pop("start_date", date(2026, 3, 1))
    project = Project(
        name=kwargs.pop("name", f"Project {n}"),
        client=client or make_client(),
        address=kwargs.pop("address", f"{n} Main St"),
        city=kwargs.pop("city", "Austin"),
        budget=kwargs.pop("budget", Decimal("10000.00")),
        start_date=start,
        end_date=kwargs.pop("end_date", start + timedelta(days=30)),
        internal_notes=kwargs.pop("internal_notes", "margin target 30%"),
        **kwargs,
    )
    db.session.add(project)
    db.session.flush()
    for member in members:
        db.session.add(ProjectMembership(project_id=project.id, user_id=member.id))
    db.session.flush()
    db.session.refresh(project)
    return project


def make_punch(user: User, project: Project, *, task=None, clock_in=None, hours: float | None = 8, **kwargs):
    """A punch (app/timeclock): closed after `hours` (None: still open), from Monday
    2026-03-02 8:00 AM Denver unless `clock_in` (aware) is given."""
    from datetime import UTC, datetime

    from app.timeclock.models import Punch

    start = clock_in or datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    end = start + timedelta(hours=hours) if hours is not None else None
    punch = Punch(
        user_id=user.id,
        project_id=project.id,
        task_id=task.id if task is not None else None,
        clock_in=start,
        clock_out=end,
        **kwargs,
    )
    if end is not None:
        punch.hours = punch.worked_hours()
    db.session.add(punch)
    db.session.flush()
    return punch


def make_client_records(client: Client, author: User):
    """Client records for `client` (issue 9): a primary and a second contact, a log entry
    by `author` with a follow-up, and an open invitation. Answers (second contact, entry,
    invitation)."""
    from datetime import UTC, datetime

    from app.clients.invitations import token_hash
    from app.clients.models import ClientCommunication, ClientContact, ClientInvitation

    first = ClientContact(client_id=client.id, name="Pat Harbor", is_primary=True, roles="decision_maker")
    second = ClientContact(client_id=client.id, name="Sam Quay", email="sam@harbor.example", roles="billing")
    db.session.add_all([first, second])
    db.session.flush()
    entry = ClientCommunication(
        client_id=client.id,
        kind="call",
        occurred_at=datetime(2026, 3, 1, 15, tzinfo=UTC),
        author_id=author.id,
        summary="Asked about the colour schedule.",
        follow_up_on=date(2026, 3, 4),
    )
    now = datetime.now(UTC)
    invitation = ClientInvitation(
        client_id=client.id,
        email=f"invited{next(_seq)}@harbor.example",
        token_hash=token_hash(f"walk-token-{next(_seq)}"),
        invited_by_id=author.id,
        created_at=now,
        expires_at=now + timedelta(days=7),
    )
    db.session.add_all([entry, invitation])
    db.session.flush()
    return second, entry, invitation


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_document(actor, *, project=None, client=None, name="Scope.pdf", data=PDF, **kwargs):
    """A document uploaded by `actor` to a project or a client record (files.services,
    the object stored as an upload would be); kwargs: category, is_client_visible."""
    from app.files import services

    place = services.Place(project=project, client=client)
    return services.upload(actor, place, [(name, data)], **kwargs)[0].document


def make_documents(admin, mine, theirs, company):
    """The permission walk's documents (app/files/walk.py): an internal and a shared one
    of `mine`, a shared one of `theirs`, a shared one of the client record `company`."""
    return (
        make_document(admin, project=mine, name="Scope.pdf"),
        make_document(admin, project=mine, name="Colours.pdf", is_client_visible=True),
        make_document(admin, project=theirs, name="Birch permit.pdf", is_client_visible=True),
        make_document(admin, client=company, name="Master agreement.pdf", is_client_visible=True),
    )


def make_daily_log(project: Project, day, author: User | None = None, **kwargs):
    """A daily log (app/daily_logs) of `project` for `day`, written straight (no rules)."""
    from app.daily_logs.models import DailyLog

    log = DailyLog(project_id=project.id, date=day, created_by_id=author.id if author else None, **kwargs)
    db.session.add(log)
    db.session.flush()
    return log


def make_invoice(project: Project, *, lines=(("Walls, two coats", "1", "1000.00"),), status="DRAFT", number=None,
                 author: User | None = None, tax_rate="0", retention="0.00", paid="0.00", invoice_type="standard",
                 issue_date=None, due_date=None, for_review=False):  # fmt: skip
    """An invoice written straight (no rules), its figures computed by core.money."""
    import datetime as dt
    from decimal import Decimal

    from app.core.money import Line, totals
    from app.invoices.models import Invoice, InvoiceLine

    issue = issue_date or dt.date(2026, 3, 2)
    rate = Decimal(tax_rate)
    figures = totals([Line(Decimal(q), Decimal(p), rate) for _d, q, p in lines])
    invoice = Invoice(
        project_id=project.id,
        client_id=project.client_id,
        number=number,
        status=status,
        invoice_type=invoice_type,
        issue_date=issue,
        due_date=due_date or issue + dt.timedelta(days=30),
        tax_rate=rate,
        subtotal=figures.subtotal,
        tax_amount=figures.tax_amount,
        total_amount=figures.total,
        retention_amount=Decimal(retention),
        amount_paid=Decimal(paid),
        created_by_id=author.id if author else None,
        is_draft_for_review=for_review,
        payment_terms="net_30",
        client_message="",
        internal_notes="",
        review_comment="",
        cancel_reason="",
    )
    db.session.add(invoice)
    db.session.flush()
    for position, (description, quantity, price) in enumerate(lines):
        line = Line(Decimal(quantity), Decimal(price), rate)
        db.session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=position,
                description=description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=rate,
                line_total=line.total,
            )  # fmt: skip
        )
    db.session.flush()
    return invoice


def make_walk_invoices(users: dict, mine: Project, theirs: Project) -> dict:
    """The permission walk's invoices (app/invoices/walk.py): {draftinv} a PM's draft of
    mine, {reviewinv} a trainee's draft for review, {sentinv} sent, {partinv} sent with
    one {payment}, {theirinv} a draft of theirs. The client company gets a billing email."""
    from decimal import Decimal

    from app.invoices.models import Payment

    mine.client.email = "ap@harbor.example"
    theirs.client.email = "ap@birch.example"
    made = {
        "draftinv": make_invoice(mine, author=users["project_manager_full"]),
        "reviewinv": make_invoice(mine, author=users["pm_trainee"], for_review=True),
        "sentinv": make_invoice(mine, status="SENT", number="INV-2026-9001"),
        "partinv": make_invoice(mine, status="SENT", number="INV-2026-9002", paid="100.00"),
        "theirinv": make_invoice(theirs),  # a draft: {theirs} stays deletable
    }
    payment = Payment(invoice_id=made["partinv"].id, amount=Decimal("100.00"), payment_date=made["partinv"].issue_date,
                      method="check", reference="1001")  # fmt: skip
    db.session.add(payment)
    from app.invoices.models import InvoiceDelivery

    db.session.add(  # a batch of one, started by the PM (the batch page's walk row)
        InvoiceDelivery(
            invoice_id=made["sentinv"].id,
            batch_id="walkbatch",
            recipient_email="ap@harbor.example",
            message_id="<walk@kibray.local>",
            status="sent",
            attempts=1,
            last_error="",
            recipient_name="AP",
            requested_by_id=users["project_manager_full"].id,
        )  # fmt: skip
    )
    db.session.flush()
    made["payment"] = payment
    return made


def make_change_order(project: Project, *, status="draft", author: User | None = None, number=None,
                      lines=(("labor", "Third coat, living room", "6", "55.00", "20"),), impact=0):  # fmt: skip
    """A change order written straight (no rules): lines (kind, description, quantity,
    unit cost, markup %) priced by core.money."""
    from decimal import Decimal

    from app.change_orders.models import ChangeOrder, ChangeOrderLine
    from app.core.models import utcnow
    from app.core.money import line_total, percent_of

    co = ChangeOrder(
        project_id=project.id,
        number=number or f"CO-2026-{9000 + next(_seq):04d}",
        title="Extra coat",
        description="",
        reason="Owner asked",
        status=status,
        schedule_impact_days=impact,
        created_by_id=author.id if author else None,
        amount=Decimal("0.00"),
        signature_name="",
        signature_ip="",
        signature_user_agent="",
        on_behalf_reason="",
        decision_comment="",
        internal_comment="",
        put_to_client_at=utcnow() if status in ("pending_client", "approved", "rejected") else None,
        schedule_applied=False,
    )
    db.session.add(co)
    db.session.flush()
    total = Decimal("0.00")
    for position, (kind, description, quantity, cost, markup) in enumerate(lines):
        base = line_total(Decimal(quantity), Decimal(cost))
        price = base + percent_of(base, Decimal(markup))
        total += price
        db.session.add(
            ChangeOrderLine(
                change_order_id=co.id,
                position=position,
                kind=kind,
                description=description,
                quantity=Decimal(quantity),
                unit_cost=Decimal(cost),
                markup_pct=Decimal(markup),
                cost=base,
                line_total=price,
            )  # fmt: skip
        )
    co.amount = total
    db.session.flush()
    return co


def make_walk_change_orders(users: dict, mine: Project, theirs: Project) -> dict:
    """The walk's change orders (app/change_orders/walk.py): {draftco} a PM's draft,
    {internalco} a trainee's waiting inside, {clientco} waiting for the client,
    {approvedco} approved with 3 days of schedule impact (mine); {theirco} theirs."""
    from sqlalchemy import select

    from app.change_orders.models import ChangeOrderPhoto
    from app.core import storage
    from app.photos.models import Photo
    from tests.images import png

    made = {
        "draftco": make_change_order(mine, author=users["project_manager_full"]),
        "internalco": make_change_order(mine, status="pending_internal_approval", author=users["pm_trainee"]),
        "clientco": make_change_order(mine, status="pending_client"),
        "approvedco": make_change_order(mine, status="approved", impact=3),
        "theirco": make_change_order(theirs, status="pending_client"),
    }
    # {cophoto}: an internal photo of mine on the draft; {clientphoto}: the same photo, with
    # a drawing, on the one put to the client (who sees it through the change order)
    pic = db.session.scalars(select(Photo).where(Photo.project_id == mine.id).order_by(Photo.id)).first()
    drawing = storage.save(storage.new_key("change-orders/walk", "png"), png(), "image/png")
    made["cophoto"] = ChangeOrderPhoto(change_order_id=made["draftco"].id, photo_id=pic.id)
    made["clientphoto"] = ChangeOrderPhoto(change_order_id=made["clientco"].id, photo_id=pic.id, annotation_key=drawing)
    db.session.add_all([made["cophoto"], made["clientphoto"]])
    db.session.flush()
    return made


def make_estimate(client: Client, *, status="draft", author: User | None = None, sender: User | None = None,
                  number=None, lines=None, markup="10", valid_until=None, token=None):  # fmt: skip
    """An estimate written straight (no rules), its lines priced by the estimate
    arithmetic (estimates.services.LineIn, core.money). `lines`: dicts as the service
    takes them; `token`: a review link (its hash stored, valid 30 days)."""
    import datetime as dt

    from app.core.models import utcnow
    from app.estimates.models import Estimate, EstimateLine
    from app.estimates.services import clean_line, defaults, figures, token_hash

    fallback = defaults()
    items = [clean_line(item, fallback) for item in (lines or [
        {"surface": "walls", "description": "Living room walls", "quantity": "400", "coats": 2},
        {"surface": "trim", "description": "Baseboards", "quantity": "120", "coats": 2, "is_optional": True},
    ])]  # fmt: skip
    result = figures((i.amount for i in items if i.counts), Decimal(markup))
    estimate = Estimate(
        client_id=client.id,
        number=number or f"EST-2026-{9000 + next(_seq):04d}",
        title=f"Repaint {next(_seq)}",
        status=status,
        address="1 Harbor Way",
        markup_pct=Decimal(markup),
        terms="50 % deposit",
        valid_until=valid_until or (date.today() + timedelta(days=60)),
        subtotal=result.subtotal,
        markup_amount=result.markup_amount,
        total=result.total,
        internal_notes="price sensitive, quote tight",
        created_by_id=author.id if author else None,
        sent_by_id=sender.id if sender else None,
        sent_at=utcnow() if status != "draft" else None,
        approved_at=utcnow() if status == "approved" else None,
        signature_name="Dana Owner" if status == "approved" else "",
        signature_ip="",
        signature_user_agent="",
        on_behalf_reason="",
        decline_reason="",
        review_token_hash=token_hash(token) if token else None,
        review_expires_at=utcnow() + dt.timedelta(days=30) if token else None,
    )
    db.session.add(estimate)
    db.session.flush()
    for position, item in enumerate(items):
        db.session.add(
            EstimateLine(
                estimate_id=estimate.id,
                position=position,
                surface=item.surface,
                description=item.description,
                quantity=item.quantity,
                unit=item.unit,
                coats=item.coats,
                production_rate=item.production_rate,
                labor_hours=item.labor_hours,
                labor_rate=item.labor_rate,
                labor_amount=item.labor_amount,
                coverage=item.coverage,
                material_gallons=item.material_gallons,
                price_per_gallon=item.price_per_gallon,
                material_amount=item.material_amount,
                unit_price=item.unit_price,
                amount=item.amount,
                is_optional=item.is_optional,
                is_selected=item.is_selected,
            )  # fmt: skip
        )
    db.session.flush()
    db.session.expire(estimate, ["lines"])
    return estimate


def make_walk_estimates(users: dict, mine: Project, theirs: Project) -> dict:
    """The walk's estimates (app/estimates/walk.py): {draftest} a PM's draft for the
    client company, {sentest} sent to it, {approvedest} approved with its project (an
    earlier one of {mine}'s), {theirest} sent to another company. The client company
    gets a billing email (sending needs one)."""
    pm = users["project_manager_full"]
    company, other = mine.client, theirs.client
    company.email = company.email or "ap@harbor.example"
    approved = make_estimate(company, status="approved", author=pm, sender=pm)
    approved.project_id = mine.id
    return {
        "draftest": make_estimate(company, author=pm),
        "sentest": make_estimate(company, status="sent", author=pm, sender=pm, token="walk-token-sent"),
        "approvedest": approved,
        "theirest": make_estimate(other, status="sent", author=pm, sender=pm),
    }


def make_expense(project: Project, *, claimant: User | None = None, status: str | None = None, amount="84.20",
                 category="MATERIALS", day=date(2026, 3, 2), receipt: bytes | None = None, **kwargs):  # fmt: skip
    """An expense written straight (no rules): a company expense, or with `claimant` a
    claim in `status` (default submitted); `receipt` (bytes) stored as a service would."""
    from app.core import storage, uploads
    from app.expenses.models import Expense

    e = Expense(
        project_id=project.id,
        category=category,
        amount=Decimal(amount),
        expense_date=day,
        vendor=kwargs.pop("vendor", "Paint store"),
        description=kwargs.pop("description", ""),
        paid_by_employee_id=claimant.id if claimant else None,
        reimbursement_status=(status or "submitted") if claimant else None,
        **kwargs,
    )
    if status == "paid":
        e.reimbursement_method, e.reimbursement_date = e.reimbursement_method or "direct", day
    if receipt is not None:
        found = uploads.inspect(receipt, "receipt")
        e.receipt_key = storage.save(storage.new_key(f"expenses/{project.id}", found.extension), found.data,
                                     found.content_type)  # fmt: skip
        if found.kind == "photo":
            storage.save(e.receipt_key.rsplit(".", 1)[0] + "-thumb.jpg", uploads.resized(found.data, 320), "image/jpeg")
        e.receipt_name, e.receipt_content_type, e.receipt_size = (
            f"receipt.{found.extension}",
            found.content_type,
            len(found.data),
        )
    db.session.add(e)
    db.session.flush()
    return e


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_walk_expenses(users: dict, mine: Project, theirs: Project) -> dict:
    """The walk's expenses (app/expenses/walk.py): {cexp} a company expense of mine (a PDF
    receipt), {subclaim} the employee's submitted claim (a photo receipt), {okclaim} the
    superintendent's approved claim, {paidclaim} the employee's paid claim (mine);
    {theirexp} a company expense on another project of theirs' company (a PDF receipt; not
    {theirs}: a project with expenses is not deleted)."""
    from tests.images import png

    elsewhere = make_project(theirs.client)
    return {
        "cexp": make_expense(mine, receipt=PDF_BYTES),
        "subclaim": make_expense(mine, claimant=users["employee"], receipt=png()),
        "okclaim": make_expense(mine, claimant=users["superintendent"], status="approved", category="TOOLS"),
        "paidclaim": make_expense(mine, claimant=users["employee"], status="paid", reimbursement_reference="CHK 1"),
        "theirexp": make_expense(elsewhere, receipt=PDF_BYTES),
    }


def make_budget_line(project: Project, *, name="Paint", amount="1000.00", category=None, code="", position=0,
                     estimated_hours=None):  # fmt: skip
    """A budget line written straight (no rules)."""
    from app.budgets.models import BudgetLine

    line = BudgetLine(project_id=project.id, name=name, amount=Decimal(amount), category=category, code=code,
                      position=position, estimated_hours=None if estimated_hours is None else Decimal(estimated_hours))  # fmt: skip
    db.session.add(line)
    db.session.flush()
    return line


def make_cost_rate(user: User, hourly_cost: str, effective_from=date(2026, 1, 5)):
    """A cost rate written straight (no rules)."""
    from app.budgets.models import CostRate

    rate = CostRate(user_id=user.id, hourly_cost=Decimal(hourly_cost), effective_from=effective_from)
    db.session.add(rate)
    db.session.flush()
    return rate


def make_walk_budgets(users: dict, mine: Project, theirs: Project) -> dict:
    """The walk's budgets (app/budgets/walk.py): {walkline} a labour line of mine;
    {walkrate} the employee's cost rate."""
    return {
        "walkline": make_budget_line(mine, name="Labour", category="LABOR", code="01"),
        "walkrate": make_cost_rate(users["employee"], "28.00"),
    }


def make_sov(project: Project, values=("20000.00", "28250.00"), contract=None) -> list:
    """A schedule of values written straight (lines 1, 2, …) and the project's contract
    value set to its sum (unless `contract` says otherwise)."""
    from app.progress_billing.models import SovLine

    lines = [SovLine(project_id=project.id, position=i, item=str(i + 1), description=f"Scope {i + 1}",
                     scheduled_value=Decimal(v)) for i, v in enumerate(values)]  # fmt: skip
    db.session.add_all(lines)
    project.contract_value = (
        Decimal(contract) if contract is not None else sum((Decimal(v) for v in values), Decimal(0))
    )
    db.session.flush()
    return lines


def make_pay_application(project: Project, amounts, *, certify_by: User | None = None, period=None, no=None):
    """A pay application through the services (figures by the calculator); certified by
    `certify_by` when given (its draft invoice too)."""
    from app.progress_billing import schedule, services

    lines = schedule.lines_of(project.id, include_archived=False)
    author = certify_by or db.session.scalar(select_admin())
    app = services.create_pay_application(
        author, project, {"period_to": period or date(2026, 3, 31)},
        [{"sov_line_id": li.id, "this_period": str(a)} for li, a in zip(lines, amounts, strict=False)],
    )  # fmt: skip
    if certify_by is not None:
        services.certify(certify_by, app)
    return app


def select_admin():
    from sqlalchemy import select

    return select(User).where(User.role == "admin").limit(1)


def make_walk_progress_billing(users: dict, mine: Project, theirs: Project) -> dict:
    """The walk's progress billing (app/progress_billing/walk.py): mine's schedule
    ({sovline}, {sovline2}) sums to its contract value; {certifiedpa} certified (holding
    retainage), {draftpa} the draft after it; {theirpa} certified on another project of
    theirs' company (so that {theirs} can still be deleted)."""
    admin = users["admin"]
    first, second = make_sov(mine)
    certified = make_pay_application(mine, ["5000.00", "0"], certify_by=admin, period=date(2026, 3, 31))
    draft = make_pay_application(mine, ["1000.00", "500.00"], period=date(2026, 4, 30))
    elsewhere = make_project(theirs.client)  # not {theirs}: a project with certified applications is not deleted
    make_sov(elsewhere, ("9100.00",))
    their = make_pay_application(elsewhere, ["100.00"], certify_by=admin)
    return {"sovline": first, "sovline2": second, "certifiedpa": certified, "draftpa": draft, "theirpa": their}


def make_walk_reports(users: dict, mine: Project, theirs: Project) -> dict:
    """The permission walk's reports world (app/reports/walk.py): {export} an admin's
    recorded QuickBooks export of invoices (no stored file: its rows are written again)."""
    from app.reports.models import AccountingExport

    export = AccountingExport(kind="invoices", period_from=date(2026, 1, 1), period_to=date(2026, 1, 31),
                              include_exported=False, row_count=0, created_by_id=users["admin"].id)  # fmt: skip
    db.session.add(export)
    db.session.flush()
    return {"export": export}
