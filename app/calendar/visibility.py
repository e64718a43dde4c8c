"""Who sees which calendar event: the one rule behind the calendar's pages, fragments,
the API, live events and (next issue) the feeds.

The matrix (calendar.view: admin ✓, PM/trainee/superintendent A, designer —,
employee O, client O) gives the rows by project and owner (core.permissions.scope_query
with CalendarEvent's Scope); the visibility levels narrow it:
- admin_only: admins only, whatever the project;
- internal, project_team: staff who see the project (or, for an employee, the events
  they are on) — the team of a project is who the A scope lets in;
- client_visible: also the project's client (the generated is_client_visible column
  the Scope names), who never sees assignees or internal notes (serializers' concern).
An event without a project is the company's: admins, and the people on it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import defaultload

from app.calendar.models import ADMIN_ONLY, CalendarEvent
from app.core.errors import ObjectNotFound
from app.core.numbers import to_int
from app.core.permissions import can, require, scope_query
from app.core.roles import ADMIN
from app.core.statements import inline
from app.extensions import db
from app.projects.models import Project


def visible_events(user, action: str = "calendar.view", stmt=None):
    """A select of the events `user` may see (for `action`)."""
    stmt = scope_query(stmt if stmt is not None else select(CalendarEvent), user, action, CalendarEvent)
    if user.role != ADMIN:
        stmt = stmt.where(CalendarEvent.visibility != inline(ADMIN_ONLY))
    return stmt


def can_see(user, event: CalendarEvent, action: str = "calendar.view") -> bool:
    if event.visibility == ADMIN_ONLY and user.role != ADMIN:
        return False
    return can(user, action, event)


# the event's project without its team (Project.memberships is selectin, each member's
# user and company joined): no check of an event reads the team; a caller that does
# loads it then
_NO_TEAM = (defaultload(CalendarEvent.project).lazyload(Project.memberships),)


def get_event(user, event_id, action: str = "calendar.view") -> CalendarEvent:
    """The event if `user` may see it (404 otherwise, its existence not told) and may do
    `action` on it (403)."""
    require(user, "calendar.view")
    event_id = to_int(event_id)
    event = db.session.get(CalendarEvent, event_id, options=_NO_TEAM) if event_id is not None else None
    if event is None or not can_see(user, event):
        raise ObjectNotFound("That event does not exist or you cannot see it.")
    if action != "calendar.view":
        require(user, action, event)
    return event
