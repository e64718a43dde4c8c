"""JSON API authentication (SPEC.md §4): login, refresh rotation with reuse detection,
logout, me, token lifetimes, and the session epoch that ends tokens on password,
role and activation changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from flask import current_app
from sqlalchemy import func, select

from app.auth import services as accounts
from app.auth.models import RefreshToken, User
from app.users import services as users
from tests.conftest import bearer
from tests.factories import PASSWORD, make_user

LOGIN, REFRESH, LOGOUT, ME = "/api/auth/login/", "/api/auth/refresh/", "/api/auth/logout/", "/api/auth/me/"


def api_login(client, user, password=PASSWORD):
    response = client.post(LOGIN, json={"username": user.username, "password": password})
    assert response.status_code == 200, response.json
    return response.json["data"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict:
    return jwt.decode(token, current_app.config["SECRET_KEY"], algorithms=["HS256"])


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "T" in body["timestamp"]
    return body["error"]


# --- login -------------------------------------------------------------------------


def test_login_answers_the_exact_shape(client, db):
    user = make_user("project_manager_full")
    response = client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"success", "data"}
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"access_token", "refresh_token", "expires_in", "user"}
    assert data["expires_in"] == 3600
    assert data["user"] == {"id": user.id, "username": user.username, "role": "project_manager_full"}
    assert data["access_token"] != data["refresh_token"]
    # the API sets no session cookie: it is stateless
    assert "kibray_session" not in response.headers.get("Set-Cookie", "")


def test_login_accepts_email_and_any_case(client, db):
    user = make_user("admin", username="Owner-Bob", email="bob@kibray.example")
    for login in ("owner-bob", "BOB@kibray.example"):
        response = client.post(LOGIN, json={"username": login, "password": PASSWORD})
        assert response.status_code == 200
        assert response.json["data"]["user"]["id"] == user.id


def test_wrong_password_and_unknown_user_get_the_same_401(client, db):
    user = make_user("admin")
    wrong = assert_error(
        client.post(LOGIN, json={"username": user.username, "password": "Wrong-pass1!"}), 401, "AUTHENTICATION_REQUIRED"
    )
    unknown = assert_error(
        client.post(LOGIN, json={"username": "nobody-here", "password": PASSWORD}), 401, "AUTHENTICATION_REQUIRED"
    )
    assert wrong["message"] == unknown["message"]
    assert "details" not in wrong and "details" not in unknown


def test_inactive_user_cannot_log_in_and_gets_the_same_message(client, db):
    user = make_user("admin", is_active_flag=False)
    unknown = client.post(LOGIN, json={"username": "ghost-user", "password": PASSWORD}).json["error"]["message"]
    error = assert_error(
        client.post(LOGIN, json={"username": user.username, "password": PASSWORD}), 401, "AUTHENTICATION_REQUIRED"
    )
    assert error["message"] == unknown


def test_login_missing_fields_give_details_per_field(client, db):
    error = assert_error(client.post(LOGIN, json={}), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"username", "password"}
    error = assert_error(client.post(LOGIN, json={"username": "someone", "password": ""}), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"password"}
    error = assert_error(client.post(LOGIN, json={"username": 12, "password": "x"}), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"username"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "username=a&password=b", "content_type": "application/x-www-form-urlencoded"},
        {"data": "{not json", "content_type": "application/json"},
        {"data": "[1, 2]", "content_type": "application/json"},
        {},
    ],
)
def test_login_non_json_body_is_400(client, db, kwargs):
    error = assert_error(client.post(LOGIN, **kwargs), 400, "VALIDATION_ERROR")
    assert "body" in error["details"]


def test_api_login_is_throttled_with_the_same_message_for_unknown_users(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 2)
    user = make_user("admin")
    for _ in range(2):
        client.post(LOGIN, json={"username": user.username, "password": "Wrong-pass1!"})
        client.post(LOGIN, json={"username": "ghost", "password": "Wrong-pass1!"})
    real = assert_error(
        client.post(LOGIN, json={"username": user.username, "password": PASSWORD}), 429, "RATE_LIMIT_EXCEEDED"
    )
    ghost = assert_error(
        client.post(LOGIN, json={"username": "ghost", "password": PASSWORD}), 429, "RATE_LIMIT_EXCEEDED"
    )
    assert real["message"] == ghost["message"]
    assert real["retry_after"] > 0


# --- lifetimes ---------------------------------------------------------------------


def test_token_lifetimes_are_one_hour_and_seven_days(client, db):
    user = make_user("designer")
    data = api_login(client, user)
    access, refresh = claims(data["access_token"]), claims(data["refresh_token"])
    assert access["typ"] == "access" and refresh["typ"] == "refresh"
    assert access["sub"] == refresh["sub"] == str(user.id)
    assert access["exp"] - access["iat"] == 3600
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    row = db.session.scalar(select(RefreshToken).where(RefreshToken.jti == refresh["jti"]))
    assert row.user_id == user.id and row.used_at is None and row.revoked_at is None


def _signed(payload: dict) -> str:
    return jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm="HS256")


def test_expired_access_token_is_401(client, db):
    user = make_user("admin")
    past = datetime.now(UTC) - timedelta(hours=2)
    token = _signed(
        {
            "sub": str(user.id),
            "typ": "access",
            "jti": uuid.uuid4().hex,
            "ep": 0,
            "iat": past,
            "exp": past + timedelta(hours=1),
        }
    )
    error = assert_error(client.get(ME, headers=auth(token)), 401, "AUTHENTICATION_REQUIRED")
    assert "expired" in error["message"]


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "", "Bearer"],
)
def test_garbage_access_tokens_are_401(client, db, token):
    assert_error(client.get(ME, headers=auth(token)), 401, "AUTHENTICATION_REQUIRED")


def test_token_signed_with_another_key_is_401(client, db):
    user = make_user("admin")
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"sub": str(user.id), "typ": "access", "jti": "x", "ep": 0, "iat": now, "exp": now + timedelta(hours=1)},
        "another-secret-key-that-is-long-enough-1234",
        algorithm="HS256",
    )
    assert_error(client.get(ME, headers=auth(forged)), 401, "AUTHENTICATION_REQUIRED")


def test_unsigned_alg_none_token_is_401(client, db):
    user = make_user("admin")
    now = int(datetime.now(UTC).timestamp())
    token = jwt.encode(
        {"sub": str(user.id), "typ": "access", "jti": "x", "ep": 0, "iat": now, "exp": now + 3600},
        None,
        algorithm="none",
    )
    assert_error(client.get(ME, headers=auth(token)), 401, "AUTHENTICATION_REQUIRED")


def test_refresh_token_is_not_an_access_token(client, db):
    data = api_login(client, make_user("admin"))
    assert_error(client.get(ME, headers=auth(data["refresh_token"])), 401, "AUTHENTICATION_REQUIRED")


# --- refresh -----------------------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_the_family(client, db):
    user = make_user("project_manager_full")
    first = api_login(client, user)
    response = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.json["data"]
    assert set(second) == {"access_token", "refresh_token", "expires_in", "user"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == user.id
    assert client.get(ME, headers=auth(second["access_token"])).status_code == 200

    # the new refresh token works once
    third = client.post(REFRESH, json={"refresh_token": second["refresh_token"]}).json["data"]

    # someone replays the first (already consumed) token: refused, and the whole family ends
    assert_error(client.post(REFRESH, json={"refresh_token": first["refresh_token"]}), 401, "AUTHENTICATION_REQUIRED")
    assert_error(client.post(REFRESH, json={"refresh_token": third["refresh_token"]}), 401, "AUTHENTICATION_REQUIRED")
    family = claims(first["refresh_token"])["fam"]
    rows = db.session.scalars(select(RefreshToken).where(RefreshToken.family == family)).all()
    assert len(rows) == 3
    assert all(row.revoked_at is not None for row in rows)


def test_reusing_a_refresh_token_does_not_touch_other_families(client, db):
    user = make_user("admin")
    laptop, phone = api_login(client, user), api_login(client, user)
    client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]})
    assert client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]}).status_code == 401
    assert client.post(REFRESH, json={"refresh_token": phone["refresh_token"]}).status_code == 200


def test_access_token_used_as_refresh_is_401(client, db):
    data = api_login(client, make_user("admin"))
    error = assert_error(
        client.post(REFRESH, json={"refresh_token": data["access_token"]}), 401, "AUTHENTICATION_REQUIRED"
    )
    assert "refresh" in error["message"]


def test_expired_and_garbage_refresh_tokens_are_401(client, db):
    user = make_user("admin")
    past = datetime.now(UTC) - timedelta(days=8)
    expired = _signed(
        {
            "sub": str(user.id),
            "typ": "refresh",
            "jti": uuid.uuid4().hex,
            "fam": "f",
            "ep": 0,
            "iat": past,
            "exp": past + timedelta(days=7),
        }
    )
    assert_error(client.post(REFRESH, json={"refresh_token": expired}), 401, "AUTHENTICATION_REQUIRED")
    assert_error(client.post(REFRESH, json={"refresh_token": "garbage"}), 401, "AUTHENTICATION_REQUIRED")
    # well-signed but never issued (no row): refused
    now = datetime.now(UTC)
    unknown = _signed(
        {
            "sub": str(user.id),
            "typ": "refresh",
            "jti": uuid.uuid4().hex,
            "fam": "f",
            "ep": 0,
            "iat": now,
            "exp": now + timedelta(days=1),
        }
    )
    assert_error(client.post(REFRESH, json={"refresh_token": unknown}), 401, "AUTHENTICATION_REQUIRED")


def test_refresh_needs_the_field(client, db):
    error = assert_error(client.post(REFRESH, json={}), 400, "VALIDATION_ERROR")
    assert "refresh_token" in error["details"]
    assert_error(client.post(REFRESH, data="x", content_type="text/plain"), 400, "VALIDATION_ERROR")


# --- logout and me -----------------------------------------------------------------


def test_logout_revokes_access_and_refresh_family(client, db):
    user = make_user("admin")
    data = api_login(client, user)
    headers = auth(data["access_token"])
    assert client.get(ME, headers=headers).status_code == 200
    response = client.post(LOGOUT, json={"refresh_token": data["refresh_token"]}, headers=headers)
    assert response.status_code == 200
    assert response.json == {"success": True, "data": {"logged_out": True}}
    assert_error(client.get(ME, headers=headers), 401, "AUTHENTICATION_REQUIRED")
    assert_error(client.get("/api/projects/", headers=headers), 401, "AUTHENTICATION_REQUIRED")
    assert_error(client.post(REFRESH, json={"refresh_token": data["refresh_token"]}), 401, "AUTHENTICATION_REQUIRED")


def test_logout_with_the_access_token_alone_ends_its_refresh_chain(client, db):
    user = make_user("admin")
    data = api_login(client, user)
    other = api_login(client, user)  # another device stays signed in
    response = client.post(LOGOUT, headers=auth(data["access_token"]))
    assert response.status_code == 200
    assert client.post(REFRESH, json={"refresh_token": data["refresh_token"]}).status_code == 401
    assert client.get(ME, headers=auth(other["access_token"])).status_code == 200
    assert client.post(REFRESH, json={"refresh_token": other["refresh_token"]}).status_code == 200


def test_logout_cannot_revoke_someone_elses_refresh_token(client, db):
    alice, bob = make_user("admin"), make_user("admin")
    a, b = api_login(client, alice), api_login(client, bob)
    assert (
        client.post(LOGOUT, json={"refresh_token": b["refresh_token"]}, headers=auth(a["access_token"])).status_code
        == 200
    )
    assert client.post(REFRESH, json={"refresh_token": b["refresh_token"]}).status_code == 200


def test_logout_needs_a_token_and_checks_its_body_like_any_other(client, db):
    assert_error(client.post(LOGOUT), 401, "AUTHENTICATION_REQUIRED")
    data = api_login(client, make_user("admin"))
    headers = auth(data["access_token"])
    odd = client.post(LOGOUT, data="[1]", content_type="application/json", headers=headers)
    assert_error(odd, 400, "VALIDATION_ERROR")
    assert_error(client.post(LOGOUT, json={"refresh_token": 5}, headers=headers), 400, "VALIDATION_ERROR")
    assert client.get(ME, headers=headers).status_code == 200  # refused, so still signed in
    assert client.post(LOGOUT, headers=headers).status_code == 200  # no body at all is fine


def test_me_describes_the_signed_in_user(client, db):
    user = make_user("client", full_name="Casey Client")
    response = client.get(ME, headers=bearer(client, user))
    assert response.status_code == 200
    data = response.json["data"]
    assert data["id"] == user.id and data["username"] == user.username and data["role"] == "client"
    assert data["full_name"] == "Casey Client" and data["is_active"] is True
    assert data["client"] == {"id": user.client.id, "name": user.client.name}
    assert "password_hash" not in data and "totp_secret" not in data


def test_me_without_token_is_401(client, db):
    assert_error(client.get(ME), 401, "AUTHENTICATION_REQUIRED")
    assert_error(client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "AUTHENTICATION_REQUIRED")


# --- session epoch ---------------------------------------------------------------------


def _epoch_change(db, kind: str, user: User, admin: User):
    if kind == "password":
        accounts.change_password(user, PASSWORD, "New-Paint&Stain2", "New-Paint&Stain2")
    elif kind == "role":
        users.change_role(admin, user, "designer")
    else:
        users.set_active(admin, user, False)
    db.session.commit()


@pytest.mark.parametrize("kind", ["password", "role", "deactivation"])
def test_tokens_end_on_password_role_and_activation_change(client, db, kind):
    admin = make_user("admin")
    user = make_user("project_manager_full")
    data = api_login(client, user)
    headers = auth(data["access_token"])
    assert client.get(ME, headers=headers).status_code == 200
    _epoch_change(db, kind, user, admin)
    assert_error(client.get(ME, headers=headers), 401, "AUTHENTICATION_REQUIRED")
    # the refresh token cannot mint a fresh access token either
    assert_error(client.post(REFRESH, json={"refresh_token": data["refresh_token"]}), 401, "AUTHENTICATION_REQUIRED")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        )
        == 0
    )


def test_new_login_after_password_change_works(client, db):
    user = make_user("admin")
    api_login(client, user)
    accounts.change_password(user, PASSWORD, "New-Paint&Stain2", "New-Paint&Stain2")
    db.session.commit()
    assert client.post(LOGIN, json={"username": user.username, "password": PASSWORD}).status_code == 401
    data = api_login(client, user, "New-Paint&Stain2")
    assert client.get(ME, headers=auth(data["access_token"])).status_code == 200


def test_admin_role_change_through_the_page_ends_api_tokens(client, login_as, db, app):
    user = make_user("project_manager_full")
    data = api_login(client, user)
    login_as("admin")
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "pm_trainee"})
    assert response.status_code == 303
    assert db.session.get(User, user.id).role == "pm_trainee"
    assert_error(client.get(ME, headers=auth(data["access_token"])), 401, "AUTHENTICATION_REQUIRED")


def test_a_one_time_password_gives_no_api_tokens(client, db):
    user = make_user("admin", must_change_password=True)
    error = assert_error(
        client.post(LOGIN, json={"username": user.username, "password": PASSWORD}), 403, "PERMISSION_DENIED"
    )
    assert "new password" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(RefreshToken).where(RefreshToken.user_id == user.id)) == 0
