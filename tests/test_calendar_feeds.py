"""Subscription feeds (issue 11, app/calendar_sync): every feed parses with `icalendar`
and carries what calendar apps need (UID, DTSTAMP, SEQUENCE, LAST-MODIFIED, the company
zone's VTIMEZONE, all-day items as DATE values, a series with its RRULE, overrides and
EXDATEs); UIDs stay stable across edits while SEQUENCE grows; each feed shows what its
owner may see (a client's nothing internal, an employee's their own items); revoked
and regenerated tokens answer 404; an unchanged feed answers 304 and a committed change
a new ETag; the API and the settings page issue, regenerate and stop URLs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import delete

from app.calendar import services as calendar
from app.calendar.models import CalendarEvent, EventAssignee
from app.calendar_sync import feeds
from app.calendar_sync.ics import escape, fold
from app.calendar_sync.models import CalendarFeed
from app.extensions import db
from app.tasks.models import Task, TaskAssignment
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

DENVER = ZoneInfo("America/Denver")
TODAY = datetime.now(UTC).astimezone(DENVER).date()


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=DENVER)


def _event(project, title, start, end, people=(), **kwargs) -> CalendarEvent:
    item = CalendarEvent(project_id=project.id, title=title, start_at=start, end_at=end, **kwargs)
    item.assignments = [EventAssignee(user_id=p.id) for p in people]
    db.session.add(item)
    db.session.flush()
    return item


def _task(project, title, start, due, people=()) -> Task:
    item = Task(project_id=project.id, title=title, start_date=start, due_date=due)
    item.assignments = [TaskAssignment(user_id=p.id) for p in people]
    db.session.add(item)
    db.session.flush()
    return item


def _url_path(feed: CalendarFeed) -> str:
    return f"/calendar/feed/{feed.token}.ics"


def _fetch(client, feed, **headers):
    return client.get(_url_path(feed), headers=headers)


def _events(answer) -> list:
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "text/calendar"
    return Calendar.from_ical(answer.data).walk("VEVENT")


def _by_summary(events) -> dict:
    return {str(e["SUMMARY"]): e for e in events}


@pytest.fixture()
def job(db):
    """A PM's project with its client company, an employee on one event and one task."""
    company = make_client(name="Harbor Holdings")
    pm = make_user("project_manager_full", full_name="Pat Manager")
    painter = make_user("employee", full_name="Ana Alvarez")
    other = make_user("employee", full_name="Bo Brush")
    project = make_project(client=company, members=[pm], name="Harbor kitchen", end_date=TODAY + timedelta(days=200))
    walk = _event(project, "Site walk", at(TODAY + timedelta(days=2), 9), at(TODAY + timedelta(days=2), 10), [painter])
    walk.notes = "Gate code 4411"
    review = _event(
        project,
        "Colour review, owner",
        at(TODAY + timedelta(days=3), 0),
        at(TODAY + timedelta(days=4), 0),
        [other],
        all_day=True,
        visibility="client_visible",
        event_type="milestone",
    )
    paint = _task(project, "Paint walls", TODAY + timedelta(days=5), TODAY + timedelta(days=7), [painter])
    other_task = _task(project, "Sand doors", TODAY + timedelta(days=5), TODAY + timedelta(days=6), [other])
    client_user = make_user("client", client=company, full_name="Olive Owner")
    db.session.flush()
    return {
        "pm": pm,
        "painter": painter,
        "other": other,
        "client": client_user,
        "project": project,
        "walk": walk,
        "review": review,
        "paint": paint,
        "other_task": other_task,
    }


