"""Invoices (issue 12): drafts with lines, tax and retention, a trainee's draft reviewed
by an admin, issuing with gap-free numbers, the PDF and email in a worker, partial
payments under a row lock, voids, cancellation, deposits applied later, retention
released by the final invoice, the hourly overdue marking and reminders, and
/api/financials/invoices/. Rules: services.py; the arithmetic: core/money.py."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry, PeriodicJob

bp = Blueprint("invoices", __name__)

from app.invoices import batch, models, routes, walk, wizard  # noqa: E402,F401
from app.invoices.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="invoices",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "invoices",
            "Invoices",
            "invoices.index",
            permission="project.view_financials",
            order=25,
            active=(
                "invoices.index",
                "invoices.detail",
                "invoices.new",
                "invoices.edit",
                "invoices.review",
                "invoices.wizard",
                "invoices.wizard_step",
                "invoices.batch",
            ),
        ),
    ),
    # lists, an invoice's page and the project's page refresh on it (kibray:invoices)
    live_events=(
        LiveEvent("invoice-changed", dom=("kibray:invoices",)),
        LiveEvent("batch-progress"),  # a batch's progress bar (its starter only)
    ),
    periodic=(PeriodicJob("invoice-reminders", "workers.invoices.reminders", 3600),),
    notification_kinds=("invoice_sent", "invoice_due", "invoice_review"),
    audit_refusals={
        "invoices.create": "create an invoice",
        "invoices.wizard_step": "create an invoice",
        "invoices.update": "change an invoice",
        "invoices.delete": "delete an invoice",
        "invoices.send": "send an invoice",
        "invoices.send_batch": "send invoices",
        "invoices.pay": "record a payment on an invoice",
        "invoices.void": "void a payment on an invoice",
        "invoices.cancel": "cancel an invoice",
        "invoices.approve": "approve a draft invoice",
        "invoices.send_back": "send back a draft invoice",
        "api.invoices.api_create": "create an invoice",
        "api.invoices.api_put": "change an invoice",
        "api.invoices.api_patch": "change an invoice",
        "api.invoices.api_delete": "delete an invoice",
        "api.invoices.api_send": "send an invoice",
        "api.invoices.api_mark_paid": "record a payment on an invoice",
        "api.invoices.api_cancel": "cancel an invoice",
    },
    walk=walk.ROUTES,
)
