"""What a row of the project list shows, formatted once in Python.

The list page renders 25 rows per request; formatting each value in the template (a
filter call, a permission question, a map-and-join of the PM names, a link built by
url_for) cost more than the rest of the template. Here every cell is a ready string —
Jinja still escapes them — and the permission question per row is asked once per row
with the row's project, as before."""

from __future__ import annotations

from typing import NamedTuple

from app.core.labels import project_status_label
from app.core.permissions import RowOf
from app.core.templating import money
from app.core.timezones import format_date
from app.core.urls import url_pattern
from app.projects.models import Project
from app.projects.queries import managers_of
from app.projects.views import PROJECT_VIEW


class ProjectRow(NamedTuple):
    id: int
    url: str
    name: str
    where: str
    client: str
    status: str
    status_label: str
    pms: str
    start: str
    budget: str


def project_rows(user, found) -> list[ProjectRow]:
    """The list's rows for `user` from queries.project_page's rows: the budget only where
    PROJECT_VIEW shows it (asked of each row, as of a Project)."""
    detail = url_pattern("projects.detail", "project_id")
    rows = []
    for p in found:
        rows.append(
            ProjectRow(
                id=p.id,
                url=detail.format(p.id),
                name=p.name,
                where=f"{p.address}, {p.city}" if p.city else p.address,
                client=p.client_name,
                status=p.status,
                status_label=project_status_label(p.status),
                pms=", ".join(name for _, name in managers_of(p.managers)) or "—",
                start=format_date(p.start_date),
                budget=money(p.budget) if PROJECT_VIEW.shows(user, RowOf(Project, p), "budget") else "—",
            )
        )
    return rows
