"""User administration (app/users): an admin edits a user's name and email (validated by
the service, audited, refused to everyone else), and the user page asks for a client
company only for the client role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.core.audit import AuditLog
from app.core.errors import ValidationError
from app.core.permissions import MATRIX, NONE, PermissionDenied
from app.core.roles import ROLES
from app.users import services
from tests.factories import make_client, make_user


def test_admin_edits_a_users_name_and_email(client, login_as, db):
    login_as("admin")
    worker = make_user("employee", full_name="Sam Smith", email="sam@example.com")
    response = client.post(
        f"/admin/users/{worker.id}/profile", data={"full_name": " Samantha Smith ", "email": "samantha@example.com"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/users/{worker.id}")
    user = db.session.get(User, worker.id)
    assert (user.full_name, user.email) == ("Samantha Smith", "samantha@example.com")
    entry = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "User", AuditLog.object_id == str(worker.id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).one()
    assert entry.action == "update"
    assert set(entry.changes) >= {"full_name", "email"}
    assert "Samantha Smith" in client.get(f"/admin/users/{worker.id}").text


def test_invalid_or_taken_email_is_refused_with_messages_and_nothing_changes(client, login_as, db):
    login_as("admin")
    make_user("designer", email="taken@example.com")
    worker = make_user("employee", full_name="Sam Smith", email="sam@example.com")
    for email, message in (("not-an-address", "Enter a valid email address."), ("TAKEN@example.com", "already uses")):
        response = client.post(f"/admin/users/{worker.id}/profile", data={"full_name": "Other", "email": email})
        assert response.status_code == 422
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        assert f'value="{email}"' in response.text  # what was typed is kept
        user = db.session.get(User, worker.id)
        assert (user.full_name, user.email) == ("Sam Smith", "sam@example.com")


@pytest.mark.parametrize("role", ["project_manager_full", "employee", "client"])
def test_only_admins_edit_names_and_emails(role, client, login_as, db):
    login_as(role)
    worker = make_user("employee", email="sam@example.com")
    assert client.post(f"/admin/users/{worker.id}/profile", data={"email": "x@example.com"}).status_code == 403
    assert db.session.get(User, worker.id).email == "sam@example.com"
    with pytest.raises(PermissionDenied):
        services.update_profile(make_user(role), worker, full_name="X", email="x@example.com")


def test_the_service_validates_the_name_length(db):
    admin, worker = make_user("admin"), make_user("employee")
    with pytest.raises(ValidationError) as refused:
        services.update_profile(admin, worker, full_name="x" * 161, email=worker.email)
    assert "full_name" in refused.value.fields


@pytest.mark.parametrize("role", [role for role in ROLES if MATRIX["user.manage"][role] == NONE])
def test_user_reads_check_the_acting_user_themselves(role, db):
    """The user pages' reads take the acting user and check `user.manage` inside, like
    the writes — not only the route decorator."""
    actor, worker = make_user(role), make_user("employee", full_name="Sam Worker")
    for read in (
        lambda: services.search_users(actor, "Sam"),
        lambda: services.managed_user(actor, worker.id),
        lambda: services.client_choices(actor),
        lambda: services.projects_of(actor, worker),
    ):
        with pytest.raises(PermissionDenied):
            read()
    admin = make_user("admin")
    assert [u.id for u in services.search_users(admin, "Sam Worker", page=1).items] == [worker.id]
    assert services.managed_user(admin, worker.id) is worker


def _client_field(html: str) -> str:
    return re.search(r'<div class="field client-only"[^>]*>.*?</div>', html, re.S).group(0)


def test_the_client_company_selector_belongs_to_the_client_role_only(client, login_as, db):
    login_as("admin")
    company = make_client(name="Harbor Holdings")
    for user in (make_user("employee"), make_user("client", client=company)):
        html = client.get(f"/admin/users/{user.id}").text
        field = _client_field(html)  # hidden by the stylesheet unless the role select says client
        assert '<label for="f-client_id">Client company</label>' in field  # a real label, not a cut-off option
        assert (f'value="{company.id}" selected' in field) is (user.role == "client")
    form = client.get("/admin/users/new").text
    assert '<label for="f-client_id">Client company' in _client_field(form)


def test_the_user_list_shows_each_row_from_the_shown_columns(client, login_as, db, count_queries):
    """Rows of the shown columns: name (or the username when there is none), role in
    staff words, the client company, the status, the link."""
    login_as("admin")
    company = make_client(name="Maple Court HOA")
    owner = make_user("client", client=company, full_name="Rita Maple")
    nameless = make_user("employee", full_name="", username="crew.nameless")
    nameless.is_active_flag = False
    db.session.flush()
    with count_queries() as counted:
        page = client.get("/admin/users?q=maple").get_data(as_text=True)
    selects = [s for s in counted.statements if s.startswith("SELECT")]
    assert len(selects) == 3, selects  # the signed-in user, the total (core.cached_reads), the page
    row = re.search(r"<tr><td data-label=\"Name\">.*?</tr>", page, re.S).group(0)
    assert f'href="/admin/users/{owner.id}"' in row and "Rita Maple" in row and "Maple Court HOA" in row
    assert "Client" in row and "1 total" in page
    found = client.get("/admin/users?q=crew.nameless").get_data(as_text=True)
    assert f'<a href="/admin/users/{nameless.id}">crew.nameless</a>' in found
    assert "badge-closed" in found
