"""Reading the stored conflicts: what each item's reasons say to a given reader, with a
recommendation each, and the list of the conflicts a reader may see (the API and the
panel).

A reason never names an item its reader cannot see (another client's job is "another
job"), and a client reads none at all: conflicts name the crew and their other work,
which the client side of the calendar never shows (SPEC.md §3 role layers).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import and_, exists, false, literal, or_, select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.calendar.models import ADMIN_ONLY, CalendarEvent
from app.calendar.visibility import visible_events
from app.core.permissions import ALL, ASSIGNED, NONE, scope_of
from app.core.roles import ADMIN, CLIENT
from app.core.transaction import read_connection
from app.extensions import db
from app.schedule import engine
from app.schedule.models import SEVERITY_RANK, ScheduleConflict
from app.tasks.models import Task

Key = tuple[str, int]
FREE_DAY_SEARCH = 30  # days searched forward for a free day
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def short(day: date | None) -> str:
    """Dec 3: short, as a reason reads ("Ana is also booked on ‘Prime hallway’ (Dec 3)")."""
    return f"{_MONTHS[day.month - 1]} {day.day}" if day is not None else ""


@dataclass(frozen=True)
class Party:
    """An item of a conflict as its reader may know it: `id` and `title` are None when
    they may not see it."""

    kind: str
    id: int | None
    title: str


@dataclass(frozen=True)
class Reason:
    id: int  # the stored row's
    kind: str
    severity: str
    message: str
    recommendation: str
    item: Key
    item_title: str
    project_id: int | None
    other: Party | None
    user_id: int | None
    day: date | None

    @property
    def parties(self) -> list[Party]:
        found = [Party(self.item[0], self.item[1], self.item_title)]
        if self.other is not None:
            found.append(self.other)
        return found


# --- which rows a reader may see ---------------------------------------------------------


def _own_only(user) -> bool:
    """Does `user` see only their own items (the matrix's O scope on calendar.view: an
    employee)? Then of a shared item's conflicts only their own person-rows (and the
    item's own: dates, dependency, holiday) are theirs to read — a co-worker's double
    booking or load is about that co-worker's other work."""
    from app.core.permissions import OWN

    return scope_of(user, "calendar.view") == OWN


def visible_level(user, stored: str, severities) -> str:
    """The risk level `user` is shown of an item: the stored one, or for a reader who sees
    only their own items (_own_only) the highest of `severities` — those of the reasons
    they may read."""
    if not _own_only(user):
        return stored or "none"
    return engine.risk_of(severities)


def own_levels(user, keys) -> dict[Key, str] | None:
    """For a reader who sees only their own items (_own_only): each item's risk level from
    the conflicts they may read — their own bookings' and the item's own — not the
    stored level, which a co-worker's double booking on a shared item raises. None for
    every other reader (the stored level is theirs)."""
    if not _own_only(user):
        return None
    from sqlalchemy import func

    keys = {(k, int(i)) for k, i in keys}
    levels: dict[Key, str] = {}
    ranks = {rank: level for level, rank in SEVERITY_RANK.items()}
    connection = read_connection(db.session)
    for kind in ("task", "event"):
        ids = sorted(i for k, i in keys if k == kind)
        if not ids:
            continue
        for item_id, rank in connection.execute(
            select(ScheduleConflict.item_id, func.max(ScheduleConflict.severity_rank))
            .where(
                ScheduleConflict.of_items(kind, ids),
                or_(ScheduleConflict.user_id.is_(None), ScheduleConflict.user_id == user.id),
            )
            .group_by(ScheduleConflict.item_id)
        ):
            levels[(kind, item_id)] = ranks.get(rank, "none")
    return levels


def _visible(user, kind_column, id_column):
    """SQL: the row's item (kind_column, id_column) is one `user` may see (and, for an
    employee, the row is about them or about the item: _own_only)."""
    if user.role == CLIENT:
        return false()
    if _own_only(user):
        mine = or_(ScheduleConflict.user_id.is_(None), ScheduleConflict.user_id == user.id)
        return and_(mine, _items_visible(user, kind_column, id_column))
    return _items_visible(user, kind_column, id_column)


def _items_visible(user, kind_column, id_column):
    if user.role == ADMIN:
        return None
    if scope_of(user, "task.view") == ASSIGNED and scope_of(user, "calendar.view") == ASSIGNED:
        # the team of the item's project sees it (both matrix rows say so): the row's own
        # project_id, through ix_schedule_conflicts_project_day, instead of two IN lists
        # of every task and event of the user's projects; less admins-only events
        from app.core.statements import inline
        from app.projects.models import ProjectMembership

        members = select(ProjectMembership.project_id).where(ProjectMembership.user_id == inline(user.id))
        hidden = select(CalendarEvent.id).where(CalendarEvent.visibility == inline(ADMIN_ONLY))
        return and_(
            ScheduleConflict.project_id.in_(members),
            or_(kind_column != "event", id_column.not_in(hidden)),
        )
    parts = []
    if scope_of(user, "task.view") == ALL:
        parts.append(kind_column == "task")
    elif scope_of(user, "task.view") != NONE:
        parts.append(and_(kind_column == "task", id_column.in_(_task_ids(user))))
    if scope_of(user, "calendar.view") != NONE:
        parts.append(and_(kind_column == "event", id_column.in_(visible_events(user, stmt=select(CalendarEvent.id)))))
    return or_(*parts) if parts else false()


