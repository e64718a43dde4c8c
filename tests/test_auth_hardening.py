"""Issue 6, sign-in and tokens attacked as the security test did: access tokens that
outlived logout and refresh-token theft, unthrottled re-authentication, a lockout that
admitted a sixth try under concurrency, cacheable token responses, a password policy
that let "Password1!" and 200 KB through, and failed sign-ins missing from the audit log."""

from __future__ import annotations

import pytest

from app.auth import passwords
from app.extensions import redis_store
from tests.factories import PASSWORD, make_user

LOGIN, REFRESH, LOGOUT, ME = "/api/auth/login/", "/api/auth/refresh/", "/api/auth/logout/", "/api/auth/me/"
NEW_PASSWORD = "Fresh&Paint42"
WRONG = "Wrong-pass1!"


def api_login(client, user, password=PASSWORD):
    response = client.post(LOGIN, json={"username": user.username, "password": password})
    assert response.status_code == 200, response.json
    return response.json["data"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def refresh(client, token: str):
    return client.post(REFRESH, json={"refresh_token": token})


def web_sign_in(web, user, password=PASSWORD, ip="127.0.0.1"):
    return web.post("/login", data={"username": user.username, "password": password}, environ_base={"REMOTE_ADDR": ip})


def account_key(user) -> str:
    return redis_store.key("login-fail", "acct", f"user:{user.id}")


# --- tokens outlive logout -----------------------------------------------------------------


def test_logout_with_the_refreshed_token_ends_the_previous_access_token(client, db):
    user = make_user("admin")
    first = api_login(client, user)
    second = refresh(client, first["refresh_token"]).json["data"]
    assert client.get(ME, headers=auth(first["access_token"])).status_code == 200  # both live until logout
    assert client.post(LOGOUT, headers=auth(second["access_token"])).status_code == 200
    for token in (first["access_token"], second["access_token"]):
        response = client.get(ME, headers=auth(token))
        assert response.status_code == 401 and response.json["error"]["code"] == "AUTHENTICATION_REQUIRED"
    assert refresh(client, second["refresh_token"]).status_code == 401


def test_refresh_reuse_ends_the_access_token_the_thief_minted(client, db):
    user = make_user("project_manager_full")
    victim = api_login(client, user)
    thief = refresh(client, victim["refresh_token"]).json["data"]  # the thief rotates first
    assert client.get(ME, headers=auth(thief["access_token"])).status_code == 200
    # the victim's client presents the (now consumed) token: reuse detected
    assert refresh(client, victim["refresh_token"]).status_code == 401
    for token in (thief["access_token"], victim["access_token"]):
        assert client.get(ME, headers=auth(token)).status_code == 401
        assert client.get("/api/projects/", headers=auth(token)).status_code == 401
    assert refresh(client, thief["refresh_token"]).status_code == 401


def test_ending_a_family_leaves_other_devices_and_the_marker_expires_with_the_tokens(client, app, db):
    user = make_user("admin")
    laptop, phone = api_login(client, user), api_login(client, user)
    assert client.post(LOGOUT, headers=auth(laptop["access_token"])).status_code == 200
    assert client.get(ME, headers=auth(phone["access_token"])).status_code == 200
    family = services_family(laptop["access_token"])
    ttl = redis_store.client.ttl(redis_store.key("revoked-family", family))
    assert app.config["JWT_ACCESS_SECONDS"] - 5 <= ttl <= app.config["JWT_ACCESS_SECONDS"]


def services_family(token: str) -> str:
    from app.auth.tokens import access_claims

    return access_claims(token)["fam"]


# --- token responses are not cached -------------------------------------------------------


def test_token_responses_are_not_stored(client, db):
    user = make_user("admin")
    login = client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    rotated = refresh(client, login.json["data"]["refresh_token"])
    for response in (login, rotated):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


# --- password policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "needle"),
    [
        ("Password1!", "too common"),
        ("P@ssw0rd2024", "too common"),
        ("Qwerty123!", "too common"),
        ("!Welcome2026", "too common"),
        ("Abcdefgé1", "a symbol"),  # a non-ASCII letter is a letter
        ("Ab1" + "é" * 10, "a symbol"),
        ("Aa1!" + "x" * 200_000, "at most 128"),
    ],
)
def test_policy_refuses(password, needle):
    assert needle in passwords.policy_problem(password)


@pytest.mark.parametrize("password", ["Paint&Stain1", "Brush&Roller22", "Añil größe 7", "Zebra·Lamp9", "Kibray!2026"])
def test_policy_accepts(password):
    assert passwords.policy_problem(password) is None


def test_a_200_kb_password_is_never_hashed(client, db, monkeypatch):
    user = make_user("designer")
    hashed = []
    real = passwords._hasher_for

    def spy(*args):
        hasher, dummy = real(*args)
        hashed.append(1)
        return hasher, dummy

    monkeypatch.setattr(passwords, "_hasher_for", spy)
    response = web_sign_in(client, user, password="Aa1!" + "x" * 200_000)
    assert response.status_code == 401 and not hashed
    with pytest.raises(ValueError):
        passwords.hash_password("Aa1!" + "x" * 200)
