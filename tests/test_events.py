"""Live updates: events go out only after the commit, only to the entitled users, and
the SSE stream forwards them (with replay on reconnect)."""

from __future__ import annotations

import json
import threading

import pytest
from flask import current_app

from app.core.events import send_now
from tests.factories import make_client, make_project, make_user


class Stream:
    """Reads an SSE response from the test client in a background thread."""

    def __init__(self, response):
        self.response = response
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buffer = ""
        try:
            for chunk in self.response.response:
                if self.stopped:  # close from the reading thread, as a server would
                    self.response.close()
                    return
                buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    event = {"comment": block.startswith(":")}
                    for line in block.splitlines():
                        key, _, value = line.partition(": ")
                        if key in ("id", "event", "data"):
                            event[key] = value
                    with self.arrived:
                        self.events.append(event)
                        self.arrived.notify_all()
        except Exception:  # noqa: BLE001, S110 - the stream was closed by the test
            pass

    def wait_for(self, name: str, timeout: float = 3.0) -> dict | None:
        with self.arrived:
            found = self.arrived.wait_for(lambda: any(e.get("event") == name for e in self.events), timeout)
            if not found:
                return None
            return next(e for e in self.events if e.get("event") == name)

    def names(self) -> list[str]:
        return [e.get("event") for e in self.events if e.get("event")]

    def close(self):
        """Stop reading; the stream closes at its next heartbeat (≤ 1 s here)."""
        self.stopped = True
        self.thread.join(3)


@pytest.fixture()
def open_stream(app, db):
    streams = []
    app.config["SSE_HEARTBEAT_SECONDS"] = 0.3

    def _open(user, headers=None):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
        response = client.get("/events", buffered=False, headers=headers or {})
        assert response.status_code == 200
        assert response.mimetype == "text/event-stream"
        stream = Stream(response)
        streams.append(stream)
        assert stream.wait_for("hello"), "the first event must arrive at once"
        return stream

    yield _open
    for stream in streams:
        stream.close()
    app.config["SSE_HEARTBEAT_SECONDS"] = 15


def test_anonymous_cannot_open_the_stream(client):
    response = client.get("/events")
    assert response.status_code == 401


def test_project_change_reaches_entitled_users_only(client, login_as, db, open_stream):
    owner_company = make_client(name="Hughes Residence")
    pm = make_user("project_manager_full")
    other_pm = make_user("project_manager_full")
    admin = make_user("admin")
    client_user = make_user("client", client=owner_company)
    stranger_client = make_user("client")
    employee = make_user("employee")
    trainee = make_user("pm_trainee")
    designer = make_user("designer")
    superintendent = make_user("superintendent")
    outside_designer = make_user("designer")
    project = make_project(client=owner_company, members=[pm, trainee, designer, superintendent])

    entitled = {
        "admin": admin,
        "client": client_user,
        "trainee": trainee,
        "designer": designer,
        "super": superintendent,
    }
    refused = {
        "other_pm": other_pm,
        "stranger": stranger_client,
        "employee": employee,
        "outside_designer": outside_designer,
    }
    streams = {name: open_stream(user) for name, user in {**entitled, **refused}.items()}
    login_as(pm)
    response = client.post(
        f"/projects/{project.id}/edit",
        data={
            "name": "Hughes repaint (phase 2)",
            "client_id": owner_company.id,
            "address": "1 Cedar Bend",
            "pm_ids": [pm.id, trainee.id],
        },
    )
    assert response.status_code == 303

    for name in entitled:
        got = streams[name].wait_for("project-updated")
        assert got and json.loads(got["data"]) == {"id": project.id}, name
    # Events reach a stream in the order they were sent: once a later marker has arrived,
    # an earlier event that had not arrived never will (no fixed wait to prove absence).
    everyone = [user.id for user in {**entitled, **refused}.values()]
    send_now(current_app._get_current_object(), {"event": "marker", "data": {}, "users": everyone, "roles": []})
    for name in refused:
        assert streams[name].wait_for("marker"), name
        assert "project-updated" not in streams[name].names(), name


def test_nothing_is_published_when_the_request_fails(app, client, login_as, db, open_stream):
    admin = make_user("admin")
    admin_stream = open_stream(admin)
    login_as("project_manager_full")
    company = make_client()
    make_project(name="Taken", client=company)
    response = client.post("/projects", data={"name": "Taken", "client_id": company.id, "address": "x"})
    assert response.status_code == 422
    # a later marker arrives; an event of the failed request would have arrived before it
    send_now(app, {"event": "marker", "data": {}, "users": [admin.id], "roles": []})
    assert admin_stream.wait_for("marker")
    assert "project-created" not in admin_stream.names()


def test_added_member_gets_a_live_notification(client, login_as, db, open_stream):
    designer = make_user("designer")
    project = make_project()
    designer_stream = open_stream(designer)
    login_as("admin")
    response = client.post(f"/admin/projects/{project.id}/team", data={"user_id": designer.id})
    assert response.status_code == 303
    assert designer_stream.wait_for("notification"), designer_stream.events


def test_reconnect_replays_missed_events(app, db, open_stream):
    admin = make_user("admin")
    first = open_stream(admin)
    hello = first.wait_for("hello")
    first.close()
    missed = send_now(app, {"event": "project-updated", "data": {"id": 99}, "users": [], "roles": ["admin"]})
    hidden = send_now(app, {"event": "project-updated", "data": {"id": 100}, "users": [], "roles": ["client"]})
    again = open_stream(admin, headers={"Last-Event-ID": hello["id"]})
    replayed = again.wait_for("project-updated")
    assert replayed and int(replayed["id"]) == missed
    assert all(json.loads(e["data"]) != {"id": 100} for e in again.events if e.get("event") == "project-updated")
    assert hidden > missed


def test_heartbeat_keeps_the_stream_alive(db, open_stream):
    stream = open_stream(make_user("employee"))
    with stream.arrived:
        assert stream.arrived.wait_for(lambda: any(e["comment"] for e in stream.events), 2)


def test_role_change_ends_the_live_stream(client, login_as, db, open_stream):
    user = make_user("designer")
    stream = open_stream(user)
    login_as("admin")
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "superintendent"})
    assert response.status_code == 303
    assert stream.wait_for("session-ended")


def test_publishing_an_undeclared_event_is_refused(app, db):
    """Like notify() and its kinds: an event no installed feature declares as a LiveEvent
    would never reach a browser (app.js subscribes to the declared ones), so it is refused."""
    from app.core.events import publish

    with pytest.raises(ValueError, match="invoice-paid"):
        publish("invoice-paid", {"id": 1})
    publish("project-updated", {"id": 1}, users=[1])  # declared by the projects feature
    publish("session-ended", {}, users=[1])  # declared by the auth feature, which publishes it


def test_every_event_the_code_publishes_is_declared(app):
    import pathlib
    import re

    from app.core.features import live_events

    root = pathlib.Path(__file__).resolve().parent.parent
    published = set()
    for path in [*root.glob("app/**/*.py"), *root.glob("workers/**/*.py")]:
        published |= set(re.findall(r"""\bpublish(?:_project)?\(\s*["']([^"']+)["']""", path.read_text()))
    assert {"project-created", "project-deleted", "notification", "session-ended"} <= published
    assert sorted(published - set(live_events(app))) == []
