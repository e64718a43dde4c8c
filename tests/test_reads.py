"""Reads follow the same rules as writes (issue 5): one search rule, one list function
for the page and the API, pages past the end, the archive hint, Vary for the header a
page reads, field views shared by pages and JSON."""

from __future__ import annotations

from sqlalchemy import select

from app.clients.models import Client
from app.core.search import contains, contains_tested, escape_like
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user


def names(response) -> list[str]:
    return [p["name"] for p in response.json["data"]["results"]]


# --- one search rule ----------------------------------------------------------------------


def test_escape_like_takes_wildcards_literally():
    assert escape_like("50%") == "50\\%"
    assert escape_like("a_b") == "a\\_b"
    assert escape_like("c:\\temp") == "c:\\\\temp"


def test_contains_treats_percent_underscore_and_backslash_literally_on_postgresql(db):
    for name in ("50% deposit", "500 Main", "Paint_2026", "Paint 2026", "C:\\jobs\\north", "C:jobs"):
        make_client(name=name)

    def found(text):
        stmt = select(Client.name).where(contains((Client.name,), text)).order_by(Client.name)
        return db.session.scalars(stmt).all()

    assert found("50%") == ["50% deposit"]
    assert found("%") == ["50% deposit"]
    assert found("t_2") == ["Paint_2026"]
    assert found("\\jobs") == ["C:\\jobs\\north"]
    assert found("DEPOSIT") == ["50% deposit"]  # case-insensitive
    assert len(found("  ")) == db.session.query(Client).count()  # blank text: no filter


def test_the_walks_test_finds_exactly_what_the_index_rule_finds(db):
    """contains_tested (strpos, for a walk over an ordering index) and contains (LIKE, for
    the trigram indexes) are one rule: the same rows for every text, wildcards included."""
    for name in ("50% deposit", "500 Main", "Paint_2026", "Paint 2026", "C:\\jobs\\north", "C:jobs", "Zoë Ñúñez"):
        make_client(name=name)

    def found(rule, text):
        return db.session.scalars(select(Client.name).where(rule((Client.name,), text)).order_by(Client.name)).all()

    for text in ("50%", "%", "_", "t_2", "\\jobs", "DEPOSIT", "zoë", "ÑÚÑ", "paint", "  ", "nothing", "'; drop"):
        assert found(contains_tested, text) == found(contains, text), text
    assert found(contains_tested, "t_2") == ["Paint_2026"]


def test_every_search_box_uses_the_literal_rule(client, db, login_as):
    admin = login_as("admin")
    deposit = make_client(name="Deposit Co")
    make_project(name="50% deposit repaint", client=deposit)
    make_project(name="500 Main exterior")
    make_client(name="100% Painting")
    page = client.get("/projects?q=50%25").text
    assert "50% deposit repaint" in page and "500 Main exterior" not in page
    headers = bearer(client, admin)
    assert names(client.get("/api/projects/?search=50%25", headers=headers)) == ["50% deposit repaint"]
    clients_page = client.get("/clients?q=%25").text
    assert "100% Painting" in clients_page and "Deposit Co" not in clients_page
    assert names(client.get("/api/clients/?search=%25", headers=headers)) == ["100% Painting"]


# --- one list function: the PM filter -----------------------------------------------------


def test_pm_filter_is_refused_alike_on_the_page_and_in_the_api_for_roles_without_team_view(client, db, login_as):
    """Decision: roles without `team.view` may not filter by PM — both surfaces answer a
    field error (page 422, API 400) instead of one ignoring it and the other refusing."""
    pm = make_user("project_manager_full")
    designer = login_as("designer")
    make_project(name="Shared job", members=[pm, designer])
    page = client.get(f"/projects?pm={pm.id}")
    assert page.status_code == 422
    assert "Your role cannot filter by team member." in page.text
    assert "Shared job" not in page.text
    fragment = client.get(f"/projects?pm={pm.id}", headers={"HX-Request": "true", "HX-Target": "project-results"})
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert 'data-error-for="pm"' in fragment.text
    api = client.get(f"/api/projects/?assigned_pm={pm.id}", headers=bearer(client, designer))
    assert api.status_code == 400
    assert api.json["error"]["details"] == {"assigned_pm": "Your role cannot filter by team member."}
    # without the filter both list the project
    assert "Shared job" in client.get("/projects").text
    assert names(client.get("/api/projects/", headers=bearer(client, designer))) == ["Shared job"]


def test_page_and_api_order_and_filter_alike(client, db, login_as):
    admin = login_as("admin")
    acme = make_client(name="Acme")
    for name, budget in (("Bravo", 300), ("Alpha", 100), ("Charlie", 200)):
        make_project(name=name, client=acme, budget=budget)
    make_project(name="Elsewhere")
    headers = bearer(client, admin)
    api = names(client.get(f"/api/projects/?client={acme.id}&ordering=-budget", headers=headers))
    html = client.get(f"/projects?client={acme.id}&sort=budget&dir=desc").text
    assert api == ["Bravo", "Charlie", "Alpha"]
    assert [html.index(n) for n in api] == sorted(html.index(n) for n in api)
    assert "Elsewhere" not in html


# --- pages past the end -------------------------------------------------------------------


def test_a_page_past_the_end_shows_the_last_page(client, db, login_as):
    admin = login_as("admin")
    company = make_client(name="Pager Co")
    for i in range(30):
        make_project(name=f"Job {i:02d}", client=company)
    page = client.get("/projects?page=999")
    assert page.status_code == 200
    assert "Page 2 of 2" in page.text and "Page 999" not in page.text
    assert "Job 29" in page.text and "Job 00" not in page.text
    assert "page=998" not in page.text
    data = client.get("/api/projects/?page=999&page_size=25", headers=bearer(client, admin)).json["data"]
    assert data["pagination"]["page"] == 2 and len(data["results"]) == 5
    for i in range(30):
        make_client(name=f"Pager client {i:02d}")
    clients_page = client.get("/clients?q=pager+client&page=50").text
    assert "Page 2 of 2" in clients_page and "Pager client 29" in clients_page


