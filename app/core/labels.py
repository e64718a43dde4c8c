"""The words the product shows for codes, in one place: pages, flashes and templates
all read them from here, so the same thing has one label everywhere.

Roles have two audiences. Staff see the precise role ("PM trainee"); a client sees the
person's function towards them ("Project manager"): a trainee is the client's project
manager as far as the client is concerned, and the internal grade is not their business.
"""

from __future__ import annotations

from app.core import roles

PROJECT_STATUS_LABELS = {
    "created": "Not started",
    "active": "Active",
    "closed": "Archived",
}
# The statuses in a project's order of life, with their labels (home counters, filters).
PROJECT_STATUSES = tuple(PROJECT_STATUS_LABELS.items())
# The list filter's choices: "" is the default view (everything still open).
PROJECT_STATUS_FILTERS = (
    ("", "Open (not started + active)"),
    *PROJECT_STATUSES,
    ("all", "All"),
)

STAFF_ROLE_LABELS = dict(roles.ROLE_LABELS)
CLIENT_ROLE_LABELS = {**STAFF_ROLE_LABELS, roles.PM_TRAINEE: STAFF_ROLE_LABELS[roles.PROJECT_MANAGER]}

USER_STATUS_LABELS = {True: "Active", False: "Deactivated"}


def project_status_label(status: str | None) -> str:
    return PROJECT_STATUS_LABELS.get(status or "", status or "—")


def role_label(role: str | None, viewer=None) -> str:
    """The label of `role` as `viewer` should read it (client-facing for client users)."""
    table = CLIENT_ROLE_LABELS if getattr(viewer, "role", None) == roles.CLIENT else STAFF_ROLE_LABELS
    return table.get(role or "", role or "—")


def user_status_label(is_active: bool) -> str:
    return USER_STATUS_LABELS[bool(is_active)]
