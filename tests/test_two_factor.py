"""TOTP two-factor sign-in: set-up, the code step, replay, the API, enforcement, reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.factories import PASSWORD, make_user


def code_for(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + offset_steps * totp.interval)


def sign_in(client, user, password=PASSWORD):
    return client.post("/login", data={"username": user.username, "password": password})


def enrol(client, db, user) -> str:
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "<svg" in page.text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.text
    assert client.post("/account/two-factor", data={"code": code_for(secret)}).status_code == 302
    db.session.refresh(user)
    assert user.totp_secret == secret
    return secret


@pytest.fixture()
def required_roles(app):
    saved = app.config["TWO_FACTOR_REQUIRED_ROLES"]
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = ("admin", "project_manager_full", "pm_trainee")
    yield
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = saved


def test_enrol_then_sign_in_needs_the_code(client, db, app):
    user = make_user("designer")
    assert sign_in(client, user).status_code == 302
    secret = enrol(client, db, user)
    client.post("/logout")

    step_one = sign_in(client, user)
    assert step_one.headers["Location"].endswith("/login/code")
    assert client.get("/projects").status_code == 302  # not signed in yet
    bad = client.post("/login/code", data={"code": "123456"})
    assert bad.status_code == 401 and "not right" in bad.text
    good = client.post("/login/code", data={"code": code_for(secret, 1)})
    assert good.status_code == 302 and good.headers["Location"] == "/"
    assert client.get("/projects").status_code == 200


def test_a_code_works_only_once(client, db):
    user = make_user("designer")
    sign_in(client, user)
    secret = enrol(client, db, user)
    client.post("/logout")
    # The next step's code: enrolment used up the current step's, and the previous
    # step's would be that very code if the clock ticked over since (a flaky choice).
    code = code_for(secret, +1)
    sign_in(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    sign_in(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 401


def test_secret_is_encrypted_and_not_audited(client, db):
    from sqlalchemy import select, text

    from app.core.audit import AuditLog

    user = make_user("designer")
    sign_in(client, user)
    secret = enrol(client, db, user)
    raw = db.session.execute(text("SELECT totp_secret FROM users WHERE id = :i"), {"i": user.id}).scalar()
    assert secret not in raw
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "User", AuditLog.object_id == str(user.id))
    )
    assert all(secret not in str(e.changes) for e in entries)


def test_api_login_asks_for_the_code(client, db):
    user = make_user("designer")
    sign_in(client, user)
    secret = enrol(client, db, user)
    missing = client.post("/api/auth/login/", json={"username": user.username, "password": PASSWORD})
    assert missing.status_code == 401
    assert missing.json["error"]["details"] == {"otp_code": "This field is required."}
    wrong = client.post(
        "/api/auth/login/", json={"username": user.username, "password": PASSWORD, "otp_code": "111111"}
    )
    assert wrong.status_code == 401 and "access_token" not in str(wrong.json)
    ok = client.post(
        "/api/auth/login/", json={"username": user.username, "password": PASSWORD, "otp_code": code_for(secret, 1)}
    )
    assert ok.status_code == 200 and ok.json["data"]["access_token"]


def test_required_roles_must_enrol_before_anything_else(client, db, required_roles):
    admin = make_user("admin")
    first = sign_in(client, admin)
    assert first.headers["Location"].endswith("/account/two-factor")
    assert client.get("/admin/users").headers["Location"].endswith("/account/two-factor")
    assert (
        client.get("/projects", headers={"HX-Request": "true"}).headers["HX-Redirect"].endswith("/account/two-factor")
    )
    api = client.post("/api/auth/login/", json={"username": admin.username, "password": PASSWORD})
    assert api.status_code == 403 and api.json["error"]["code"] == "PERMISSION_DENIED"
    enrol(client, db, admin)
    assert client.get("/admin/users").status_code == 200
    cannot_disable = client.post("/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": "1"})
    assert cannot_disable.status_code == 422 and "requires" in cannot_disable.text
    employee = make_user("employee")
    other = client.application.test_client()
    assert sign_in(other, employee).headers["Location"] == "/"


def test_user_can_turn_it_off_with_password_and_code(client, db):
    user = make_user("superintendent")
    sign_in(client, user)
    secret = enrol(client, db, user)
    refused = client.post(
        "/account/two-factor", data={"action": "disable", "password": "wrong", "code": code_for(secret)}
    )
    assert refused.status_code == 422
    done = client.post(
        "/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": code_for(secret, 1)}
    )
    assert done.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret is None


def test_admin_resets_a_lost_phone(client, db, login_as):
    user = make_user("designer")
    sign_in(client, user)
    enrol(client, db, user)
    admin_client = client.application.test_client()
    admin = make_user("admin")
    with admin_client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
    assert admin_client.post(f"/admin/users/{user.id}/two-factor/reset").status_code == 303
    db.session.refresh(user)
    assert user.totp_secret is None
    assert client.get("/projects").status_code == 302  # their sessions ended
    designer = make_user("designer")
    with client.session_transaction() as session:
        session["_user_id"] = designer.get_id()
    assert client.post(f"/admin/users/{user.id}/two-factor/reset").status_code == 403


def test_reusing_the_code_that_turned_it_on_says_it_was_used(client, db):
    """The code typed to turn two-factor on is used up: typing it again (to sign in, or to
    turn it off) says so and asks for the next one, rather than "not right"."""
    user = make_user("designer")
    sign_in(client, user)
    page = client.get("/account/two-factor")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    code = code_for(secret)
    assert client.post("/account/two-factor", data={"code": code}).status_code == 302

    again = client.post("/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": code})
    assert again.status_code == 422
    assert "already used" in again.text and "next code" in again.text and "not right" not in again.text

    client.post("/logout")
    sign_in(client, user)
    replay = client.post("/login/code", data={"code": code})
    assert replay.status_code == 401
    assert "already used" in replay.text and "not right" not in replay.text
    assert client.get("/projects").status_code == 302  # still not signed in
    wrong = client.post("/login/code", data={"code": "000000"})
    assert "not right" in wrong.text and "already used" not in wrong.text


def test_enrolling_with_a_used_code_says_it_was_used(client, db):
    from app.auth import twofactor

    user = make_user("designer")
    sign_in(client, user)
    page = client.get("/account/two-factor")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    code = code_for(secret)
    assert twofactor.verify_code(user, code, secret) == twofactor.OK  # used up elsewhere
    refused = client.post("/account/two-factor", data={"code": code})
    assert refused.status_code == 422 and "already used" in refused.text
    db.session.refresh(user)
    assert user.totp_secret is None
