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
from app.projects.queries import managers_of, pm_names
from app.projects.views import PROJECT_VIEW


class SortLink(NamedTuple):
    """A column's sort link: where it leads (this column ascending, or descending when it
    is the current ascending sort), and what the header says about the current sort."""

    key: str
    label: str
    url: str
    current: bool
    arrow: str  # "↑", "↓" or ""
    aria_sort: str  # "ascending", "descending" or "none"


SORT_COLUMNS = (("name", "Project"), ("client", "Client"), ("status", "Status"), ("start_date", "Start"))


def sort_links(filters, args: dict, money_visible: bool) -> dict[str, SortLink]:
    """The list's sort links by column key (the phone bar and the table header show the
    same ones), built once per page instead of a macro per link."""
    from app.core.templating import url_for_cached

    columns = SORT_COLUMNS + ((("budget", "Budget"),) if money_visible else ())
    links = {}
    for key, label in columns:
        current = filters.sort == key
        descending = current and not filters.descending
        url = url_for_cached("projects.index", **dict(args, sort=key, dir="desc" if descending else "asc", page=1))
        arrow = ("↓" if filters.descending else "↑") if current else ""
        aria = ("descending" if filters.descending else "ascending") if current else "none"
        links[key] = SortLink(key, label, url, current, arrow, aria)
    return links


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
    names = pm_names() if found else {}
    shows_budget = PROJECT_VIEW.shows_each(user, "budget")
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
                pms=", ".join(name for _, name in managers_of(p.team_ids, names)) or "—",
                start=format_date(p.start_date),
                budget=money(p.budget) if shows_budget(RowOf(Project, p)) else "—",
            )
        )
    return rows
