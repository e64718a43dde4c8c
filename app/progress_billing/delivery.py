"""A pay application's PDF: our own G702/G703 layout and wording (line numbers 1–9 and
columns A–I, not AIA's form), drawn by WeasyPrint from progress_billing/print.html with
the invoices' page head (templates/_print.html) and their fetcher (data: URLs only)."""

from __future__ import annotations

from flask import render_template

from app.core import storage
from app.progress_billing import services
from app.progress_billing.models import PayApplication


def render_html(app: PayApplication, client_view: bool = False) -> str:
    from app.company.services import company, logo_data_url

    return render_template("progress_billing/print.html", app=app, result=services.figures(app), company=company(),
                           logo=logo_data_url(), client_view=client_view)  # fmt: skip


def render_pdf(app: PayApplication, client_view: bool = False) -> bytes:
    from app.invoices.delivery import _pdf_of

    return _pdf_of(render_html(app, client_view))


def filename(app: PayApplication) -> str:
    return storage.safe_filename(f"{app.number or f'pay-application-{app.application_no}-draft'}.pdf",
                                 "pay-application.pdf")  # fmt: skip
