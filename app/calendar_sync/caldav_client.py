"""A small CalDAV client (RFC 4791, with RFC 6578 sync-collection): what two-way sync
needs, on urllib3 — discovery (current-user-principal → calendar-home-set → calendars),
PUT and DELETE guarded by ETags, the changes since a sync token, and the items of a
list of hrefs.

Why our own: the `caldav` package from 2.0 on speaks through niquests, whose
urllib3-future replaces the installed urllib3 (botocore's) in place; and a sync must
check every URL it calls (hosts.check_url: no private addresses, redirects included —
redirects are followed by hand, at most three, each target checked), count its requests
(the benchmark reports them) and time out. Responses are parsed with defusedxml (a
CalDAV server is user input too).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import urllib3
from defusedxml import DefusedXmlException, ElementTree

from app.calendar_sync.hosts import check_url

DAV, CALDAV, CS = "DAV:", "urn:ietf:params:xml:ns:caldav", "http://calendarserver.org/ns/"
NS = f'xmlns:d="{DAV}" xmlns:c="{CALDAV}" xmlns:cs="{CS}"'
TIMEOUT = urllib3.Timeout(connect=5, read=20)
MAX_REDIRECTS = 3


class CalDAVError(Exception):
    """The server answered something a sync cannot use (`status`: its HTTP status, 0 when
    it could not be reached)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class AuthFailed(CalDAVError):
    """401/403: a wrong user name or app password (not worth retrying until fixed)."""


class Changed(CalDAVError):
    """412: the item changed on the server since the ETag we sent."""


class TokenExpired(CalDAVError):
    """The sync token is no longer valid: a full listing is needed."""


@dataclass(frozen=True)
class Calendar:
    url: str
    name: str
    sync_token: str | None
    ctag: str | None


@dataclass(frozen=True)
class Item:
    href: str  # absolute URL
    etag: str
    data: str | None = None  # the iCalendar text, when fetched


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


