"""Client pages: admin and PMs find, add and edit client companies and contacts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.clients.models import Client, ClientContact
from app.core.permissions import MATRIX, NONE, PermissionDenied
from app.core.roles import ROLES
from tests.factories import make_client, make_project, make_user


def test_pm_adds_a_client_then_starts_a_project_for_it(client, login_as, db):
    login_as("project_manager_full")
    response = client.post(
        "/clients/new?next=new-project",
        data={
            "name": "Oakridge Church",
            "contact_name": "Pastor Lee",
            "email": "office@oakridge.example",
            "phone": "512-555-0100",
            "tax_id": "74-1234567",
        },
    )
    assert response.status_code == 303
    created = db.session.scalar(select(Client).where(Client.name == "Oakridge Church"))
    assert response.headers["Location"].endswith(f"/projects/new?client_id={created.id}")
    assert [c.name for c in created.contacts] == ["Pastor Lee"]
    raw = db.session.execute(text("SELECT tax_id FROM clients WHERE id = :i"), {"i": created.id}).scalar()
    assert "1234567" not in raw
    form = client.get(f"/projects/new?client_id={created.id}")
    assert f'<option value="{created.id}" selected>' in form.text


def test_client_validation_is_inline_and_writes_nothing(client, login_as, db):
    login_as("admin")
    make_client(name="Hughes Residence")
    before = db.session.scalar(select(func.count()).select_from(Client))
    response = client.post("/clients/new", data={"name": "hughes residence", "email": "not-an-email"})
    assert response.status_code == 422
    assert "already exists" in response.text and "valid email" in response.text
    assert db.session.scalar(select(func.count()).select_from(Client)) == before


def test_search_edit_and_contacts(client, login_as, db):
    login_as("pm_trainee")
    company = make_client(name="Lakeview HOA", email="board@lakeview.example")
    make_client(name="Brightline Dental")
    found = client.get("/clients?q=lake", headers={"HX-Request": "true", "HX-Target": "client-results"})
    assert "Lakeview HOA" in found.text and "Brightline" not in found.text and "<html" not in found.text
    assert (
        client.post(
            f"/clients/{company.id}/edit", data={"name": "Lakeview HOA Board", "email": "board@lakeview.example"}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/clients/{company.id}/contacts", data={"name": "Dana", "email": "dana@lakeview.example"}
        ).status_code
        == 303
    )
    bad = client.post(f"/clients/{company.id}/contacts", data={"name": "", "email": "x"})
    assert bad.status_code == 422 and "Give the contact" in bad.text
    db.session.refresh(company)
    assert company.name == "Lakeview HOA Board"
    assert (
        db.session.scalar(select(func.count()).select_from(ClientContact).where(ClientContact.client_id == company.id))
        == 1
    )


def test_client_detail_lists_only_projects_the_viewer_may_see(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client()
    make_project(client=company, name="On my team", members=[pm])
    make_project(client=company, name="Other PM's job")
    page = client.get(f"/clients/{company.id}")
    assert "On my team" in page.text and "Other PM" not in page.text


def test_other_roles_cannot_see_or_change_clients(client, login_as, db):
    company = make_client(name="Private Co")
    for role in ("designer", "superintendent", "employee", "client"):
        login_as(role)
        assert client.get("/clients").status_code == 403, role
        assert client.get(f"/clients/{company.id}").status_code == 403, role
        assert client.post("/clients/new", data={"name": "Sneaky"}).status_code == 403, role
        assert client.post(f"/clients/{company.id}/edit", data={"name": "Renamed"}).status_code == 403, role
    db.session.refresh(company)
    assert company.name == "Private Co"
    assert db.session.scalar(select(func.count()).where(Client.name == "Sneaky")) == 0


NO_CLIENT_VIEW = [role for role in ROLES if MATRIX["client.view"][role] == NONE]


@pytest.mark.parametrize("role", NO_CLIENT_VIEW)
def test_client_reads_check_the_acting_user_themselves(role, db):
    """The reads take the acting user and check `client.view` inside, like the writes:
    a caller that forgets the route decorator (a job, the API, a new page) still refuses."""
    from app.clients import services

    actor = make_user(role)
    make_client(name="Private Co")
    with pytest.raises(PermissionDenied):
        services.search_clients(actor, "")
    with pytest.raises(PermissionDenied):
        services.client_page(actor, "", 1)
    allowed = make_user("project_manager_full")
    assert [c.name for c in db.session.scalars(services.search_clients(allowed, "Private"))] == ["Private Co"]
    assert [c.name for c in services.client_page(allowed, "Private", 1).items] == ["Private Co"]


def test_client_page_shows_contacts_billing_and_masked_tax_id_in_few_statements(client, login_as, db, count_queries):
    """The client with its contacts is one statement (an outer join), then the projects,
    the log, the client's users and open invitations, one each. The tax ID is shown
    masked (last four) to client.edit roles, never whole."""
    login_as("admin")
    company = make_client(name="Juniper Dental", billing_city="Austin", tax_id="74-7654321")
    company.contacts.append(ClientContact(name="Ana Ruiz", title="Office manager", is_primary=True))
    company.contacts.append(ClientContact(name="Bo Lee", email="bo@juniper.example"))
    make_project(client=company, name="Front desk remodel")
    bare = make_client(name="No Contacts Co")
    db.session.flush()
    with count_queries() as counted:
        page = client.get(f"/clients/{company.id}")
    assert page.status_code == 200
    text_ = page.get_data(as_text=True)
    assert text_.index("Ana Ruiz") < text_.index("Bo Lee")  # in the order they were added
    assert "Primary" in text_ and "Office manager" in text_ and "mailto:bo@juniper.example" in text_
    assert "Front desk remodel" in text_ and "Austin" in text_ and "•••• 4321" in text_
    assert "7654321" not in text_.replace("•••• 4321", "")
    selects = [s for s in counted.statements if s.startswith("SELECT")]
    # the signed-in user, the client, the projects, the log, the users, the invitations
    assert len(selects) == 6, selects
    empty = client.get(f"/clients/{bare.id}").get_data(as_text=True)
    assert "No contacts yet." in empty and "not on file" in empty and "No projects you can see." in empty
    assert client.get("/clients/999999").status_code == 404


def test_client_list_pages_read_the_user_the_total_and_the_page(client, login_as, db, count_queries):
    login_as("admin")
    for n in range(30):
        make_client(name=f"Paged Co {n:02d}")
    total = db.session.scalar(select(func.count()).select_from(Client))
    with count_queries() as counted:
        first = client.get("/clients").get_data(as_text=True)
    assert f"{total} total" in first
    selects = [s for s in counted.statements if s.startswith("SELECT")]
    # the signed-in user, the total (kept in the cache between requests while the tables
    # are unchanged; this test's own writes make it read the database: test_cached_reads.py)
    # and the page
    assert len(selects) == 3, selects
    last_page = -(-total // 25)
    past = client.get("/clients?page=999").get_data(as_text=True)
    assert f"Page {last_page} of {last_page}" in past
    none = client.get("/clients?q=zzqx-nothing").get_data(as_text=True)
    assert "No clients match" in none and "0 total" in none