def test_a_feed_parses_and_carries_what_calendar_apps_need(client, job):
    feed = feeds.feed_for(job["pm"])
    answer = _fetch(client, feed)
    parsed = Calendar.from_ical(answer.data)
    assert str(parsed["X-WR-TIMEZONE"]) == "America/Denver"
    assert "REFRESH-INTERVAL" in parsed and "X-PUBLISHED-TTL" in parsed
    (zone,) = parsed.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/Denver"
    events = _by_summary(parsed.walk("VEVENT"))
    assert set(events) == {"Site walk", "Colour review, owner", "Paint walls", "Sand doors"}
    for item in events.values():
        for prop in ("UID", "DTSTAMP", "SEQUENCE", "LAST-MODIFIED", "DTSTART", "DTEND", "STATUS"):
            assert prop in item, prop
    walk = events["Site walk"]
    assert walk["UID"] == f"event-{job['walk'].id}@localhost"
    start = walk.decoded("DTSTART")
    assert start == at(TODAY + timedelta(days=2), 9) and start.tzinfo.key == "America/Denver"
    assert "Crew: Ana Alvarez" in str(walk["DESCRIPTION"]) and "Gate code 4411" in str(walk["DESCRIPTION"])
    assert "Harbor kitchen" in str(walk["DESCRIPTION"])
    review = events["Colour review, owner"]
    assert review.decoded("DTSTART") == TODAY + timedelta(days=3)  # a DATE, not a datetime
    assert review.decoded("DTEND") == TODAY + timedelta(days=4)  # exclusive
    paint = events["Paint walls"]
    assert paint["UID"] == f"task-{job['paint'].id}@localhost"
    assert paint.decoded("DTSTART") == TODAY + timedelta(days=5)
    assert paint.decoded("DTEND") == TODAY + timedelta(days=8)


def test_a_series_has_its_rule_its_moved_occurrence_and_its_cancelled_one(client, job):
    pm, project = job["pm"], job["project"]
    first = at(TODAY + timedelta(days=7), 7)
    series = calendar.create_event(
        pm,
        {
            "title": "Weekly site meeting",
            "project_id": project.id,
            "start_datetime": first.isoformat(),
            "end_datetime": (first + timedelta(hours=1)).isoformat(),
            "rrule": "FREQ=WEEKLY;COUNT=4",
        },
    )
    calendar.move_event(
        pm,
        series,
        first + timedelta(days=7, hours=2),
        first + timedelta(days=7, hours=3),
        occurrence_start=first + timedelta(days=7),
    )
    calendar.delete_event(pm, series, occurrence_start=first + timedelta(days=14))
    events = [e for e in _events(_fetch(client, feeds.feed_for(pm))) if str(e["SUMMARY"]) == "Weekly site meeting"]
    master = next(e for e in events if "RRULE" in e)
    assert master["RRULE"]["FREQ"] == ["WEEKLY"] and master["RRULE"]["COUNT"] == [4]
    assert master.decoded("DTSTART") == first
    exdates = [d.dt for d in master["EXDATE"].dts] if not isinstance(master["EXDATE"], list) else []
    assert exdates == [first + timedelta(days=14)]
    (moved,) = [e for e in events if "RECURRENCE-ID" in e]
    assert moved["UID"] == master["UID"]
    assert moved.decoded("RECURRENCE-ID") == first + timedelta(days=7)
    assert moved.decoded("DTSTART") == first + timedelta(days=7, hours=2)


def test_uids_stay_and_sequence_grows_with_each_change(client, job):
    feed = feeds.feed_for(job["pm"])
    before = _by_summary(_events(_fetch(client, feed)))["Site walk"]
    calendar.update_event(job["pm"], job["walk"], {"title": "Site walk (moved)"})
    calendar.move_event(job["pm"], job["walk"], at(TODAY + timedelta(days=9), 13), at(TODAY + timedelta(days=9), 14))
    after = _by_summary(_events(_fetch(client, feed)))["Site walk (moved)"]
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] == before["SEQUENCE"] + 2
    assert after.decoded("DTSTART") == at(TODAY + timedelta(days=9), 13)


def test_a_cancelled_event_is_sent_as_cancelled(client, job):
    calendar.update_event(job["pm"], job["walk"], {"status": "cancelled"})
    walk = _by_summary(_events(_fetch(client, feeds.feed_for(job["pm"]))))["Site walk"]
    assert walk["STATUS"] == "CANCELLED"


def test_a_clients_feed_has_only_client_visible_items_and_nothing_internal(client, job):
    answer = _fetch(client, feeds.feed_for(job["client"]))
    events = _events(answer)
    assert [str(e["SUMMARY"]) for e in events] == ["Colour review, owner"]
    text = answer.get_data(as_text=True)
    for secret in ("Bo Brush", "Ana Alvarez", "Gate code", "Crew", "Paint walls", "Site walk"):
        assert secret not in text


