"""Notifications that reach people (issue 8): preferences per kind and channel, email
through a real SMTP server (aiosmtpd, started here) sent by a real RQ worker on Redis,
quiet hours, the daily digest, retries, and the hourly reminders — once each."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, time, timedelta

import pytest
from aiosmtpd.controller import Controller
from rq import SimpleWorker
from sqlalchemy import func, select

from app.core.jobs import get_queue
from app.notifications import channels
from app.notifications.models import Delivery, Notification, NotificationPreference, Reminder
from app.notifications.services import notify
from app.tasks import services as tasks
from tests.factories import make_project, make_user


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def inbox(app):
    handler, port = Inbox(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_HOST_USER", "PUBLIC_URL")}
    app.config.update(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_HOST_USER=None,
        PUBLIC_URL="https://erp.example",
    )
    yield handler
    app.config.update(saved)
    controller.stop()


def work():
    queue = get_queue("notifications")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return queue


def test_an_assignment_is_emailed_by_the_worker_through_smtp(app, db, inbox):
    pm, painter = make_user("project_manager_full"), make_user("employee", email="pat@example.com")
    project = make_project(members=[pm], name="Harbor lofts")
    with app.test_request_context():
        task = tasks.create_task(pm, project, {"title": "Mask windows"}, [painter.id])
        db.session.commit()
    assert inbox.messages == []  # nothing leaves before the worker runs
    work()
    [(to, content)] = inbox.messages
    assert to == ["pat@example.com"]
    assert "Subject: You were given the task Mask windows (Harbor lofts)" in content
    assert f"https://erp.example/tasks/{task.id}" in content
    delivery = db.session.scalars(select(Delivery).where(Delivery.user_id == painter.id)).one()
    assert delivery.status == "sent" and delivery.attempts == 1
    work()  # run again: nothing is sent twice
    assert len(inbox.messages) == 1


def test_preferences_turn_email_and_the_bell_off_per_kind(app, db, inbox):
    person = make_user("designer", email="dee@example.com")
    with app.test_request_context():
        channels.save_preferences(
            person,
            preferences=[{"kind": "system", "email": True}, {"kind": "mention", "in_app": False, "email": False}],
        )
        loud = notify(person, "system", "Maintenance tonight")
        quiet = notify(person, "mention", "Sam mentioned you")
        db.session.commit()
    work()
    assert [c for _, c in inbox.messages if "Maintenance tonight" in c]
    assert not [c for _, c in inbox.messages if "mentioned you" in c]
    assert loud.read_at is None and quiet.read_at is not None  # kept as a record, never rung
    shape = channels.preferences_of(person)
    mention = next(p for p in shape["preferences"] if p["kind"] == "mention")
    assert mention == {"kind": "mention", "in_app": False, "email": False}
    assert {c["name"]: c["configured"] for c in shape["channels"]} == {"email": True, "sms": False, "push": False}


def test_quiet_hours_hold_email_until_they_end(app, db, inbox):
    person = make_user("designer", email="dee@example.com")
    row = NotificationPreference(user_id=person.id, choices={"system": {"email": True}})
    db.session.add(row)
    db.session.flush()
    zone = channels.company_zone()
    now = datetime(2026, 3, 2, 23, 30, tzinfo=zone)
    row.quiet_start, row.quiet_end = time(22, 0), time(6, 30)
    ends = channels.quiet_until(row, now.astimezone(UTC))
    assert ends == datetime(2026, 3, 3, 6, 30, tzinfo=zone)
    assert channels.quiet_until(row, datetime(2026, 3, 3, 12, 0, tzinfo=zone)) is None
    # held now (quiet from a minute ago until in an hour), sent by the job once they end
    local = datetime.now(zone)
    row.quiet_start = (local - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    row.quiet_end = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    with app.test_request_context():
        notify(person, "system", "Held until morning")
        db.session.commit()
    work()
    assert inbox.messages == []
    delivery = db.session.scalars(select(Delivery).where(Delivery.user_id == person.id)).one()
    assert delivery.status == "pending" and delivery.send_after > datetime.now(UTC)
    delivery.send_after = datetime.now(UTC) - timedelta(seconds=1)  # the quiet hours are over
    db.session.commit()
    from workers.notifications import send_held

    assert send_held() == 1
    work()
    assert len(inbox.messages) == 1 and "Held until morning" in inbox.messages[0][1]


def test_the_digest_gathers_a_days_notifications_in_one_email(app, db, inbox):
    person = make_user("designer", email="dee@example.com")
    with app.test_request_context():
        channels.save_preferences(person, preferences=[{"kind": "system", "email": True}], digest=True)
        notify(person, "system", "First news")
        notify(person, "system", "Second news")
        db.session.commit()
    work()
    assert inbox.messages == []  # waits for the digest
    with app.test_request_context():
        assert channels.send_digests() == 1
        db.session.commit()
    [(_, content)] = inbox.messages
    assert (
        "Subject: Your Kibray digest: 2 update(s)" in content and "First news" in content and "Second news" in content
    )


def test_a_failing_smtp_server_is_retried_then_recorded(app, db):
    person = make_user("designer", email="dee@example.com")
    app.config["EMAIL_HOST"], app.config["EMAIL_PORT"] = "127.0.0.1", _free_port()  # nobody listens
    try:
        with app.test_request_context():
            note = notify(person, "project_assigned", "You were added")
            db.session.commit()
        delivery = db.session.scalars(select(Delivery).where(Delivery.notification_id == note.id)).one()
        queue = work()
        db.session.expire_all()
        delivery = db.session.get(Delivery, delivery.id)
        assert delivery.attempts == 1 and delivery.status == "pending" and "Connection" in delivery.last_error
        assert queue.scheduled_job_registry.count + queue.count >= 1  # RQ retries it with backoff
        with app.test_request_context(), pytest.raises(OSError):
            channels.deliver(delivery.id, retries_left=0)
        db.session.expire_all()
        assert db.session.get(Delivery, delivery.id).status == "failed"
    finally:
        app.config["EMAIL_HOST"], app.config["EMAIL_PORT"] = "", 25


def test_due_soon_and_overdue_reminders_go_out_once(app, db):
    pm, painter = make_user("project_manager_full"), make_user("employee")
    project = make_project(members=[pm])
    today = tasks.today()
    with app.test_request_context():
        soon = tasks.create_task(
            pm, project, {"title": "Trim", "due_date": str(today + timedelta(days=1))}, [painter.id]
        )
        late = tasks.create_task(
            pm,
            project,
            {
                "title": "Walls",
                "start_date": str(today - timedelta(days=3)),
                "due_date": str(today - timedelta(days=1)),
            },
            [painter.id],
        )
        from app.tasks.reminders import remind

        assert remind() == 3  # due soon: the painter; overdue: the painter and the PM
        assert remind() == 0  # idempotent: every reminder is already recorded
    kinds = db.session.execute(
        select(Notification.user_id, Notification.kind).where(Notification.kind.in_(("task_due_soon", "task_overdue")))
    ).all()
    assert sorted(kinds) == sorted(
        [(painter.id, "task_due_soon"), (painter.id, "task_overdue"), (pm.id, "task_overdue")]
    )
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 3
    # a new due date is a new condition
    with app.test_request_context():
        tasks.update_task(pm, soon, {"due_date": str(today + timedelta(days=1))}, partial=True)
        tasks.update_task(pm, late, {"due_date": str(today - timedelta(days=2))}, partial=True)
        assert remind() == 2


def test_the_preferences_api(client, db):
    from tests.conftest import bearer

    person = make_user("employee")
    headers = bearer(client, person)
    shown = client.get("/api/notifications/preferences/", headers=headers).json["data"]
    assert {"kind": "task_assigned", "in_app": True, "email": True} in shown["preferences"]
    assert shown["quiet_hours"] is None and shown["digest"] is False
    saved = client.put(
        "/api/notifications/preferences/",
        json={
            "preferences": [{"kind": "task_due_soon", "email": True}],
            "quiet_hours": {"start": "21:00", "end": "06:30"},
            "digest": True,
        },
        headers=headers,
    ).json["data"]
    assert {"kind": "task_due_soon", "in_app": True, "email": True} in saved["preferences"]
    assert saved["quiet_hours"] == {"start": "21:00", "end": "06:30"} and saved["digest"] is True
    bad = client.put(
        "/api/notifications/preferences/",
        json={"preferences": [{"kind": "gossip", "email": True}], "quiet_hours": {"start": "9pm", "end": "06:30"}},
        headers=headers,
    )
    assert bad.status_code == 400
    assert set(bad.json["error"]["details"]) == {"preferences", "quiet_hours.start"}
    cleared = client.put("/api/notifications/preferences/", json={"quiet_hours": None}, headers=headers).json["data"]
    assert cleared["quiet_hours"] is None and cleared["digest"] is True
