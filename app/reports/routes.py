"""Report pages: company profitability (per-project table, totals, the monthly trend as
SVG), a project's profitability, WIP, AR aging (and the invoices behind a figure), each
with a CSV of the same filters; the accountant's QuickBooks export (preview, record,
download). The filter bar swaps the report region (#report) without reloading the page.
Thin: parse, call the service, render."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import to_int
from app.core.permissions import permission_required
from app.expenses.models import CATEGORIES
from app.reports import bp, charts, csv_out, export, filters, queries, report_csv, services

VIEW = queries.ACTION
WIP_PER_PAGE = 100  # the page's rows (the totals, the CSV and the API: every project)


def _csv(lines, name: str):
    return csv_out.response(lines, name)


def _page(fragment: str, full: str, build, default_status=None, **context):
    """Parse the filters and render the page (or its #report fragment); bad filters: the
    form again with its errors, 422."""
    try:
        f = filters.parse(request.args, default_status=default_status)
    except ValidationError as exc:
        return render_for({"report": fragment}, full, 422, f=None, errors=exc.fields, args=request.args,
                          choices=services.filter_choices(current_user), **context)  # fmt: skip
    return render_for({"report": fragment}, full, f=f, errors={}, args=f.args(),
                      choices=services.filter_choices(current_user), **build(f), **context)  # fmt: skip


def _filters_or_default(default_status=None):
    try:
        return filters.parse(request.args, default_status=default_status)
    except ValidationError:
        return filters.Filters(status=default_status)


@bp.get("/reports")
@bp.get("/reports/profitability")
@login_required
@permission_required(VIEW)
def profitability():
    def build(f):  # the chart follows in its own request (profitability_trend)
        return {"report": services.company_profitability(current_user, f, with_trend=False)}

    return _page("reports/_profitability.html", "reports/profitability.html", build, categories=CATEGORIES)


@bp.get("/reports/profitability/trend")
@login_required
@permission_required(VIEW)
def profitability_trend():
    """The company's monthly trend (the chart and its table), loaded by the profitability
    page once shown: the page's figures do not wait for twelve months of every table."""
    f = _filters_or_default()
    months = services.trend(current_user, f)
    return render_template("reports/_company_trend.html", months=months, chart=charts.trend_chart(months),
                           args=f.args(page=1, sort="name"))  # fmt: skip


@bp.get("/reports/profitability.csv")
@login_required
@permission_required(VIEW)
def profitability_csv():
    return _csv(report_csv.profitability(current_user, _filters_or_default()), "profitability.csv")


@bp.get("/projects/<int:project_id>/profitability")
@login_required
@permission_required(VIEW)
def project_profitability(project_id):
    project = services.project_for_report(current_user, project_id)

    def build(f):
        months = services.trend(current_user, f, project.id)
        return {
            "figures": services.project_profitability(current_user, project.id, f, with_forecast=True),
            "months": months,
            "chart": charts.trend_chart(months),
        }

    from app.budgets.routes import expenses_url  # a phase's cost → the expenses behind it, as on the budget page

    return _page("reports/_project.html", "reports/project.html", build, project=project, categories=CATEGORIES,
                 expenses_url=expenses_url)  # fmt: skip


@bp.get("/projects/<int:project_id>/profitability.csv")
@login_required
@permission_required(VIEW)
def project_profitability_csv(project_id):
    lines = report_csv.project_profitability(current_user, project_id, _filters_or_default())
    return _csv(lines, f"profitability-project-{project_id}.csv")


@bp.get("/reports/wip")
@login_required
@permission_required(VIEW)
def wip():
    return _page("reports/_wip.html", "reports/wip.html", lambda f: {"report": services.wip(current_user, f, per_page=WIP_PER_PAGE)},
                 default_status="active")  # fmt: skip


@bp.get("/reports/wip.csv")
@login_required
@permission_required(VIEW)
def wip_csv():
    return _csv(report_csv.wip(current_user, _filters_or_default("active")), "wip.csv")


@bp.get("/reports/ar-aging")
@login_required
@permission_required(VIEW)
def ar_aging():
    return _page("reports/_aging.html", "reports/aging.html", lambda f: {"report": services.ar_aging(current_user, f)},
                 buckets=queries.BUCKET_LABELS)  # fmt: skip


@bp.get("/reports/ar-aging.csv")
@login_required
@permission_required(VIEW)
def ar_aging_csv():
    return _csv(report_csv.ar_aging(current_user, _filters_or_default()), "ar-aging.csv")


@bp.get("/reports/ar-aging/invoices")
@login_required
@permission_required(VIEW)
def aging_invoices():
    """The open invoices behind an aging figure (a client's row, a bucket, or both)."""
    bucket = request.args.get("bucket")
    bucket = bucket if bucket in queries.BUCKETS else None
    client_id = to_int(request.args.get("client"))
    f = _filters_or_default()
    rows = services.aging_invoices(current_user, f, client_id, bucket)
    return render_for({}, "reports/aging_invoices.html", rows=rows, bucket=queries.BUCKET_LABELS.get(bucket or ""),
                      as_of=f.as_of or services.today(), args=f.args())  # fmt: skip


# --- the accountant's export ---------------------------------------------------------


def _export_request(source):
    today = services.today()
    first = today.replace(day=1)
    return export.parse(
        source.get("kind") or "invoices",
        source.get("date_from") or first.isoformat(),
        source.get("date_to") or today.isoformat(),
        source.get("include_exported"),
    )


@bp.get("/reports/export")
@login_required
@permission_required(export.ACTION)
def export_page():
    recent = export.recent_exports(current_user)
    try:
        req = _export_request(request.args)
    except ValidationError as exc:
        return render_for({"report": "reports/_export_preview.html"}, "reports/export.html", 422, preview=None,
                          errors=exc.fields, args=request.args, recent=recent, kinds=list(export.KINDS.items()))  # fmt: skip
    return render_for({"report": "reports/_export_preview.html"}, "reports/export.html",
                      preview=export.preview(current_user, req), errors={}, args=req.args(), recent=recent,
                      kinds=list(export.KINDS.items()))  # fmt: skip


@bp.post("/reports/export")
@login_required
@permission_required(export.ACTION)
def export_record():
    try:
        req = _export_request(request.form)
        record = export.record_export(current_user, req)
    except ValidationError as exc:
        try:
            preview = export.preview(current_user, _export_request(request.form))
        except ValidationError:
            preview = None
        return render_for({}, "reports/export.html", 422, preview=preview, errors=exc.fields, args=request.form,
                          recent=export.recent_exports(current_user), kinds=list(export.KINDS.items()))  # fmt: skip
    flash(f"Exported {record.row_count} {record.kind}. Download the file below.", "success")
    return redirect_to(url_for("reports.export_page", **req.args()))


@bp.get("/reports/exports/<int:export_id>.csv")
@login_required
@permission_required(export.ACTION)
def export_download(export_id):
    record = export.get_export(current_user, export_id)
    return _csv(export.export_file(current_user, record), export.export_filename(record))
