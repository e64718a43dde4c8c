"""A person's CalDAV accounts (issue 11): connect one (its calendars discovered through
the server's principal and calendar-home-set), change its password or import project,
disconnect it, sync it now; its "sync conflicts"; and the admin's view of every
account. Only people the matrix lets sync (`calendar.sync_external`: admin, PMs,
trainees) connect one; everyone reads and changes only their own.

Presets (the page's tabs): iCloud (caldav.icloud.com, an app-specific password from
appleid.apple.com) and Google, whose CalDAV endpoint takes OAuth 2.0 only
(google_oauth.py: needs GOOGLE_CALENDAR_CLIENT_ID/_SECRET; the page says so when they
are not set)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.auth.models import User
from app.calendar_sync import runs
from app.calendar_sync.caldav_client import AuthFailed, CalDAVError, Calendar, Client
from app.calendar_sync.models import PROVIDERS, CalendarAccount, SyncConflict, SyncedItem
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.models import utcnow
from app.core.permissions import can, require
from app.core.text import normalise
from app.extensions import db

MAX_ACCOUNTS = 5  # calendars one person keeps in step
ICLOUD_URL = "https://caldav.icloud.com/"


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    server_url: str
    help: str


PRESETS = (
    Preset(
        "icloud",
        "iCloud (Apple Calendar)",
        ICLOUD_URL,
        "Use your Apple ID email and an app-specific password: appleid.apple.com → Sign-In and Security → "
        "App-Specific Passwords. Your Apple ID password itself will not work.",
    ),
    Preset(
        "caldav",
        "Other CalDAV server",
        "",
        "Fastmail, Nextcloud, Radicale, Synology…: the server's CalDAV address, your user name and an app password.",
    ),
)


def _require_sync(user) -> None:
    require(user, "calendar.sync_external")


def accounts_of(user) -> list[CalendarAccount]:
    return list(
        db.session.scalars(
            select(CalendarAccount).where(CalendarAccount.user_id == user.id).order_by(CalendarAccount.id)
        )
    )


def account_list(user):
    """The statement of `user`'s own accounts (the API pages it)."""
    _require_sync(user)
    return select(CalendarAccount).where(CalendarAccount.user_id == user.id).order_by(CalendarAccount.id)


def import_project_ref(account: CalendarAccount) -> dict | None:
    from app.projects.models import Project

    if account.import_project_id is None:
        return None
    project = db.session.get(Project, account.import_project_id)
    return {"id": project.id, "name": project.name} if project is not None else None


def get_account(user, account_id, action: str | None = "calendar.sync_external") -> CalendarAccount:
    """One of `user`'s own accounts (404 for anyone else's); `action`: what the caller
    must also be allowed (None: disconnecting, which someone no longer allowed to sync
    may still do)."""
    if action:
        require(user, action)
    from app.core.numbers import to_int

    ident = to_int(account_id)
    account = db.session.get(CalendarAccount, ident) if ident is not None else None
    if account is None or account.user_id != user.id:
        raise ObjectNotFound("That calendar account does not exist or is not yours.")
    return account


def _text(data: dict, key: str, errors: dict, message: str, limit: int) -> str:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        errors[key] = "Send text."
        return ""
    value = normalise(value) if key != "password" else (value or "")
    if not value:
        errors[key] = message
    elif len(value) > limit:
        errors[key] = f"At most {limit} characters."
    return value


def discover(server_url: str, username: str, password: str) -> list[Calendar]:
    """The calendars the server lists for these credentials (errors on their fields)."""
    client = Client(server_url, username, password)  # (hosts.RefusedHost: a field error on server_url)
    try:
        found = client.calendars()
    except AuthFailed:
        raise ValidationError({"password": "The server refused this user name and password."}) from None
    except CalDAVError as exc:
        raise ValidationError({"server_url": f"{exc} Check the address."}) from None
    if not found:
        raise ValidationError({"server_url": "This account has no calendar that holds events. Create one first."})
    return found


def _credentials(data: dict) -> tuple[str, str, str, dict]:
    errors: dict = {}
    if data.get("provider") == "icloud" and not data.get("server_url"):
        data = {**data, "server_url": ICLOUD_URL}
    server_url = _text(data, "server_url", errors, "Give the server's address.", 500)
    username = _text(data, "username", errors, "Give your user name.", 200)
    password = _text(data, "password", errors, "Give the app password.", 500)
    if server_url and "://" not in server_url and "server_url" not in errors:
        server_url = "https://" + server_url
    return server_url, username, password, errors