def test_audit_viewer_past_the_end_shows_the_last_page(client, db, login_as):
    login_as("admin")
    for i in range(60):
        make_client(name=f"Audited {i:02d}")  # each insert is an audit entry
    page = client.get("/admin/audit?object_type=Client&page=999").text
    assert "Page 2 of 2" in page


# --- the archive hint ---------------------------------------------------------------------


def test_a_search_that_only_archived_projects_match_says_so_with_a_link(client, db, login_as):
    pm = login_as("project_manager_full")
    make_project(name="Quarry lofts interior", members=[pm], status="closed")
    make_project(name="Quarry lofts exterior", members=[pm], status="closed")
    make_project(name="Quarry lofts secret", status="closed")  # not theirs: never counted
    response = client.get("/projects?q=quarry", headers={"HX-Request": "true", "HX-Target": "project-results"})
    assert "No projects match" in response.text
    assert "2 archived projects match" in response.text
    assert "status=closed" in response.text and "q=quarry" in response.text
    shown = client.get("/projects?q=quarry&status=closed").text
    assert "Quarry lofts interior" in shown and "Quarry lofts secret" not in shown
    # no hint when nothing in the archive matches either
    assert "archived" not in client.get("/projects?q=nothing-like-this").text.split("No projects match")[1][:200]


# --- Vary for the header a page reads -----------------------------------------------------


def test_pages_that_branch_on_hx_target_vary_on_it(client, db, login_as):
    login_as("admin")
    project = make_project()
    for url, target in (
        ("/projects", "project-results"),
        ("/clients", "client-results"),
        ("/admin/audit", "audit-results"),
        (f"/projects/{project.id}", "project-detail"),
        ("/projects/new", "project-form"),
    ):
        full = client.get(url)
        fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": target})
        assert "<html" in full.text and "<html" not in fragment.text, url
        assert "HX-Target" in full.headers.get("Vary", ""), url
        assert "HX-Target" in fragment.headers.get("Vary", ""), url
    # a page that does not branch says nothing about htmx headers
    assert "HX-" not in client.get("/notifications", headers={"HX-Request": "true"}).headers.get("Vary", "")


# --- one view of a project for pages and JSON ---------------------------------------------


def test_the_project_view_decides_budget_notes_and_team_for_pages_and_json(client, db, login_as):
    from app.projects.views import PROJECT_VIEW

    pm, designer = make_user("project_manager_full"), make_user("designer")
    project = make_project(members=[pm, designer], budget=12345, internal_notes="margin 40%")
    assert PROJECT_VIEW.hidden(pm, project) == set()
    hidden = {"budget", "contract_value", "profitability", "internal_notes", "team"}
    assert PROJECT_VIEW.hidden(designer, project) == hidden
    for user in (pm, designer):
        hidden = PROJECT_VIEW.hidden(user, project)
        login_as(user)
        html = client.get(f"/projects/{project.id}").text
        data = client.get(f"/api/projects/{project.id}/", headers=bearer(client, user)).json["data"]
        assert ("$12,345.00" in html) is ("budget" not in hidden)
        assert (data["budget"] is not None) is ("budget" not in hidden)
        assert ("contract_value" in hidden) is (user is designer)  # what the client agreed: money
        assert ("profitability" in data) is ("profitability" not in hidden)
        assert ("margin 40%" in html) is ("internal_notes" not in hidden)
        assert ('data-testid="team-roster"' in html) is ("team" not in hidden)


# --- project names: unique per client -----------------------------------------------------


def test_project_names_are_unique_per_client_ignoring_case_and_spaces(client, db, login_as):
    login_as("admin")
    hughes, ruiz = make_client(name="Hughes"), make_client(name="Ruiz")
    make_project(name="Interior repaint", client=hughes)

    def create(company, name):
        return client.post("/projects", data={"name": name, "client_id": company.id, "address": "1 Elm St"})

    assert create(ruiz, "Interior repaint").status_code == 303  # another client: fine
    clash = create(hughes, "  interior   REPAINT ")
    assert clash.status_code == 422
    assert "Hughes already has a project named" in clash.text
    stored = db.session.scalars(select(Project.name).where(Project.client_id == ruiz.id)).all()
    assert stored == ["Interior repaint"]
    tidy = create(hughes, "  Deck   stain ")
    assert tidy.status_code == 303
    assert db.session.scalar(select(Project.name).where(Project.name.like("Deck%"))) == "Deck stain"


def test_the_database_refuses_a_second_name_for_the_same_client(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    company = make_client()
    make_project(name="Fence", client=company)
    make_project(name="Fence")  # another client
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_project(name="FENCE", client=company)


def test_the_client_is_shown_beside_project_names(client, db, login_as):
    login_as("admin")
    project = make_project(name="Deck stain", client=make_client(name="Hughes Family"))
    for url in ("/projects", f"/projects/{project.id}", "/"):
        html = client.get(url).text
        assert "Deck stain" in html and "Hughes Family" in html, url


def test_the_client_is_shown_beside_project_names_on_admin_pages(client, db, login_as):
    login_as("admin")
    designer = make_user("designer")
    project = make_project(name="Deck stain", client=make_client(name="Hughes Family"), members=[designer])
    for url in (f"/admin/projects/{project.id}/team", f"/admin/users/{designer.id}"):
        html = client.get(url).text
        assert "Deck stain" in html and "Hughes Family" in html, url
