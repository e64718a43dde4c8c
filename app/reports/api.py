"""/api/financials/ reports (SPEC.md §5): profitability of a project and of the company,
WIP, AR aging, and the QuickBooks export. The GET of the export is a pure download of the
rows not yet exported (a GET never writes); POST records an export (so its rows are not
exported again unless asked) and answers its record; GET …/{id}/ downloads a recorded file.
Routes translate HTTP; the rules and reads are app/reports/services.py's and export.py's."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_login import current_user

from app.core.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api_ok
from app.core.openapi import operation
from app.core.schemas import request_body, request_query
from app.reports import csv_out, export, filters, services
from app.reports.schemas import (
    AgingOut,
    CompanyProfitabilityOut,
    CompanyQuery,
    ExportIn,
    ExportOut,
    ExportQuery,
    PeriodQuery,
    ProfitabilityOut,
    ReportQuery,
    WipOut,
    WipQuery,
)
from app.reports.serialize import aging_json, company_json, export_json, profitability_json, wip_json

bp = Blueprint("reports", __name__)
BASE = "/financials/"
CSV = "text/csv"


def _csv(lines, name: str):
    return csv_out.response(lines, name)


@bp.get(BASE + "profitability/<int:project_id>/")
@operation(
    "A project's profitability",
    returns=ProfitabilityOut,
    query=PeriodQuery,
    description="SPEC.md §5 with the change-order impact, the forecast and the monthly trend. "
    "total_expenses counts approved labour (hours × cost rate) under LABOR.",
)
def api_project_profitability(project_id):
    request_query()
    f = filters.parse(request.args)
    figures = services.project_profitability(current_user, project_id, f, with_forecast=True)
    return api_ok(profitability_json(figures, services.trend(current_user, f, project_id)))


@bp.get(BASE + "profitability/")
@operation("Every project's profitability and the company's totals", returns=CompanyProfitabilityOut,
           query=CompanyQuery, description="A page of projects (50) and the totals over all of them; the "
           "monthly trend only with trend=true (it reads twelve months of every table).")  # fmt: skip
def api_company_profitability():
    query = request_query()
    with_trend = query.trend in ("true", "1")
    report = services.company_profitability(current_user, filters.parse(request.args), with_trend=with_trend)
    return api_ok(company_json(report))


@bp.get(BASE + "wip/")
@operation(
    "Work in progress (over/under billing)",
    returns=WipOut,
    query=WipQuery,
    description="Per project (default: active ones), a page at a time by name: contract value with approved "
    "change orders, estimated total cost, cost to date, percent complete (cost-to-cost), earned revenue, "
    "billed to date (progress-billed: the latest certified application's completed and stored + the other "
    "invoices), over- and under-billing; the company totals over every project (`totals`). The CSV "
    "(/reports/wip.csv) has every row.",
)
def api_wip():
    query = request_query()
    page_size = min(query.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    report = services.wip(current_user, filters.parse(request.args, default_status="active"), per_page=page_size)
    return api_ok(wip_json(report, _pagination(report.page, page_size, report.pages, report.count)))


def _pagination(page: int, page_size: int, total_pages: int, total: int) -> dict:
    """core.api's pagination envelope (page, page_size, total_pages, total_count, next, previous)."""

    def link(number):
        if number < 1 or number > total_pages:
            return None
        args = request.args.to_dict() | {"page": number, "page_size": page_size}
        return url_for(request.endpoint, _external=True, **args)

    return {"page": page, "page_size": page_size, "total_pages": total_pages, "total_count": total,
            "next": link(page + 1), "previous": link(page - 1)}  # fmt: skip


@bp.get(BASE + "ar-aging/")
@operation("Accounts receivable aging per client", returns=AgingOut, query=ReportQuery)
def api_ar_aging():
    request_query()
    return api_ok(aging_json(services.ar_aging(current_user, filters.parse(request.args))))


@bp.get(BASE + "export/quickbooks/")
@operation(
    "Download a QuickBooks Online CSV (administrators)",
    query=ExportQuery,
    media=CSV,
    description="The kind's rows of the period not exported before (all with include_exported=true). "
    "A download records nothing: POST records an export.",
)
def api_quickbooks():
    query = request_query()
    req = export.parse(query.kind, query.date_from, query.date_to, query.include_exported in ("true", "1"))
    return _csv(export.csv_lines(current_user, req), export.filename(req))


@bp.post(BASE + "export/quickbooks/")
@operation(
    "Record a QuickBooks Online export (administrators)",
    body=ExportIn,
    returns=ExportOut,
    status=201,
    description="Records the rows of the period not exported before (all with include_exported) so they are "
    "not exported again; download the file from …/export/quickbooks/{id}/.",
)
def api_record_quickbooks():
    body = request_body()
    req = export.parse(body.kind, body.date_from, body.date_to, bool(body.include_exported))
    return api_ok(export_json(export.record_export(current_user, req)), 201)


@bp.get(BASE + "export/quickbooks/<int:export_id>/")
@operation("Download a recorded QuickBooks Online export (administrators)", media=CSV)
def api_quickbooks_file(export_id):
    record = export.get_export(current_user, export_id)
    return _csv(export.export_file(current_user, record), export.export_filename(record))
