"""The CalDAV client (app/calendar_sync/caldav_client.py) against a real server
(Radicale, tests/radicale.py): discovery finds the user's calendars; PUT creates only
what is absent and replaces only the version it was given (412 otherwise); the changes
since a sync token are exactly what changed (made by this client or by another — the
`caldav` package, as a phone's calendar would); DELETE; a wrong password is AuthFailed;
redirects to a private address are refused when the setting is off."""

from __future__ import annotations

import uuid

import caldav
import pytest

from app.calendar_sync.caldav_client import AuthFailed, Changed, Client
from app.calendar_sync.hosts import RefusedHost
from app.calendar_sync.ics import escape
from tests.radicale import radicale  # noqa: F401 - the fixture


def ics(uid: str, summary: str, start: str = "20261201T150000Z") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kibray//tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261130T120000Z\r\nDTSTART:{start}\r\nDTEND:20261201T160000Z\r\n"
        f"SUMMARY:{escape(summary)}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture()
def calendar(app, radicale):  # noqa: F811
    """A fresh calendar of the test user (made with the caldav package) and our client."""
    with app.app_context():
        other = caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password)
        made = other.principal().make_calendar(name=f"Jobs {uuid.uuid4().hex[:6]}")
        client = Client(radicale.url, radicale.username, radicale.password)
        yield client, made
        made.delete()


def test_discovery_finds_the_users_calendars(calendar):
    client, made = calendar
    found = {c.url: c for c in client.calendars()}
    assert str(made.url) in found
    mine = found[str(made.url)]
    assert mine.name == made.name and mine.sync_token


def test_put_replace_guarded_by_etag_changes_and_delete(calendar):
    client, made = calendar
    url = str(made.url)
    start = client.calendars()
    token = next(c.sync_token for c in start if c.url == url)
    href, etag = client.put(url, "event-1@kibray.ics", ics("event-1@kibray", "Walk"))
    with pytest.raises(Changed):  # it exists now: a second "create" is refused
        client.put(url, "event-1@kibray.ics", ics("event-1@kibray", "Walk again"))
    etag = etag or client.changes(url, None)[1][0].etag
    client.put(url, "event-1@kibray.ics", ics("event-1@kibray", "Walk, moved"), etag=etag)
    with pytest.raises(Changed):  # replacing a version that is no longer there
        client.put(url, "event-1@kibray.ics", ics("event-1@kibray", "Stale"), etag=etag)

    token, changed, gone = client.changes(url, token)
    assert [i.href for i in changed] == [href] and gone == []
    (item,) = client.fetch(url, [href])
    assert "Walk\\, moved" in item.data

    # a change made elsewhere (a phone's calendar): only it comes back
    (theirs,) = made.events()
    theirs.data = theirs.data.replace("Walk\\, moved", "Walk\\, from the phone")
    theirs.save()
    made.save_event(ics("phone-1", "Lunch"))
    before = client.requests
    token, changed, gone = client.changes(url, token)
    assert sorted(i.href.rsplit("/", 1)[-1] for i in changed) == ["event-1%40kibray.ics", "phone-1.ics"]
    assert client.requests == before + 1  # one REPORT
    fetched = {i.href: i for i in client.fetch(url, [i.href for i in changed])}
    assert any("Walk\\, from the phone" in i.data for i in fetched.values())

    assert client.delete(href, etag=fetched[href].etag) is True
    assert client.delete(href) is False  # already gone
    token, changed, gone = client.changes(url, token)
    assert gone == [href] and changed == []
    assert client.changes(url, token)[1:] == ([], [])  # nothing since


def test_a_wrong_password_is_auth_failed(app, radicale):  # noqa: F811
    with app.app_context(), pytest.raises(AuthFailed):
        Client(radicale.url, radicale.username, "wrong").calendars()


def test_private_hosts_are_refused_when_the_setting_is_off(app, radicale):  # noqa: F811
    with app.app_context():
        app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = False
        try:
            with pytest.raises(RefusedHost):
                Client(radicale.url, radicale.username, radicale.password)
        finally:
            app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = True
