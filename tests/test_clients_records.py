"""Client records (issue 9): contacts with roles and exactly one primary, billing terms and
the masked tax ID, the communication log with follow-ups reminded once, the project
history with totals, and the API's create and update."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clients import communications
from app.clients.models import ClientCommunication, ClientContact
from app.notifications.models import Notification
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

HX = {"HX-Request": "true", "HX-Target": "client-log"}
STAFF = ("admin", "project_manager_full", "pm_trainee")
OTHERS = ("designer", "superintendent", "employee", "client")


def _contacts(db, company):
    db.session.expire_all()
    return db.session.scalars(
        select(ClientContact).where(ClientContact.client_id == company.id).order_by(ClientContact.id)
    ).all()


# --- contacts ------------------------------------------------------------------------


def test_first_contact_is_primary_and_a_new_primary_replaces_the_old(client, login_as, db):
    login_as("project_manager_full")
    company = make_client()
    assert client.post(f"/clients/{company.id}/contacts", data={"name": "Ana"}).status_code == 303
    response = client.post(
        f"/clients/{company.id}/contacts",
        data={"name": "Bo", "roles": ["site_access", "billing"], "email": "bo@example.com"},
    )
    assert response.status_code == 303
    ana, bo = _contacts(db, company)
    assert ana.is_primary and not bo.is_primary
    assert bo.role_list == ["billing", "site_access"]  # in the fixed list's order
    client.post(f"/clients/{company.id}/contacts", data={"name": "Cy", "is_primary": "1", "roles": "decision_maker"})
    ana, bo, cy = _contacts(db, company)
    assert [c.is_primary for c in (ana, bo, cy)] == [False, False, True]
    # making Bo primary un-primaries Cy
    assert (
        client.post(f"/clients/{company.id}/contacts/{bo.id}/primary", data={"version": str(bo.version)}).status_code
        == 303
    )
    assert [c.is_primary for c in _contacts(db, company)] == [False, True, False]
    page = client.get(f"/clients/{company.id}").text
    assert "Site access" in page and "Billing" in page and "Decision maker" in page


def test_contact_roles_and_fields_are_validated_inline(client, login_as, db):
    login_as("admin")
    company = make_client()
    bad = client.post(
        f"/clients/{company.id}/contacts", data={"name": "", "email": "nope", "roles": ["billing", "janitor"]}
    )
    assert bad.status_code == 422
    assert "Give the contact" in bad.text and "valid email" in bad.text and "Choose roles from" in bad.text
    assert _contacts(db, company) == []


def test_one_primary_per_client_is_enforced_by_the_database(db):
    company = make_client()
    db.session.add(ClientContact(client_id=company.id, name="A", is_primary=True))
    db.session.flush()
    savepoint = db.session.begin_nested()
    db.session.add(ClientContact(client_id=company.id, name="B", is_primary=True))
    with pytest.raises(IntegrityError):
        db.session.flush()
    savepoint.rollback()


def test_contact_edits_are_versioned(client, login_as, db):
    login_as("pm_trainee")
    company = make_client()
    client.post(f"/clients/{company.id}/contacts", data={"name": "Ana", "roles": "billing"})
    (ana,) = _contacts(db, company)
    form = client.get(f"/clients/{company.id}/contacts/{ana.id}/edit")
    assert form.status_code == 200 and 'value="billing" checked' in form.text
    saved = client.post(
        f"/clients/{company.id}/contacts/{ana.id}/edit",
        data={"name": "Ana Ruiz", "title": "Owner", "roles": ["other"], "version": str(ana.version)},
    )
    assert saved.status_code == 303
    (ana,) = _contacts(db, company)
    assert (ana.name, ana.title, ana.roles, ana.version, ana.is_primary) == ("Ana Ruiz", "Owner", "other", 2, True)
    stale = client.post(f"/clients/{company.id}/contacts/{ana.id}/edit", data={"name": "Someone else", "version": "1"})
    assert stale.status_code == 409 and "Ana Ruiz" in stale.text
    assert _contacts(db, company)[0].name == "Ana Ruiz"
    invalid = client.post(f"/clients/{company.id}/contacts/{ana.id}/edit", data={"name": "", "version": "2"})
    assert invalid.status_code == 422 and "Give the contact" in invalid.text
    # a contact of another client is not found through this one
    other = make_client()
    assert client.get(f"/clients/{other.id}/contacts/{ana.id}/edit").status_code == 404


def test_removing_the_primary_makes_the_next_primary_or_leaves_none(client, login_as, db):
    login_as("admin")
    company = make_client()
    for name in ("Ana", "Bo", "Cy"):
        client.post(f"/clients/{company.id}/contacts", data={"name": name})
    ana, bo, cy = _contacts(db, company)
    removed = client.post(f"/clients/{company.id}/contacts/{bo.id}/delete", data={"version": str(bo.version)})
    assert removed.status_code == 303
    assert [c.name for c in _contacts(db, company)] == ["Ana", "Cy"]
    client.post(f"/clients/{company.id}/contacts/{ana.id}/delete", data={"version": str(ana.version)})
    (cy,) = _contacts(db, company)
    assert cy.is_primary
    assert "Cy is now the primary contact" in client.get(f"/clients/{company.id}").text
    client.post(f"/clients/{company.id}/contacts/{cy.id}/delete", data={"version": str(cy.version)})
    assert _contacts(db, company) == []
    assert "no contacts left, so no primary contact" in client.get(f"/clients/{company.id}").text
    # a stale removal removes nothing
    client.post(f"/clients/{company.id}/contacts", data={"name": "Dee"})
    (dee,) = _contacts(db, company)
    assert client.post(f"/clients/{company.id}/contacts/{dee.id}/delete", data={"version": "7"}).status_code == 409
    assert len(_contacts(db, company)) == 1


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_cannot_touch_contacts_log_or_invitations(role, client, login_as, db):
    company = make_client()
    contact = ClientContact(client_id=company.id, name="Ana", is_primary=True)
    db.session.add(contact)
    db.session.flush()
    login_as(role)
    urls = [
        f"/clients/{company.id}/contacts/{contact.id}/edit",
        f"/clients/{company.id}/contacts/{contact.id}/delete",
        f"/clients/{company.id}/contacts/{contact.id}/primary",
        f"/clients/{company.id}/communications",
        f"/clients/{company.id}/invitations",
    ]
    for url in urls:
        assert client.post(url, data={"name": "X", "kind": "call", "summary": "x"}).status_code == 403, url
    assert _contacts(db, company)[0].name == "Ana"
    assert db.session.scalar(select(func.count()).select_from(ClientCommunication)) == 0


# --- billing -------------------------------------------------------------------------


def test_payment_terms_and_the_masked_tax_id(client, login_as, db):
    login_as("project_manager_full")
    company = make_client(name="Terms Co", tax_id="12-3456789")
    form = client.get(f"/clients/{company.id}/edit")
    assert "•••• 6789" in form.text and "3456789" not in form.text.replace("•••• 6789", "")
    saved = client.post(
        f"/clients/{company.id}/edit",
        data={"name": "Terms Co", "payment_terms": "net_45", "version": str(company.version)},
    )
    assert saved.status_code == 303
    db.session.refresh(company)
    assert company.payment_terms == "net_45" and company.tax_id == "12-3456789"  # empty keeps it
    page = client.get(f"/clients/{company.id}").text
    assert "Net 45" in page and "•••• 6789" in page
    bad = client.post(
        f"/clients/{company.id}/edit", data={"name": "Terms Co", "payment_terms": "net_90", "version": "2"}
    )
    assert bad.status_code == 422 and "Choose one of" in bad.text
    client.post(f"/clients/{company.id}/edit", data={"name": "Terms Co", "tax_id": "98-7654321", "version": "2"})
    db.session.refresh(company)
    assert company.tax_id == "98-7654321"
    # never on the list pages
    for listing in (client.get("/clients"), client.get("/clients?q=Terms", headers={"HX-Target": "client-results"})):
        assert "4321" not in listing.text and "Tax" not in listing.text


def test_a_short_tax_id_is_masked_whole(db):
    from app.clients.services import mask_tax_id

    assert mask_tax_id("1234") == "••••"
    assert mask_tax_id("12-3456789") == "•••• 6789"
    assert mask_tax_id(None) is None and mask_tax_id("") is None


# --- project history -----------------------------------------------------------------


def test_project_history_counts_and_budget_total(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client()
    make_project(client=company, name="Deck", members=[pm], budget=Decimal("1000.50"), progress_percent=40)
    make_project(client=company, name="Fence", members=[pm], budget=Decimal("250.00"), status="closed")
    make_project(client=company, name="Not mine", budget=Decimal("99999.00"))
    page = client.get(f"/clients/{company.id}").text
    assert "2 projects:" in page and "1 archived, 1 not started" in page
    assert "Deck" in page and "Fence" in page and "Not mine" not in page
    assert "budgets $1,250.50" in page and "99,999" not in page
    assert "40%" in page


def test_budget_totals_need_costs_view(db):
    from app.clients.services import project_history
    from app.core.permissions import can

    company = make_client()
    designer = make_user("designer")
    assert not can(designer, "costs.view")
    rows = [make_project(client=company, members=[designer], budget=Decimal("10.00"))]
    assert project_history(designer, rows).budget_total is None
    admin = make_user("admin")
    history = project_history(admin, rows)
    assert history.budget_total == Decimal("10.00") and history.total == 1


def test_the_documents_section_waits_for_the_files_feature(client, login_as, db):
    login_as("admin")
    company = make_client()
    page = client.get(f"/clients/{company.id}").text
    assert f'id="client-documents" class="card" hx-get="/clients/{company.id}/files" hx-trigger="load"' in page


# --- communication log ---------------------------------------------------------------


def test_log_entries_are_added_inline_newest_first(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client()
    first = client.post(
        f"/clients/{company.id}/communications",
        data={"kind": "call", "occurred_at": "2026-03-01T09:30", "summary": "Asked about colours."},
        headers=HX,
    )
    assert first.status_code == 200 and "<html" not in first.text and 'id="client-log"' in first.text
    client.post(
        f"/clients/{company.id}/communications",
        data={
            "kind": "site_visit",
            "occurred_at": "2026-03-02T14:00",
            "summary": "Walked the deck.",
            "follow_up_on": "2026-03-05",
        },
        headers=HX,
    )
    page = client.get(f"/clients/{company.id}").text
    assert page.index("Walked the deck.") < page.index("Asked about colours.")
    assert "Site visit" in page and "Follow up on Mar 5, 2026" in page and pm.name in page
    entry = db.session.scalars(select(ClientCommunication).where(ClientCommunication.kind == "site_visit")).one()
    assert entry.author_id == pm.id and entry.follow_up_on == date(2026, 3, 5)
    # the page (no htmx) answers with a redirect
    plain = client.post(
        f"/clients/{company.id}/communications",
        data={"kind": "email", "occurred_at": "2026-03-03T08:00", "summary": "Sent the quote."},
    )
    assert plain.status_code == 303


def test_log_validation_is_inline_and_writes_nothing(client, login_as, db):
    login_as("admin")
    company = make_client()
    future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        f"/clients/{company.id}/communications",
        data={"kind": "fax", "occurred_at": future, "summary": " ", "follow_up_on": "someday"},
        headers=HX,
    )
    assert bad.status_code == 422 and "<html" not in bad.text
    for message in ("Choose call, email", "not in the future", "Write what was said", "YYYY-MM-DD"):
        assert message in bad.text, message
    before = client.post(
        f"/clients/{company.id}/communications",
        data={"kind": "call", "occurred_at": "2026-03-05T10:00", "summary": "x", "follow_up_on": "2026-03-01"},
        headers=HX,
    )
    assert before.status_code == 422 and "on or after the day" in before.text
    missing = client.post(f"/clients/{company.id}/communications", data={"kind": "call", "summary": "x"})
    assert missing.status_code == 422 and "Say when it happened" in missing.text and "<html" in missing.text
    assert db.session.scalar(select(func.count()).select_from(ClientCommunication)) == 0


def test_only_the_author_marks_a_follow_up_done(client, login_as, db):
    author = make_user("project_manager_full")
    company = make_client()
    entry = ClientCommunication(
        client_id=company.id,
        kind="meeting",
        occurred_at=datetime(2026, 3, 1, 15, tzinfo=UTC),
        author_id=author.id,
        summary="Colour meeting",
        follow_up_on=date(2026, 3, 2),
    )
    db.session.add(entry)
    db.session.flush()
    login_as("admin")
    assert client.post(f"/clients/{company.id}/communications/{entry.id}/done").status_code == 403
    login_as(author)
    page = client.get(f"/clients/{company.id}").text
    assert "Mark done" in page
    done = client.post(f"/clients/{company.id}/communications/{entry.id}/done", headers=HX)
    assert done.status_code == 200 and "— done" in done.text
    db.session.refresh(entry)
    assert entry.follow_up_done_at is not None
    other = make_client()
    assert client.post(f"/clients/{other.id}/communications/{entry.id}/done").status_code == 404


def test_follow_ups_remind_their_author_once_on_the_day(app, db):
    from workers.clients import follow_up_reminders

    author, gone = make_user("project_manager_full"), make_user("pm_trainee", is_active_flag=False)
    company = make_client(name="Reminder Co")
    today = communications.today()

    def entry(**kwargs):
        row = ClientCommunication(
            client_id=company.id,
            kind="call",
            occurred_at=datetime.now(UTC) - timedelta(days=2),
            author_id=author.id,
            summary="Call back about the fence",
            **kwargs,
        )
        db.session.add(row)
        return row

    due = entry(follow_up_on=today)
    late = entry(follow_up_on=today - timedelta(days=1))
    entry(follow_up_on=today + timedelta(days=1))  # not yet
    entry(follow_up_on=today, follow_up_done_at=datetime.now(UTC))  # done already
    entry(follow_up_on=None)
    inactive = entry(follow_up_on=today)
    inactive.author_id = gone.id
    db.session.flush()
    with app.test_request_context():
        assert follow_up_reminders() == 2
        assert follow_up_reminders() == 0  # idempotent: each entry is reminded once
    notes = db.session.scalars(select(Notification).where(Notification.kind == "client_follow_up")).all()
    assert sorted(n.user_id for n in notes) == [author.id, author.id]
    assert all("Follow up with Reminder Co" in n.title and n.link_endpoint == "clients.detail" for n in notes)
    assert {due.id, late.id} <= {
        e.id
        for e in db.session.scalars(select(ClientCommunication).where(ClientCommunication.reminded_at.is_not(None)))
    }


def test_the_reminder_job_and_kind_are_declared(app):
    from app.core.features import notification_kinds, periodic_jobs

    assert "client_follow_up" in notification_kinds(app)
    assert any(
        job.func == "workers.clients.follow_up_reminders" and job.every == 3600 for job in periodic_jobs(app).values()
    )


# --- API -----------------------------------------------------------------------------


def test_api_creates_and_updates_clients_with_versions(client, db):
    pm = make_user("project_manager_full")
    headers = bearer(client, pm)
    created = client.post(
        "/api/clients/",
        json={
            "name": "Api Co",
            "email": "ops@api.example",
            "billing_address": {"address": "1 Main", "city": "Austin", "state": "TX", "zip": "78701"},
            "payment_terms": "net_15",
            "tax_id": "55-1234567",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    body = created.json["data"]
    assert body["billing_address"]["city"] == "Austin" and body["payment_terms"] == "net_15"
    assert body["tax_id_masked"] == "•••• 4567" and "1234567" not in created.text
    assert created.headers["ETag"] == '"1"'
    cid = body["id"]
    patched = client.patch(f"/api/clients/{cid}/", json={"phone": "512-555-0100", "version": 1}, headers=headers)
    assert patched.status_code == 200 and patched.json["data"]["phone"] == "512-555-0100"
    assert patched.json["data"]["name"] == "Api Co" and patched.json["data"]["version"] == 2
    stale = client.put(f"/api/clients/{cid}/", json={"name": "Renamed", "version": 1}, headers=headers)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "CONFLICT"
    assert stale.json["error"]["details"]["name"] == "Api Co" and stale.json["error"]["details"]["version"] == 2
    put = client.put(f"/api/clients/{cid}/", json={"name": "Renamed"}, headers={**headers, "If-Match": '"2"'})
    assert put.status_code == 200 and put.json["data"]["email"] == ""  # PUT replaces every field
    assert put.json["data"]["tax_id_masked"] == "•••• 4567"  # absent: kept
    missing = client.put(f"/api/clients/{cid}/", json={"phone": "1"}, headers=headers)
    assert missing.status_code == 400 and "name" in missing.json["error"]["details"]


def test_api_validation_errors_name_each_field(client, db):
    headers = bearer(client, make_user("admin"))
    make_client(name="Taken Co")
    bad = client.post("/api/clients/", json={"name": "taken co", "email": "nope"}, headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"
    assert set(bad.json["error"]["details"]) >= {"name", "email"}
    terms = client.post("/api/clients/", json={"name": "New Co", "payment_terms": "net_90"}, headers=headers)
    assert terms.status_code == 400 and "payment_terms" in terms.json["error"]["details"]
    long_city = client.post(
        "/api/clients/", json={"name": "City Co", "billing_address": {"city": "x" * 200}}, headers=headers
    )
    assert long_city.status_code == 400 and "billing_address.city" in long_city.json["error"]["details"]
    empty = client.post("/api/clients/", json={}, headers=headers)
    assert empty.status_code == 400 and "name" in empty.json["error"]["details"]


def test_api_list_never_carries_the_tax_id_and_detail_has_contacts(client, db):
    headers = bearer(client, make_user("admin"))
    company = make_client(name="Listed Co", tax_id="77-0001111")
    db.session.add(ClientContact(client_id=company.id, name="Ana", is_primary=True, roles="billing,other"))
    db.session.flush()
    listing = client.get("/api/clients/?search=Listed", headers=headers)
    assert listing.status_code == 200 and "1111" not in listing.text and "tax" not in listing.text
    (row,) = listing.json["data"]["results"]
    assert row["payment_terms"] == "net_30" and row["contacts"][0]["roles"] == ["billing", "other"]
    detail = client.get(f"/api/clients/{company.id}/", headers=headers).json["data"]
    assert detail["tax_id_masked"] == "•••• 1111" and detail["contacts"][0]["is_primary"] is True


@pytest.mark.parametrize("role", OTHERS)
def test_api_writes_are_refused_to_other_roles(role, client, db):
    company = make_client(name="Kept Co")
    headers = bearer(client, make_user(role))
    assert client.post("/api/clients/", json={"name": "Nope"}, headers=headers).status_code == 403
    assert client.patch(f"/api/clients/{company.id}/", json={"name": "Nope"}, headers=headers).status_code == 403
    db.session.refresh(company)
    assert company.name == "Kept Co"
