"""Daily log rules (SPEC.md §3 "Daily logs"), the same for pages and the API.

- one log a project and company-time day; a second one for the same day is refused
  with the existing log (LogExists: the page opens it, the API answers 409 with its id);
- written by the project's superintendent or PMs (the matrix's daily_log.edit: A),
  an admin always; never for a closed project, never for a day that has not come;
- a past day's log only by those who may unlock logs (daily_log.unlock: admins and
  full PMs) — it is as if unlocked, open until the end of today;
- editable the same day; after it, locked (computed: DailyLog.is_locked); whoever may
  write it can lock it early; a PM unlocks it with a reason (audited), and it locks
  again at the end of the day of unlocking (or when locked by hand);
- the crew is prefilled from the day's punches (timeclock.queries.crew_on), the work
  done from the tasks whose progress or status changed that day (the audit log);
- clients see client-visible logs of their own projects, without crew, hours or
  internal notes (`for_client`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.core.audit import AuditLog, note_reason
from app.core.dates import parse_date
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.numbers import to_int
from app.core.pagination import paginate
from app.core.permissions import PermissionDenied, can, require, scope_query
from app.core.roles import ADMIN, CLIENT
from app.core.text import LONG_TEXT, check_lengths, declare_limits
from app.core.transaction import attempt
from app.core.versioning import bump, checks_version, expect_version
from app.daily_logs.models import CONDITIONS, DailyLog, DailyLogCrew
from app.extensions import db
from app.projects.models import CLOSED as PROJECT_CLOSED
from app.projects.models import Project

LIMITS = declare_limits(
    "daily_log",
    {
        "work_done": LONG_TEXT,
        "problems": LONG_TEXT,
        "materials_delivered": LONG_TEXT,
        "visitors": LONG_TEXT,
        "internal_notes": LONG_TEXT,
        "reason": 500,
    },
)
TEXTS = ("work_done", "problems", "materials_delivered", "visitors", "internal_notes")
EDITABLE = (*TEXTS, "weather_conditions", "temperature_f", "humidity", "is_client_visible")
MAX_CREW = 100
PER_PAGE = 20
EARLIEST = dt.date(2000, 1, 1)
MIN_TEMPERATURE, MAX_TEMPERATURE = -60, 140

CLOSED_MESSAGE = "This project is closed: its daily logs can no longer be written or changed."
LOCKED_MESSAGE = "This daily log is locked: its day is over. A project manager can unlock it with a reason."


class LogExists(ConflictError):
    """There is a log for that project and day already: `log` (pages open it)."""

    def __init__(self, log: DailyLog):
        super().__init__(
            f"There is already a daily log for {log.date.isoformat()} on this project.",
            {"id": log.id, "date": log.date.isoformat()},
        )
        self.log = log


def today() -> dt.date:
    """Today in the company's time zone (tests replace it to pass explicit days)."""
    from app.timeclock.queries import today as company_today

    return company_today()


# --- reading -----------------------------------------------------------------------


def for_client(user) -> bool:
    """Does `user` get the client variant (no crew, hours or internal notes)?"""
    return user.role == CLIENT


def visible_logs(user, stmt=None):
    """A select of the logs `user` may see: the one visibility rule of pages and API."""
    return scope_query(stmt if stmt is not None else select(DailyLog), user, "daily_log.view", DailyLog)


def get_log(user, log_id, action: str = "daily_log.view") -> DailyLog:
    """The log if `user` may see it (404 otherwise) and may do `action` on it (403)."""
    require(user, "daily_log.view")
    log_id = to_int(log_id)
    log = db.session.get(DailyLog, log_id) if log_id is not None else None
    if log is None or not can(user, "daily_log.view", log):
        raise ObjectNotFound("That daily log does not exist or you cannot see it.")
    require(user, action, log)
    return log


def log_list(user, project_id: int | None = None, date_from=None, date_to=None):
    """The logs `user` sees, newest day first, optionally of one project and days."""
    require(user, "daily_log.view")
    stmt = visible_logs(user)
    if project_id is not None:
        stmt = stmt.where(DailyLog.project_id == project_id)
    if date_from is not None:
        stmt = stmt.where(DailyLog.date >= date_from)
    if date_to is not None:
        stmt = stmt.where(DailyLog.date <= date_to)
    # the API shows each log's author: read them for the page at once, not a log at a time
    return stmt.options(selectinload(DailyLog.created_by)).order_by(DailyLog.date.desc(), DailyLog.id.desc())


def project_logs(user, project: Project, page: int):
    """One page of the project's logs (the project already checked visible)."""
    return paginate(log_list(user, project_id=project.id), page, PER_PAGE)


