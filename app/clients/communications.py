"""A client's communication log: calls, emails, meetings and site visits, newest first,
with an optional follow-up date on which the entry's author is reminded — once (the
hourly job claims each due entry with one UPDATE … WHERE reminded_at IS NULL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from app.clients.models import ENTRY_KINDS, Client, ClientCommunication
from app.core.dates import parse_date
from app.core.errors import ObjectNotFound, ValidationError
from app.core.models import utcnow
from app.core.permissions import PermissionDenied, require
from app.core.text import LONG_TEXT
from app.core.timezones import company_zone
from app.extensions import db

SUMMARY_MAX = LONG_TEXT
FOLLOW_UP = "client_follow_up"  # the notification kind (declared by the feature)


def today() -> date:
    return datetime.now(company_zone()).date()


def entries(actor, client_id: int, limit: int = 100) -> list[ClientCommunication]:
    """The client's latest entries, newest first (with their authors)."""
    require(actor, "client.view")
    return db.session.scalars(
        select(ClientCommunication)
        .where(ClientCommunication.client_id == client_id)
        .order_by(ClientCommunication.occurred_at.desc(), ClientCommunication.id.desc())
        .limit(limit)
    ).all()


def _when(value, errors: dict) -> datetime | None:
    """A date and time as typed (YYYY-MM-DDTHH:MM, the company's time zone) or an
    aware ISO datetime; never more than a day ahead (a log records what happened)."""
    text = str(value or "").strip() if not isinstance(value, datetime) else value
    if text in ("", None):
        errors["occurred_at"] = "Say when it happened."
        return None
    try:
        moment = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    except ValueError:
        errors["occurred_at"] = "Enter a date and time as YYYY-MM-DD HH:MM."
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=company_zone())
    if not datetime(1990, 1, 1, tzinfo=moment.tzinfo) <= moment <= utcnow() + timedelta(days=1):
        errors["occurred_at"] = "Enter when it happened (not in the future)."
        return None
    return moment


def add_entry(actor, client: Client, data: dict) -> ClientCommunication:
    """Log a call, email, meeting or site visit; `follow_up_on` (optional) reminds the
    author on that day. Every problem at once, nothing written on error."""
    require(actor, "client.edit")
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in ENTRY_KINDS:
        errors["kind"] = "Choose call, email, meeting or site visit."
    moment = _when(data.get("occurred_at"), errors)
    summary = str(data.get("summary") or "").strip()
    if not summary:
        errors["summary"] = "Write what was said or agreed."
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = f"At most {SUMMARY_MAX:,} characters, please (this has {len(summary):,})."
    follow_up = parse_date(data.get("follow_up_on"), "follow_up_on", errors, date(1990, 1, 1), date(2999, 12, 31))
    if follow_up is not None and moment is not None and follow_up < moment.astimezone(company_zone()).date():
        errors["follow_up_on"] = "A follow-up comes on or after the day of the entry."
    if errors:
        raise ValidationError(errors)
    entry = ClientCommunication(
        client_id=client.id, kind=kind, occurred_at=moment, author_id=actor.id, summary=summary, follow_up_on=follow_up
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def get_entry(actor, client_id: int, entry_id: int) -> ClientCommunication:
    require(actor, "client.view")
    entry = db.session.get(ClientCommunication, entry_id)
    if entry is None or entry.client_id != client_id:
        raise ObjectNotFound("That log entry does not exist.")
    return entry


def mark_done(actor, entry: ClientCommunication) -> ClientCommunication:
    """The author marks their follow-up done (no reminder is sent after that)."""
    require(actor, "client.view")
    if not may_mark_done(actor, entry):
        raise PermissionDenied("Only the author of the entry marks its follow-up done.")
    if entry.follow_up_on is None:
        raise ValidationError({"follow_up_on": "This entry has no follow-up."})
    if entry.follow_up_done_at is None:
        entry.follow_up_done_at = utcnow()
        db.session.flush()
    return entry


def may_mark_done(actor, entry) -> bool:
    """The entry's author, while its follow-up is open (the log's "Mark done")."""
    return entry.author_id == actor.id and entry.follow_up_on is not None and entry.follow_up_done_at is None


def is_due(entry, today) -> bool:
    """An open follow-up whose day has come (company time)."""
    return entry.follow_up_on is not None and entry.follow_up_done_at is None and entry.follow_up_on <= today


def remind_follow_ups() -> int:
    """Notify each author whose follow-up day has come (company time), once per entry:
    the UPDATE claims the entry (reminded_at) and returns it only if it was unclaimed, so
    two workers or a rerun never remind twice. The number of reminders sent."""
    from app.auth.models import User
    from app.notifications.services import notify

    claimed = (
        db.session.execute(
            update(ClientCommunication)
            .where(
                ClientCommunication.follow_up_on <= today(),
                ClientCommunication.reminded_at.is_(None),
                ClientCommunication.follow_up_done_at.is_(None),
                ClientCommunication.author_id.is_not(None),
            )
            .values(reminded_at=utcnow())
            .returning(ClientCommunication.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    sent = 0
    for entry in db.session.scalars(select(ClientCommunication).where(ClientCommunication.id.in_(claimed))):
        author = db.session.get(User, entry.author_id)
        if author is None or not author.is_active:
            continue
        client = db.session.get(Client, entry.client_id)
        label = ENTRY_KINDS.get(entry.kind, entry.kind).lower()
        notify(
            author,
            FOLLOW_UP,
            f"Follow up with {client.name}: your {label} of {entry.occurred_at.astimezone(company_zone()):%b %d}",
            "clients.detail",
            {"client_id": entry.client_id},
            body=entry.summary[:500],
        )
        sent += 1
    return sent
