"""The way back of the CalDAV sync (app/calendar_sync/pull.py) against a real server
(Radicale): edits and deletions made in the calendar with the `caldav` client come into
Kibray through the services (audit entries "via CalDAV"); a change both sides made is
resolved by the later modification, the losing version kept; a change the services
refuse is put back on the server and its owner told; the same run twice changes
nothing; events created in the calendar stay there unless imported into a project."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import caldav
import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.calendar import services as calendar
from app.calendar.models import CalendarEvent, EventAssignee
from app.calendar_sync import sync
from app.calendar_sync.models import SyncConflict
from app.calendar_sync.pull import fields_of, own_description
from app.core.audit import AuditLog
from app.notifications.models import Notification
from app.tasks.models import Task, TaskAssignment
from tests.factories import make_project, make_user
from tests.radicale import account_on, radicale  # noqa: F401 - the fixture

DENVER = ZoneInfo("America/Denver")
TODAY = datetime.now(UTC).astimezone(DENVER).date()


def at(days: int, hour: int) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), time(hour), tzinfo=DENVER)


@pytest.fixture()
def world(db, radicale):  # noqa: F811
    pm = make_user("project_manager_full", full_name="Pat Manager")
    crew = make_user("employee", full_name="Casey Crew")
    project = make_project(members=[pm, crew], name="Harbor kitchen", end_date=TODAY + timedelta(days=200))
    walk = CalendarEvent(
        project_id=project.id, title="Walkthrough", description="Bring the samples", start_at=at(2, 9), end_at=at(2, 10)
    )
    walk.assignments = [EventAssignee(user_id=pm.id), EventAssignee(user_id=crew.id)]
    task = Task(
        project_id=project.id,
        title="Prime trim",
        start_date=TODAY + timedelta(days=3),
        due_date=TODAY + timedelta(days=4),
    )
    task.assignments = [TaskAssignment(user_id=crew.id)]
    db.session.add_all([walk, task])
    db.session.flush()
    phone = caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password)
    remote = phone.principal().make_calendar(name=f"Kibray {uuid.uuid4().hex[:6]}")
    account = account_on(pm, radicale, remote)
    first = sync.run(account)
    assert (first.pushed.created, first.pulled.fetched) == (2, 0)
    yield pm, project, walk, task, account, remote
    remote.delete()


def _remote(remote, uid: str):
    (item,) = [i for i in remote.events() if f"UID:{uid}" in i.data.replace("\r\n ", "")]
    return item


def _edit(remote, uid: str, **changes):
    """Change the item in the calendar as a phone would: new values, LAST-MODIFIED now
    (or as given), saved with its ETag."""
    item = _remote(remote, uid)
    cal = Calendar.from_ical(item.data)
    (event,) = cal.walk("VEVENT")
    modified = changes.pop("modified", datetime.now(UTC) + timedelta(seconds=5))
    for key, value in changes.items():
        if key in event:
            del event[key]
        event.add(key, value)
    if "LAST-MODIFIED" in event:
        del event["LAST-MODIFIED"]
    event.add("LAST-MODIFIED", modified)
    item.data = cal.to_ical().decode()
    item.save()


def _new(remote, summary: str, start: datetime, end: datetime) -> None:
    """An event made on the phone (its own UID)."""
    from icalendar import Event

    cal = Calendar()
    cal.add("PRODID", "-//Phone//EN")
    cal.add("VERSION", "2.0")
    event = Event()
    event.add("UID", f"{uuid.uuid4().hex}@phone")
    event.add("DTSTAMP", datetime.now(UTC))
    event.add("DTSTART", start)
    event.add("DTEND", end)
    event.add("SUMMARY", summary)
    cal.add_component(event)
    remote.save_event(cal.to_ical().decode())


def _summary(remote, uid: str) -> tuple[str, datetime]:
    (event,) = Calendar.from_ical(_remote(remote, uid).data).walk("VEVENT")
    return str(event["SUMMARY"]), event.decoded("DTSTART")


def test_a_time_and_title_changed_in_the_calendar_come_in_through_the_services(app, world):
    pm, project, walk, task, account, remote = world
    uid = f"event-{walk.id}@localhost"
    _edit(remote, uid, SUMMARY="Walkthrough with the owner", DTSTART=at(3, 13), DTEND=at(3, 14))
    version = walk.version

    result = sync.run(account)
    assert (result.pulled.fetched, result.pulled.applied, result.pulled.refused) == (1, 1, [])
    assert walk.title == "Walkthrough with the owner" and walk.version > version
    assert walk.start_at == at(3, 13) and walk.end_at == at(3, 14)
    assert walk.description == "Bring the samples"  # the header Kibray writes is not taken in
    entry = (
        app.extensions["sqlalchemy"]
        .session.scalars(
            select(AuditLog)
            .where(AuditLog.object_type == "CalendarEvent", AuditLog.object_id == str(walk.id))
            .order_by(AuditLog.id.desc())
        )
        .first()
    )
    assert entry.username == pm.username and entry.changes["via"] == [None, "CalDAV"]
    assert entry.changes["title"] == ["Walkthrough", "Walkthrough with the owner"]
    from app.core.audit_text import describe

    (line,) = describe([entry])
    assert line.sentence.endswith("(via CalDAV)") and "Walkthrough with the owner" in line.sentence
    # Kibray's own version (a new SEQUENCE) went back out: the calendar and Kibray agree
    assert _summary(remote, uid) == ("Walkthrough with the owner", at(3, 13))

    again = sync.run(account)  # the same run twice: nothing fetched, nothing sent, nothing changed
    assert (again.pulled.fetched, again.pulled.applied, again.pushed.created, again.pushed.updated) == (0, 0, 0, 0)
    assert again.requests == 1  # the sync-collection REPORT only
    assert walk.version == version + 1


def test_a_description_edited_in_the_calendar_keeps_only_what_the_person_wrote():
    sent = "Project: Harbor kitchen\nCrew: Casey Crew\n\nBring the samples\n\nNotes: gate code 1234"
    edited = "Project: Harbor kitchen\nCrew: Casey Crew\n\nBring the samples and the ladder\n\nNotes: gate code 1234"
    assert own_description(edited, sent, notes="gate code 1234") == "Bring the samples and the ladder"
    assert own_description("Just this", sent, notes="gate code 1234") == "Just this"
    # a description whose last paragraph starts "Notes: " is the person's, when the item has no notes
    mine = "Project: Harbor kitchen\n\nBring samples\n\nNotes: mine"
    assert own_description(mine, "Project: Harbor kitchen\n\nBring samples") == "Bring samples\n\nNotes: mine"


def test_a_task_moved_in_the_calendar_moves_in_kibray(app, world):
    pm, project, walk, task, account, remote = world
    uid = f"task-{task.id}@localhost"
    start = TODAY + timedelta(days=6)
    _edit(remote, uid, DTSTART=start, DTEND=start + timedelta(days=3))
    result = sync.run(account)
    assert result.pulled.applied == 1
    assert (task.start_date, task.due_date) == (start, start + timedelta(days=2))  # DTEND is exclusive


def test_an_item_deleted_in_the_calendar_is_deleted_in_kibray(app, world):
    pm, project, walk, task, account, remote = world
    walk_id = walk.id
    _remote(remote, f"event-{walk_id}@localhost").delete()
    result = sync.run(account)
    assert result.pulled.applied == 1
    session = app.extensions["sqlalchemy"].session
    assert session.get(CalendarEvent, walk_id) is None
    deleted = session.scalars(
        select(AuditLog).where(
            AuditLog.object_type == "CalendarEvent", AuditLog.action == "delete", AuditLog.object_id == str(walk_id)
        )
    ).one()
    assert deleted.changes["via"] == [None, "CalDAV"]


def test_a_refused_change_is_put_back_on_the_server_and_its_owner_told(app, world):
    from app.projects import services as projects

    pm, project, walk, task, account, remote = world
    session = app.extensions["sqlalchemy"].session
    admin = make_user("admin")
    projects.close_project(admin, project)  # its calendar is read-only now
    uid = f"event-{walk.id}@localhost"
    sync.run(account)  # (the closed project's items stay in the PM's calendar)
    _edit(remote, uid, DTSTART=at(5, 7), DTEND=at(5, 8))

    result = sync.run(account)
    assert result.pulled.refused == ["Walkthrough"] and result.pulled.applied == 0
    assert walk.start_at == at(2, 9)  # not moved in Kibray
    assert _summary(remote, uid) == ("Walkthrough", at(2, 9))  # and put back in the calendar
    note = session.scalars(
        select(Notification).where(Notification.user_id == pm.id, Notification.kind == "calendar_sync_refused")
    ).one()
    assert "closed" in note.body and "put back" in note.body
    denied = session.scalars(select(AuditLog).where(AuditLog.result == "denied", AuditLog.user_id == pm.id)).one()
    assert denied.changes["via"] == [None, "CalDAV"] and denied.object_id == str(walk.id)
    from app.core.audit_text import describe

    (line,) = describe([denied])
    assert "was refused: update the event" in line.sentence and "closed" in line.sentence
    assert line.sentence.endswith("(via CalDAV)")
    assert sync.run(account).pulled.fetched == 0  # settled: nothing comes back again


def test_an_item_dropped_from_the_team_and_edited_there_is_refused_then_taken_off(app, world):
    from app.projects import services as projects

    pm, project, walk, task, account, remote = world
    uid = f"event-{walk.id}@localhost"
    _edit(remote, uid, SUMMARY="Mine now")
    projects.remove_member(make_user("admin"), project, pm)
    result = sync.run(account)
    assert result.pulled.applied == 0 and walk.title == "Walkthrough"
    assert not [i for i in remote.events() if "Mine now" in i.data]


def test_changed_on_both_sides_the_later_change_wins_and_the_other_is_kept(app, world):
    pm, project, walk, task, account, remote = world
    session = app.extensions["sqlalchemy"].session
    uid = f"event-{walk.id}@localhost"

    # Kibray first, the calendar later: the calendar's version wins
    calendar.update_event(pm, walk, {"title": "Walkthrough (Kibray)"})
    _edit(remote, uid, SUMMARY="Walkthrough (phone)", modified=datetime.now(UTC) + timedelta(minutes=5))
    result = sync.run(account)
    assert result.pulled.conflicts == 1
    assert walk.title == "Walkthrough (phone)"
    (conflict,) = session.scalars(select(SyncConflict).where(SyncConflict.account_id == account.id)).all()
    assert conflict.kept == "calendar" and "Walkthrough (Kibray)" in conflict.lost_summary
    assert _summary(remote, uid)[0] == "Walkthrough (phone)"

    # the calendar first (an old LAST-MODIFIED), Kibray later: Kibray's version wins
    _edit(remote, uid, SUMMARY="Walkthrough (old phone edit)", modified=datetime.now(UTC) - timedelta(hours=1))
    calendar.update_event(pm, walk, {"title": "Walkthrough (Kibray, later)"})
    result = sync.run(account)
    assert result.pulled.conflicts == 1 and walk.title == "Walkthrough (Kibray, later)"
    lost = session.scalars(select(SyncConflict).where(SyncConflict.kept == "kibray")).one()
    assert "Walkthrough (old phone edit)" in lost.lost_summary and "BEGIN:VCALENDAR" in lost.lost_ics
    assert _summary(remote, uid)[0] == "Walkthrough (Kibray, later)"  # put back over the calendar's


def test_events_created_in_the_calendar_stay_there_unless_imported(app, world):
    pm, project, walk, task, account, remote = world
    session = app.extensions["sqlalchemy"].session
    _new(remote, "Dentist", at(8, 12), at(8, 13))
    result = sync.run(account)
    assert result.pulled.fetched == 0  # not even read: it is the person's own
    assert not session.scalars(select(CalendarEvent).where(CalendarEvent.title == "Dentist")).all()

    account.import_project_id = project.id
    _new(remote, "Paint drop-off", at(9, 8), at(9, 9))
    result = sync.run(account)
    assert result.pulled.imported == 1
    (imported,) = session.scalars(select(CalendarEvent).where(CalendarEvent.title == "Paint drop-off")).all()
    assert imported.project_id == project.id and imported.start_at == at(9, 8)
    summaries = [str(e["SUMMARY"]) for i in remote.events() for e in Calendar.from_ical(i.data).walk("VEVENT")]
    assert summaries.count("Paint drop-off") == 1  # Kibray's copy replaced the phone's
    assert _summary(remote, f"event-{imported.id}@localhost")[0] == "Paint drop-off"
    assert "Dentist" in summaries


def test_the_fields_of_an_object_read_all_day_and_floating_times():
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20261201T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261203\r\nDTEND;VALUE=DATE:20261205\r\nSUMMARY:Prime\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    fields = fields_of(text)
    assert fields.all_day and (fields.start, fields.end) == (date(2026, 12, 3), date(2026, 12, 5))
    floating = text.replace("DTSTART;VALUE=DATE:20261203", "DTSTART:20261203T090000").replace(
        "DTEND;VALUE=DATE:20261205", "DTEND:20261203T100000"
    )
    assert fields_of(floating).start == datetime(2026, 12, 3, 9, tzinfo=DENVER)  # the company's zone
    assert fields_of("not a calendar") is None


def test_a_sync_token_the_server_no_longer_knows_means_a_full_listing_deletions_included(app, world):
    pm, project, walk, task, account, remote = world
    walk_id = walk.id
    _remote(remote, f"event-{walk_id}@localhost").delete()
    account.sync_token = "http://radicale.org/ns/sync/" + "0" * 64  # forgotten by the server
    result = sync.run(account)
    assert account.status == "ok" and result.pulled.applied == 1  # not "wrong password"
    assert app.extensions["sqlalchemy"].session.get(CalendarEvent, walk_id) is None


def test_writes_a_failed_run_did_not_record_are_taken_over_not_duplicated(app, world):
    from app.calendar_sync.models import SyncedItem

    pm, project, walk, task, account, remote = world
    session = app.extensions["sqlalchemy"].session
    forget = SyncedItem.__table__.delete().where(SyncedItem.account_id == account.id)
    sync.run(account)  # (the sync token now postdates the PUTs)
    session.execute(forget)  # as if the run had died after its PUTs, before recording them
    result = sync.run(account)  # (the listing since the token does not name them: the PUT finds them)
    assert (result.pushed.created, result.pushed.changed_there) == (2, []) and len(remote.events()) == 2
    session.execute(forget)
    account.sync_token = None  # the first run died: a full listing finds them and takes them over
    result = sync.run(account)
    assert (result.pushed.updated, result.pushed.created) == (2, 0) and len(remote.events()) == 2
    again = sync.run(account)
    assert (again.pushed.updated, again.pushed.created, again.pulled.fetched) == (0, 0, 0)


def test_an_old_event_of_the_persons_edited_after_the_import_is_switched_on_stays_theirs(app, client, world):
    from app.calendar_sync import accounts

    pm, project, walk, task, account, remote = world
    session = app.extensions["sqlalchemy"].session
    _new(remote, "Dentist", at(8, 12), at(8, 13))
    sync.run(account)
    accounts.update(pm, account, {"import_project_id": project.id})
    (dentist,) = [i for i in remote.events() if "Dentist" in i.data]
    cal = Calendar.from_ical(dentist.data)
    (event,) = cal.walk("VEVENT")
    event["SUMMARY"] = "Dentist (moved)"
    dentist.data = cal.to_ical().decode()
    dentist.save()
    result = sync.run(account)
    assert result.pulled.imported == 0
    assert not session.scalars(select(CalendarEvent).where(CalendarEvent.title.like("Dentist%"))).all()


def test_jobs_named_by_path_run_in_embedded_mode(app):
    from app.core.jobs import _run_inline

    _run_inline(app, "workers.calendar_sync.sync_all", (), {"job_timeout": 5})  # no TypeError
