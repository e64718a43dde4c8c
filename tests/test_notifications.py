"""The bell: notifications for the user only, marked read, live via events."""

from __future__ import annotations

from app.notifications.models import Notification
from app.notifications.services import notify
from tests.factories import make_project, make_user


def test_bell_shows_own_unread_only(client, login_as, db):
    me = login_as("designer")
    other = make_user("designer")
    project = make_project()
    link = ("projects.detail", {"project_id": project.id})
    notify(me, "project_assigned", "You were added to project Oak deck", *link, project_id=project.id)
    notify(other, "project_assigned", "Secret for someone else", *link)
    bell = client.get("/notifications/bell")
    assert bell.status_code == 200
    assert "Oak deck" in bell.text and "Secret for someone else" not in bell.text
    assert 'data-testid="bell-count">1<' in bell.text


def test_mark_read_and_all_read(client, login_as, db):
    me = login_as("employee")
    first = notify(me, "system", "First", "notifications.index")
    notify(me, "system", "Second")
    other = notify(make_user("employee"), "system", "Not yours")
    read = client.post(f"/notifications/{first.id}/read")
    assert read.status_code == 302 and read.headers["Location"] == "/notifications"
    db.session.refresh(first)
    assert first.read_at is not None
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    client.post("/notifications/read-all")
    assert db.session.query(Notification).filter_by(user_id=me.id, read_at=None).count() == 0
    db.session.refresh(other)
    assert other.read_at is None


def test_nobody_is_notified_of_their_own_action(db):
    admin = make_user("admin")
    note = notify(admin, "system", "Self", actor=admin)
    assert note.id is None


def test_each_notification_links_to_its_object(client, login_as, db):
    me = login_as("designer")
    project = make_project(name="Oak deck")
    note = notify(me, "project_assigned", "You were added", "projects.detail", {"project_id": project.id})
    notify(me, "system", "No link here")
    page = client.get("/notifications").text
    assert page.count('data-testid="notification-link"') == 1
    assert f'href="/projects/{project.id}"' in page
    assert f'href="/projects/{project.id}"' in client.get("/").text  # the home page's latest ones
    read = client.post(f"/notifications/{note.id}/read")  # the bell's item: read, then go there
    assert read.status_code == 302 and read.headers["Location"] == f"/projects/{project.id}"


def test_a_notification_link_must_name_a_real_endpoint(db):
    import pytest

    with pytest.raises(ValueError, match="endpoint"):
        notify(make_user("designer"), "system", "Broken", "/projects/1")


def test_the_notifications_api_lists_and_marks_only_your_own(client, db):
    from app.notifications.services import notify
    from tests.conftest import bearer
    from tests.factories import make_project, make_user

    pm, other = make_user("project_manager_full"), make_user("designer")
    project = make_project(members=[pm])
    first = notify(pm, "project_assigned", "You were added", "projects.detail", {"project_id": project.id})
    notify(pm, "system", "Maintenance tonight")
    theirs = notify(other, "system", "Not for the PM")
    headers = bearer(client, pm)
    listed = client.get("/api/notifications/", headers=headers).json["data"]
    assert [n["message"] for n in listed["results"]] == ["Maintenance tonight", "You were added"]
    assert listed["results"][1]["link"] == f"/projects/{project.id}" and listed["results"][1]["is_read"] is False
    marked = client.post(f"/api/notifications/{first.id}/mark-read/", headers=headers)
    assert marked.status_code == 200 and marked.json["data"]["is_read"] is True
    unread = client.get("/api/notifications/?is_read=false", headers=headers).json["data"]["results"]
    assert [n["message"] for n in unread] == ["Maintenance tonight"]
    assert client.post(f"/api/notifications/{theirs.id}/mark-read/", headers=headers).status_code == 404
    assert client.post("/api/notifications/mark-all-read/", headers=headers).json["data"] == {"marked": 1}
    assert client.get("/api/notifications/?is_read=false", headers=headers).json["data"]["results"] == []
    assert db.session.get(type(theirs), theirs.id).read_at is None
