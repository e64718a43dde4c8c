"""Two-way CalDAV sync, the calendar → Kibray direction (issue 11).

`pull(account, client)` asks the calendar for what changed since the last run (RFC 6578
sync token; a full listing when there is none or the server dropped it), fetches only
the items whose ETag is not the one Kibray last saw, and compares each with the text
last agreed with the server (`SyncedItem.sent`), field by field: time, title,
description, cancellation, deletion.

- A change made only in the calendar app goes through the normal services as the
  account's owner (`acting_as(…, via="CalDAV")`): permissions, validation, conflict
  detection, live events, notifications and the audit log apply, and the log's entries
  say "via CalDAV".
- A change the services refuse (a superintendent dragging an item only admins and PMs
  may move, a closed project …) is not applied: the item is marked to be sent again, so
  the push of the same run puts Kibray's version back on the server (If-Match on the
  ETag just read), the owner gets a notification saying why, and the audit log has a
  "denied" entry.
- Changed on both sides since the last run: the later modification wins (the calendar's
  LAST-MODIFIED, else its DTSTAMP, against the item's LAST-MODIFIED in Kibray); the
  losing version is kept as a SyncConflict for the owner's "sync conflicts" list. A
  deletion in the calendar of an item changed in Kibray meanwhile loses to the change
  (the item is put back).
- A repeating series is changed in Kibray only: an edit of one in the calendar app is
  refused and put back (mapping RRULE, EXDATE and overrides edits onto Kibray's
  occurrences is not attempted).
- Events created in the calendar app stay there, unless the account imports into a
  project (`import_project_id`): then each new one (added after the first run) becomes
  a Kibray event in that project (through calendar.create_event) and the calendar's
  copy is replaced by Kibray's.

The DESCRIPTION Kibray sends is "Project: …/Crew: …", a blank line, the description,
and for staff "Notes: …" at the end; an edited description is read back without the
header and the notes paragraph when they are still there unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from app.auth.models import User
from app.calendar_sync.caldav_client import Client, Item, TokenExpired
from app.calendar_sync.models import CalendarAccount, SyncConflict, SyncedItem
from app.core.audit import AuditLog, acting_as, current_actor
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.models import utcnow
from app.core.permissions import PermissionDenied
from app.core.timezones import company_zone
from app.core.transaction import attempt
from app.extensions import db

OURS = re.compile(r"^(event|task)-(\d+)@")
REFUSALS = (PermissionDenied, ValidationError, ObjectNotFound, ConflictError)


@dataclass(frozen=True)
class Fields:
    """One calendar object as the sync compares it: its main VEVENT's values (times in
    UTC, all-day dates as dates) and, for a series, the shape of every component."""

    title: str
    description: str
    start: datetime | date | None
    end: datetime | date | None
    all_day: bool
    cancelled: bool
    modified: datetime | None
    series: tuple = ()  # (RRULE, EXDATEs, overrides…) for a repeating item; () otherwise
    created: datetime | None = None  # CREATED (else DTSTAMP): when the calendar app made it

    def same_as(self, other: Fields) -> bool:
        return self.values() == other.values()

    def values(self) -> tuple:
        return (self.title, self.description, self.start, self.end, self.all_day, self.cancelled, self.series)

    def in_words(self) -> str:
        when = _when(self.start, self.end, self.all_day)
        state = " (cancelled)" if self.cancelled else ""
        text = f"“{self.title}”, {when}{state}"
        return f"{text}\n{self.description}" if self.description else text


@dataclass
class Pulled:
    token: str | None = None
    fetched: int = 0
    applied: int = 0
    refused: list[str] = field(default_factory=list)  # what was put back, in words
    conflicts: int = 0
    imported: int = 0
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (href, ETag) of imported originals
    requests: int = 0


def _moment(value) -> datetime | date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=company_zone())  # floating: ours
        return aware.astimezone(UTC)
    return value


def _when(start, end, all_day: bool) -> str:
    zone = company_zone()
    if start is None:
        return "no date"
    if all_day or not isinstance(start, datetime):
        last = end - timedelta(days=1) if isinstance(end, date) and end > start else start
        return start.isoformat() if last == start else f"{start.isoformat()} to {last.isoformat()}"
    local = start.astimezone(zone)
    text = f"{local:%Y-%m-%d %H:%M}"
    if isinstance(end, datetime):
        text += f"–{end.astimezone(zone):%H:%M}"
    return text


def fields_of(text: str) -> Fields | None:
    """The object's values, or None when it has no VEVENT (a VTODO, a broken text)."""
    try:
        calendar = Calendar.from_ical(text)
    except ValueError:
        return None
    events = list(calendar.walk("VEVENT"))
    if not events:
        return None
    main = next((e for e in events if e.get("RECURRENCE-ID") is None), events[0])
    start = main.decoded("DTSTART", None)
    end = main.decoded("DTEND", None)
    if end is None and start is not None:
        duration = main.decoded("DURATION", None)
        end = (
            start + duration
            if duration is not None
            else (start + timedelta(days=1) if not isinstance(start, datetime) else start)
        )
    all_day = start is not None and not isinstance(start, datetime)
    modified = main.decoded("LAST-MODIFIED", None) or main.decoded("DTSTAMP", None)
    created = main.decoded("CREATED", None) or main.decoded("DTSTAMP", None)
    series: tuple = ()
    if main.get("RRULE") is not None or len(events) > 1:
        series = tuple(
            sorted(
                (
                    str(e.get("RECURRENCE-ID").to_ical().decode() if e.get("RECURRENCE-ID") else ""),
                    e.get("RRULE").to_ical().decode() if e.get("RRULE") is not None else "",
                    _exdates(e),
                    str(_moment(e.decoded("DTSTART", None))),
                    str(_moment(e.decoded("DTEND", None))),
                    str(e.get("SUMMARY", "")),
                    str(e.get("STATUS", "")).upper(),
                )
                for e in events
            )
        )
    return Fields(
        title=str(main.get("SUMMARY", "")).strip(),
        description=str(main.get("DESCRIPTION", "")).replace("\r\n", "\n").strip(),
        start=_moment(start),
        end=_moment(end),
        all_day=all_day,
        cancelled=str(main.get("STATUS", "")).upper() == "CANCELLED",
        modified=_moment(modified) if isinstance(modified, datetime) else None,
        series=series,
        created=_moment(created) if isinstance(created, datetime) else None,
    )


