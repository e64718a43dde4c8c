"""Sign-in pages and server-side sessions (SPEC.md §4 security): login, failures and
throttling without user enumeration, logout that really ends the session, password
and role changes that end other sessions, the password policy, the idle timeout and
the cookie flags."""

from __future__ import annotations

import time

import pytest
from flask import current_app

from app.auth.models import User
from app.auth.passwords import verify_password
from app.extensions import redis_store
from tests.factories import PASSWORD, make_user

COOKIE = "kibray_session"
PROBE = "/account/password"  # any page that needs a signed-in user
NEW_PASSWORD = "Fresh&Paint42"


def sign_in(web, user, password=PASSWORD, ip="127.0.0.1"):
    return web.post("/login", data={"username": user.username, "password": password}, environ_base={"REMOTE_ADDR": ip})


def signed_in(web) -> bool:
    response = web.get(PROBE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def session_id(web) -> str | None:
    cookie = web.get_cookie(COOKIE)
    return cookie.value if cookie else None


def session_key(sid: str) -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}:session:{sid}"


def expire_now(key: str, timeout: float = 5.0) -> None:
    """Let Redis expire `key` as if its time-to-live had run out (no fixed sleep): a 1 ms
    TTL, then wait until Redis reports the key gone."""
    assert redis_store.client.pexpire(key, 1)
    deadline = time.monotonic() + timeout
    while redis_store.client.exists(key):
        assert time.monotonic() < deadline, f"{key} did not expire"
        time.sleep(0.005)


@pytest.fixture()
def other_client(app, db):
    return app.test_client()


# --- login and logout --------------------------------------------------------------------


def test_login_page_renders(client, db):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)


