"""The admin area: users (list, search, create with a one-time password or an invite link,
validation, role changes and deactivation that end sessions), project teams, rq-dashboard."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.core.audit import AuditLog
from app.notifications.models import Notification
from app.projects.models import ProjectMembership
from tests.factories import PASSWORD, make_client, make_project, make_user

NEW_PASSWORD = "Brush&Roller22"


def count(db, model=User):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def sign_in(app, username, password=PASSWORD):
    """A second browser, signed in through the real login form."""
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": password})
    return browser, response


def shown_secret(response, testid: str) -> str:
    """The one-time password / invite link as the admin reads it on the page."""
    return html.unescape(re.search(rf'data-testid="{testid}">([^<]+)<', response.text).group(1))


@pytest.fixture()
def admin(login_as):
    return login_as("admin", username="olivia.owner", full_name="Olivia Owner")


# --- list and search ------------------------------------------------------------------


def test_user_list_search_and_role_filter(client, admin, db):
    make_user("designer", username="dana.design", full_name="Dana Designer", email="dana@studio.example")
    make_user("superintendent", username="sam.site", full_name="Sam Site")
    make_user("employee", username="eli.crew", full_name="Eli Crew", is_active_flag=False)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert all(name in page.text for name in ("Dana Designer", "Sam Site", "Eli Crew", "Olivia Owner"))
    assert ">Deactivated<" in page.text
    by_name = client.get("/admin/users?q=SITE").text
    assert "Sam Site" in by_name and "Dana Designer" not in by_name
    by_email = client.get("/admin/users?q=studio.example").text
    assert "Dana Designer" in by_email and "Sam Site" not in by_email
    by_role = client.get("/admin/users?role=designer").text
    assert "Dana Designer" in by_role and "Eli Crew" not in by_role
    fragment = client.get("/admin/users?q=eli", headers={"HX-Request": "true", "HX-Target": "user-results"})
    assert 'id="user-results"' in fragment.text and "<html" not in fragment.text and "Eli Crew" in fragment.text
    assert "No users match." in client.get("/admin/users?q=nobody-like-this").text


# --- create -----------------------------------------------------------------------------


def test_create_with_a_one_time_password_shown_once_and_changed_at_first_sign_in(client, admin, db, app):
    response = client.post(
        "/admin/users/new",
        data={
            "username": "nina.new",
            "email": "nina@example.com",
            "full_name": "Nina New",
            "role": "superintendent",
            "method": "password",
        },
    )
    assert response.status_code == 200
    one_time = shown_secret(response, "one-time-password")
    user = db.session.scalar(select(User).where(User.username == "nina.new"))
    assert user.role == "superintendent" and user.must_change_password and user.password_hash
    assert one_time not in user.password_hash
    # shown once: nowhere else afterwards
    for later in (client.get(f"/admin/users/{user.id}").text, client.get("/admin/users").text):
        assert one_time not in later and html.escape(one_time) not in later
    # first sign-in goes straight to choosing a new password
    browser, login = sign_in(app, "nina.new", one_time)
    assert login.status_code == 302 and login.headers["Location"].endswith("/account/password")
    changed = browser.post(
        "/account/password",
        data={"current_password": one_time, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).must_change_password
    assert sign_in(app, "nina.new", one_time)[1].status_code == 401
    assert sign_in(app, "nina.new", NEW_PASSWORD)[1].headers["Location"] == "/"


def test_a_one_time_password_opens_nothing_but_the_change_password_page(app, db):
    make_user("designer", username="otp.user", must_change_password=True)
    browser, login = sign_in(app, "otp.user")
    assert login.headers["Location"].endswith("/account/password")
    for path in ("/projects", "/notifications", "/"):
        response = browser.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    assert browser.get("/account/password").status_code == 200


def test_create_with_an_invite_link_that_works_once(client, admin, db, app):
    response = client.post(
        "/admin/users/new",
        data={"username": "ivan.invited", "email": "ivan@example.com", "role": "designer", "method": "invite"},
    )
    assert response.status_code == 200
    link = shown_secret(response, "invite-link")
    path = link.split("localhost", 1)[1]
    assert path.startswith("/invite/")
    user = db.session.scalar(select(User).where(User.username == "ivan.invited"))
    assert user.password_hash is None and not user.must_change_password
    assert 'data-testid="one-time-password"' not in response.text

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "ivan.invited" in page.text
    mismatch = visitor.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422 and "do not match" in mismatch.text
    weak = visitor.post(path, data={"password": "short", "confirm_password": "short"})
    assert weak.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None
    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    # the link is spent
    again = visitor.get(path)
    assert again.status_code == 400 and "already been used" in again.text
    assert visitor.post(path, data={"password": "Other&Pass99", "confirm_password": "Other&Pass99"}).status_code == 400
    assert sign_in(app, "ivan.invited", NEW_PASSWORD)[1].status_code == 302
    assert sign_in(app, "ivan.invited", "Other&Pass99")[1].status_code == 401


def test_a_tampered_invite_link_says_so(client, db):
    page = client.get("/invite/not-a-real-token")
    assert page.status_code == 400
    assert "This invitation link is not valid." in page.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "Taken.Name", "email": "fresh@example.com", "role": "employee"}, "username", "already taken"),
        (
            {"username": "fresh.name", "email": "TAKEN@example.com", "role": "employee"},
            "email",
            "already uses this email",
        ),
        ({"username": "fresh.name", "email": "not-an-email", "role": "employee"}, "email", "valid email"),
        (
            {"username": "fresh.name", "email": "fresh@example.com", "role": "client"},
            "client_id",
            "must belong to a client",
        ),
        ({"username": "fresh.name", "email": "fresh@example.com", "role": "wizard"}, "role", "seven roles"),
        ({"username": "x", "email": "fresh@example.com", "role": "employee"}, "username", "3–80"),
    ],
    ids=[
        "duplicate-username",
        "duplicate-email",
        "bad-email",
        "client-without-company",
        "unknown-role",
        "short-username",
    ],
)
def test_invalid_new_user_shows_inline_errors_with_422_and_writes_nothing(data, field, message, client, admin, db):
    make_user("employee", username="taken.name", email="taken@example.com")
    before_users, before_log = count(db), count(db, AuditLog)
    response = client.post("/admin/users/new", data={**data, "method": "password"})
    assert response.status_code == 422
    assert f'data-error-for="{field}"' in response.text and message in response.text
    # what was typed is kept
    assert f'value="{data["username"]}"' in response.text and f'value="{data["email"]}"' in response.text
    assert 'data-testid="one-time-password"' not in response.text
    assert count(db) == before_users and count(db, AuditLog) == before_log


def test_a_client_user_is_linked_to_their_company(client, admin, db):
    company = make_client(name="Lakeside HOA")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "hoa.board",
            "email": "board@lakeside.example",
            "role": "client",
            "client_id": str(company.id),
            "method": "invite",
        },
    )
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.username == "hoa.board"))
    assert user.client_id == company.id and user.role == "client"


# --- role changes and deactivation end sessions ------------------------------------------


def test_changing_a_role_is_audited_and_ends_the_users_sessions(client, admin, db, app):
    worker = make_user("employee", username="walt.worker")
    browser, login = sign_in(app, "walt.worker")
    assert login.status_code == 302 and browser.get("/notifications").status_code == 200
    response = client.post(f"/admin/users/{worker.id}/role", data={"role": "superintendent"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, worker.id).role == "superintendent"
    [entry] = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "User", AuditLog.action == "update")
    ).all()
    assert entry.changes["role"] == ["employee", "superintendent"] and entry.user_id == admin.id
    assert entry.changes["session_epoch"] == [0, 1]  # their sessions were ended, on record
    # their open browser is signed out
    after = browser.get("/notifications")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert "Their sessions have been ended" in client.get(f"/admin/users/{worker.id}").text
    # and they can sign in again, with the new role
    again, login = sign_in(app, "walt.worker")
    assert login.status_code == 302 and again.get("/projects").status_code == 200


def test_a_client_signed_in_is_logged_out_when_their_role_changes(client, admin, db, app):
    company = make_client()
    customer = make_user("client", username="carla.client", client=company)
    project = make_project(client=company)
    browser, _ = sign_in(app, "carla.client")
    assert browser.get(f"/projects/{project.id}").status_code == 200
    made_employee = client.post(f"/admin/users/{customer.id}/role", data={"role": "employee"})
    assert made_employee.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, customer.id).client_id is None  # no longer tied to the company
    response = browser.get(f"/projects/{project.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_making_a_user_a_client_needs_a_company(client, admin, db):
    worker = make_user("employee")
    response = client.post(f"/admin/users/{worker.id}/role", data={"role": "client"}, follow_redirects=True)
    assert "Choose the client company this user belongs to" in response.text
    db.session.expire_all()
    assert db.session.get(User, worker.id).role == "employee"


def test_deactivating_ends_sessions_and_blocks_sign_in(client, admin, db, app):
    worker = make_user("designer", username="dora.designer")
    browser, _ = sign_in(app, "dora.designer")
    assert browser.get("/notifications").status_code == 200
    assert client.post(f"/admin/users/{worker.id}/active", data={"active": "0"}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, worker.id).is_active
    assert browser.get("/notifications").status_code == 302
    _, login = sign_in(app, "dora.designer")
    assert login.status_code == 401 and "do not match an active account" in login.text
    assert "deactivated" in client.get(f"/admin/users/{worker.id}").text
    # reactivating lets them back in
    assert client.post(f"/admin/users/{worker.id}/active", data={"active": "1"}).status_code == 303
    assert sign_in(app, "dora.designer")[1].status_code == 302


def test_admin_cannot_deactivate_themselves_or_change_their_own_role(client, admin, db):
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "cannot deactivate your own account" in response.text
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "employee"}, follow_redirects=True)
    assert "cannot change your own role" in response.text
    db.session.expire_all()
    me = db.session.get(User, admin.id)
    assert me.is_active and me.role == "admin"
    assert client.get("/admin/users").status_code == 200  # still signed in, still admin


def test_reset_issues_a_new_one_time_password(client, admin, db, app):
    worker = make_user("employee", username="rita.reset")
    browser, _ = sign_in(app, "rita.reset")
    response = client.post(f"/admin/users/{worker.id}/reset")
    assert response.status_code == 200
    one_time = shown_secret(response, "one-time-password")
    assert browser.get("/notifications").status_code == 302  # old sessions end
    assert sign_in(app, "rita.reset")[1].status_code == 401  # old password is gone
    _, login = sign_in(app, "rita.reset", one_time)
    assert login.headers["Location"].endswith("/account/password")


def test_unknown_user_is_a_404(client, admin):
    assert client.get("/admin/users/999999").status_code == 404
    assert client.post("/admin/users/999999/role", data={"role": "employee"}).status_code == 404


# --- project teams ------------------------------------------------------------------------


def test_adding_a_member_notifies_them_and_removing_takes_them_off(client, admin, db):
    project = make_project(name="Quarry lofts")
    designer = make_user("designer", full_name="Dee Signer")
    page = client.get(f"/admin/projects/{project.id}/team")
    assert page.status_code == 200 and "Dee Signer" in page.text
    response = client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(designer.id)})
    assert response.status_code == 303
    assert db.session.scalar(
        select(ProjectMembership).where(
            ProjectMembership.project_id == project.id, ProjectMembership.user_id == designer.id
        )
    )
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == designer.id)).all()
    assert note.kind == "project_assigned" and "Quarry lofts" in note.title and note.project_id == project.id
    assert (note.link_endpoint, note.link_args) == ("projects.detail", {"project_id": project.id})
    assert project.client.name in note.title  # the client beside the project's name
    # the admin who did it is not notified
    assert db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all() == []
    # twice is refused, inline
    again = client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(designer.id)})
    assert again.status_code == 422 and "already on this project" in again.text
    # removal
    removed = client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(designer.id), "remove": "1"})
    assert removed.status_code == 303
    assert count(db, ProjectMembership) == 0


@pytest.mark.parametrize("role", ["employee", "client", "admin"])
def test_only_team_roles_can_join_a_project(role, client, admin, db):
    project = make_project()
    outsider = make_user(role)
    before = (count(db, ProjectMembership), count(db, Notification))
    response = client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(outsider.id)})
    assert response.status_code == 422
    assert "Only active users with these roles can be assigned here" in response.text
    assert (count(db, ProjectMembership), count(db, Notification)) == before


def test_team_form_rejects_missing_person_and_inactive_users(client, admin, db):
    project = make_project()
    gone = make_user("superintendent", is_active_flag=False, full_name="Gone Super")
    assert "Gone Super" not in client.get(f"/admin/projects/{project.id}/team").text
    assert client.post(f"/admin/projects/{project.id}/team", data={"user_id": ""}).status_code == 422
    assert client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(gone.id)}).status_code == 422
    assert count(db, ProjectMembership) == 0


def test_a_closed_projects_team_is_frozen(client, admin, db):
    project = make_project(status="closed")
    designer = make_user("designer")
    response = client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(designer.id)})
    assert response.status_code == 409
    assert count(db, ProjectMembership) == 0


# --- rq-dashboard -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "project_manager_full", "employee", "client", None])
def test_rq_dashboard_is_for_admins_only(who, client, login_as, db):
    if who:
        login_as(who)
    response = client.get("/admin/rq/")
    if who == "admin":
        assert response.status_code == 200 and "RQ" in response.text
    elif who is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403
        assert "You do not have permission" in response.text and "rq-dashboard" not in response.text.lower()


def test_rq_dashboard_actions_pass_csrf_with_its_cookie(app, db):
    """rq-dashboard posts with X-CSRFToken read from the _csrf_token cookie."""
    from app.core.jobs import get_queue

    admin = make_user("admin")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = admin.get_id()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = browser.get("/admin/rq/")
        assert page.status_code == 200
        token = browser.get_cookie("_csrf_token", path="/admin/rq").value
        get_queue("default").enqueue("workers.maintenance.purge_expired_tokens")
        refused = browser.post("/admin/rq/queue/default/queued/empty")
        assert refused.status_code == 400  # no token, no action
        done = browser.post("/admin/rq/queue/default/queued/empty", headers={"X-CSRFToken": token})
        assert done.status_code == 200, done.text[:200]
        assert get_queue("default").count == 0
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_staff_user_can_become_a_client_user_of_a_company(client, login_as, db):
    from tests.factories import make_client

    login_as("admin")
    worker = make_user("employee")
    company = make_client(name="Hughes Residence")
    refused = client.post(f"/admin/users/{worker.id}/role", data={"role": "client"})
    assert refused.status_code == 303
    db.session.refresh(worker)
    assert worker.role == "employee"
    done = client.post(f"/admin/users/{worker.id}/role", data={"role": "client", "client_id": str(company.id)})
    assert done.status_code == 303
    db.session.refresh(worker)
    assert (worker.role, worker.client_id) == ("client", company.id)
    back = client.post(f"/admin/users/{worker.id}/role", data={"role": "designer", "client_id": str(company.id)})
    assert back.status_code == 303
    db.session.refresh(worker)
    assert (worker.role, worker.client_id) == ("designer", None)
