"""Reads of the admin pages that are not user administration: the audit viewer and
project teams. (User administration lives with the users feature.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from math import ceil

from sqlalchemy import func, select

from app.auth.models import User
from app.core.audit import AuditLog
from app.core.cached_reads import count_of, rows_of
from app.core.errors import ValidationError
from app.core.numbers import to_int
from app.core.pagination import Page
from app.core.permissions import Viewer, require, scope_query
from app.core.roles import MEMBER_ROLES
from app.core.search import contains
from app.core.statements import page_statement
from app.core.timezones import company_zone
from app.core.transaction import read_connection
from app.extensions import db

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""
    action: str = ""
    object_type: str = ""
    project_id: int | None = None
    result: str = ""
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        """From the viewer's query string; values that do not parse are no filter."""
        return cls(
            user=(args.get("user") or "").strip(),
            action=args.get("action") or "",
            object_type=args.get("object_type") or "",
            project_id=to_int(args.get("project")),
            result=args.get("result") or "",
            start=_day(args.get("from") or ""),
            end=_day(args.get("to") or "", end=True),
        )


def _day(value: str, end: bool = False) -> datetime | None:
    """The start of that day in the company's time zone (the zone entries are shown in),
    in UTC; with `end`, the start of the next day (an exclusive bound)."""
    try:
        day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
        return datetime.combine(day, time.min, tzinfo=company_zone()).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or no day before/after it
        return None


def audit_entries(viewer, filters: AuditFilters):
    """select() of the audit entries `viewer` may read (admin: all; a PM: their
    projects'), newest first: plain rows of the log's columns (`row.action`, …), read-only,
    without building an ORM object per entry. Built once per viewer and filters, then
    remembered (a statement reused costs no building, compiling or hashing)."""
    require(viewer, "audit.view")
    return _audit_entries(Viewer.of(viewer), filters)


@lru_cache(maxsize=64)
def _audit_entries(viewer, filters: AuditFilters):
    stmt = scope_query(select(AuditLog.__table__), viewer, "audit.view", AuditLog)
    if filters.user:
        stmt = stmt.where(contains([AuditLog.username], filters.user))
    if filters.action:
        stmt = stmt.where(AuditLog.action == filters.action)
    if filters.object_type:
        stmt = stmt.where(AuditLog.object_type == filters.object_type)
    if filters.project_id is not None:
        stmt = stmt.where(AuditLog.project_id == filters.project_id)
    if filters.result:
        stmt = stmt.where(AuditLog.result == filters.result)
    if filters.start:
        stmt = stmt.where(AuditLog.created_at >= filters.start)
    if filters.end:
        stmt = stmt.where(AuditLog.created_at < filters.end)
    return stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())


def audit_page(viewer, filters: AuditFilters, page: int) -> Page:
    """One page of audit_entries (past the end: the last page). A page that is not full
    is the last one, so its total is known without counting the log; only a full page (or
    one past the end) counts the matching entries (core.cached_reads: until the log is
    written)."""
    stmt = audit_entries(viewer, filters)
    page, per_page = max(page, 1), AUDIT_PAGE_SIZE

    def rows(number: int) -> list:
        read = page_statement(stmt, per_page, (number - 1) * per_page)
        return read_connection(db.session).execute(read).all()

    items = rows(page)
    if 0 < len(items) < per_page or (page == 1 and not items):
        return Page(items, page, per_page, (page - 1) * per_page + len(items))
    total = count_of(stmt, db.session)
    last = ceil(total / per_page)
    if total and page > last:
        page, items = last, rows(last)
    return Page(items, page, per_page, total)


def audit_object_types() -> list[str]:
    """The kinds of object the log holds (the viewer's filter choices); cached until the
    log is written (core.cached_reads)."""
    return [kind for (kind,) in rows_of(_object_types_query(), db.session)]


@cache
def _object_types_query():
    """A loose index scan of `ix_audit_log_object`: the smallest kind, then the smallest
    after it, … — one probe per kind instead of a read of the whole log (DISTINCT). Built
    once: it has no parameters."""
    kinds = select(func.min(AuditLog.object_type).label("kind")).cte("kinds", recursive=True)
    kinds = kinds.union_all(
        select(
            select(func.min(AuditLog.object_type)).where(AuditLog.object_type > kinds.c.kind).scalar_subquery()
        ).where(kinds.c.kind.is_not(None))
    )
    return select(kinds.c.kind).where(kinds.c.kind.is_not(None)).order_by(kinds.c.kind)


def team_user(user_id) -> User:
    """The person a team form names."""
    from app.users.services import get_user

    user_id = to_int(user_id)
    if user_id is None:
        raise ValidationError({"user_id": "Choose a person to add."})
    return get_user(user_id)


def team_candidates(project) -> list[User]:
    """Active people with a team role who are not on `project` yet."""
    return db.session.scalars(
        select(User)
        .where(User.role.in_(MEMBER_ROLES), User.is_active_flag.is_(True), User.id.not_in(project.member_ids or {0}))
        .order_by(User.full_name, User.username)
    ).all()