def test_login_success_signs_in_and_redirects(client, db):
    user = make_user("project_manager_full")
    response = sign_in(client, user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(client)
    assert db.session.get(User, user.id).last_login_at is not None
    # a signed-in user visiting the login page goes home
    assert client.get("/login").status_code == 302


def test_login_follows_a_safe_next_but_not_an_open_redirect(client, db):
    user = make_user("admin")
    response = client.post(
        "/login?next=/projects%3Fstatus%3Dclosed", data={"username": user.username, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/projects?status=closed"
    client.post("/logout")
    for evil in (
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "/\t/evil.example",
    ):
        response = client.post(
            "/login", query_string={"next": evil}, data={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/", evil
        client.post("/logout")


def test_login_failure_is_401_with_the_same_message_for_unknown_users(client, db):
    user = make_user("admin")
    wrong = sign_in(client, user, password="Wrong-pass1!")
    assert wrong.status_code == 401
    unknown = client.post("/login", data={"username": "nobody-at-all", "password": "Wrong-pass1!"})
    assert unknown.status_code == 401
    message = "That username and password do not match an active account."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert not signed_in(client)


def test_deactivated_user_cannot_sign_in(client, db):
    user = make_user("admin", is_active_flag=False)
    response = sign_in(client, user)
    assert response.status_code == 401
    assert not signed_in(client)


def test_login_regenerates_the_session_id(client, db):
    """Session fixation: an id planted before sign-in is worthless after it."""
    with client.session_transaction() as session:
        session["planted"] = "yes"
    planted = session_id(client)
    assert redis_store.client.exists(session_key(planted))
    sign_in(client, make_user("admin"))
    fresh = session_id(client)
    assert fresh and fresh != planted
    assert not redis_store.client.exists(session_key(planted))
    assert signed_in(client)


def test_logout_ends_the_server_side_session(client, other_client, db):
    sign_in(client, make_user("admin"))
    old = session_id(client)
    assert redis_store.client.exists(session_key(old))
    response = client.post("/logout")
    assert response.status_code == 302
    assert not redis_store.client.exists(session_key(old))
    assert not signed_in(client)
    # a copy of the old cookie (stolen, or kept by another tab) is not signed in
    other_client.set_cookie(COOKIE, old)
    assert not signed_in(other_client)


def test_logout_is_post_only(client, db):
    sign_in(client, make_user("admin"))
    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_session_cookie_flags(client, db):
    response = sign_in(client, make_user("admin"))
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith(COOKIE + "="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # the test app runs on http; production sets it
    cookie = client.get_cookie(COOKIE)
    assert cookie.http_only and cookie.same_site == "Lax"
    # the cookie holds only a random id: no user data travels to the browser
    assert len(cookie.value) >= 40 and str(PASSWORD) not in cookie.value


def test_session_cookie_is_secure_when_configured(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = sign_in(client, make_user("admin"))
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith(COOKIE + "="))
    assert "Secure" in header


# --- throttling ---------------------------------------------------------------------------


def test_account_lockout_with_a_clear_message_and_no_enumeration(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 3)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 100)
    user = make_user("admin")
    for n in range(3):  # from different addresses: the account counter catches them all
        assert sign_in(client, user, password="Wrong-pass1!", ip=f"10.0.0.{n}").status_code == 401
        assert (
            client.post(
                "/login", data={"username": "ghost-user", "password": "x"}, environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}
            ).status_code
            == 401
        )
    locked = sign_in(client, user, ip="10.0.0.99")  # even the right password
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    text = locked.get_data(as_text=True)
    assert "Too many sign-in attempts" in text and "minutes" in text
    ghost = client.post(
        "/login", data={"username": "ghost-user", "password": "x"}, environ_base={"REMOTE_ADDR": "10.0.1.99"}
    )
    assert ghost.status_code == 429
    assert "Too many sign-in attempts" in ghost.get_data(as_text=True)
    assert not signed_in(client)
    # other accounts are not affected
    assert sign_in(client, make_user("admin"), ip="10.0.0.99").status_code == 302


def test_ip_lockout_covers_every_account(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 100)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 3)
    for n in range(3):
        assert (
            client.post(
                "/login", data={"username": f"guess-{n}", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.5"}
            ).status_code
            == 401
        )
    user = make_user("admin")
    blocked = sign_in(client, user, ip="203.0.113.5")
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.get_data(as_text=True)
    assert not signed_in(client)
    assert sign_in(client, user, ip="198.51.100.7").status_code == 302


def test_successful_login_clears_the_account_counter(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 3)
    user = make_user("admin")
    for _ in range(2):
        sign_in(client, user, password="Wrong-pass1!")
    assert sign_in(client, user).status_code == 302
    client.post("/logout")
    for _ in range(2):
        sign_in(client, user, password="Wrong-pass1!")
    assert sign_in(client, user).status_code == 302


def test_lockout_lasts_the_lockout_window_and_then_expires(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 1)
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_SECONDS", 120)
    user = make_user("admin")
    sign_in(client, user, password="Wrong-pass1!")
    assert sign_in(client, user).status_code == 429
    key = redis_store.key("login-fail", "acct", f"user:{user.id}")  # an existing account: by id
    assert 115 <= redis_store.client.ttl(key) <= 120  # locked for the configured window
    expire_now(key)  # … the window passes
    assert sign_in(client, user).status_code == 302


# --- password change ---------------------------------------------------------------------


def change(web, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return web.post(
        PROBE,
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_password_change_ends_other_sessions_but_keeps_this_one(client, other_client, db):
    user = make_user("project_manager_full")
    sign_in(client, user)
    sign_in(other_client, user)
    assert signed_in(client) and signed_in(other_client)
    before = session_id(client)
    response = change(client)
    assert response.status_code == 302
    assert signed_in(client)
    assert session_id(client) != before
    assert not signed_in(other_client)
    assert verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)
    # the old password no longer works, the new one does
    client.post("/logout")
    assert sign_in(client, user).status_code == 401
    assert sign_in(client, user, password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("new", "needs"),
    [
        ("Sh0rt!", "at least 8 characters"),
        ("lowercase1!", "an upper-case letter"),
        ("UPPERCASE1!", "a lower-case letter"),
        ("NoDigits!!", "a digit"),
        ("NoSymbols12", "a symbol"),
        ("", "at least 8 characters"),
    ],
)
def test_password_policy_errors_are_inline_and_change_nothing(client, other_client, db, new, needs):
    user = make_user("admin")
    sign_in(client, user)
    sign_in(other_client, user)
    response = change(client, new=new)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'data-error-for="new_password"' in text
    assert needs in text
    assert verify_password(db.session.get(User, user.id).password_hash, PASSWORD)
    assert signed_in(client) and signed_in(other_client)


def test_wrong_current_password_and_mismatch_are_inline_errors(client, db):
    user = make_user("admin")
    sign_in(client, user)
    response = change(client, current="Not-the-one1!")
    assert response.status_code == 422
    assert 'data-error-for="current_password"' in response.get_data(as_text=True)
    response = change(client, confirm="Different&Paint42")
    assert response.status_code == 422
    assert 'data-error-for="confirm_password"' in response.get_data(as_text=True)
    assert verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


def test_password_page_needs_sign_in(client, db):
    response = client.get(PROBE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- role change and deactivation by an admin -----------------------------------------------


def test_role_change_ends_that_users_sessions(client, other_client, db):
    admin, user = make_user("admin"), make_user("project_manager_full")
    sign_in(client, admin)
    sign_in(other_client, user)
    assert signed_in(other_client)
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "designer"})
    assert response.status_code == 303
    assert db.session.get(User, user.id).role == "designer"
    assert not signed_in(other_client)
    assert signed_in(client)  # the admin's own session is untouched
    # signing in again gives the new role
    assert sign_in(other_client, user).status_code == 302


def test_role_change_to_the_same_role_keeps_sessions(client, other_client, db):
    admin, user = make_user("admin"), make_user("designer")
    sign_in(client, admin)
    sign_in(other_client, user)
    client.post(f"/admin/users/{user.id}/role", data={"role": "designer"})
    assert signed_in(other_client)


def test_non_admin_cannot_change_roles(client, other_client, db):
    pm, user = make_user("project_manager_full"), make_user("designer")
    sign_in(client, pm)
    sign_in(other_client, user)
    assert client.post(f"/admin/users/{user.id}/role", data={"role": "admin"}).status_code == 403
    assert db.session.get(User, user.id).role == "designer"
    assert signed_in(other_client)


def test_deactivation_ends_sessions(client, other_client, db):
    admin, user = make_user("admin"), make_user("superintendent")
    sign_in(client, admin)
    sign_in(other_client, user)
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert db.session.get(User, user.id).is_active_flag is False
    assert not signed_in(other_client)
    assert sign_in(other_client, user).status_code == 401


# --- idle timeout ----------------------------------------------------------------------------


def test_session_ttl_is_the_idle_timeout_and_slides(client, app, db):
    sign_in(client, make_user("admin"))
    key = session_key(session_id(client))
    idle = app.config["SESSION_IDLE_SECONDS"]
    assert idle == 30 * 60
    assert idle - 5 <= redis_store.client.ttl(key) <= idle
    redis_store.client.expire(key, 60)  # time passes…
    assert signed_in(client)  # …activity
    assert idle - 5 <= redis_store.client.ttl(key) <= idle  # counts again from the last request
    redis_store.client.expire(key, 60)
    background = client.get("/notifications/bell", headers={"X-Kibray-Background": "1"})
    assert background.status_code == 200
    assert redis_store.client.ttl(key) <= 60  # a fetch the page made by itself is not activity


def test_deleting_the_session_record_signs_out(client, db):
    sign_in(client, make_user("admin"))
    redis_store.client.delete(session_key(session_id(client)))
    assert not signed_in(client)


def test_idle_session_expires(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_SECONDS", 120)
    sign_in(client, make_user("admin"))
    key = session_key(session_id(client))
    assert 115 <= redis_store.client.ttl(key) <= 120  # the configured idle timeout
    expire_now(key)  # … idle for that long
    assert not signed_in(client)


def test_htmx_request_after_expiry_redirects_to_login(client, db):
    sign_in(client, make_user("admin"))
    redis_store.client.delete(session_key(session_id(client)))
    response = client.get("/projects", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert "/login" in response.headers["HX-Redirect"]


# --- one-time passwords -------------------------------------------------------------------------


def test_a_one_time_password_opens_only_the_change_password_page(client, db):
    user = make_user("project_manager_full", must_change_password=True)
    response = sign_in(client, user)
    assert response.headers["Location"].endswith(PROBE)
    for path in ("/", "/projects", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(PROBE), path
    htmx = client.get("/projects", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].endswith(PROBE)
    assert client.get("/events").status_code == 204
    assert client.get(PROBE).status_code == 200
    assert change(client).status_code == 302
    assert db.session.get(User, user.id).must_change_password is False
    assert client.get("/projects").status_code == 200


def test_username_and_email_share_one_failure_counter(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 3)
    user = make_user("admin", email="shared@kibray.example")
    for login in (user.username, "SHARED@kibray.example", user.username.upper()):
        assert client.post("/login", data={"username": login, "password": "Wrong-pass1!"}).status_code == 401
    assert client.post("/login", data={"username": "shared@kibray.example", "password": PASSWORD}).status_code == 429


def test_background_refreshes_do_not_keep_an_idle_session_alive(app, client, db):
    from app.auth.sessions import session_key
    from tests.factories import make_user

    user = make_user("designer")
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    sid = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    key = session_key(app, sid)
    redis = app.extensions["kibray_redis"]
    assert client.get("/notifications/bell").status_code == 200  # settles the session record
    redis.expire(key, 100)
    assert client.get("/notifications/bell", headers={"X-Kibray-Background": "1"}).status_code == 200
    assert redis.ttl(key) <= 100  # the live refresh did not count as activity
    assert client.get("/notifications/bell").status_code == 200
    assert redis.ttl(key) > 100  # the person's own request did


def test_live_stream_ends_when_its_session_is_gone(app, db):
    import threading

    from tests.factories import make_user

    app.config["SSE_HEARTBEAT_SECONDS"] = 0.2
    try:
        user = make_user("designer")
        browser = app.test_client()
        with browser.session_transaction() as session:
            session["_user_id"] = user.get_id()
        response = browser.get("/events", buffered=False)
        chunks = []
        reader = threading.Thread(target=lambda: chunks.extend(response.response), daemon=True)
        reader.start()
        browser.post("/logout")  # the same session, ended from another tab
        reader.join(5)
        assert not reader.is_alive(), "the stream should end by itself"
        assert any(b"event: session-ended" in c for c in chunks)
    finally:
        app.config["SSE_HEARTBEAT_SECONDS"] = 15
