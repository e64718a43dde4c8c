"""Two-way CalDAV sync (issue 11): `run(account)` is one run — the way back first
(pull.py: what changed in the calendar app since the last run comes in through the
services), then the Kibray → calendar direction (`push`).

`push(account)` puts on the account's calendar what its owner may see (the same items,
role layers and text as their subscription feed: feeds.build), one calendar object a UID
(a series with its overrides together), and takes off what they may no longer see or
what no longer exists. What was last sent is kept per UID (models.SyncedItem: href, the
server's ETag, a digest of the text without DTSTAMP), so a second run with nothing
changed sends nothing, and a replacement is sent only if the server still has the
version Kibray put there (If-Match; a 412 means it was changed in the calendar app: left
for the pull, which resolves it). A row whose digest is empty (a refused change, a
conflict Kibray won) is sent again over whatever the server has (If-Match its ETag).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.calendar_sync import feeds
from app.calendar_sync.caldav_client import CalDAVError, Changed, Client
from app.calendar_sync.models import CalendarAccount, SyncedItem
from app.calendar_sync.pull import Pulled, pull
from app.core.permissions import Viewer, require
from app.extensions import db

_DTSTAMP = re.compile(r"^DTSTAMP:.*\r\n", re.MULTILINE)


@dataclass
class Pushed:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    changed_there: list[str] = field(default_factory=list)  # UIDs edited in the calendar app meanwhile
    requests: int = 0
    total: int = 0  # items the person may see (on the calendar after the run)


@dataclass
class Result:
    pulled: Pulled
    pushed: Pushed

    @property
    def requests(self) -> int:
        return self.pulled.requests + self.pushed.requests

    def in_words(self) -> str:
        p, q = self.pushed, self.pulled
        parts = [f"{p.total} items in the calendar"]
        if p.created or p.updated or p.deleted:
            parts.append(f"{p.created} added, {p.updated} changed, {p.deleted} removed there")
        if q.applied or q.imported:
            parts.append(f"{q.applied + q.imported} changes brought in")
        if q.refused:
            parts.append(f"{len(q.refused)} refused and put back")
        if q.conflicts:
            parts.append(f"{q.conflicts} conflicts")
        return "; ".join(parts) + "."


def digest(text: str) -> str:
    """What identifies a version of an object's text: everything but its DTSTAMP."""
    return hashlib.sha1(_DTSTAMP.sub("", text).encode(), usedforsecurity=False).hexdigest()


def client_for(account: CalendarAccount) -> Client:
    if account.provider == "google":  # OAuth 2.0: the stored refresh token gives an access token
        from app.calendar_sync import google_oauth

        return Client(account.server_url, account.username, "", bearer=google_oauth.access_token(account.password))
    return Client(account.server_url, account.username, account.password)


def run(
    account: CalendarAccount,
    client: Client | None = None,
    now: datetime | None = None,
    progress=None,
    checkpoint=None,
) -> Result:
    """One sync of `account`: the calendar's changes in, then Kibray's out. The sync
    token kept is the one read before Kibray's own writes: the next run sees them come
    back with the ETags already recorded, and fetches none of them.

    `checkpoint` (the job's commit) is called after the way back and every
    CHECKPOINT_EVERY writes of the push, so a run that fails half-way keeps what it did
    (a write the server took but Kibray did not record is taken over by the next run,
    not duplicated); an imported event's original is deleted only once its Kibray copy
    is committed."""
    now = now or datetime.now(UTC)
    client = client or client_for(account)
    viewer = _owner(account)
    pulled = pull(account, client, wanted=lambda: wanted_objects(viewer, now))
    account.sync_token = pulled.token
    if checkpoint is not None:
        checkpoint()
    for href, etag in pulled.replaced:  # Kibray's copy replaces the calendar's original
        try:
            client.delete(href, etag=etag)
        except CalDAVError:
            pass  # (changed again meanwhile: it stays in the calendar, the person's own)
    pushed = push(account, client, now, progress=progress, viewer=viewer, checkpoint=checkpoint)
    return Result(pulled, pushed)


def _owner(account: CalendarAccount) -> Viewer:
    viewer = Viewer.of(db.session.get(User, account.user_id))
    # a deactivated owner, or one whose role no longer syncs, stops here (PermissionDenied:
    # the job marks the account failing) — not by a push that takes everything off
    require(viewer, "calendar.sync_external")
    return viewer


def wanted_objects(viewer, now: datetime) -> dict[str, str]:
    """UID → the calendar object's text, of everything `viewer` may see."""
    public = (current_app.config.get("PUBLIC_URL") or "http://localhost").rstrip("/")
    return feeds.build(viewer, None, "Kibray", feeds.uid_domain(), public, now).objects()


PROGRESS_EVERY = 25  # items between two progress reports
CHECKPOINT_EVERY = 100  # writes between two commits of a long push


def push(
    account: CalendarAccount,
    client: Client | None = None,
    now: datetime | None = None,
    progress=None,
    viewer=None,
    checkpoint=None,
) -> Pushed:
    now = now or datetime.now(UTC)
    client = client or client_for(account)
    viewer = viewer or _owner(account)
    wanted = wanted_objects(viewer, now)
    known = {row.uid: row for row in db.session.scalars(select(SyncedItem).where(SyncedItem.account_id == account.id))}
    done = Pushed(total=len(wanted))
    before = client.requests
    committed = 0  # writes up to the last checkpoint
    for position, (uid, text) in enumerate(wanted.items(), 1):
        if progress is not None and position % PROGRESS_EVERY == 0:
            progress(position, done.total)
        version = digest(text)
        row = known.pop(uid, None)
        if row is not None and row.digest == version:
            done.unchanged += 1
            continue
        if checkpoint is not None and done.created + done.updated >= committed + CHECKPOINT_EVERY:
            checkpoint()
            committed = done.created + done.updated
        try:
            href, etag = client.put(account.calendar_url, f"{uid}.ics", text, etag=row.etag if row else None)
        except Changed:
            if row is not None and row.etag:
                done.changed_there.append(uid)  # edited in the calendar app meanwhile: the next pull's
                continue
            # already there without a record of it (a run that failed before recording
            # it): this person's item under Kibray's UID, replaced
            href, etag = client.put(account.calendar_url, f"{uid}.ics", text, etag="*")
        if row is None:
            db.session.add(SyncedItem(account_id=account.id, uid=uid, href=href, etag=etag, digest=version, sent=text))
            done.created += 1
        else:
            row.href, row.etag, row.digest, row.sent, row.pushed_at = href, etag, version, text, now
            done.updated += 1
    for uid, row in known.items():  # no longer there, or no longer theirs to see
        if not row.href:  # never made it back there
            db.session.delete(row)
            continue
        try:
            client.delete(row.href, etag=row.etag)
        except Changed:
            done.changed_there.append(uid)
            continue
        db.session.delete(row)
        done.deleted += 1
    account.last_synced_at, account.status, account.last_error = now, "ok", ""
    db.session.flush()
    done.requests = client.requests - before
    if progress is not None:
        progress(done.total, done.total)
    return done