def _exdates(component) -> str:
    found = component.get("EXDATE")
    if found is None:
        return ""
    values = found if isinstance(found, list) else [found]
    return ",".join(sorted(v.to_ical().decode() for v in values))


def own_description(text: str, sent: str, notes: str = "") -> str:
    """The description a calendar app's DESCRIPTION stands for: without the header
    paragraph ("Project: …", "Crew: …") and the trailing "Notes: <notes>" paragraph
    Kibray sent, where they are still there as sent."""
    paragraphs = text.split("\n\n")
    before = sent.split("\n\n")
    if paragraphs and before and _header(before[0]) and paragraphs[0] == before[0]:
        paragraphs = paragraphs[1:]
    if notes and paragraphs and paragraphs[-1] == f"Notes: {notes}":
        paragraphs = paragraphs[:-1]
    return "\n\n".join(paragraphs).strip()


def _header(paragraph: str) -> bool:
    return paragraph.startswith(("Project: ", "Crew: "))


def _what_counts(fields: Fields) -> tuple:
    """What a change in Kibray is judged by: the fields, the description without its
    header (a renamed project or a new crew member is not an edit of the item)."""
    paragraphs = fields.description.split("\n\n")
    body = "\n\n".join(paragraphs[1:] if paragraphs and _header(paragraphs[0]) else paragraphs)
    return (fields.title, body, fields.start, fields.end, fields.all_day, fields.cancelled, fields.series)


# --- the run -----------------------------------------------------------------------------