def test_an_employees_feed_has_their_own_items(client, job):
    events = _by_summary(_events(_fetch(client, feeds.feed_for(job["painter"]))))
    assert set(events) == {"Site walk", "Paint walls"}


def test_a_project_feed_has_that_project_only(client, job):
    elsewhere = make_project(members=[job["pm"]], name="Birch Row", end_date=TODAY + timedelta(days=200))
    _event(elsewhere, "Birch walkthrough", at(TODAY + timedelta(days=1), 9), at(TODAY + timedelta(days=1), 10))
    everything = _by_summary(_events(_fetch(client, feeds.feed_for(job["pm"]))))
    assert "Birch walkthrough" in everything
    answer = _fetch(client, feeds.feed_for(job["pm"], job["project"]))
    parsed = Calendar.from_ical(answer.data)
    assert "Harbor kitchen" in str(parsed["X-WR-CALNAME"])
    assert "Birch walkthrough" not in _by_summary(parsed.walk("VEVENT"))


def test_revoked_regenerated_and_no_longer_allowed_tokens_answer_404(client, job):
    pm = job["pm"]
    feed = feeds.feed_for(pm)
    old = feed.token
    assert client.get(f"/calendar/feed/{old}.ics").status_code == 200
    feeds.regenerate(pm)
    assert client.get(f"/calendar/feed/{old}.ics").status_code == 404
    assert _fetch(client, feed).status_code == 200
    assert feed.token_hash == feeds.hash_token(feed.token) and feed.token not in feed.token_hash
    feeds.revoke(pm)
    assert client.get(f"/calendar/feed/{feed.token}.ics").status_code == 404
    mine = feeds.feed_for(job["painter"])
    job["painter"].is_active_flag = False
    db.session.flush()
    assert _fetch(client, mine).status_code == 404
    theirs = feeds.feed_for(job["other"])
    job["other"].role = "designer"  # no calendar any more
    db.session.flush()
    assert _fetch(client, theirs).status_code == 404
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_a_project_feed_stops_when_its_project_is_out_of_sight(client, job):
    super_user = make_user("superintendent")
    project = make_project(members=[super_user], end_date=TODAY + timedelta(days=200))
    feed = feeds.feed_for(super_user, project)
    assert _fetch(client, feed).status_code == 200
    from app.projects.models import ProjectMembership

    db.session.execute(delete(ProjectMembership).where(ProjectMembership.user_id == super_user.id))
    db.session.flush()
    assert _fetch(client, feed).status_code == 404


def test_text_is_escaped_and_folded(client, job):
    title = "Trim, doors; ceilings\\walls — a long note " + "é" * 60
    calendar.update_event(job["pm"], job["walk"], {"title": title, "description": "Line one\nLine two, with; marks"})
    answer = _fetch(client, feeds.feed_for(job["pm"]))
    assert all(len(line) <= 75 for line in answer.data.split(b"\r\n"))
    walk = next(e for e in _events(answer) if str(e["UID"]).startswith(f"event-{job['walk'].id}@"))
    assert str(walk["SUMMARY"]) == title
    assert "Line one\nLine two, with; marks" in str(walk["DESCRIPTION"])
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert fold("X:" + "é" * 80).count("\r\n ") >= 2


