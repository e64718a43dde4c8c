"""Connecting a CalDAV account (app/calendar_sync/accounts.py) through the API and the
page, against a real server (Radicale): discovery and the choice of calendar, errors on
their fields, the password encrypted at rest, who may connect; when syncs are queued
(on a change, debounced; periodically; on demand); the admin's view; and Google's
OAuth flow against a stand-in for Google's token endpoint (the one fake: Google cannot
be reached from here)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import caldav
import pytest
from rq.job import Job
from sqlalchemy import select, text

from app.calendar.models import CalendarEvent, EventAssignee
from app.calendar_sync import google_oauth, runs
from app.calendar_sync.models import CalendarAccount, SyncConflict
from app.core.jobs import get_queue
from app.extensions import db as _db
from app.extensions import redis_store
from tests.conftest import bearer
from tests.factories import make_project, make_user
from tests.radicale import radicale  # noqa: F401 - the fixture

DENVER = ZoneInfo("America/Denver")


@pytest.fixture()
def calendars(radicale):  # noqa: F811
    """Two calendars of the Radicale user (so a choice is needed), removed afterwards."""
    phone = caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password)
    made = [phone.principal().make_calendar(name=f"Kibray {n} {uuid.uuid4().hex[:6]}") for n in (1, 2)]
    yield radicale, made
    for calendar in made:
        calendar.delete()


def _body(server, **extra):
    return {"server_url": server.url, "username": server.username, "password": server.password, **extra}


def _offline(user, n: int = 1, **extra) -> CalendarAccount:
    """An account on a server nobody answers at (the runs are queued, never run here)."""
    account = CalendarAccount(
        user_id=user.id,
        server_url="http://127.0.0.1:9/",
        username="someone",
        password="app-password",
        calendar_url=f"http://127.0.0.1:9/{n}/",
        **extra,
    )
    _db.session.add(account)
    _db.session.flush()
    return account


def _queued(account_id: int) -> bool:
    try:
        job = Job.fetch(runs.job_id(account_id), connection=redis_store.client)
    except Exception:  # noqa: BLE001 - no such job
        return False
    return job.get_status() in ("queued", "scheduled")


def test_connecting_through_the_api_discovers_the_calendars_and_asks_which(app, client, db, calendars):
    server, made = calendars
    pm = make_user("project_manager_full")
    headers = bearer(client, pm)

    ask = client.post("/api/calendar/accounts/", json=_body(server), headers=headers)
    assert ask.status_code == 400 and ask.json["error"]["code"] == "VALIDATION_ERROR"
    assert made[0].name in ask.json["error"]["details"]["calendar_url"]  # the choices are listed

    done = client.post("/api/calendar/accounts/", json=_body(server, calendar_url=str(made[0].url)), headers=headers)
    assert done.status_code == 201, done.json
    account = done.json["data"]
    assert set(account) >= {"id", "server_url", "username", "calendar_url", "status", "last_synced_at", "last_error"}
    assert (account["calendar_url"], account["status"], account["calendar_name"]) == (
        str(made[0].url),
        "ok",
        made[0].name,
    )
    assert _queued(account["id"])  # the first sync is on its way
    raw = db.session.execute(
        text("SELECT password FROM calendar_accounts WHERE id = :i"), {"i": account["id"]}
    ).scalar()
    assert server.password not in raw  # encrypted at rest

    listing = client.get("/api/calendar/accounts/", headers=headers).json["data"]
    assert [a["id"] for a in listing["results"]] == [account["id"]] and listing["pagination"]["total_count"] == 1
    again = client.post("/api/calendar/accounts/", json=_body(server, calendar_url=str(made[0].url)), headers=headers)
    assert again.status_code == 400 and "already connected" in again.json["error"]["details"]["calendar_url"]

    project = make_project(members=[pm])
    patched = client.patch(
        f"/api/calendar/accounts/{account['id']}/", json={"import_project_id": project.id}, headers=headers
    )
    assert patched.json["data"]["import_project"] == {"id": project.id, "name": project.name}
    assert client.post(f"/api/calendar/accounts/{account['id']}/sync/", headers=headers).status_code == 202
    assert client.delete(f"/api/calendar/accounts/{account['id']}/", headers=headers).status_code == 200
    assert db.session.get(CalendarAccount, account["id"]) is None


def test_bad_credentials_and_addresses_are_told_on_their_fields(app, client, db, calendars):
    server, made = calendars
    headers = bearer(client, make_user("pm_trainee"))
    wrong = client.post("/api/calendar/accounts/", json=_body(server, password="nope"), headers=headers)
    assert "refused" in wrong.json["error"]["details"]["password"]
    missing = client.post("/api/calendar/accounts/", json={}, headers=headers)
    assert set(missing.json["error"]["details"]) == {"server_url", "username", "password"}
    app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = False
    try:
        private = client.post("/api/calendar/accounts/", json=_body(server), headers=headers)
    finally:
        app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = True
    assert "private network" in private.json["error"]["details"]["server_url"]
    assert not db.session.scalars(select(CalendarAccount)).all()  # nothing half-made


def test_only_roles_that_may_sync_connect_a_calendar(app, client, db, calendars):
    server, made = calendars
    for role in ("superintendent", "employee", "designer", "client"):
        headers = bearer(client, make_user(role))
        answer = client.post(
            "/api/calendar/accounts/", json=_body(server, calendar_url=str(made[0].url)), headers=headers
        )
        assert answer.status_code == 403, role


def test_the_page_connects_with_a_choice_of_calendar_and_shows_errors_inline(app, client, db, login_as, calendars):
    server, made = calendars
    login_as("project_manager_full")
    form = {**_body(server), "provider": "caldav"}
    wrong = client.post("/account/calendar/accounts", data={**form, "password": "nope"})
    assert wrong.status_code == 422 and "The server refused this user name and password." in wrong.text
    choose = client.post("/account/calendar/accounts", data=form)
    assert choose.status_code == 422 and 'data-testid="calendar-choice"' in choose.text and made[1].name in choose.text
    done = client.post("/account/calendar/accounts", data={**form, "calendar_url": str(made[1].url)})
    assert done.status_code == 303
    page = client.get("/account/calendar").text
    assert made[1].name in page and 'data-testid="sync-now"' in page
    assert 'data-testid="google-not-configured"' in page  # no Google OAuth client here


def test_a_change_queues_the_accounts_of_who_may_see_it_once_per_burst(app, client, db, login_as):
    pm = login_as("project_manager_full")
    other = make_user("project_manager_full")
    project = make_project(members=[pm])
    mine, _ = _offline(pm), _offline(other)
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=3), time(9), tzinfo=DENVER)
    event = CalendarEvent(project_id=project.id, title="Walk", start_at=start, end_at=start + timedelta(hours=1))
    event.assignments = [EventAssignee(user_id=pm.id)]
    db.session.add(event)
    db.session.commit()
    headers = bearer(client, pm)
    fanout = get_queue("sync")
    before = fanout.scheduled_job_registry.count

    for hour in (10, 11):  # two moves in a row
        moved = client.patch(
            f"/api/calendar/events/{event.id}/move/",
            json={
                "start_datetime": start.replace(hour=hour).isoformat(),
                "end_datetime": start.replace(hour=hour + 1).isoformat(),
            },
            headers=headers,
        )
        assert moved.status_code == 200, moved.json
    assert fanout.scheduled_job_registry.count == before + 1  # one run after the burst, not two
    assert runs.changed_accounts() == [mine.id]  # the PM's, not the other PM's
    assert runs.changed_accounts() == []  # the marks are taken


def test_the_scheduler_syncs_every_account_that_is_not_failing(app, db):
    from app.core.features import periodic_jobs
    from workers.calendar_sync import sync_all

    assert periodic_jobs(app)["calendar-sync"].every == runs.PERIOD
    pm = make_user("project_manager_full")
    ok, failing = _offline(pm, 1), _offline(pm, 2, status="failing")
    assert sync_all() == 1 and _queued(ok.id) and not _queued(failing.id)
    assert sync_all() == 0  # still waiting: not queued twice
    assert runs.next_run(ok) is not None and runs.next_run(failing) is None


def test_an_event_sync_queues_the_callers_calendars(app, client, db):
    pm = make_user("project_manager_full")
    project = make_project(members=[pm])
    start = datetime.now(UTC) + timedelta(days=2)
    event = CalendarEvent(project_id=project.id, title="Walk", start_at=start, end_at=start + timedelta(hours=1))
    db.session.add(event)
    db.session.flush()
    headers = bearer(client, pm)
    none_yet = client.post(f"/api/calendar/events/{event.id}/sync/", headers=headers)
    assert none_yet.status_code == 409 and none_yet.json["error"]["code"] == "CONFLICT"
    account = _offline(pm)
    queued = client.post(f"/api/calendar/events/{event.id}/sync/", headers=headers)
    assert queued.status_code == 202 and queued.json["data"] == {"queued": [account.id]}


def test_the_admin_sees_every_account_with_its_last_error_and_items(app, client, db, login_as):
    admin = login_as("admin")
    pm = make_user("project_manager_full", full_name="Pat Manager")
    account = _offline(
        pm, calendar_name="Work", status="failing", last_error="The calendar server refused the user name or password."
    )
    db.session.add(SyncConflict(account_id=account.id, uid="u", title="t", kept="kibray", lost_summary="s"))
    page = client.get("/admin/calendar-sync").text
    assert "Pat Manager" in page and "refused the user name or password" in page and "stopped until fixed" in page
    assert admin.role == "admin"


# --- Google (OAuth 2.0) --------------------------------------------------------------------------


class _Google(BaseHTTPRequestHandler):
    """Google's token endpoint, as far as the flow needs it."""

    refused = False

    def do_POST(self):  # noqa: N802 - the handler's name
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        assert form["client_id"] == ["client-1"] and form["client_secret"] == ["secret-1"]
        if _Google.refused:
            status, body = 400, {"error": "invalid_grant"}
        elif form["grant_type"] == ["authorization_code"]:
            assert form["code"] == ["code-1"]
            claims = base64.urlsafe_b64encode(json.dumps({"email": "pat@example.com"}).encode()).decode().rstrip("=")
            status, body = 200, {"access_token": "at-1", "refresh_token": "rt-1", "id_token": f"h.{claims}.s"}
        else:
            assert form["refresh_token"] == ["rt-1"]
            status, body = 200, {"access_token": "at-2", "expires_in": 3599}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def google(app, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Google)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(google_oauth, "TOKEN_URL", f"http://127.0.0.1:{server.server_port}/token")
    monkeypatch.setitem(app.config, "GOOGLE_CALENDAR_CLIENT_ID", "client-1")
    monkeypatch.setitem(app.config, "GOOGLE_CALENDAR_CLIENT_SECRET", "secret-1")
    _Google.refused = False
    yield
    server.shutdown()
    server.server_close()


