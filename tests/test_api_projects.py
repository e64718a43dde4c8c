"""/api/projects/ and /api/clients/ (SPEC.md §4, §5): envelopes, pagination, ordering,
filters, role scoping, field shapes, validation that writes nothing, PUT/PATCH/DELETE."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.projects.models import Project, ProjectMembership
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

LIST = "/api/projects/"
PROJECT_FIELDS = {
    "id", "name", "description", "client", "status", "assigned_pms", "budget",
    "start_date", "end_date", "progress_percent", "location", "contract_value", "version", "created_at", "updated_at",
}  # fmt: skip
PROFITABILITY = {"total_invoiced", "total_paid", "total_expenses", "profit", "roi"}


def detail_url(project_id: int) -> str:
    return f"/api/projects/{project_id}/"


def project_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Project))


def membership_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ProjectMembership))


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [row["name"] for row in response.json["data"]["results"]]


def assert_validation(response, *fields):
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert response.json["success"] is False
    assert error["code"] == "VALIDATION_ERROR"
    assert set(fields) <= set(error["details"]), error["details"]
    return error["details"]


@pytest.fixture()
def as_role(client, db):
    """as_role(role_or_user) → (user, Authorization headers)."""

    def _as(who, **kwargs):
        user = make_user(who, **kwargs) if isinstance(who, str) else who
        return user, bearer(client, user)

    return _as


# --- list: envelope and pagination ------------------------------------------------------


def test_list_envelope_and_default_pagination(client, db, as_role):
    _, headers = as_role("admin")
    for i in range(25):
        make_project(name=f"Paging {i:02d}")
    response = client.get(LIST, headers=headers)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"success", "data"} and body["success"] is True
    assert set(body["data"]) == {"results", "pagination"}
    pagination = body["data"]["pagination"]
    assert set(pagination) == {"page", "page_size", "total_pages", "total_count", "next", "previous"}
    assert pagination["page"] == 1 and pagination["page_size"] == 20
    assert pagination["total_count"] == 25 and pagination["total_pages"] == 2
    assert pagination["previous"] is None
    assert len(body["data"]["results"]) == 20
    assert set(body["data"]["results"][0]) == PROJECT_FIELDS

    next_url = urlsplit(pagination["next"])
    assert next_url.path == LIST
    assert parse_qs(next_url.query)["page"] == ["2"]
    second = client.get(f"{next_url.path}?{next_url.query}", headers=headers).json["data"]
    assert len(second["results"]) == 5
    assert second["pagination"]["next"] is None
    assert parse_qs(urlsplit(second["pagination"]["previous"]).query)["page"] == ["1"]
    # pages do not overlap and together hold every project
    first_ids = {row["id"] for row in body["data"]["results"]}
    assert first_ids.isdisjoint({row["id"] for row in second["results"]})


def test_page_size_is_capped_at_100_and_links_keep_filters(client, db, as_role):
    _, headers = as_role("admin")
    client_a = make_client(name="Capped Co")
    for i in range(3):
        make_project(name=f"Capped {i}", client=client_a)
    data = client.get(f"{LIST}?page_size=500&search=capped", headers=headers).json["data"]
    assert data["pagination"]["page_size"] == 100
    data = client.get(f"{LIST}?page_size=1&search=capped", headers=headers).json["data"]
    assert data["pagination"]["total_pages"] == 3
    query = parse_qs(urlsplit(data["pagination"]["next"]).query)
    assert query == {"page": ["2"], "page_size": ["1"], "search": ["capped"]}


def test_page_past_the_end_is_the_last_page_with_its_real_number(client, db, as_role):
    _, headers = as_role("admin")
    for name in ("Alpha", "Bravo", "Charlie"):
        make_project(name=name)
    data = client.get(f"{LIST}?page=50&page_size=2", headers=headers).json["data"]
    assert [p["name"] for p in data["results"]] == ["Charlie"]
    assert data["pagination"]["page"] == 2 and data["pagination"]["total_pages"] == 2
    assert data["pagination"]["next"] is None
    assert parse_qs(urlsplit(data["pagination"]["previous"]).query)["page"] == ["1"]


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=x", "page_size=0", "page_size=abc", "status=open", "client=abc", "assigned_pm=1.5"],
)
def test_bad_list_parameters_are_400(client, db, as_role, query):
    _, headers = as_role("admin")
    assert_validation(client.get(f"{LIST}?{query}", headers=headers), query.split("=")[0])


# --- ordering ---------------------------------------------------------------------------


def test_ordering_by_several_fields(client, db, as_role):
    _, headers = as_role("admin")
    make_project(name="Bravo", budget=Decimal("500.00"))
    make_project(name="Alpha", budget=Decimal("500.00"))
    make_project(name="Charlie", budget=Decimal("9000.00"))
    make_project(name="Delta", budget=None)
    assert names(client.get(f"{LIST}?ordering=-budget,name", headers=headers)) == ["Charlie", "Alpha", "Bravo", "Delta"]
    assert names(client.get(f"{LIST}?ordering=budget,-name", headers=headers)) == ["Bravo", "Alpha", "Charlie", "Delta"]
    assert names(client.get(f"{LIST}?ordering=-name", headers=headers)) == ["Delta", "Charlie", "Bravo", "Alpha"]
    assert names(client.get(LIST, headers=headers)) == ["Alpha", "Bravo", "Charlie", "Delta"]  # default: name


def test_unknown_ordering_field_is_400(client, db, as_role):
    _, headers = as_role("admin")
    details = assert_validation(client.get(f"{LIST}?ordering=-internal_notes", headers=headers), "ordering")
    assert "internal_notes" in details["ordering"]


def test_roles_without_costs_cannot_order_by_budget(client, db, as_role):
    designer, headers = as_role("designer")
    make_project(members=[designer])
    assert_validation(client.get(f"{LIST}?ordering=budget", headers=headers), "ordering")
    assert client.get(f"{LIST}?ordering=name", headers=headers).status_code == 200


# --- filters ----------------------------------------------------------------------------


def test_filters_status_assigned_pm_client_search(client, db, as_role):
    _, headers = as_role("admin")
    pm = make_user("project_manager_full")
    acme = make_client(name="Acme Homes")
    make_project(name="Lakeside Repaint", client=acme, members=[pm], status="active", city="Round Rock")
    make_project(name="Hillcrest Stain", client=acme, status="closed")
    make_project(name="Downtown Lofts", members=[pm], address="77 Congress Ave")

    assert names(client.get(f"{LIST}?status=closed", headers=headers)) == ["Hillcrest Stain"]
    assert names(client.get(f"{LIST}?status=active", headers=headers)) == ["Lakeside Repaint"]
    assert names(client.get(f"{LIST}?assigned_pm={pm.id}", headers=headers)) == ["Downtown Lofts", "Lakeside Repaint"]
    assert names(client.get(f"{LIST}?client={acme.id}", headers=headers)) == ["Hillcrest Stain", "Lakeside Repaint"]
    assert names(client.get(f"{LIST}?search=LAKESIDE", headers=headers)) == ["Lakeside Repaint"]
    assert names(client.get(f"{LIST}?search=acme", headers=headers)) == [
        "Hillcrest Stain",
        "Lakeside Repaint",
    ]  # client name
    assert names(client.get(f"{LIST}?search=congress", headers=headers)) == ["Downtown Lofts"]  # address
    assert names(client.get(f"{LIST}?search=round rock", headers=headers)) == ["Lakeside Repaint"]  # city
    assert names(client.get(f"{LIST}?client={acme.id}&status=active&assigned_pm={pm.id}", headers=headers)) == [
        "Lakeside Repaint"
    ]
    assert names(client.get(f"{LIST}?search=nothing-matches", headers=headers)) == []


def test_search_treats_wildcards_literally_enough(client, db, as_role):
    _, headers = as_role("admin")
    make_project(name="100% Done")
    make_project(name="Other")
    assert "100% Done" in names(client.get(f"{LIST}?search=100%25", headers=headers))


# --- role scoping -----------------------------------------------------------------------


@pytest.fixture()
def world(db):
    """Three projects: one for the team, one of the client company, one unrelated."""
    team = {role: make_user(role) for role in ("project_manager_full", "pm_trainee", "designer", "superintendent")}
    customer = make_user("client")
    ours = make_project(name="Team Job", members=list(team.values()), budget=Decimal("10825.00"))
    theirs = make_project(name="Customer Job", client=customer.client, budget=Decimal("5000.00"))
    other = make_project(name="Unrelated Job")
    return {"team": team, "client": customer, "ours": ours, "theirs": theirs, "other": other}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", ["Customer Job", "Team Job", "Unrelated Job"]),
        ("project_manager_full", ["Team Job"]),
        ("pm_trainee", ["Team Job"]),
        ("designer", ["Team Job"]),
        ("superintendent", ["Team Job"]),
        ("client", ["Customer Job"]),
    ],
)
def test_list_is_scoped_by_role(client, db, as_role, world, role, expected):
    user = world["team"].get(role) or (world["client"] if role == "client" else make_user(role))
    _, headers = as_role(user)
    assert names(client.get(LIST, headers=headers)) == expected
    assert client.get(LIST, headers=headers).json["data"]["pagination"]["total_count"] == len(expected)


def test_employee_cannot_list_projects(client, db, as_role, world):
    _, headers = as_role("employee")
    response = client.get(LIST, headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "PERMISSION_DENIED"
    assert client.get(detail_url(world["ours"].id), headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("role", "visible"),
    [("project_manager_full", "ours"), ("designer", "ours"), ("client", "theirs")],
)
def test_detail_of_a_project_out_of_scope_is_404(client, db, as_role, world, role, visible):
    user = world["team"].get(role) or world["client"]
    _, headers = as_role(user)
    assert client.get(detail_url(world[visible].id), headers=headers).status_code == 200
    response = client.get(detail_url(world["other"].id), headers=headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "NOT_FOUND"
    assert "Unrelated" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "sees_budget", "sees_profitability"),
    [
        ("admin", True, True),
        ("project_manager_full", True, True),
        ("pm_trainee", True, True),
        ("designer", False, False),
        ("superintendent", False, False),
        ("client", False, False),
    ],
)
def test_money_is_shown_only_to_roles_that_may_see_it(
    client, db, as_role, world, role, sees_budget, sees_profitability
):
    user = world["team"].get(role) or (world["client"] if role == "client" else make_user(role))
    _, headers = as_role(user)
    project = world["theirs"] if role == "client" else world["ours"]
    row = client.get(LIST, headers=headers).json["data"]["results"][0 if role != "admin" else 1]
    assert row["id"] == project.id
    detail = client.get(detail_url(project.id), headers=headers).json["data"]
    expected = "5000.00" if role == "client" else "10825.00"
    for data in (row, detail):
        assert data["budget"] == (expected if sees_budget else None)
        assert "profitability" not in row
    if sees_profitability:
        assert set(detail["profitability"]) == PROFITABILITY
        assert detail["profitability"]["total_invoiced"] == "0.00"
    else:
        assert "profitability" not in detail
    assert "internal_notes" not in detail and "margin target" not in str(detail)


# --- detail and create shapes -----------------------------------------------------------


def test_detail_shape(client, db, as_role):
    _, headers = as_role("admin")
    pm = make_user("project_manager_full", full_name="Pat Manager")
    designer = make_user("designer")
    acme = make_client(name="Acme Homes")
    project = make_project(
        name="Shape Job", client=acme, members=[pm, designer], budget=Decimal("10825"), description="Two coats",
        address="12 Oak St", city="Austin", state="TX", zip="78701",
    )  # fmt: skip
    data = client.get(detail_url(project.id), headers=headers).json["data"]
    assert set(data) == PROJECT_FIELDS | {"profitability"}
    assert data["id"] == project.id and data["name"] == "Shape Job" and data["description"] == "Two coats"
    assert data["client"] == {"id": acme.id, "name": "Acme Homes"}
    assert data["assigned_pms"] == [{"id": pm.id, "name": "Pat Manager"}]  # designers are not PMs
    assert data["budget"] == "10825.00"
    assert data["start_date"] == "2026-03-01" and data["end_date"] == "2026-03-31"
    assert data["location"] == {"address": "12 Oak St", "city": "Austin", "state": "TX", "zip": "78701"}
    assert data["status"] == "created" and data["progress_percent"] == 0
    assert data["created_at"].endswith("+00:00") and "T" in data["updated_at"]


@pytest.mark.parametrize("role", ["admin", "project_manager_full", "client"])
def test_a_list_row_is_the_detail_without_profitability(client, db, as_role, role):
    """The list is read as plain rows (queries.API_COLUMNS), the detail as a Project:
    the same fields and values, for a role that sees the budget and one that does not."""
    pm = make_user("pm_trainee", full_name="Quinn Trainee")
    acme = make_client(name="Acme Homes")
    viewer = make_user(role, client=acme) if role == "client" else make_user(role)
    members = [pm, viewer] if role == "project_manager_full" else [pm]
    project = make_project(
        name="Parity Job", client=acme, members=members, budget=Decimal("725.10"), description="Trim",
        address="3 Elm St", city="Austin", state="TX", zip="78702",
    )  # fmt: skip
    _, headers = as_role(viewer)
    row = next(r for r in client.get(LIST, headers=headers).json["data"]["results"] if r["id"] == project.id)
    detail = client.get(detail_url(project.id), headers=headers).json["data"]
    detail.pop("profitability", None)
    assert row == detail
    assert row["budget"] == (None if role == "client" else "725.10")
    expected = [viewer.id, pm.id] if role == "project_manager_full" else [pm.id]  # "Project M…" < "Quinn T…"
    assert [manager["id"] for manager in row["assigned_pms"]] == expected


def _create_body(client_id: int, **extra) -> dict:
    body = {
        "name": "New Build Repaint",
        "client_id": client_id,
        "description": "Exterior, two coats",
        "budget": "10825",
        "start_date": "2026-05-01",
        "end_date": "2026-06-15",
        "location": {"address": "400 Lamar Blvd", "city": "Austin", "state": "TX", "zip": "78703"},
    }
    body.update(extra)
    return body


def test_create_answers_201_with_the_object(client, db, as_role):
    _, headers = as_role("admin")
    pm = make_user("project_manager_full", full_name="Pia PM")
    acme = make_client(name="Acme Homes")
    before = project_count(db)
    response = client.post(LIST, headers=headers, json=_create_body(acme.id, assigned_pm_ids=[pm.id]))
    assert response.status_code == 201, response.json
    assert response.json["success"] is True
    data = response.json["data"]
    assert set(data) == PROJECT_FIELDS | {"profitability"}
    assert data["name"] == "New Build Repaint"
    assert data["client"] == {"id": acme.id, "name": "Acme Homes"}
    assert data["assigned_pms"] == [{"id": pm.id, "name": "Pia PM"}]
    assert data["budget"] == "10825.00"
    assert data["location"] == {"address": "400 Lamar Blvd", "city": "Austin", "state": "TX", "zip": "78703"}
    assert data["status"] == "created"
    assert project_count(db) == before + 1
    stored = db.session.get(Project, data["id"])
    assert stored.budget == Decimal("10825.00") and stored.address == "400 Lamar Blvd"
    # the PM can now see it
    assert client.get(detail_url(stored.id), headers=bearer(client, pm)).status_code == 200


def test_pm_who_creates_a_project_is_on_its_team(client, db, as_role):
    pm, headers = as_role("project_manager_full", full_name="Creator PM")
    response = client.post(LIST, headers=headers, json=_create_body(make_client().id))
    assert response.status_code == 201
    assert response.json["data"]["assigned_pms"] == [{"id": pm.id, "name": "Creator PM"}]
    assert names(client.get(LIST, headers=headers)) == ["New Build Repaint"]


@pytest.mark.parametrize("role", ["designer", "superintendent", "employee", "client"])
def test_roles_that_may_not_create_get_403_and_nothing_is_written(client, db, as_role, role):
    _, headers = as_role(role)
    before = project_count(db)
    response = client.post(LIST, headers=headers, json=_create_body(make_client().id))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "PERMISSION_DENIED"
    assert project_count(db) == before


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"name": "existing job"}, {"name"}),  # unique, case-insensitive
        ({"name": "  "}, {"name"}),
        ({"start_date": "2026-06-01", "end_date": "2026-05-01"}, {"end_date"}),
        ({"start_date": "June first"}, {"start_date"}),
        ({"client_id": 999999}, {"client_id"}),
        ({"client_id": None}, {"client_id"}),
        ({"client_id": "abc"}, {"client_id"}),
        ({"location": {"city": "Austin"}}, {"address"}),
        ({"location": None}, {"address"}),
        ({"location": "400 Lamar"}, {"location"}),
        ({"budget": "lots"}, {"budget"}),
        ({"budget": "-5"}, {"budget"}),
        ({"budget": "1e20"}, {"budget"}),
        ({"assigned_pm_ids": "7"}, {"assigned_pm_ids"}),
        ({"assigned_pm_ids": ["x"]}, {"assigned_pm_ids"}),
        ({"assigned_pm_ids": [999999]}, {"assigned_pm_ids"}),
    ],
)
def test_create_validation_errors_write_nothing(client, db, as_role, change, fields):
    _, headers = as_role("admin")
    acme = make_client()
    make_project(name="Existing Job", client=acme)  # names are unique per client
    before, members_before = project_count(db), membership_count(db)
    body = _create_body(acme.id)
    body.update(change)
    if body.get("location") is None:
        body.pop("location")
    assert_validation(client.post(LIST, headers=headers, json=body), *fields)
    assert project_count(db) == before
    assert membership_count(db) == members_before


def test_create_reports_every_problem_at_once(client, db, as_role):
    _, headers = as_role("admin")
    details = assert_validation(
        client.post(LIST, headers=headers, json={"name": "", "client_id": 999999, "start_date": "2026-02-02", "end_date": "2026-01-01"}),
        "name", "client_id", "address", "end_date",
    )  # fmt: skip
    assert all(isinstance(message, str) and message for message in details.values())


def test_only_pms_can_be_assigned_as_pms(client, db, as_role):
    _, headers = as_role("admin")
    designer = make_user("designer")
    inactive = make_user("project_manager_full", is_active_flag=False)
    before = project_count(db)
    for bad in (designer, inactive):
        assert_validation(
            client.post(LIST, headers=headers, json=_create_body(make_client().id, assigned_pm_ids=[bad.id])),
            "assigned_pm_ids",
        )
    assert project_count(db) == before


# --- update -----------------------------------------------------------------------------


def test_put_requires_the_full_body(client, db, as_role):
    _, headers = as_role("admin")
    project = make_project(name="Full Body")
    assert_validation(
        client.put(detail_url(project.id), headers=headers, json={"description": "only this"}),
        "name",
        "client_id",
        "location",
    )
    assert db.session.get(Project, project.id).description == ""


def test_put_replaces_the_project(client, db, as_role):
    _, headers = as_role("admin")
    project = make_project(name="Before Put")
    other = make_client(name="New Owner")
    body = _create_body(other.id, name="After Put", budget="2500.5")
    response = client.put(detail_url(project.id), headers=headers, json=body)
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["name"] == "After Put" and data["client"] == {"id": other.id, "name": "New Owner"}
    assert data["budget"] == "2500.50" and data["location"]["address"] == "400 Lamar Blvd"
    stored = db.session.get(Project, project.id)
    assert stored.name == "After Put" and stored.client_id == other.id and stored.budget == Decimal("2500.50")


def test_patch_changes_only_what_is_sent(client, db, as_role):
    _, headers = as_role("admin")
    project = make_project(name="Patch Me", description="old", city="Austin")
    response = client.patch(detail_url(project.id), headers=headers, json={"description": "new scope"})
    assert response.status_code == 200, response.json
    stored = db.session.get(Project, project.id)
    assert stored.description == "new scope"
    assert stored.name == "Patch Me" and stored.city == "Austin" and stored.budget == Decimal("10000.00")
    response = client.patch(detail_url(project.id), headers=headers, json={"location": {"zip": "78704"}})
    assert response.json["data"]["location"] == {
        "address": stored.address,
        "city": "Austin",
        "state": "",
        "zip": "78704",
    }


def test_patch_validation_writes_nothing(client, db, as_role):
    _, headers = as_role("admin")
    company = make_client()
    make_project(name="Taken Name", client=company)  # names are unique per client
    project = make_project(name="Keep Name", description="keep", client=company)
    assert_validation(
        client.patch(detail_url(project.id), headers=headers, json={"name": "TAKEN NAME", "description": "changed"}),
        "name",
    )
    assert_validation(
        client.patch(detail_url(project.id), headers=headers, json={"end_date": "2020-01-01"}), "end_date"
    )
    assert_validation(
        client.patch(detail_url(project.id), headers=headers, json={"location": {"address": ""}}), "address"
    )
    stored = db.session.get(Project, project.id)
    assert stored.name == "Keep Name" and stored.description == "keep" and stored.end_date.isoformat() == "2026-03-31"


def test_patch_with_pm_change_that_fails_writes_nothing(client, db, as_role):
    _, headers = as_role("admin")
    pm = make_user("project_manager_full")
    project = make_project(name="Team Change", members=[pm])
    designer = make_user("designer")
    assert_validation(
        client.patch(
            detail_url(project.id), headers=headers, json={"description": "changed", "assigned_pm_ids": [designer.id]}
        ),
        "assigned_pm_ids",
    )
    stored = db.session.get(Project, project.id)
    assert stored.description == "" and stored.member_ids == {pm.id}


def test_patch_replaces_the_pm_list(client, db, as_role):
    _, headers = as_role("admin")
    old_pm, new_pm = make_user("project_manager_full"), make_user("project_manager_full")
    project = make_project(members=[old_pm])
    response = client.patch(detail_url(project.id), headers=headers, json={"assigned_pm_ids": [new_pm.id]})
    assert response.status_code == 200
    assert [pm["id"] for pm in response.json["data"]["assigned_pms"]] == [new_pm.id]
    assert client.get(detail_url(project.id), headers=bearer(client, old_pm)).status_code == 404


def test_trainee_cannot_change_the_budget(client, db, as_role):
    trainee, headers = as_role("pm_trainee")
    project = make_project(members=[trainee], budget=Decimal("10000.00"))
    response = client.patch(
        detail_url(project.id), headers=headers, json={"budget": "99999.00", "description": "sneaky"}
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert response.json["error"]["details"] == {"budget": "Your role cannot change the budget."}
    stored = db.session.get(Project, project.id)
    assert stored.budget == Decimal("10000.00") and stored.description == ""
    # the same budget, or no budget in the body, is fine
    assert (
        client.patch(detail_url(project.id), headers=headers, json={"budget": "10000", "description": "ok"}).status_code
        == 200
    )
    assert client.patch(detail_url(project.id), headers=headers, json={"notes": "fine"}).status_code == 200
    assert db.session.get(Project, project.id).budget == Decimal("10000.00")


def test_full_pm_can_change_the_budget(client, db, as_role):
    pm, headers = as_role("project_manager_full")
    project = make_project(members=[pm])
    response = client.patch(detail_url(project.id), headers=headers, json={"budget": 12000.5})
    assert response.status_code == 200
    assert response.json["data"]["budget"] == "12000.50"


@pytest.mark.parametrize("role", ["designer", "superintendent", "client"])
def test_viewers_cannot_edit(client, db, as_role, role):
    user = make_user(role)
    project = make_project(
        members=[user] if role != "client" else [], client=user.client if role == "client" else None, name="Read Only"
    )
    _, headers = as_role(user)
    for method in ("patch", "put"):
        response = getattr(client, method)(
            detail_url(project.id), headers=headers, json=_create_body(project.client_id, name="Hijacked")
        )
        assert response.status_code == 403
        assert response.json["error"]["code"] == "PERMISSION_DENIED"
    assert db.session.get(Project, project.id).name == "Read Only"


def test_pm_cannot_edit_a_project_they_are_not_on(client, db, as_role):
    _, headers = as_role("project_manager_full")
    project = make_project(name="Not Yours")
    assert client.patch(detail_url(project.id), headers=headers, json={"name": "Mine now"}).status_code == 404
    assert db.session.get(Project, project.id).name == "Not Yours"


def test_update_body_must_be_json(client, db, as_role):
    _, headers = as_role("admin")
    project = make_project()
    assert_validation(client.patch(detail_url(project.id), headers=headers, data="name=x"), "body")


# --- delete -----------------------------------------------------------------------------


def test_delete_is_admin_only(client, db, as_role):
    pm, pm_headers = as_role("project_manager_full")
    project_id = make_project(members=[pm], name="Doomed").id
    response = client.delete(detail_url(project_id), headers=pm_headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "PERMISSION_DENIED"
    assert db.session.get(Project, project_id) is not None

    _, headers = as_role("admin")
    response = client.delete(detail_url(project_id), headers=headers)
    assert response.status_code == 200
    assert response.json == {"success": True, "data": {"id": project_id, "deleted": True}}
    assert db.session.get(Project, project_id) is None
    assert membership_count(db) == 0
    assert client.get(detail_url(project_id), headers=headers).status_code == 404
    assert client.delete(detail_url(project_id), headers=headers).status_code == 404


# --- queries do not grow with the rows shown -----------------------------------------------


def test_list_query_count_does_not_grow_with_rows(client, db, as_role, count_queries):
    _, headers = as_role("admin")
    pm = make_user("project_manager_full")
    for i in range(3):
        make_project(name=f"Few {i}", members=[pm])
    with count_queries() as few:
        assert client.get(f"{LIST}?page_size=100", headers=headers).status_code == 200
    for i in range(20):
        make_project(name=f"Many {i}", members=[pm, make_user("designer")])
    with count_queries() as many:
        assert client.get(f"{LIST}?page_size=100", headers=headers).status_code == 200
    assert many.n <= few.n, many.statements


# --- /api/clients/ ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "project_manager_full", "pm_trainee"])
def test_clients_list_search_and_detail(client, db, as_role, role):
    _, headers = as_role(role)
    acme = make_client(name="Acme Homes", email="office@acme.example", phone="512-555-0100")
    make_client(name="Zenith Builders", email="hi@zenith.example")
    response = client.get("/api/clients/?search=acme", headers=headers)
    assert response.status_code == 200
    data = response.json["data"]
    assert [c["name"] for c in data["results"]] == ["Acme Homes"]
    assert data["pagination"]["total_count"] == 1
    assert (
        client.get("/api/clients/?search=zenith.example", headers=headers).json["data"]["results"][0]["name"]
        == "Zenith Builders"
    )
    detail = client.get(f"/api/clients/{acme.id}/", headers=headers)
    assert detail.status_code == 200
    body = detail.json["data"]
    assert body["id"] == acme.id and body["name"] == "Acme Homes" and body["email"] == "office@acme.example"
    assert "tax_id" not in body and "notes" not in body


def test_clients_list_is_paginated_and_ordered(client, db, as_role):
    _, headers = as_role("admin")
    for name in ("Cedar", "Aspen", "Birch"):
        make_client(name=f"{name} Co")
    data = client.get("/api/clients/?ordering=-name&page_size=2", headers=headers).json["data"]
    assert [c["name"] for c in data["results"]] == ["Cedar Co", "Birch Co"]
    assert data["pagination"]["total_pages"] == 2
    assert_validation(client.get("/api/clients/?ordering=tax_id", headers=headers), "ordering")


@pytest.mark.parametrize("role", ["designer", "superintendent", "employee", "client"])
def test_clients_api_is_closed_to_other_roles(client, db, as_role, role):
    _, headers = as_role(role)
    acme = make_client()
    for url in ("/api/clients/", f"/api/clients/{acme.id}/"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "PERMISSION_DENIED"


def test_put_replaces_and_patch_keeps_optional_fields(client, db):
    from tests.conftest import bearer as _bearer
    from tests.factories import make_client as _make_client
    from tests.factories import make_project as _make_project
    from tests.factories import make_user as _make_user

    admin = _make_user("admin")
    headers = _bearer(client, admin)
    project = _make_project(description="Scope A", internal_notes="keep me", city="Austin")
    other = _make_client(name="New Owner LLC")
    patched = client.patch(f"/api/projects/{project.id}/", json={"name": "Renamed"}, headers=headers)
    assert patched.status_code == 200 and patched.json["data"]["description"] == "Scope A"
    put = client.put(
        f"/api/projects/{project.id}/",
        json={"name": "Replaced", "client_id": other.id, "location": {"address": "1 New Rd"}},
        headers=headers,
    )
    body = put.json["data"]
    assert put.status_code == 200
    assert body["description"] == "" and body["location"]["city"] == "" and body["budget"] is None
    assert body["client"] == {"id": other.id, "name": "New Owner LLC"}
    db.session.refresh(project)
    assert project.internal_notes == "keep me"  # not an API field, so PUT leaves it alone


def test_method_not_allowed_keeps_the_allow_header(client, db):
    from tests.conftest import bearer as _bearer
    from tests.factories import make_user as _make_user

    headers = _bearer(client, _make_user("admin"))
    response = client.post("/api/projects/1/", json={}, headers=headers)
    assert response.status_code == 405
    assert response.json["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "PATCH" in response.headers["Allow"]