def _task_ids(user):
    from app.tasks.services import visible_tasks

    return visible_tasks(user, stmt=select(Task.id))


@dataclass(frozen=True)
class Filters:
    project_id: int | None = None
    start: date | None = None
    end: date | None = None
    severity: str | None = None


def severity_order():
    return ScheduleConflict.severity_rank.desc()  # ix_schedule_conflicts_order


def conflict_list(user, filters: Filters = Filters()):  # noqa: B008 - a frozen dataclass
    """A select of the conflict rows `user` may see, most severe first (calendar.view)."""
    from app.core.permissions import require

    require(user, "calendar.view")
    stmt = select(ScheduleConflict)
    where = _visible(user, ScheduleConflict.item_kind, ScheduleConflict.item_id)
    if where is not None:
        stmt = stmt.where(where)
    if filters.project_id is not None:
        stmt = stmt.where(ScheduleConflict.project_id == filters.project_id)
    if filters.start is not None:
        stmt = stmt.where(ScheduleConflict.day >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(ScheduleConflict.day <= filters.end)
    if filters.severity:
        stmt = stmt.where(ScheduleConflict.severity == filters.severity)
    return stmt.order_by(severity_order(), ScheduleConflict.day, ScheduleConflict.id)


# --- what the rows say --------------------------------------------------------------------


def for_items(user, keys) -> dict[Key, list[Reason]]:
    """The reasons of each item of `keys` ((kind, id) pairs) as `user` may read them,
    most severe first. Items `user` cannot see get no reasons."""
    keys = {(k, int(i)) for k, i in keys}
    if not keys or user.role == CLIENT:
        return {}
    rows = []
    connection = read_connection(db.session)
    for kind in ("task", "event"):
        ids = sorted(i for k, i in keys if k == kind)
        if ids:
            rows += connection.execute(select(ScheduleConflict).where(ScheduleConflict.of_items(kind, ids))).all()
    found: dict[Key, list[Reason]] = {}
    for reason in describe(user, rows):
        found.setdefault(reason.item, []).append(reason)
    return found


def describe(user, rows) -> list[Reason]:
    """Reasons (with recommendations) for conflict rows, in the rows' order, for `user`.
    Rows of items `user` cannot see are left out."""
    rows = [_as_mapping(r) if isinstance(r, ScheduleConflict) else dict(r._mapping) for r in rows]
    if not rows or user.role == CLIENT:
        return []
    if _own_only(user):  # an employee reads their own bookings' conflicts, not a co-worker's load
        rows = [r for r in rows if r["user_id"] in (None, user.id)]
    items = {(r["item_kind"], r["item_id"]) for r in rows}
    items |= {(r["other_kind"], r["other_id"]) for r in rows if r["other_kind"]}
    titles, seen = _titles(user, items)
    people = _names({r["user_id"] for r in rows if r["user_id"]})
    free = _free_days(rows)
    holidays = (
        engine.holidays_in(db.session(), read_connection(db.session))
        if any(r["kind"] == "holiday" for r in rows)
        else {}
    )
    out = []
    for r in rows:
        item = (r["item_kind"], r["item_id"])
        if item not in seen or item not in titles:
            continue
        other = None
        if r["other_kind"]:
            okey = (r["other_kind"], r["other_id"])
            if okey in seen and okey in titles:
                other = Party(okey[0], okey[1], titles[okey])
            else:
                other = Party(okey[0], None, "another job" if r["kind"] == "double_booking" else "another task")
        name = people.get(r["user_id"], "Someone")
        title = titles[item]
        message, recommendation = _say(r, title, other, name, free, holidays)
        out.append(
            Reason(
                id=r["id"],
                kind=r["kind"],
                severity=r["severity"],
                message=message,
                recommendation=recommendation,
                item=item,
                item_title=title,
                project_id=r["project_id"],
                other=other,
                user_id=r["user_id"],
                day=r["day"],
            )
        )
    return out


def _as_mapping(obj: ScheduleConflict) -> dict:
    return {c.key: getattr(obj, c.key) for c in ScheduleConflict.__table__.columns}


def _titles(user, keys) -> tuple[dict[Key, str], set[Key]]:
    """The titles of the items, and which of them `user` may see (one statement a kind,
    built once per viewer: a move's answer and its notification each ask)."""
    from app.core.permissions import Viewer

    connection = read_connection(db.session)
    titles: dict[Key, str] = {}
    seen: set[Key] = set()
    viewer = Viewer.of(user)
    for kind in ("task", "event"):
        ids = sorted(i for k, i in keys if k == kind)
        if not ids:
            continue
        for item_id, title, shown in connection.execute(
            _titles_statement(viewer, kind, connection.dialect.name), {"ids": ids}
        ):
            titles[(kind, item_id)] = title
            if shown:
                seen.add((kind, item_id))
    return titles, seen


@lru_cache(maxsize=256)
def _titles_statement(viewer, kind: str, dialect: str):
    """(id, title, may `viewer` see it) of the items `ids` of `kind`: the one visibility
    rule of each (tasks.services.visible_tasks, calendar.visibility.visible_events),
    asked of each row in the same statement."""
    from app.core.statements import one_of

    model = Task if kind == "task" else CalendarEvent
    action = "task.view" if kind == "task" else "calendar.view"
    item = aliased(model, name="item")
    if kind == "task" and (viewer.role == ADMIN or scope_of(viewer, action) == ALL):
        shown = literal(True)
    elif scope_of(viewer, action) == NONE:
        shown = literal(False)
    else:
        visible = _task_ids(viewer) if kind == "task" else visible_events(viewer, stmt=select(CalendarEvent.id))
        shown = exists(visible.where(model.id == item.id))
    return select(item.id, item.title, shown.label("shown")).where(one_of(item.id, "ids", dialect))


def _names(user_ids) -> dict[int, str]:
    if not user_ids:
        return {}
    return {
        i: full or username
        for i, full, username in read_connection(db.session).execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(sorted(user_ids)))
        )
    }