class Client:
    def __init__(
        self, url: str, username: str, password: str, pool: urllib3.PoolManager | None = None, bearer: str | None = None
    ):
        """Basic authentication with `username` and `password`, or OAuth 2.0 with a
        `bearer` access token (Google)."""
        self.base = check_url(url)
        if bearer:
            authorization = f"Bearer {bearer}"
        else:
            authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": authorization, "User-Agent": "Kibray-ERP-CalDAV/1"}
        self.pool = pool or urllib3.PoolManager(timeout=TIMEOUT, retries=False)
        self.requests = 0  # how many HTTP requests this client made
        self.waited = 0.0  # seconds spent waiting for their answers

    # --- HTTP ----------------------------------------------------------------------------

    def request(self, method: str, url: str, body: str | None = None, headers: dict | None = None):
        """(status, headers, text) of one request; redirects followed by hand after the
        guard has checked each target."""
        url = urljoin(self.base, url)
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url)
            self.requests += 1
            started = time.perf_counter()
            try:
                answer = self.pool.request(
                    method,
                    url,
                    body=body.encode() if body is not None else None,
                    headers={**self.headers, **(headers or {})},
                    redirect=False,
                )
            except urllib3.exceptions.HTTPError as exc:
                raise CalDAVError(f"The calendar server could not be reached ({exc.__class__.__name__}).") from None
            finally:
                self.waited += time.perf_counter() - started
            if answer.status in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
                url = urljoin(url, answer.headers["Location"])
                continue
            text = answer.data.decode("utf-8", "replace")
            if answer.status == 401 or (answer.status == 403 and "valid-sync-token" not in text):
                # (a 403 naming the sync token is RFC 6578's "token no longer valid": a full
                # listing follows, not a failed account)
                raise AuthFailed("The calendar server refused the user name or password.", answer.status)
            return answer.status, answer.headers, text
        raise CalDAVError("The calendar server redirected too many times.")

    def _multistatus(self, method: str, url: str, body: str, depth: str):
        """The parsed 207 answer's root element."""
        status, _, text = self.request(
            method, url, body, {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
        )
        if status != 207:
            if "valid-sync-token" in text:
                raise TokenExpired("The sync token is no longer valid.", status)
            raise CalDAVError(f"The calendar server answered {status} to {method}.", status)
        try:
            return ElementTree.fromstring(text)
        except (ElementTree.ParseError, DefusedXmlException):
            raise CalDAVError("The calendar server's answer is not valid XML.", status) from None

    def _props(self, url: str, props: str, depth: str = "0") -> list[tuple[str, dict]]:
        """PROPFIND: [(absolute href, {tag: element})] of the responses' 200 propstats."""
        root = self._multistatus("PROPFIND", url, f"<d:propfind {NS}><d:prop>{props}</d:prop></d:propfind>", depth)
        found = []
        for response in root.iter(_tag(DAV, "response")):
            href = urljoin(url, (response.findtext(_tag(DAV, "href")) or "").strip())
            values = {}
            for propstat in response.iter(_tag(DAV, "propstat")):
                if " 200 " not in f" {propstat.findtext(_tag(DAV, 'status')) or ''} ":
                    continue
                for prop in propstat.iter(_tag(DAV, "prop")):
                    for child in prop:
                        values[child.tag] = child
            found.append((href, values))
        return found

    # --- discovery -------------------------------------------------------------------------

    def principal(self) -> str:
        for start in (self.base, urljoin(self.base, "/.well-known/caldav")):
            for _, values in self._props(start, "<d:current-user-principal/>"):
                element = values.get(_tag(DAV, "current-user-principal"))
                href = element.findtext(_tag(DAV, "href")) if element is not None else None
                if href:
                    return urljoin(start, href.strip())
        raise CalDAVError("This server does not say whose calendars these are (no current-user-principal).")

    def calendars(self) -> list[Calendar]:
        """The principal's calendars (those holding events), by name."""
        principal = self.principal()
        homes = []
        for _, values in self._props(principal, "<c:calendar-home-set/>"):
            element = values.get(_tag(CALDAV, "calendar-home-set"))
            if element is not None:
                homes += [urljoin(principal, h.text.strip()) for h in element.iter(_tag(DAV, "href")) if h.text]
        found = []
        for home in homes or [principal]:
            props = "<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><c:supported-calendar-component-set/>"
            for href, values in self._props(home, props, depth="1"):
                kind = values.get(_tag(DAV, "resourcetype"))
                if kind is None or kind.find(_tag(CALDAV, "calendar")) is None:
                    continue
                components = values.get(_tag(CALDAV, "supported-calendar-component-set"))
                if components is not None and components.find(_tag(CALDAV, "comp")) is not None:
                    names = {c.get("name") for c in components.iter(_tag(CALDAV, "comp"))}
                    if "VEVENT" not in names:
                        continue
                display = values.get(_tag(DAV, "displayname"))
                name = (display.text or "").strip() if display is not None else ""
                found.append(
                    Calendar(
                        href,
                        name or urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1],
                        _text(values.get(_tag(DAV, "sync-token"))),
                        _text(values.get(_tag(CS, "getctag"))),
                    )
                )
        return sorted(found, key=lambda c: c.name.lower())

    # --- items ---------------------------------------------------------------------------------

    def put(self, calendar_url: str, name: str, ics: str, etag: str | None = None) -> tuple[str, str | None]:
        """Create (no `etag`: only if absent) or replace (only if still `etag`) the item
        `name` (e.g. "event-12@kibray.ics"); answers (its href, its new ETag if told)."""
        # percent-encoded as servers report hrefs ("event-1@host" → "event-1%40host"), so
        # the href kept for an item is the one its listings name
        href = urljoin(calendar_url if calendar_url.endswith("/") else calendar_url + "/", quote(name, safe="-._~"))
        guard = {"If-Match": etag} if etag else {"If-None-Match": "*"}
        status, headers, _ = self.request("PUT", href, ics, {"Content-Type": "text/calendar; charset=utf-8", **guard})
        if status == 412:
            raise Changed("The item changed on the calendar server meanwhile.", status)
        if status not in (200, 201, 204):
            raise CalDAVError(f"The calendar server answered {status} to a PUT.", status)
        return href, headers.get("ETag")

    def delete(self, href: str, etag: str | None = None) -> bool:
        """Delete (only if still `etag`); False when it was already gone."""
        status, _, _ = self.request("DELETE", href, headers={"If-Match": etag} if etag else None)
        if status == 412:
            raise Changed("The item changed on the calendar server meanwhile.", status)
        if status == 404:
            return False
        if status not in (200, 204):
            raise CalDAVError(f"The calendar server answered {status} to a DELETE.", status)
        return True

    def changes(self, calendar_url: str, sync_token: str | None) -> tuple[str | None, list[Item], list[str]]:
        """RFC 6578: (the new sync token, the items added or changed since `sync_token`
        with their ETags, the hrefs deleted since). No token: every item."""
        token = f"<d:sync-token>{_xml(sync_token)}</d:sync-token>" if sync_token else "<d:sync-token/>"
        body = (
            f"<d:sync-collection {NS}>{token}<d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/></d:prop></d:sync-collection>"
        )
        root = self._multistatus("REPORT", calendar_url, body, "0")
        changed, gone = [], []
        for response in root.iter(_tag(DAV, "response")):
            href = urljoin(calendar_url, (response.findtext(_tag(DAV, "href")) or "").strip())
            if href.rstrip("/") == calendar_url.rstrip("/"):
                continue
            status = response.findtext(_tag(DAV, "status")) or ""
            etag = response.findtext(f".//{_tag(DAV, 'getetag')}")
            if " 404 " in f" {status} " or (not etag and not response.find(_tag(DAV, "propstat"))):
                gone.append(href)
            elif etag:
                changed.append(Item(href, etag.strip()))
        return root.findtext(_tag(DAV, "sync-token")), changed, gone

    def fetch(self, calendar_url: str, hrefs: list[str]) -> list[Item]:
        """The items of `hrefs` with their data (one calendar-multiget REPORT)."""
        if not hrefs:
            return []
        wanted = "".join(f"<d:href>{_xml(urlsplit(h).path)}</d:href>" for h in hrefs)
        body = (
            f"<c:calendar-multiget {NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>{wanted}</c:calendar-multiget>"
        )
        root = self._multistatus("REPORT", calendar_url, body, "1")
        found = []
        for response in root.iter(_tag(DAV, "response")):
            data = response.findtext(f".//{_tag(CALDAV, 'calendar-data')}")
            etag = response.findtext(f".//{_tag(DAV, 'getetag')}")
            if data is not None and etag:
                href = urljoin(calendar_url, (response.findtext(_tag(DAV, "href")) or "").strip())
                found.append(Item(href, etag.strip(), data))
        return found


def _text(element) -> str | None:
    return (element.text or "").strip() or None if element is not None else None


def _xml(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
