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