def test_google_connects_through_oauth_and_syncs_with_a_bearer_token(app, client, db, login_as, google):
    from app.calendar_sync.caldav_client import AuthFailed
    from app.calendar_sync.sync import client_for

    login_as("project_manager_full")
    page = client.get("/account/calendar").text
    assert "Connect with Google" in page and "google-not-configured" not in page
    start = client.get("/account/calendar/google")
    assert start.status_code == 302
    sent = urlsplit(start.headers["Location"])
    query = parse_qs(sent.query)
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == google_oauth.AUTH_URL
    assert query["client_id"] == ["client-1"] and query["access_type"] == ["offline"]
    assert "https://www.googleapis.com/auth/calendar" in query["scope"][0]

    forged = client.get("/account/calendar/google/callback?state=forged&code=code-1")
    assert forged.status_code == 400  # not the state this session was sent with
    start = client.get("/account/calendar/google")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    back = client.get(f"/account/calendar/google/callback?state={state}&code=code-1")
    assert back.status_code == 302
    account = db.session.scalars(select(CalendarAccount)).one()
    assert (account.provider, account.username, account.password) == ("google", "pat@example.com", "rt-1")
    assert account.calendar_url == "https://apidata.googleusercontent.com/caldav/v2/pat@example.com/events/"
    assert _queued(account.id)

    assert client_for(account).headers["Authorization"] == "Bearer at-2"  # from the refresh token
    _Google.refused = True  # access removed in the Google account
    with pytest.raises(AuthFailed):
        client_for(account)
