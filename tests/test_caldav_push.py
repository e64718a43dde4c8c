"""Pushing to a CalDAV calendar (app/calendar_sync/sync.py) against a real server
(Radicale): the first push puts every item the person may see, one object a UID; a
second push with nothing changed sends nothing; a moved event is sent again (and only
it); a deleted one is taken off; an item changed in the calendar app meanwhile is left
for the pull (412), not overwritten."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import caldav
import pytest
from icalendar import Calendar

from app.calendar import services as calendar
from app.calendar.models import CalendarEvent, EventAssignee
from app.calendar_sync import sync
from app.calendar_sync.caldav_client import Client
from app.calendar_sync.models import CalendarAccount
from tests.factories import make_project, make_user
from tests.radicale import account_on, radicale  # noqa: F401 - the fixture

DENVER = ZoneInfo("America/Denver")
TODAY = datetime.now(UTC).astimezone(DENVER).date()


def at(days: int, hour: int) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), time(hour), tzinfo=DENVER)


@pytest.fixture()
def setup(db, radicale):  # noqa: F811
    pm = make_user("project_manager_full", full_name="Pat Manager")
    project = make_project(members=[pm], name="Harbor kitchen", end_date=TODAY + timedelta(days=200))
    events = []
    for n in range(3):
        event = CalendarEvent(project_id=project.id, title=f"Walk {n}", start_at=at(n + 1, 9), end_at=at(n + 1, 10))
        event.assignments = [EventAssignee(user_id=pm.id)]
        db.session.add(event)
        events.append(event)
    db.session.flush()
    phone = caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password)
    remote = phone.principal().make_calendar(name=f"Kibray {uuid.uuid4().hex[:6]}")
    account = account_on(pm, radicale, remote)
    yield pm, events, account, remote
    remote.delete()


def _remote_summaries(remote) -> dict[str, str]:
    found = {}
    for item in remote.events():
        (event,) = Calendar.from_ical(item.data).walk("VEVENT")
        found[str(event["UID"])] = str(event["SUMMARY"])
    return found


def test_push_puts_changes_and_takes_off_exactly_what_changed(app, setup):
    pm, events, account, remote = setup
    first = sync.push(account)
    assert (first.created, first.updated, first.deleted) == (3, 0, 0)
    assert first.requests == 3
    assert sorted(_remote_summaries(remote).values()) == ["Walk 0", "Walk 1", "Walk 2"]
    assert account.last_synced_at is not None and account.status == "ok"

    again = sync.push(account)
    assert (again.created, again.updated, again.deleted, again.unchanged, again.requests) == (0, 0, 0, 3, 0)

    calendar.move_event(pm, events[0], at(5, 13), at(5, 14))
    moved = sync.push(account)
    assert (moved.updated, moved.requests) == (1, 1)
    (item,) = [i for i in remote.events() if f"event-{events[0].id}@" in i.data]
    (pushed,) = Calendar.from_ical(item.data).walk("VEVENT")
    assert pushed.decoded("DTSTART") == at(5, 13)

    calendar.delete_event(pm, events[1])
    gone = sync.push(account)
    assert (gone.deleted, gone.requests) == (1, 1)
    assert sorted(_remote_summaries(remote).values()) == ["Walk 0", "Walk 2"]


def test_an_item_changed_in_the_calendar_app_is_not_overwritten(app, setup):
    pm, events, account, remote = setup
    sync.push(account)
    (theirs,) = [i for i in remote.events() if f"event-{events[2].id}@" in i.data]
    theirs.data = theirs.data.replace("SUMMARY:Walk 2", "SUMMARY:Walk 2 (phone)")
    theirs.save()
    calendar.update_event(pm, events[2], {"title": "Walk 2, renamed in Kibray"})
    pushed = sync.push(account)
    assert pushed.changed_there == [f"event-{events[2].id}@localhost"]
    assert _remote_summaries(remote)[f"event-{events[2].id}@localhost"] == "Walk 2 (phone)"


def test_a_wrong_password_fails_the_push(app, setup):
    from app.calendar_sync.caldav_client import AuthFailed

    _, _, account, _ = setup
    account.password = "wrong"
    with pytest.raises(AuthFailed):
        sync.push(account, client=Client(account.server_url, account.username, "wrong"))


def test_the_sync_job_syncs_marks_failures_and_runs_once_at_a_time(app, setup):
    from app.extensions import redis_store
    from workers.calendar_sync import sync_account

    pm, events, account, remote = setup
    assert sync_account(account.id) == "3 items in the calendar; 3 added, 0 changed, 0 removed there."
    assert account.status == "ok" and account.last_error == ""
    assert len(_remote_summaries(remote)) == 3

    lock = redis_store.client.lock(redis_store.key(f"calendar-sync:{account.id}"), timeout=60)
    assert lock.acquire(blocking=False)
    try:
        assert sync_account(account.id) == "busy"  # another run holds the account
    finally:
        lock.release()

    assert sync_account(account.id) == "3 items in the calendar."  # run twice: nothing more

    account.password = "wrong"
    assert sync_account(account.id) == "failing"  # not raised: no retry storm
    refreshed = app.extensions["sqlalchemy"].session.get(CalendarAccount, account.id)
    assert refreshed.status == "failing" and "password" in refreshed.last_error


def test_an_owner_no_longer_allowed_to_sync_fails_the_account_and_nothing_is_taken_off(app, setup):
    from workers.calendar_sync import sync_account

    pm, _, account, remote = setup
    assert "3 added" in sync_account(account.id)
    pm.role = "employee"  # the matrix's calendar.sync_external: admins, PMs and trainees only
    assert sync_account(account.id) == "failing"
    assert account.status == "failing" and account.last_error
    assert len(_remote_summaries(remote)) == 3  # not a push that takes everything off