def pull(account: CalendarAccount, client: Client, wanted=None) -> Pulled:
    """Bring the calendar's changes since the last run into Kibray. `wanted()` answers
    Kibray's current text per UID (the push's builder), asked only when something came."""
    done = Pulled()
    before = client.requests
    full = account.sync_token is None
    try:
        done.token, changed, gone = client.changes(account.calendar_url, account.sync_token)
    except TokenExpired:
        full = True
        done.token, changed, gone = client.changes(account.calendar_url, None)
    rows = {row.href: row for row in db.session.scalars(select(SyncedItem).where(SyncedItem.account_id == account.id))}
    by_uid = {row.uid: row for row in rows.values()}
    if full and rows:  # a full listing names no deletions: what it lacks is gone
        listed = {item.href for item in changed}
        gone = [href for href in rows if href and href not in listed]
    current: dict[str, str] | None = None

    def kibray_now() -> dict[str, str]:
        nonlocal current
        if current is None:
            current = wanted() if wanted else {}
        return current

    to_fetch: list[Item] = []
    for item in changed:
        row = rows.get(item.href)
        if row is not None:
            if row.etag != item.etag:
                to_fetch.append(item)
            continue
        uid = _uid_from_href(item.href)
        if uid in by_uid:
            row = by_uid[uid]
            if not row.href:  # put back as new, and it is there (again): that is where it lives
                row.href, row.etag = item.href, item.etag
            continue
        if uid and OURS.match(uid) and uid.endswith("@" + _domain()):
            if uid in kibray_now():
                # this person's item, put there by an earlier connection to this calendar
                # (or by a run that did not get to record it): taken over — sent again
                # over it (If-Match) — not duplicated
                row = SyncedItem(account_id=account.id, uid=uid, href=item.href, etag=item.etag, digest="")
                db.session.add(row)
                rows[item.href] = by_uid[uid] = row
            continue  # another Kibray item (someone else's in a shared calendar): not ours to touch
        if not full and account.import_project_id is not None:
            to_fetch.append(item)  # perhaps new since the import was switched on
    owner = db.session.get(User, account.user_id)
    with acting_as(owner.username, owner.role, owner.id, via="CalDAV"):
        for fetched in client.fetch(account.calendar_url, [i.href for i in to_fetch]):
            done.fetched += 1
            row = rows.get(fetched.href)
            if row is None:
                if _import(account, owner, fetched):
                    done.imported += 1
                    done.replaced.append((fetched.href, fetched.etag))
                continue
            _changed_there(account, owner, row, fetched, kibray_now().get(row.uid), done)
        for href in gone:
            row = rows.get(href)
            if row is not None:
                _deleted_there(account, owner, row, kibray_now().get(row.uid), done)
    db.session.flush()
    done.requests = client.requests - before
    return done


def _domain() -> str:
    from app.calendar_sync.feeds import uid_domain

    return uid_domain()