def test_the_api_issues_regenerates_and_stops_urls(client, job):
    headers = bearer(client, job["pm"])
    first = client.get("/api/calendar/feed/", headers=headers).json["data"]["url"]
    assert first.endswith(".ics") and first == client.get("/api/calendar/feed/", headers=headers).json["data"]["url"]
    assert client.get(first.replace("http://localhost", "")).status_code == 200
    second = client.post("/api/calendar/feed/regenerate/", headers=headers).json["data"]["url"]
    assert second != first
    assert client.get(first.replace("http://localhost", "")).status_code == 404
    project_url = client.get(f"/api/projects/{job['project'].id}/feed/", headers=headers).json["data"]["url"]
    assert project_url not in (first, second)
    regenerated = client.post(
        "/api/calendar/feed/regenerate/", json={"project_id": job["project"].id}, headers=headers
    ).json["data"]["url"]
    assert regenerated != project_url
    assert client.delete("/api/calendar/feed/", headers=headers).json["data"] == {"stopped": True}
    assert client.delete("/api/calendar/feed/", headers=headers).json["data"] == {"stopped": False}
    assert client.get(second.replace("http://localhost", "")).status_code == 404
    stopped = client.delete(f"/api/calendar/feed/?project_id={job['project'].id}", headers=headers)
    assert stopped.json["data"] == {"stopped": True}
    bad = client.post("/api/calendar/feed/regenerate/", json={"project_id": "x"}, headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"


def test_the_settings_page_makes_regenerates_and_stops_urls(client, login_as, job):
    login_as(job["pm"])
    page = client.get("/account/calendar").get_data(as_text=True)
    assert "Get my subscription URL" in page
    assert client.post("/account/calendar", data={"action": "create"}).status_code == 303
    feed = feeds.existing_feed(job["pm"])
    page = client.get("/account/calendar").get_data(as_text=True)
    assert f"/calendar/feed/{feed.token}.ics" in page
    client.post("/account/calendar", data={"action": "regenerate"})
    db.session.refresh(feed)
    assert f"/calendar/feed/{feed.token}.ics" in client.get("/account/calendar").get_data(as_text=True)
    project_id = str(job["project"].id)
    client.post("/account/calendar", data={"action": "create", "project_id": project_id})
    assert feeds.existing_feed(job["pm"], job["project"]) is not None
    assert "Harbor kitchen" in client.get("/account/calendar").get_data(as_text=True)
    client.post("/account/calendar", data={"action": "revoke"})
    assert feeds.existing_feed(job["pm"]) is None
    assert client.post("/account/calendar", data={"action": "create", "project_id": "abc"}).status_code == 422


def test_an_unchanged_feed_answers_304_and_a_committed_change_a_new_etag(app):
    """Committed for real (the ETag follows the tables' generations, which commits raise;
    the `db` fixture's rolled-back transaction never commits); deleted afterwards."""
    from sqlalchemy import or_

    from app.auth.models import User
    from app.clients.models import Client
    from app.core.audit import AuditLog
    from app.projects.models import Project

    with app.app_context():
        pm = make_user("project_manager_full")
        project = make_project(members=[pm], end_date=TODAY + timedelta(days=200))
        event = _event(project, "Committed walk", at(TODAY + timedelta(days=2), 9), at(TODAY + timedelta(days=2), 10))
        feed = CalendarFeed(user_id=pm.id, token="etag-test-" + str(pm.id), token_hash="")
        feed.token_hash = feeds.hash_token(feed.token)
        db.session.add(feed)
        db.session.commit()
        pm_id, project_id, client_id, event_id, token = pm.id, project.id, project.client_id, event.id, feed.token
        db.session.remove()
    web = app.test_client()
    url = f"/calendar/feed/{token}.ics"
    try:
        first = web.get(url)
        assert first.status_code == 200
        tag = first.headers["ETag"]
        again = web.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
        with app.app_context():
            actor, moved = db.session.get(User, pm_id), db.session.get(CalendarEvent, event_id)
            calendar.move_event(actor, moved, at(TODAY + timedelta(days=3), 11), at(TODAY + timedelta(days=3), 12))
            db.session.commit()
            db.session.remove()
        changed = web.get(url, headers={"If-None-Match": tag})
        assert changed.status_code == 200 and changed.headers["ETag"] != tag
        walk = _by_summary(_events(changed))["Committed walk"]
        assert walk.decoded("DTSTART") == at(TODAY + timedelta(days=3), 11)
        assert web.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304
    finally:
        with app.app_context():
            db.session.execute(
                delete(AuditLog).where(
                    or_(
                        AuditLog.user_id == pm_id,
                        AuditLog.project_id == project_id,
                        AuditLog.object_id.in_([str(pm_id), str(project_id), str(client_id), str(event_id)]),
                    )
                )
            )
            db.session.execute(delete(Project).where(Project.id == project_id))
            db.session.execute(delete(User).where(User.id == pm_id))
            db.session.execute(delete(Client).where(Client.id == client_id))
            db.session.commit()
            db.session.remove()


def test_an_all_day_series_ends_on_a_date_and_its_occurrences_match_its_value_type(client, job):
    """RFC 5545: UNTIL, RECURRENCE-ID and EXDATE take the series' DTSTART's value type —
    also for an occurrence made all-day on its own, and for exceptions beyond the window."""
    pm, project = job["pm"], job["project"]
    first = at(TODAY + timedelta(days=7), 0)
    daily = calendar.create_event(
        pm,
        {
            "title": "Scaffold up",
            "project_id": project.id,
            "start_datetime": first.isoformat(),
            "end_datetime": (first + timedelta(days=1)).isoformat(),
            "all_day": True,
            "rrule": f"FREQ=DAILY;UNTIL={(first + timedelta(days=5)).astimezone(UTC):%Y%m%dT%H%M%SZ}",
        },
    )
    events = [e for e in _events(_fetch(client, feeds.feed_for(pm))) if str(e["SUMMARY"]) == "Scaffold up"]
    (master,) = events
    assert master.decoded("DTSTART") == TODAY + timedelta(days=7)
    assert master["RRULE"]["UNTIL"] == [TODAY + timedelta(days=12)]  # a DATE, not a UTC time
    assert daily.id

    weekly_start = at(TODAY + timedelta(days=1), 7)
    weekly = calendar.create_event(
        pm,
        {
            "title": "Crew huddle",
            "project_id": project.id,
            "start_datetime": weekly_start.isoformat(),
            "end_datetime": (weekly_start + timedelta(hours=1)).isoformat(),
            "rrule": "FREQ=WEEKLY;COUNT=80",  # past the feed's year ahead
        },
    )
    second = weekly_start + timedelta(days=7)
    calendar.edit_occurrence(pm, weekly, second, {"all_day": True})
    far = weekly_start + timedelta(days=7 * 70)  # beyond the window: still an EXDATE
    calendar.delete_event(pm, weekly, occurrence_start=far)
    huddles = [e for e in _events(_fetch(client, feeds.feed_for(pm))) if str(e["SUMMARY"]) == "Crew huddle"]
    master = next(e for e in huddles if "RRULE" in e)
    (override,) = [e for e in huddles if "RECURRENCE-ID" in e]
    assert override.decoded("RECURRENCE-ID") == second  # a date-time, as the series' DTSTART
    assert isinstance(override.decoded("DTSTART"), date) and not isinstance(override.decoded("DTSTART"), datetime)
    assert [d.dt for d in master["EXDATE"].dts] == [far]


def test_control_characters_are_removed_from_text(client, job):
    calendar.update_event(job["pm"], job["walk"], {"description": "Bring\x0b the\x1b ladder\ttoday"})
    answer = _fetch(client, feeds.feed_for(job["pm"]))
    assert b"\x0b" not in answer.data and b"\x1b" not in answer.data
    walk = _by_summary(_events(answer))["Site walk"]
    assert "Bring the ladder\ttoday" in str(walk["DESCRIPTION"])


def test_two_first_asks_at_once_make_one_feed(job):
    """The second insert of the same person's feed is skipped by the unique index."""
    from sqlalchemy import func, select

    params = {"user_id": job["pm"].id, "project_id": None, "token": "a", "token_hash": feeds.hash_token("a")}
    statement = feeds._insert_once(db.session.get_bind().dialect.name)
    db.session.execute(statement, params)
    db.session.execute(statement, {**params, "token": "b", "token_hash": feeds.hash_token("b")})
    count = db.session.scalar(
        select(func.count()).select_from(CalendarFeed).where(CalendarFeed.user_id == job["pm"].id)
    )
    assert count == 1
    assert feeds.feed_for(job["pm"]).token == "a"


def test_the_cli_prints_a_persons_subscription_url(app, job):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["calendar", "feed-url", job["pm"].username.upper()])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"http://localhost/calendar/feed/{feeds.existing_feed(job['pm']).token}.ics"
    missing = runner.invoke(args=["calendar", "feed-url", "nobody-here"])
    assert missing.exit_code != 0 and "No user" in missing.output