def connect(user, data: dict) -> CalendarAccount:
    """A new account from `server_url, username, password, calendar_url?` (SPEC.md §5;
    the page adds `provider`). Without a calendar_url: the account's only calendar, or
    the choice is asked for (a validation error listing them)."""
    _require_sync(user)
    if not isinstance(data, dict):
        raise ValidationError({"": "Send an object."})
    server_url, username, password, errors = _credentials(data)
    provider = data.get("provider") or "caldav"
    if provider not in PROVIDERS or provider == "google":
        errors["provider"] = "Choose iCloud or another CalDAV server (Google connects through its own button)."
    if errors:
        raise ValidationError(errors)
    if len(accounts_of(user)) >= MAX_ACCOUNTS:
        raise ConflictError(f"You already keep {MAX_ACCOUNTS} calendars in step; disconnect one first.")
    calendars = discover(server_url, username, password)
    chosen = _choose(calendars, data.get("calendar_url"))
    if any(a.calendar_url == chosen.url for a in accounts_of(user)):
        raise ValidationError({"calendar_url": "That calendar is already connected."})
    if db.session.scalar(select(CalendarAccount.id).where(CalendarAccount.calendar_url == chosen.url).limit(1)):
        # (two people syncing one shared calendar would take each other's items off it)
        raise ValidationError({"calendar_url": "Someone else in Kibray already keeps that calendar in step."})
    account = CalendarAccount(
        user_id=user.id,
        server_url=server_url,
        username=username,
        password=password,
        calendar_url=chosen.url,
        calendar_name=chosen.name[:200],
        provider=provider,
    )
    db.session.add(account)
    db.session.flush()
    runs.queue_sync([account.id])
    return account


def connect_google(user, code: str, redirect_uri: str) -> CalendarAccount:
    """The person's primary Google calendar, from the OAuth callback's code."""
    from app.calendar_sync import google_oauth

    _require_sync(user)
    if not google_oauth.configured():
        raise ConflictError("Google Calendar is not configured on this server.")
    if len(accounts_of(user)) >= MAX_ACCOUNTS:
        raise ConflictError(f"You already keep {MAX_ACCOUNTS} calendars in step; disconnect one first.")
    try:
        email, refresh = google_oauth.exchange(code, redirect_uri)
    except CalDAVError as exc:
        raise ConflictError(str(exc)) from None
    url = google_oauth.calendar_url(email)
    existing = next((a for a in accounts_of(user) if a.calendar_url == url), None)
    if existing is not None:  # connected again: the new grant replaces the old one
        existing.password, existing.status, existing.last_error = refresh, "ok", ""
        db.session.flush()
        runs.queue_sync([existing.id])
        return existing
    account = CalendarAccount(
        user_id=user.id,
        server_url=google_oauth.CALDAV_URL,
        username=email,
        password=refresh,
        calendar_url=url,
        calendar_name=f"Google Calendar ({email})"[:200],
        provider="google",
    )
    db.session.add(account)
    db.session.flush()
    runs.queue_sync([account.id])
    return account


def _choose(calendars: list[Calendar], wanted) -> Calendar:
    if wanted:
        if not isinstance(wanted, str):
            raise ValidationError({"calendar_url": "Send text."})
        for calendar in calendars:
            if calendar.url.rstrip("/") == wanted.strip().rstrip("/"):
                return calendar
        raise ValidationError({"calendar_url": "That is not one of this account's calendars."})
    if len(calendars) == 1:
        return calendars[0]
    names = ", ".join(f"{c.name} ({c.url})" for c in calendars)
    raise ValidationError({"calendar_url": f"Choose one of this account's calendars: {names}."})