def _free_days(rows) -> dict[tuple[int, date], date | None]:
    """For each (person, day) of a person's conflict: the first working day after it,
    within FREE_DAY_SEARCH days, on which nothing books them."""
    from app.core.timezones import company_zone

    wanted = defaultdict(set)
    for r in rows:
        if r["user_id"] and r["day"] and r["kind"] in ("double_booking", "over_capacity"):
            wanted[r["user_id"]].add(r["day"])
    if not wanted:
        return {}
    connection = read_connection(db.session)
    session = db.session()
    zone = company_zone()
    holidays = engine.holidays_in(session, connection)
    out = {}
    for user_id, days in wanted.items():
        lo, hi = min(days) + timedelta(days=1), max(days) + timedelta(days=FREE_DAY_SEARCH)
        busy = set()
        for booking in engine.bookings_in(session, connection, user_id, lo, hi, zone, holidays):
            day = booking.first
            while day <= booking.last:
                busy.add(day)
                day += timedelta(days=1)
        for start in days:
            out[(user_id, start)] = next(
                (
                    d
                    for d in (start + timedelta(days=n) for n in range(1, FREE_DAY_SEARCH + 1))
                    if d.weekday() < 5 and d not in holidays and d not in busy
                ),
                None,
            )
    return out


def next_working_day(day: date, holidays) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def _say(r, title: str, other: Party | None, name: str, free, holidays) -> tuple[str, str]:
    kind, day, detail = r["kind"], r["day"], r["detail"] or ""
    if kind == "double_booking":
        where = f"‘{other.title}’" if other is not None and other.id is not None else "another job"
        message = f"{name} is also booked on {where} ({short(day)})"
        found = free.get((r["user_id"], day))
        if found is not None:
            return message, f"Move {title} to {short(found)}, when {name} is free"
        return message, f"Reassign {title}: {name} has no free day in the next {FREE_DAY_SEARCH} days"
    if kind == "over_capacity":
        load, _, capacity = detail.partition("/")
        message = f"{name} is booked {load} h on {short(day)} (capacity {capacity} h)"
        found = free.get((r["user_id"], day))
        if found is not None:
            return message, f"Move {title} to {short(found)}, when {name} is free, or give {name} fewer hours"
        return message, f"Give {name} fewer hours on {short(day)} or reassign {title}"
    if kind == "dependency":
        dep = f"‘{other.title}’" if other is not None and other.id is not None else "the task it depends on"
        if detail == "started":
            return f"Started while {dep} is not finished", f"Finish {dep} first, or remove the dependency"
        due = date.fromisoformat(detail)
        return (
            f"Starts before {dep} is finished (due {short(due)})",
            f"Start {title} on {short(due + timedelta(days=1))}, after {dep} is due",
        )
    if kind == "dates":
        if detail == "closed":
            return "Its project is closed", f"Reopen the project, or cancel {title}"
        if detail == "order":
            return "It ends before it starts", f"Fix the dates of {title}"
        end = date.fromisoformat(detail.split(":", 1)[1])
        return (
            f"It runs past the project's end date ({short(end)})",
            f"Move {title} to end by {short(end)}, or extend the project",
        )
    # holiday
    if detail.startswith("holiday:"):
        message = f"Client-visible milestone on {detail.split(':', 1)[1]} ({short(day)})"
    else:
        message = f"Client-visible milestone on a {_WEEKDAYS[day.weekday()]} ({short(day)})"
    return message, f"Move {title} to {short(next_working_day(day, holidays))}"


def rebuild(connection=None) -> int:
    """Every conflict from scratch (engine.rebuild; the seed calls it after its Core inserts)."""
    return engine.rebuild(connection)
