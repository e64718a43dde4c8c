"""The bell: notifications for the user only, marked read, live via events."""

from __future__ import annotations

from app.notifications.models import Notification
from app.notifications.services import notify
from tests.factories import make_project, make_user


def test_bell_shows_own_unread_only(client, login_as, db):
    me = login_as("designer")
    other = make_user("designer")
    project = make_project()
    notify(me, "project_assigned", "You were added to project Oak deck", "/projects/1", project_id=project.id)
    notify(other, "project_assigned", "Secret for someone else", "/projects/1")
    bell = client.get("/notifications/bell")
    assert bell.status_code == 200
    assert "Oak deck" in bell.text and "Secret for someone else" not in bell.text
    assert 'data-testid="bell-count">1<' in bell.text


def test_mark_read_and_all_read(client, login_as, db):
    me = login_as("employee")
    first = notify(me, "system", "First", "/")
    notify(me, "system", "Second", "/")
    other = notify(make_user("employee"), "system", "Not yours", "/")
    assert client.post(f"/notifications/{first.id}/read").status_code == 302
    db.session.refresh(first)
    assert first.read_at is not None
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    client.post("/notifications/read-all")
    assert db.session.query(Notification).filter_by(user_id=me.id, read_at=None).count() == 0
    db.session.refresh(other)
    assert other.read_at is None


def test_nobody_is_notified_of_their_own_action(db):
    admin = make_user("admin")
    note = notify(admin, "system", "Self", "/", actor=admin)
    assert note.id is None