def update(user, account: CalendarAccount, data: dict) -> CalendarAccount:
    """A new app password (checked with the server) and/or the import project (empty:
    none). A failing account is fixed by it: back to ok, synced at once."""
    _require_sync(user)
    errors: dict = {}
    if "password" in data and data["password"] and account.provider == "google":
        errors["password"] = "A Google calendar has no app password: connect it again with Google instead."  # noqa: S105 - a message
    elif "password" in data and data["password"]:
        if not isinstance(data["password"], str) or len(data["password"]) > 500:
            errors["password"] = "Give the app password (at most 500 characters)."  # noqa: S105 - a message, not a password
        else:
            _check_password(account, data["password"])
            account.password = data["password"]
    if "import_project_id" in data:
        chosen = _import_project(user, data["import_project_id"], errors)
        if chosen != account.import_project_id:
            account.import_project_id = chosen
            account.import_since = utcnow() if chosen is not None else None
    if errors:
        raise ValidationError(errors)
    account.status, account.last_error = "ok", ""
    db.session.flush()
    runs.queue_sync([account.id])
    return account


def _check_password(account: CalendarAccount, password: str) -> None:
    client = Client(account.server_url, account.username, password)
    try:
        client.principal()
    except AuthFailed:
        raise ValidationError({"password": "The server refused this password."}) from None
    except CalDAVError as exc:
        raise ValidationError({"password": f"{exc}"}) from None


def _import_project(user, raw, errors: dict) -> int | None:
    from app.calendar.services import may_add_to
    from app.core.numbers import to_int
    from app.projects.models import Project

    if raw in (None, ""):
        return None
    ident = to_int(raw)
    project = db.session.get(Project, ident) if ident is not None else None
    if project is None or not can(user, "project.view", project):
        errors["import_project_id"] = "Choose one of your projects."
        return None
    if not may_add_to(user, project):
        errors["import_project_id"] = "You cannot add events to that project."
        return None
    return project.id


def disconnect(user, account: CalendarAccount) -> None:
    """Stop keeping it in step (what Kibray put in the calendar stays there)."""
    db.session.delete(account)
    db.session.flush()


def sync_now(user, account: CalendarAccount) -> None:
    """Queue a run now (a failing account too: the person may have fixed it on the
    server's side)."""
    _require_sync(user)
    runs.queue_sync([account.id])


def sync_event(user, event_id) -> list[int]:
    """`POST /api/calendar/events/{id}/sync/`: sync the caller's calendars now, for an
    event they may see. Answers the accounts queued."""
    from app.calendar.visibility import get_event

    get_event(user, event_id)
    _require_sync(user)
    ids = [a.id for a in accounts_of(user)]
    if not ids:
        raise ConflictError("Connect a calendar first (Account → Calendar).")
    runs.queue_sync(ids)
    return ids


def items_synced(account_ids: list[int]) -> dict[int, int]:
    if not account_ids:
        return {}
    rows = db.session.execute(
        select(SyncedItem.account_id, func.count())
        .where(SyncedItem.account_id.in_(account_ids), SyncedItem.href != "")
        .group_by(SyncedItem.account_id)
    )
    return dict(rows.all())


# --- sync conflicts ---------------------------------------------------------------------------


def conflicts_of(user, limit: int = 50) -> list[SyncConflict]:
    return list(
        db.session.scalars(
            select(SyncConflict)
            .join(CalendarAccount, CalendarAccount.id == SyncConflict.account_id)
            .where(CalendarAccount.user_id == user.id, SyncConflict.dismissed_at.is_(None))
            .order_by(SyncConflict.created_at.desc(), SyncConflict.id.desc())
            .limit(limit)
        )
    )


def dismiss(user, conflict_id) -> None:
    from app.core.numbers import to_int

    ident = to_int(conflict_id)
    conflict = db.session.get(SyncConflict, ident) if ident is not None else None
    if conflict is None or db.session.get(CalendarAccount, conflict.account_id).user_id != user.id:
        raise ObjectNotFound("That conflict does not exist or is not yours.")
    conflict.dismissed_at = utcnow()
    db.session.flush()


# --- the admin's operations view ------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    account: CalendarAccount
    owner: str
    items: int
    next_run: datetime | None
    running: tuple[int, int] | None


def operations(user) -> list[AccountRow]:
    require(user, "settings.manage")
    rows = db.session.execute(
        select(CalendarAccount, User.full_name, User.username)
        .join(User, User.id == CalendarAccount.user_id)
        .order_by(CalendarAccount.status.desc(), User.full_name, CalendarAccount.id)
    ).all()
    counts = items_synced([r[0].id for r in rows])
    return [
        AccountRow(
            account, name or username, counts.get(account.id, 0), runs.next_run(account), runs.progress(account.id)
        )
        for account, name, username in rows
    ]
