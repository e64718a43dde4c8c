"""Client users by invitation (issue 9): invited from the client page, emailed a link
through a real SMTP server (aiosmtpd) by a real RQ worker, the public page where they
choose a username and password and are signed in, two-factor offered; expired, revoked
and used links; re-inviting; the public page for every role; throttled guessing."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app.auth.models import User
from app.clients.models import ClientContact, ClientInvitation
from app.core.jobs import get_queue
from app.core.roles import ROLES
from tests.factories import PASSWORD, make_client, make_user

NEW_PASSWORD = "Harbor&Dock42"


from tests.test_notification_channels import inbox  # noqa: E402,F401 - the SMTP fixture, used by name


def work():
    queue = get_queue("notifications")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _invitation(db, client_id, email=None, **kwargs) -> ClientInvitation:
    stmt = select(ClientInvitation).where(ClientInvitation.client_id == client_id)
    if email:
        stmt = stmt.where(ClientInvitation.email == email)
    db.session.expire_all()
    return db.session.scalars(stmt.order_by(ClientInvitation.id.desc())).first()


def _open(db, company, email="guest@harbor.example", **kwargs) -> tuple[ClientInvitation, str]:
    """An invitation written directly, with its token."""
    token = f"test-token-{email}-{datetime.now(UTC).timestamp()}"
    now = datetime.now(UTC)
    invitation = ClientInvitation(
        client_id=company.id,
        email=email,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_at=now,
        expires_at=kwargs.pop("expires_at", now + timedelta(days=7)),
        **kwargs,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def test_an_invitation_is_emailed_accepted_and_signs_the_person_in(app, client, login_as, db, inbox):  # noqa: F811
    admin = login_as("admin", full_name="Kim Bray")
    company = make_client(name="Harbor Holdings", tax_id="74-1234567", notes="pays late, internal")
    contact = ClientContact(client_id=company.id, name="Pat Harbor", email="pat@harbor.example", is_primary=True)
    db.session.add(contact)
    db.session.flush()
    sent = client.post(f"/clients/{company.id}/invitations", data={"contact_id": str(contact.id)})
    assert sent.status_code == 303
    invitation = _invitation(db, company.id)
    assert invitation.email == "pat@harbor.example" and invitation.contact_id == contact.id
    assert invitation.invited_by_id == admin.id and invitation.state() == "open"
    assert timedelta(days=6, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=7)
    assert inbox.messages == []  # the email goes out from the worker, after the commit
    work()
    [(to, content)] = inbox.messages
    assert to == ["pat@harbor.example"]
    assert "Subject: Your invitation to Harbor Holdings on Kibray ERP" in content
    token = re.search(r"https://erp\.example/invitations/([A-Za-z0-9_\-]+)", content).group(1)
    assert hashlib.sha256(token.encode()).hexdigest() == invitation.token_hash
    assert token not in (invitation.token_hash,) and len(token) >= 40
    for secret in ("1234567", "pays late", invitation.token_hash, "Paint&Stain"):
        assert secret not in content
    assert "Kim Bray invited you" in content
    page = client.get(f"/clients/{company.id}").text
    assert "pat@harbor.example" in page and "Revoke" in page

    visitor = app.test_client()  # nobody signed in
    form = visitor.get(f"/invitations/{token}")
    assert form.status_code == 200 and "Harbor Holdings" in form.text and 'value="Pat Harbor"' in form.text
    assert form.headers["Cache-Control"] == "no-store" and form.headers["Referrer-Policy"] == "no-referrer"
    weak = visitor.post(
        f"/invitations/{token}",
        data={"username": "pat", "password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 422 and "Password needs" in weak.text
    assert db.session.scalar(select(func.count()).where(User.email == "pat@harbor.example")) == 0
    mismatch = visitor.post(
        f"/invitations/{token}",
        data={"username": "no spaces!", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"},
    )
    assert mismatch.status_code == 422 and "do not match" in mismatch.text and "Use 3–80 letters" in mismatch.text
    done = visitor.post(
        f"/invitations/{token}",
        data={"username": "pat.harbor", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/invitations/welcome")
    user = db.session.scalars(select(User).where(User.username == "pat.harbor")).one()
    assert (user.role, user.client_id, user.email, user.full_name) == (
        "client",
        company.id,
        "pat@harbor.example",
        "Pat Harbor",
    )
    invitation = _invitation(db, company.id)
    assert invitation.accepted_at is not None and invitation.user_id == user.id and invitation.state() == "accepted"
    welcome = visitor.get("/invitations/welcome")
    assert welcome.status_code == 200 and "Welcome, Pat Harbor" in welcome.text
    assert 'href="/account/two-factor"' in welcome.text
    assert visitor.get("/").status_code == 200  # signed in as the new client user
    # the link works once
    again = app.test_client().get(f"/invitations/{token}")
    assert again.status_code == 410 and "already been used" in again.text
    # the client page lists the new user and no open invitation
    page = client.get(f"/clients/{company.id}").text
    assert "pat.harbor" in page and "Open invitations" not in page


def test_the_new_user_signs_in_with_the_chosen_password(app, db, client):
    company = make_client()
    _, token = _open(db, company, email="lee@harbor.example")
    visitor = app.test_client()
    visitor.post(
        f"/invitations/{token}",
        data={"username": "lee", "full_name": "Lee Harbor", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    signed = app.test_client().post("/api/auth/login/", json={"username": "lee", "password": NEW_PASSWORD})
    assert signed.status_code == 200 and signed.json["data"]["user"]["role"] == "client"


def test_expired_revoked_and_unknown_links_get_a_clear_page(app, db):
    company = make_client()
    _, expired = _open(db, company, email="old@harbor.example", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    _, revoked = _open(db, company, email="rev@harbor.example", revoked_at=datetime.now(UTC))
    visitor = app.test_client()
    gone = visitor.get(f"/invitations/{expired}")
    assert gone.status_code == 410 and "has expired" in gone.text and "<form" not in gone.text
    gone = visitor.post(
        f"/invitations/{revoked}", data={"username": "rev", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert gone.status_code == 410 and "withdrawn" in gone.text
    unknown = visitor.get("/invitations/not-a-real-token")
    assert unknown.status_code == 404 and "not valid" in unknown.text
    assert db.session.scalar(select(func.count()).where(User.username == "rev")) == 0


def test_guessing_tokens_is_locked_out(app, db):
    company = make_client()
    _, token = _open(db, company)
    visitor = app.test_client()
    statuses = [visitor.get(f"/invitations/guess-{n}").status_code for n in range(6)]
    assert statuses[:5] == [404] * 5 and statuses[5] == 429
    locked = visitor.get(f"/invitations/{token}")  # even the right one, while locked
    assert locked.status_code == 429 and locked.headers["Retry-After"]
    assert visitor.get("/invitations/" + "x" * 5000).status_code in (404, 429)


def test_reinviting_revokes_the_older_open_invitation_and_revoke_works(client, login_as, db, app):
    login_as("pm_trainee")
    company = make_client()
    page = client.get(f"/clients/{company.id}").text
    assert page.count('id="f-email"') == 1 and 'name="invite_email"' in page  # one id per page
    sent = client.post(f"/clients/{company.id}/invitations", data={"invite_email": "guest@harbor.example"})
    assert sent.status_code == 303
    first = _invitation(db, company.id)
    # no mail server here: the inviter is shown the link to pass on
    page = client.get(f"/clients/{company.id}").text
    assert "sends no email" in page and "/invitations/" in page
    client.post(f"/clients/{company.id}/invitations", data={"email": "Guest@Harbor.example"})
    db.session.refresh(first)
    second = _invitation(db, company.id)
    assert second.id != first.id and first.state() == "revoked" and second.state() == "open"
    revoked = client.post(f"/clients/{company.id}/invitations/{second.id}/revoke")
    assert revoked.status_code == 303
    db.session.refresh(second)
    assert second.state() == "revoked"
    again = client.post(f"/clients/{company.id}/invitations/{second.id}/revoke")
    assert again.status_code == 422 and "no longer open" in again.text
    other = make_client()
    assert client.post(f"/clients/{other.id}/invitations/{first.id}/revoke").status_code == 404


def test_invitation_input_is_checked(client, login_as, db):
    login_as("admin")
    company, other = make_client(), make_client()
    stranger = ClientContact(client_id=other.id, name="Not theirs", email="x@other.example")
    make_user("employee", email="taken@example.com")
    db.session.add(stranger)
    db.session.flush()
    bad = client.post(f"/clients/{company.id}/invitations", data={"email": "nope"})
    assert bad.status_code == 422 and "valid email" in bad.text
    taken = client.post(f"/clients/{company.id}/invitations", data={"email": "TAKEN@example.com"})
    assert taken.status_code == 422 and "already uses this email" in taken.text
    wrong = client.post(f"/clients/{company.id}/invitations", data={"email": "a@b.example", "contact_id": stranger.id})
    assert wrong.status_code == 422 and "Choose one of this client" in wrong.text
    assert db.session.scalar(select(func.count()).select_from(ClientInvitation)) == 0


def test_a_taken_username_is_refused_and_nothing_is_written(app, db):
    company = make_client()
    make_user("employee", username="taken.name")
    invitation, token = _open(db, company)
    response = app.test_client().post(
        f"/invitations/{token}",
        data={"username": "Taken.Name", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.status_code == 422 and "already taken" in response.text
    db.session.refresh(invitation)
    assert invitation.state() == "open"


@pytest.mark.parametrize("role", ROLES)
def test_the_public_page_for_every_role(role, app, client, login_as, db):
    """The invitation page is public (walk_skip in app/clients/__init__.py): whoever opens
    an open link sees the form; staff do not invite without client.invite."""
    company = make_client()
    _, token = _open(db, company, email=f"{role}.guest@harbor.example")
    user = login_as(role)
    assert client.get(f"/invitations/{token}").status_code == 200
    assert app.test_client().get(f"/invitations/{token}").status_code == 200  # anonymous
    invited = client.post(f"/clients/{company.id}/invitations", data={"email": f"{role}.new@harbor.example"})
    allowed = role in ("admin", "project_manager_full", "pm_trainee")
    assert invited.status_code == (303 if allowed else 403)
    assert db.session.scalar(select(func.count()).where(ClientInvitation.email == f"{role}.new@harbor.example")) == (
        1 if allowed else 0
    )
    assert user.password_hash  # the signed-in user is untouched
    assert PASSWORD
