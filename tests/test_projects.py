"""The projects slice through its pages: list, search, filters, sort, paging,
create/edit with inline errors, close (archive, read-only), delete."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.projects.models import Project, ProjectMembership
from tests.factories import make_client, make_project, make_user


def count(db, model=Project):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_project_as_pm_puts_the_pm_on_the_team(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client(name="Brightline Dental")
    response = client.post(
        "/projects",
        data={
            "name": "Brightline lobby",
            "client_id": company.id,
            "address": "2210 S Lamar Blvd",
            "budget": "9,800.50",
            "start_date": "2026-05-01",
            "end_date": "2026-05-20",
        },
    )
    assert response.status_code == 303
    project = db.session.scalar(select(Project).where(Project.name == "Brightline lobby"))
    assert project.status == "created"
    assert project.budget == Decimal("9800.50")
    assert project.start_date == date(2026, 5, 1)
    assert pm.id in project.member_ids
    assert response.headers["Location"].endswith(f"/projects/{project.id}")


def test_htmx_create_answers_hx_location(client, login_as, db):
    login_as("admin")
    company = make_client()
    response = client.post(
        "/projects",
        data={"name": "Via htmx", "client_id": company.id, "address": "1 A St"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "/projects/" in response.headers["HX-Location"]


def test_invalid_project_rerenders_the_form_with_every_error_and_writes_nothing(client, login_as, db):
    login_as("project_manager_full")
    make_project(name="Lakeview clubhouse")
    before = count(db)
    response = client.post(
        "/projects",
        data={
            "name": "lakeview CLUBHOUSE",
            "client_id": "999999",
            "address": "",
            "start_date": "2026-06-10",
            "end_date": "2026-06-01",
            "budget": "abc",
        },
        headers={"HX-Request": "true", "HX-Target": "project-form"},
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="project-form"' in html and "<html" not in html  # the fragment, not a page
    assert "That client does not exist." in html
    assert "The site address is required." in html
    assert "cannot be before the start date" in html
    assert "Enter an amount" in html
    assert count(db) == before


def test_list_search_filter_sort_and_paging(client, login_as, db):
    login_as("admin")
    company = make_client(name="Zephyr Homes")
    for i in range(30):
        make_project(name=f"Deck stain {i:02d}", client=company, budget=Decimal(1000 + i))
    make_project(name="Cabinet refinish", status="closed")
    page = client.get("/projects?q=deck&sort=budget&dir=desc")
    assert page.status_code == 200
    assert "Deck stain 29" in page.text and "Cabinet refinish" not in page.text
    assert page.text.index("Deck stain 29") < page.text.index("Deck stain 28")
    assert "Page 1 of 2" in page.text
    second = client.get(
        "/projects?q=deck&sort=budget&dir=desc&page=2", headers={"HX-Request": "true", "HX-Target": "project-results"}
    )
    assert second.status_code == 200 and "<html" not in second.text
    assert "Deck stain 00" in second.text and "Deck stain 29" not in second.text
    by_client = client.get("/projects?q=zephyr")
    assert "Deck stain 05" in by_client.text
    archive = client.get("/projects?status=closed")
    assert "Cabinet refinish" in archive.text and "Deck stain 01" not in archive.text


def test_pm_filter(client, login_as, db):
    login_as("admin")
    pm = make_user("project_manager_full", full_name="Paula Martinez")
    make_project(name="Paula's job", members=[pm])
    make_project(name="Someone else's job")
    response = client.get(f"/projects?pm={pm.id}")
    assert "Paula&#39;s job" in response.text
    assert "Someone else" not in response.text


def test_edit_project(client, login_as, db):
    pm = login_as("project_manager_full")
    project = make_project(members=[pm], name="Old name")
    response = client.post(
        f"/projects/{project.id}/edit",
        data={
            "name": "New name",
            "client_id": project.client_id,
            "address": "9 Elm",
            "budget": "12000",
            "pm_ids": [pm.id],
        },
    )
    assert response.status_code == 303
    db.session.refresh(project)
    assert (project.name, project.address, project.budget) == ("New name", "9 Elm", Decimal("12000.00"))


def test_trainee_cannot_change_the_budget(client, login_as, db):
    trainee = login_as("pm_trainee")
    project = make_project(members=[trainee], budget=Decimal("5000.00"))
    page = client.get(f"/projects/{project.id}/edit")
    assert 'name="budget"' not in page.text
    response = client.post(
        f"/projects/{project.id}/edit",
        data={
            "name": project.name,
            "client_id": project.client_id,
            "address": project.address,
            "budget": "99999",
            "pm_ids": [trainee.id],
        },
    )
    assert response.status_code == 422
    db.session.refresh(project)
    assert project.budget == Decimal("5000.00")


def test_close_makes_the_project_read_only_and_archived(client, login_as, db):
    pm = login_as("project_manager_full")
    project = make_project(members=[pm])
    assert client.post(f"/projects/{project.id}/close").status_code == 303
    db.session.refresh(project)
    assert project.status == "closed"
    detail = client.get(f"/projects/{project.id}")
    assert "read-only" in detail.text and 'data-testid="edit-project"' not in detail.text
    edit = client.post(
        f"/projects/{project.id}/edit", data={"name": "Changed", "client_id": project.client_id, "address": "x"}
    )
    assert edit.status_code == 409
    db.session.refresh(project)
    assert project.name != "Changed"
    assert project.name not in client.get("/projects").text
    assert project.name in client.get("/projects?status=closed").text


def test_trainee_cannot_close_and_admin_can_delete(client, login_as, db):
    trainee = login_as("pm_trainee")
    project = make_project(members=[trainee])
    assert client.post(f"/projects/{project.id}/close").status_code == 403
    db.session.refresh(project)
    assert project.status == "created"
    assert client.post(f"/projects/{project.id}/delete").status_code == 403
    login_as("admin")
    project_id = project.id
    assert client.post(f"/projects/{project_id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).where(Project.id == project_id)) == 0
    assert count(db, ProjectMembership) == 0


def test_client_sees_own_projects_without_internal_details(client, login_as, db):
    company = make_client(name="Hughes Residence")
    user = login_as("client", client=company)
    mine = make_project(client=company, name="Hughes deck", internal_notes="margin 32% secret")
    other = make_project(name="Neighbour job")
    listing = client.get("/projects")
    assert "Hughes deck" in listing.text and "Neighbour job" not in listing.text
    assert "Budget" not in listing.text
    detail = client.get(f"/projects/{mine.id}")
    assert "margin 32% secret" not in detail.text and "$10,000.00" not in detail.text
    assert client.get(f"/projects/{other.id}").status_code == 404
    assert user.client_id == company.id


def test_project_becomes_active_only_with_a_pm(db, app):
    from app.projects.services import schedule_started

    pm = make_user("project_manager_full")
    with_pm = make_project(members=[pm])
    without = make_project(members=[make_user("designer")])
    schedule_started(with_pm)
    schedule_started(without)
    assert with_pm.status == "active"
    assert without.status == "created"


def test_database_refuses_end_before_start(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_project(start_date=date(2026, 5, 2), end_date=date(2026, 5, 1))


def test_trainee_creates_projects_without_setting_the_budget(client, login_as, db):
    login_as("pm_trainee")
    company = make_client()
    form = client.get("/projects/new")
    assert 'name="budget"' not in form.text and "set by a project manager" in form.text
    before = count(db)
    forged = client.post(
        "/projects", data={"name": "Trainee job", "client_id": company.id, "address": "1 A St", "budget": "5000"}
    )
    assert forged.status_code == 422 and "cannot set the budget" in forged.text
    assert count(db) == before
    assert (
        client.post("/projects", data={"name": "Trainee job", "client_id": company.id, "address": "1 A St"}).status_code
        == 303
    )
    assert db.session.scalar(select(Project.budget).where(Project.name == "Trainee job")) is None


def test_team_roster_only_for_roles_that_may_view_team_members(client, login_as, db):
    company = make_client()
    pm = make_user("project_manager_full", full_name="Paula Martinez")
    designer = make_user("designer", full_name="Diana Cole")
    superintendent = make_user("superintendent", full_name="Sam Ortiz")
    project = make_project(client=company, members=[pm, designer, superintendent])
    for role, roster in (("admin", True), ("designer", False), ("client", False)):
        login_as(designer if role == "designer" else role, **({"client": company} if role == "client" else {}))
        page = client.get(f"/projects/{project.id}").text
        assert ('data-testid="team-roster"' in page) is roster, role
        assert ("Sam Ortiz" in page) is roster, role  # the superintendent is staff data
        assert "Paula Martinez" in page, role  # the PM is everyone's point of contact
        listing = client.get("/projects").text
        assert ('<select id="f-pm" name="pm"' in listing) is (role == "admin"), role
