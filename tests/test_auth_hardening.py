"""Issue 6, sign-in and tokens attacked as the security test did: access tokens that
outlived logout and refresh-token theft, unthrottled re-authentication, a lockout that
admitted a sixth try under concurrency, cacheable token responses, a password policy
that let "Password1!" and 200 KB through, and failed sign-ins missing from the audit log."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.auth import passwords, services, throttle
from app.auth.models import User
from app.core.audit import AuditLog
from app.extensions import redis_store
from tests.factories import PASSWORD, make_user
from tests.test_api_auth import LOGIN, LOGOUT, ME, REFRESH, api_login, auth
from tests.test_sessions import expire_now
from tests.test_two_factor import code_for, enrol

NEW_PASSWORD = "Fresh&Paint42"
WRONG = "Wrong-pass1!"


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


# --- re-authentication is throttled like sign-in -----------------------------------------


def change(web, current, new=NEW_PASSWORD):
    return web.post(
        "/account/password", data={"current_password": current, "new_password": new, "confirm_password": new}
    )


def test_sixth_current_password_is_refused_even_when_right_until_the_lockout_ends(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 5)
    user = make_user("designer")
    assert web_sign_in(client, user).status_code == 302
    for _ in range(5):
        wrong = change(client, WRONG)
        assert wrong.status_code == 422 and "current password is not correct" in wrong.text
    locked = change(client, PASSWORD)
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= app.config["LOGIN_LOCKOUT_SECONDS"]
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, PASSWORD)  # not changed
    # the same account's sign-in is locked too (the same secret, one counter)
    other = app.test_client()
    assert web_sign_in(other, user).status_code == 429
    expire_now(account_key(user))  # the lockout ends
    assert change(client, PASSWORD).status_code == 302


def test_current_password_failures_count_per_address_too(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 3)
    user = make_user("designer")
    assert web_sign_in(client, user).status_code == 302
    for _ in range(2):  # the sign-in's own attempt was given back
        assert "not correct" in change(client, WRONG).text
    assert "not correct" in change(client, WRONG).text
    locked = change(client, PASSWORD)
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.text


def test_two_factor_disable_throttles_password_and_code(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 3)
    user = make_user("superintendent")
    web_sign_in(client, user)
    secret = enrol(client, db, user)  # one wrong code during enrolment is not a check of the 2FA secret
    for _ in range(3):
        response = client.post(
            "/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": "000000"}
        )
        assert response.status_code == 422 and "not right" in response.text
    response = client.post(
        "/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": code_for(secret, 1)}
    )
    assert response.status_code == 429 and "Too many sign-in attempts" in response.text
    for _ in range(3):
        client.post("/account/two-factor", data={"action": "disable", "password": WRONG, "code": "000000"})
    response = client.post("/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": "1"})
    assert response.status_code == 429 and "Too many sign-in attempts" in response.text
    db.session.refresh(user)
    assert user.totp_secret == secret


def test_guessing_invite_links_is_throttled_per_address(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 3)
    invited = make_user("designer", password_hash=None)
    good = services.invite_token(invited)
    for n in range(3):
        assert "not valid" in client.get(f"/invite/forged-{n}").text
    refused = client.get(f"/invite/{good}")
    assert refused.status_code == 429 and "Too many sign-in attempts" in refused.text
    # another address is not affected
    assert client.get(f"/invite/{good}", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


# --- the lockout under concurrency ---------------------------------------------------------


def test_concurrent_attempts_get_exactly_the_allowed_number_of_checks(app, db, monkeypatch):
    """40 threads race on the real Redis: exactly LOGIN_MAX_FAILURES_ACCOUNT secret checks run."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 5)
    checks, refused, lock = [], [], threading.Lock()
    start = threading.Barrier(40)

    def attempt():
        with app.app_context():
            start.wait()

            def wrong_secret() -> bool:
                with lock:
                    checks.append(1)
                time.sleep(0.02)  # a slow hash: others arrive meanwhile
                return False

            try:
                throttle.guarded("user:race", "203.0.113.7", wrong_secret)
            except throttle.TooManyAttempts:
                with lock:
                    refused.append(1)

    with ThreadPoolExecutor(40) as pool:
        for future in [pool.submit(attempt) for _ in range(40)]:
            future.result()
    assert len(checks) == 5 and len(refused) == 35
    assert int(redis_store.client.get(redis_store.key("login-fail", "acct", "user:race"))) == 5


def test_a_right_password_gives_its_address_attempt_back(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 2)
    for _ in range(5):  # many good sign-ins from one office address never lock it
        other = app.test_client()
        assert web_sign_in(other, make_user("employee")).status_code == 302


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


def test_changing_to_the_current_password_is_refused(client, db):
    user = make_user("designer")
    web_sign_in(client, user)
    response = change(client, PASSWORD, new=PASSWORD)
    assert response.status_code == 422 and "different from your current" in response.text


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


# --- audit ---------------------------------------------------------------------------------


def test_failed_and_locked_out_sign_ins_are_audited_without_the_password(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 1)
    user = make_user("designer")
    # Refusals are written in their own transaction (they must survive the 401), so
    # earlier tests' rows are in the table: look only at the ones written from here on.
    start = db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))
    assert web_sign_in(client, user, password=WRONG, ip="198.51.100.4").status_code == 401
    assert web_sign_in(client, user, ip="198.51.100.4").status_code == 429
    assert client.post(LOGIN, json={"username": "nobody-here", "password": WRONG}).status_code == 401
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "sign_in", AuditLog.id > start).order_by(AuditLog.id)
    ).all()
    assert [(r.username, r.result) for r in rows] == [
        (user.username, "failed"),
        (user.username, "denied"),
        ("nobody-here", "failed"),
    ]
    assert rows[0].ip == "198.51.100.4" and rows[0].user_id is None
    for row in rows:
        assert WRONG not in str(row.changes) and PASSWORD not in str(row.changes)
    from app.core.audit_text import describe

    texts = [line.sentence for line in describe(rows)]
    assert texts[0] == f"{user.username} failed to sign in (wrong password or code) from 198.51.100.4"
    assert texts[1].startswith(f"{user.username} was refused sign-in: too many attempts")


def test_accepting_an_invite_is_recorded_as_the_invited_user(client, db):
    invited = make_user("designer", username="ivy.invited", password_hash=None)
    token = services.invite_token(invited)
    done = client.post(f"/invite/{token}", data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302
    [entry] = db.session.scalars(
        select(AuditLog).where(
            AuditLog.object_type == "User", AuditLog.object_id == str(invited.id), AuditLog.action == "update"
        )
    ).all()
    assert "password_hash" in entry.changes
    assert (entry.username, entry.user_id, entry.role) == ("ivy.invited", invited.id, "designer")
    assert db.session.get(User, invited.id).password_hash
