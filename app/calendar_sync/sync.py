"""Two-way CalDAV sync, the Kibray → calendar direction (issue 11; the way back —
changes made in the calendar app coming in through the services — is the next step).

`push(account)` puts on the account's calendar what its owner may see (the same items,
role layers and text as their subscription feed: feeds.build), one calendar object a UID
(a series with its overrides together), and takes off what they may no longer see or
what no longer exists. What was last sent is kept per UID (models.SyncedItem: href, the
server's ETag, a digest of the text without DTSTAMP), so a second run with nothing
changed sends nothing, and a replacement is sent only if the server still has the
version Kibray put there (If-Match; a 412 means it was changed in the calendar app: left
for the pull, which resolves it).
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
from app.calendar_sync.caldav_client import Changed, Client
from app.calendar_sync.models import CalendarAccount, SyncedItem
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


def digest(text: str) -> str:
    """What identifies a version of an object's text: everything but its DTSTAMP."""
    return hashlib.sha1(_DTSTAMP.sub("", text).encode(), usedforsecurity=False).hexdigest()


def client_for(account: CalendarAccount) -> Client:
    return Client(account.server_url, account.username, account.password)


def push(account: CalendarAccount, client: Client | None = None, now: datetime | None = None) -> Pushed:
    now = now or datetime.now(UTC)
    client = client or client_for(account)
    user = db.session.get(User, account.user_id)
    viewer = Viewer.of(user)
    # a deactivated owner, or one whose role no longer syncs, stops here (PermissionDenied:
    # the job marks the account failing) — not by a push that takes everything off
    require(viewer, "calendar.sync_external")
    public = (current_app.config.get("PUBLIC_URL") or "http://localhost").rstrip("/")
    writer = feeds.build(viewer, None, "Kibray", feeds.uid_domain(), public, now)
    wanted = writer.objects()
    known = {row.uid: row for row in db.session.scalars(select(SyncedItem).where(SyncedItem.account_id == account.id))}
    done = Pushed()
    before = client.requests
    for uid, text in wanted.items():
        version = digest(text)
        row = known.pop(uid, None)
        if row is not None and row.digest == version:
            done.unchanged += 1
            continue
        try:
            href, etag = client.put(account.calendar_url, f"{uid}.ics", text, etag=row.etag if row else None)
        except Changed:
            done.changed_there.append(uid)
            continue
        if row is None:
            db.session.add(SyncedItem(account_id=account.id, uid=uid, href=href, etag=etag, digest=version))
            done.created += 1
        else:
            row.href, row.etag, row.digest, row.pushed_at = href, etag, version, now
            done.updated += 1
    for uid, row in known.items():  # no longer there, or no longer theirs to see
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
    return done
