"""A page's number of SQL statements does not grow with the number of rows it shows
(no N+1): the project list (page, htmx fragment, JSON API) with 1 and with 25 projects,
and the project detail with 1 and with 10 team members, for each way of seeing them
(admin: everything; PM: assigned projects; client: its own company's projects)."""

from __future__ import annotations

import pytest

from app.core.roles import PM_ROLES
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

FRAGMENT = {"HX-Request": "true", "HX-Target": "project-results"}
# Small absolute ceilings: the list page loads user, projects, their teams, the count and
# the PM filter choices; anything beyond a handful of statements is a regression.
LIST_BOUND = 8
DETAIL_BOUND = 7


def _team(pm):
    """A PM and a superintendent, as the list shows PM names per row."""
    return [pm, make_user("superintendent")]


def _viewer(role, company):
    if role == "client":
        return make_user("client", client=company)
    return make_user(role)


class Counted:
    """The statements a request sent, without the test harness's SAVEPOINT bookkeeping
    (each request's commit is a savepoint of the test's transaction)."""

    def __init__(self, statements):
        self.statements = [
            s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
        ]
        self.n = len(self.statements)

    def __str__(self):
        return "\n\n".join(self.statements)


def _get(client, count_queries, path, headers=None):
    with count_queries() as counted:
        response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response, Counted(counted.statements)


def _shown(response, is_api):
    if is_api:
        return len(response.json["data"]["results"])
    return response.get_data(as_text=True).count('id="project-row-')


@pytest.mark.parametrize("role", ["admin", "project_manager_full", "client"])
@pytest.mark.parametrize(
    ("kind", "path", "headers"),
    [
        ("page", "/projects?sort=name", None),
        ("fragment", "/projects?sort=name", FRAGMENT),
        ("api", "/api/projects/?page_size=25", None),
    ],
)
def test_project_list_query_count_is_the_same_for_1_and_25_rows(
    client, login_as, db, count_queries, role, kind, path, headers
):
    company = make_client()
    viewer = login_as(_viewer(role, company))
    pm = viewer if role == "project_manager_full" else make_user("project_manager_full")
    make_project(client=company, members=_team(pm))
    is_api = kind == "api"
    if is_api:
        headers = bearer(client, viewer)

    one, few = _get(client, count_queries, path, headers)
    for _ in range(24):
        make_project(client=company, members=_team(pm))
    many_response, many = _get(client, count_queries, path, headers)

    assert _shown(one, is_api) == 1
    assert _shown(many_response, is_api) == 25
    assert many.n == few.n, many
    assert many.n <= LIST_BOUND, many


@pytest.mark.parametrize("role", ["admin", "project_manager_full", "client"])
@pytest.mark.parametrize("fmt", ["page", "api"])
def test_project_detail_query_count_is_the_same_for_1_and_10_members(client, login_as, db, count_queries, role, fmt):
    company = make_client()
    viewer = login_as(_viewer(role, company))
    first = viewer if role == "project_manager_full" else make_user("project_manager_full")
    small = make_project(client=company, members=[first])
    team = (
        [first]
        + [make_user(r) for r in ("project_manager_full", "pm_trainee", "designer", "superintendent") * 2]
        + [make_user("pm_trainee")]
    )
    large = make_project(client=company, members=team)
    assert len(team) == 10
    headers = bearer(client, viewer) if fmt == "api" else None
    prefix = "/api/projects/{}/" if fmt == "api" else "/projects/{}"

    small_response, few = _get(client, count_queries, prefix.format(small.id), headers)
    large_response, many = _get(client, count_queries, prefix.format(large.id), headers)

    if fmt == "api":
        assert len(large_response.json["data"]["assigned_pms"]) == sum(u.role in PM_ROLES for u in team)
    elif role != "client":
        assert large_response.get_data(as_text=True).count(team[-1].name) >= 1
    assert many.n == few.n, many
    assert many.n <= DETAIL_BOUND, many


def test_the_list_page_loads_only_the_columns_its_rows_show(client, login_as, db, count_queries):
    """Descriptions, notes and a client's encrypted tax id (up to 10,000 characters, or a
    decryption each) are not read for a page of 25 rows."""
    login_as("admin")
    make_project(description="d" * 5000, notes="n" * 5000)
    with count_queries() as counted:
        assert client.get("/projects").status_code == 200
    rows = [s for s in counted.statements if "FROM projects JOIN clients" in s and "LIMIT" in s]
    assert rows, counted.statements
    for column in (
        "projects.description",
        "projects.notes",
        "projects.internal_notes",
        "clients.tax_id",
        "clients.notes",
    ):
        assert column not in rows[0], column