def log_for(user, project: Project, day: dt.date) -> DailyLog | None:
    """The project's log of `day`, if `user` may see it."""
    return db.session.scalars(visible_logs(user).where(DailyLog.project_id == project.id, DailyLog.date == day)).first()


def crew_hours(user, log: DailyLog) -> dict[int, object]:
    """Hours each person worked on the log's project that day (from the punches); none
    for a client."""
    if for_client(user):
        return {}
    from app.timeclock.queries import crew_on

    return {uid: hours for uid, _, hours in crew_on(log.project_id, log.date)}


def crew_choices(user, project: Project) -> list[User]:
    """Who can be put on a log's crew: active staff (anyone but clients), by name."""
    require(user, "daily_log.edit")
    return db.session.scalars(
        select(User).where(User.is_active_flag.is_(True), User.role != CLIENT).order_by(User.full_name, User.id)
    ).all()


def tasks_progressed(project_id: int, day: dt.date) -> str:
    """The work-done prefill: one line a task of the project whose progress or status
    changed during the company-time `day`, as the audit log recorded the change (the
    log is written in the same transaction as the change, so it is exactly the work
    reported that day; a task's updated_at would also move for a renamed task and keeps
    only the last change). "Mask the windows: 20% → 60%", "… : done"."""
    from app.timeclock.queries import day_bounds

    start, end = day_bounds(day)
    rows = db.session.execute(
        select(AuditLog.object_id, AuditLog.object_label, AuditLog.changes)
        .where(
            AuditLog.project_id == project_id,
            AuditLog.created_at >= start,
            AuditLog.created_at < end,
            AuditLog.object_type == "Task",
            AuditLog.action == "update",
            AuditLog.result == "success",
        )
        .order_by(AuditLog.id)
    ).all()
    tasks: dict[str, dict] = {}
    for object_id, label, changes in rows:
        changes = changes or {}
        progress, status = changes.get("progress_percent"), changes.get("status")
        if not progress and not status:
            continue
        seen = tasks.setdefault(object_id, {"label": label, "from": None, "to": None, "status": None})
        seen["label"] = label or seen["label"]
        if progress:
            if seen["from"] is None:
                seen["from"] = progress[0]
            seen["to"] = progress[1]
        if status:
            seen["status"] = status[1]
    lines = []
    for seen in tasks.values():
        if seen["status"] == "completed":
            lines.append(f"{seen['label']}: done")
        elif seen["to"] is not None and seen["from"] != seen["to"]:
            lines.append(f"{seen['label']}: {seen['from'] or 0}% → {seen['to']}%")
        elif seen["status"] == "in_progress":
            lines.append(f"{seen['label']}: started")
        elif seen["status"] == "blocked":
            lines.append(f"{seen['label']}: blocked")
    return "\n".join(lines)


def prefill(user, project: Project, day: dt.date) -> dict:
    """What a new log of `day` starts with: the day's crew (punches) and work done (tasks)."""
    require(user, "daily_log.edit")
    return {
        "crew_ids": [person.id for person in _day_crew(project.id, day)],
        "work_done": tasks_progressed(project.id, day),
    }


