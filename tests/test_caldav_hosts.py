"""CalDAV groundwork (issue 11): the server-URL guard refuses private, loopback and
link-local addresses unless CALDAV_ALLOW_PRIVATE_HOSTS is on; the tests' Radicale server
(tests/radicale.py) is a real CalDAV server a client can make calendars and events on."""

from __future__ import annotations

import pytest

from app.calendar_sync.hosts import RefusedHost, check_url
from tests.radicale import radicale  # noqa: F401 - the fixture

REFUSED = [
    "http://127.0.0.1:5232/",  # loopback
    "http://localhost/",
    "http://10.1.2.3/dav/",  # private
    "http://192.168.1.10/",
    "http://172.16.0.9/",
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://0.0.0.0/",
    "http://100.64.0.1/",  # carrier-grade NAT: not global
]


@pytest.fixture()
def strict(app):
    app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = False
    with app.app_context():
        yield
    app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = True


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_and_link_local_addresses_are_refused(strict, url):
    with pytest.raises(RefusedHost) as refused:
        check_url(url)
    assert "server_url" in refused.value.fields


def test_public_addresses_pass_and_the_url_comes_back_as_given(strict):
    assert check_url(" https://8.8.8.8/dav/ ") == "https://8.8.8.8/dav/"


@pytest.mark.parametrize(
    "url", ["ftp://8.8.8.8/", "8.8.8.8", "", "https://", "https://user:pw@8.8.8.8/", "javascript:alert(1)"]
)
def test_not_an_http_url_or_one_with_credentials_is_refused(strict, url):
    with pytest.raises(RefusedHost):
        check_url(url)


def test_a_name_that_does_not_resolve_is_refused(strict):
    with pytest.raises(RefusedHost) as refused:
        check_url("https://calendar.does-not-exist.invalid/")
    assert "could not be found" in refused.value.fields["server_url"]


def test_a_name_resolving_to_a_private_address_is_refused(strict):
    def resolve(host, port, proto=0):  # a name whose DNS answer is on the private network
        return [(2, 1, 6, "", ("10.0.0.7", port))]

    with pytest.raises(RefusedHost):
        check_url("https://caldav.example.com/", resolve=resolve)


def test_the_setting_lets_a_local_server_through(app):
    with app.app_context():
        app.config["CALDAV_ALLOW_PRIVATE_HOSTS"] = True
        assert check_url("http://127.0.0.1:5232/") == "http://127.0.0.1:5232/"


def test_the_radicale_fixture_is_a_working_caldav_server(radicale):  # noqa: F811
    import uuid

    import caldav

    client = caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password)
    calendar = client.principal().make_calendar(name=f"Check {uuid.uuid4().hex[:6]}")
    calendar.save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kibray//tests//EN\r\nBEGIN:VEVENT\r\n"
        "UID:check-1@kibray\r\nDTSTAMP:20261130T120000Z\r\nDTSTART:20261201T150000Z\r\n"
        "DTEND:20261201T160000Z\r\nSUMMARY:Walkthrough\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (found,) = calendar.events()
    assert "Walkthrough" in found.data
    wrong = caldav.DAVClient(url=radicale.url, username=radicale.username, password="wrong")
    with pytest.raises(caldav.lib.error.AuthorizationError):
        wrong.principal()