def _uid_from_href(href: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    name = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
    return name[:-4] if name.endswith(".ics") else None


def _changed_there(account, owner, row: SyncedItem, fetched: Item, now_text: str | None, done: Pulled) -> None:
    theirs, base = fields_of(fetched.data or ""), fields_of(row.sent) if row.sent else None
    if theirs is None or base is None or theirs.same_as(base):
        row.etag = fetched.etag  # our own write coming back, or nothing Kibray keeps changed
        if base is None and theirs is not None:
            row.digest = ""  # taken over from an earlier connection: Kibray's version goes out
        return
    ours = fields_of(now_text) if now_text else None
    row.etag = fetched.etag
    if ours is not None and _what_counts(ours) == _what_counts(theirs):
        row.sent = fetched.data or ""  # the calendar already has Kibray's version (a write not recorded)
        return
    kibray_changed = ours is not None and _what_counts(ours) != _what_counts(base)
    if kibray_changed and ours is not None:
        calendar_later = (theirs.modified or utcnow()) > (ours.modified or datetime.min.replace(tzinfo=UTC))
        done.conflicts += 1
        if not calendar_later:
            _keep_conflict(account, row.uid, ours.title, "kibray", theirs, fetched.data or "")
            row.digest = ""  # Kibray's version goes back out
            return
        refusal = _apply(owner, row.uid, base, theirs)
        if refusal is None:
            _keep_conflict(account, row.uid, theirs.title, "calendar", ours, now_text or "")
            row.sent, row.digest = fetched.data or "", ""  # Kibray's text of the result goes out
            done.applied += 1
        else:  # the later change may not be made: Kibray's stands
            _keep_conflict(account, row.uid, ours.title, "kibray", theirs, fetched.data or "")
            _refused(account, owner, row, base, refusal, done)
        return
    refusal = _apply(owner, row.uid, base, theirs)
    if refusal is None:
        # Kibray's text of the result goes out (a new SEQUENCE; and what Kibray does not
        # keep of the edit — a task's time of day — is put right in the calendar)
        row.sent, row.digest = fetched.data or "", ""
        done.applied += 1
    else:
        _refused(account, owner, row, base, refusal, done)


def _deleted_there(account, owner, row: SyncedItem, now_text: str | None, done: Pulled) -> None:
    base = fields_of(row.sent) if row.sent else None
    if now_text is None or base is None:
        db.session.delete(row)  # gone from Kibray's side too (or never agreed): nothing to do
        return
    ours = fields_of(now_text)
    if ours is not None and _what_counts(ours) != _what_counts(base):  # changed in Kibray since: it wins
        done.conflicts += 1
        _keep_conflict(account, row.uid, ours.title, "kibray", None, "")
        _recreate(row)
        return
    refusal = _delete(owner, row.uid)
    if refusal is None:
        db.session.delete(row)
        done.applied += 1
    else:
        _refused(account, owner, row, base, refusal, done, deleted=True)


def _recreate(row: SyncedItem) -> None:
    """The server no longer has it: the push puts it back as new."""
    row.etag, row.digest, row.sent = None, "", ""
    row.href = ""  # (the push's PUT answers the new one)


# --- applying through the services ---------------------------------------------------------


def _target(uid: str):
    from app.calendar.models import CalendarEvent
    from app.tasks.models import Task

    found = OURS.match(uid)
    if not found:
        return None, None
    model = CalendarEvent if found.group(1) == "event" else Task
    return found.group(1), db.session.get(model, int(found.group(2)))


def _refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(dict.fromkeys(exc.fields.values())) or exc.message
    return getattr(exc, "message", None) or str(exc) or "Not allowed."


def _apply(owner, uid: str, base: Fields, theirs: Fields) -> str | None:
    """Make the calendar's change in Kibray as `owner`; None when done, else why not."""
    kind, obj = _target(uid)
    if obj is None:
        return "It is no longer in Kibray."
    if base.series or theirs.series:
        return "A repeating series is changed in Kibray, not in a calendar app."
    if kind == "task" and theirs.cancelled != base.cancelled:
        return "A task is cancelled or reopened in Kibray, not in a calendar app."
    try:
        with attempt():
            if kind == "event":
                _apply_event(owner, obj, base, theirs)
            else:
                _apply_task(owner, obj, base, theirs)
    except REFUSALS as exc:
        return _refusal_text(exc)
    return None


def _apply_event(owner, event, base: Fields, theirs: Fields) -> None:
    from app.calendar import services as calendar

    data: dict = {}
    if theirs.cancelled != base.cancelled:  # STATUS:CANCELLED set or taken off there
        data["status"] = "cancelled" if theirs.cancelled else "scheduled"
    if theirs.title != base.title:
        data["title"] = theirs.title
    if theirs.description != base.description:
        data["description"] = own_description(theirs.description, base.description, event.notes or "")
    if (theirs.start, theirs.end, theirs.all_day) != (base.start, base.end, base.all_day):
        data["all_day"] = theirs.all_day
        if theirs.all_day:  # the calendar's DTEND is exclusive; Kibray's all-day end is the last day
            last = theirs.end - timedelta(days=1) if theirs.end and theirs.end > theirs.start else theirs.start
            data["start_datetime"], data["end_datetime"] = theirs.start, last
        else:
            data["start_datetime"], data["end_datetime"] = theirs.start, theirs.end
    if data:
        calendar.update_event(owner, event, data)


def _apply_task(owner, task, base: Fields, theirs: Fields) -> None:
    from app.calendar import services as calendar
    from app.tasks import services as tasks

    if (theirs.start, theirs.end) != (base.start, base.end):
        start = theirs.start.astimezone(company_zone()).date() if isinstance(theirs.start, datetime) else theirs.start
        end = theirs.end.astimezone(company_zone()).date() if isinstance(theirs.end, datetime) else theirs.end
        due = end - timedelta(days=1) if theirs.all_day and end and end > start else end or start
        calendar.move_task(owner, task, start.isoformat(), due.isoformat())
    data: dict = {}
    if theirs.title != base.title:
        data["title"] = theirs.title
    if theirs.description != base.description:
        data["description"] = own_description(theirs.description, base.description)
    if data:
        tasks.update_task(owner, task, data, partial=True)


def _remove(owner, kind: str, obj) -> None:
    if kind == "event":
        from app.calendar import services as calendar

        calendar.delete_event(owner, obj)
    else:
        from app.tasks import services as tasks

        tasks.delete_task(owner, obj)


def _delete(owner, uid: str) -> str | None:
    kind, obj = _target(uid)
    if obj is None:
        return None  # already gone
    if kind == "event" and obj.rrule:
        return "A repeating series is deleted in Kibray, not in a calendar app."
    try:
        with attempt():
            _remove(owner, kind, obj)
    except REFUSALS as exc:
        return _refusal_text(exc)
    return None


def _import(account: CalendarAccount, owner, fetched: Item) -> bool:
    """A new event of the calendar app's, into the account's import project: created in
    Kibray (the push of this run sends Kibray's copy; the original is deleted once this
    is committed: sync.run)."""
    from app.calendar import services as calendar

    theirs = fields_of(fetched.data or "")
    if theirs is None or theirs.series or theirs.cancelled or theirs.start is None:
        return False  # a series, a to-do or a cancelled item stays the calendar's own
    since = account.import_since
    if since is not None and (theirs.created is None or theirs.created < since):
        return False  # made before the import was switched on (an edit of the person's own)
    last = theirs.end
    if theirs.all_day:
        last = theirs.end - timedelta(days=1) if theirs.end and theirs.end > theirs.start else theirs.start
    data = {
        "project_id": account.import_project_id,
        "title": theirs.title or "(untitled)",
        "description": theirs.description,
        "all_day": theirs.all_day,
        "start_datetime": theirs.start,
        "end_datetime": last,
    }
    try:
        with attempt():
            calendar.create_event(owner, data)
    except REFUSALS as exc:
        _deny(owner, "create", "CalendarEvent", "", _refusal_text(exc))
        return False
    return True


# --- what is left for the owner to read ----------------------------------------------------


def _keep_conflict(account, uid: str, title: str, kept: str, lost: Fields | None, lost_text: str) -> None:
    summary = lost.in_words() if lost is not None else "Deleted in the calendar app."
    db.session.add(
        SyncConflict(
            account_id=account.id, uid=uid, title=title[:300], kept=kept, lost_summary=summary, lost_ics=lost_text
        )
    )


def _refused(account, owner, row: SyncedItem, base: Fields, reason: str, done: Pulled, deleted: bool = False) -> None:
    from app.notifications.services import notify

    if deleted:
        _recreate(row)
    else:
        row.digest = ""  # Kibray's version goes back out (If-Match the ETag just read)
    what = "deleting" if deleted else "your change to"
    done.refused.append(base.title)
    kind, obj = _target(row.uid)
    _deny(owner, "delete" if deleted else "update", type(obj).__name__ if obj else "", obj.id if obj else "", reason)
    notify(
        owner,
        "calendar_sync_refused",
        f"Not applied from your calendar: {what} “{base.title}”"[:200],
        "calendar_sync.settings",
        body=f"{reason} Kibray's version was put back in your calendar.",
        project_id=getattr(obj, "project_id", None),
    )


def _deny(owner, action: str, object_type: str, object_id, reason: str) -> None:
    actor = current_actor()
    db.session.add(
        AuditLog(
            created_at=utcnow(),
            user_id=owner.id,
            username=owner.username[:80],
            role=owner.role[:32],
            action=action,
            object_type=object_type[:64],
            object_id=str(object_id)[:64],
            object_label="",
            changes={"via": [None, "CalDAV"], "refused": [None, reason[:500]]},
            ip="",
            request_id=actor.get("request_id", "")[:64],
            result="denied",
        )
    )