def _day_crew(project_id: int, day: dt.date) -> list[User]:
    """Who punched on the project that day (timeclock.queries.crew_on, by name), of them
    the active staff: someone deactivated since is not on a new log's crew."""
    from app.timeclock.queries import crew_on

    ids = [uid for uid, _, _ in crew_on(project_id, day)]
    people = {p.id: p for p in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [people[i] for i in ids if i in people and people[i].is_active and people[i].role != CLIENT]


# --- who may do what ----------------------------------------------------------------


class _ProjectLog:
    """A log not yet written, for can(actor, "daily_log.edit", …) of a project."""

    __scope__ = DailyLog.__scope__

    def __init__(self, project: Project):
        self.project_id = project.id
        self.project = project
        self.is_client_visible = False


def may_create(actor, project: Project) -> bool:
    return project.status != PROJECT_CLOSED and can(actor, "daily_log.edit", _ProjectLog(project))


def may_backdate(actor, project: Project) -> bool:
    """May `actor` write a log for a past day (daily_log.unlock)?"""
    return can(actor, "daily_log.unlock", _ProjectLog(project))


def may_edit(actor, log: DailyLog, day: dt.date | None = None) -> bool:
    return (
        log.project.status != PROJECT_CLOSED and not log.is_locked(day or today()) and can(actor, "daily_log.edit", log)
    )


def may_lock(actor, log: DailyLog, day: dt.date | None = None) -> bool:
    return may_edit(actor, log, day)


def may_unlock(actor, log: DailyLog, day: dt.date | None = None) -> bool:
    return (
        log.project.status != PROJECT_CLOSED and log.is_locked(day or today()) and can(actor, "daily_log.unlock", log)
    )


def _ensure_open(project: Project) -> None:
    if project.status == PROJECT_CLOSED:
        raise ConflictError(CLOSED_MESSAGE)


def project_for_new_log(actor, project_id) -> Project:
    """The project a new log is for, named by id in a request body: one the actor may
    see, or a field error (its existence is not told)."""
    require(actor, "daily_log.edit")
    if project_id is None:
        raise ValidationError({"project_id": "This field is required."})
    project = db.session.get(Project, project_id)
    if project is None or not can(actor, "project.view", project):
        raise ValidationError({"project_id": "That project does not exist or you cannot see it."})
    return project


def require_create(actor, project: Project) -> None:
    if not can(actor, "daily_log.edit", _ProjectLog(project)):
        raise PermissionDenied("You cannot write daily logs for this project.")


# --- input -------------------------------------------------------------------------


def _whole(value, field: str, errors: dict, low: int, high: int, what: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        errors[field] = f"Enter {what} as a whole number."
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
    except ValueError:
        errors[field] = f"Enter {what} as a whole number."
        return None
    if not low <= number <= high:
        errors[field] = f"Enter {what} between {low} and {high}."
        return None
    return number


def _bool(value, field: str, errors: dict) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes", "0", "false", "off", "no", ""):
        return value.strip().lower() in ("1", "true", "on", "yes")
    errors[field] = "Must be true or false."
    return False


def clean(data: dict, base: dict | None = None) -> tuple[dict, dict]:
    """Validated field values from raw input (a form or JSON) over `base` (the log's
    current values for an edit). Every problem at once."""
    errors: dict[str, str] = {}
    merged = dict(base or {})
    merged.update({k: v for k, v in data.items() if k in EDITABLE})
    values: dict = {}
    for key in TEXTS:
        value = merged.get(key)
        values[key] = str(value if value is not None else "").replace("\r\n", "\n").strip()
    check_lengths(values, LIMITS, errors)
    conditions = merged.get("weather_conditions") or ""
    if conditions and conditions not in CONDITIONS:
        errors["weather_conditions"] = f"Choose one of: {', '.join(CONDITIONS)}."
    values["weather_conditions"] = conditions if isinstance(conditions, str) else ""
    values["temperature_f"] = _whole(
        merged.get("temperature_f"), "temperature_f", errors, MIN_TEMPERATURE, MAX_TEMPERATURE, "the temperature (°F)"
    )
    values["humidity"] = _whole(merged.get("humidity"), "humidity", errors, 0, 100, "the humidity (%)")
    values["is_client_visible"] = _bool(merged.get("is_client_visible"), "is_client_visible", errors)
    return values, errors


def _crew(raw, errors: dict) -> list[User] | None:
    """The people named by `raw` (ids from a form or JSON); None when not sent."""
    if raw is None:
        return None
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        errors["crew_ids"] = "Send a list of ids."
        return None
    ids = []
    for item in raw:
        number = to_int(item) if not isinstance(item, bool) else None
        if number is None:
            errors["crew_ids"] = "Send people as ids."
            return None
        if number not in ids:
            ids.append(number)
    if len(ids) > MAX_CREW:
        errors["crew_ids"] = f"At most {MAX_CREW} people on one day's crew."
        return None
    people = db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
    found = {p.id: p for p in people if p.is_active and p.role != CLIENT}
    missing = [i for i in ids if i not in found]
    if missing:
        errors["crew_ids"] = "Choose active staff for the crew (someone chosen does not exist or is not staff)."
        return None
    return [found[i] for i in ids]


def _day(value, errors: dict, now: dt.date) -> dt.date | None:
    day = parse_date(value, "date", errors, earliest=EARLIEST, latest=dt.date(2100, 12, 31))
    if day is None and "date" not in errors:
        errors["date"] = "Choose the day of the log."
    if day is not None and day > now:
        errors["date"] = "A daily log cannot be written for a day that has not come yet."
        return None
    return day


# --- writing -----------------------------------------------------------------------


def create_log(actor, project: Project, data: dict, crew_ids=None) -> DailyLog:
    """A new log for `data["date"]`. `crew_ids` None (not sent): the day's punches;
    `data` without work_done: the tasks progressed that day."""
    require_create(actor, project)
    _ensure_open(project)
    now = today()
    errors: dict[str, str] = {}
    day = _day(data.get("date"), errors, now)
    if errors:
        raise ValidationError(errors)
    if day < now and not may_backdate(actor, project):
        raise PermissionDenied("Only a project manager can write a daily log for a past day.")
    existing = db.session.scalars(
        select(DailyLog).where(DailyLog.project_id == project.id, DailyLog.date == day)
    ).first()
    if existing is not None:
        raise LogExists(existing)
    data = dict(data)
    if data.get("work_done") is None:
        data["work_done"] = tasks_progressed(project.id, day)
    values, errors = clean(data)
    crew = _crew(crew_ids, errors)
    if errors:
        raise ValidationError(errors)
    if crew is None:
        crew = _day_crew(project.id, day)
    log = DailyLog(project=project, date=day, created_by_id=actor.id, **values)
    if day < now:
        log.unlocked_until = now  # a late log stays open until the end of today
    try:
        with attempt():  # two saves of the same day at once: the index decides, the loser opens the winner's
            db.session.add(log)
            db.session.flush()
    except IntegrityError:
        existing = db.session.scalars(
            select(DailyLog).where(DailyLog.project_id == project.id, DailyLog.date == day)
        ).first()
        if existing is None:
            raise
        raise LogExists(existing) from None
    for person in crew:
        db.session.add(DailyLogCrew(log=log, user_id=person.id))
    db.session.flush()
    _publish(log)
    return log


@checks_version("log")
def update_log(actor, log: DailyLog, data: dict, crew_ids=None, partial: bool = True, version=None) -> DailyLog:
    """Edit a log while it is open. `partial` (PATCH): the fields sent; otherwise every
    editable field is replaced (omitted ones emptied). The crew changes when sent."""
    require(actor, "daily_log.edit", log)
    _ensure_open(log.project)
    if log.is_locked(today()):
        raise ConflictError(LOCKED_MESSAGE)
    expect_version(log, version)
    incoming = {k: v for k, v in data.items() if k in EDITABLE}
    base = {key: getattr(log, key) for key in EDITABLE}
    if not partial:
        base.update(dict.fromkeys(EDITABLE))
    values, errors = clean(incoming, base)
    crew = _crew(crew_ids, errors)
    if errors:
        raise ValidationError(errors)
    columns_changed = False
    for key, value in values.items():
        if getattr(log, key) != value:
            setattr(log, key, value)
            columns_changed = True
    if crew is not None and [p.id for p in crew] != log.crew_ids:
        wanted = {p.id for p in crew}
        if wanted != set(log.crew_ids):
            if not columns_changed:
                bump(log)  # the crew alone changed: still a new version of the log
            for link in list(log.crew_links):
                if link.user_id not in wanted:
                    log.crew_links.remove(link)
            have = set(log.crew_ids)
            for person in crew:
                if person.id not in have:
                    log.crew_links.append(DailyLogCrew(user_id=person.id))
    db.session.flush()
    _publish(log)
    return log


@checks_version("log")
def lock_log(actor, log: DailyLog, version=None) -> DailyLog:
    """Lock the log before its day is over (whoever may write it)."""
    require(actor, "daily_log.edit", log)
    _ensure_open(log.project)
    if log.is_locked(today()):
        raise ConflictError("This daily log is locked already.")
    expect_version(log, version)
    log.locked = True
    log.unlocked_until = None
    db.session.flush()
    _publish(log)
    return log


@checks_version("log")
def unlock_log(actor, log: DailyLog, reason, version=None) -> DailyLog:
    """Open a locked log until the end of today, with a reason the audit log keeps."""
    require(actor, "daily_log.unlock", log)
    _ensure_open(log.project)
    now = today()
    if not log.is_locked(now):
        raise ConflictError("This daily log is not locked.")
    expect_version(log, version)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why the log is unlocked (the audit log keeps it)."})
    if len(reason) > LIMITS["reason"]:
        raise ValidationError({"reason": f"Keep the reason under {LIMITS['reason']} characters."})
    log.locked = False
    log.unlocked_until = now
    note_reason(log, reason)
    db.session.flush()
    _publish(log)
    return log


# --- events ------------------------------------------------------------------------


def audience(log: DailyLog) -> list[int]:
    """Who hears of a saved log: the project's team and its client's users who may see it
    now (a client only while it is client-visible); admins by role."""
    return entitled(project_audience(log.project), lambda user: can(user, "daily_log.view", log))


def _publish(log: DailyLog) -> None:
    publish(
        "daily-log-saved",
        {"id": log.id, "project_id": log.project_id},
        users=audience(log),
        roles=[ADMIN],
    )
