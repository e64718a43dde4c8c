"""Project rules (SPEC.md §3 "Projects and clients"), shared by pages and the API."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.clients.models import Client
from app.core.dates import parse_date
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import publish_project
from app.core.money import to_money
from app.core.numbers import to_int
from app.core.permissions import can, require
from app.core.roles import MEMBER_ROLES, PM_ROLES, ROLE_LABELS
from app.core.text import LONG_TEXT, check_lengths, declare_limits, name_key, normalise
from app.core.unique import unique_fields
from app.core.versioning import bump, checks_version, expect_version
from app.extensions import db
from app.notifications.services import notify
from app.projects.models import ACTIVE, CLOSED, CREATED, Project, ProjectMembership
from app.projects.queries import (  # noqa: F401 - the reads, re-exported for callers of services
    ProjectFilters,
    archived_matches,
    managed_by,
    project_list,
    project_page,
    visible_projects,
)

EDITABLE = (
    "name",
    "client_id",
    "description",
    "address",
    "city",
    "state",
    "zip",
    "budget",
    "start_date",
    "end_date",
    "notes",
    "internal_notes",
)


# A project's page and its API answer show the team: read it in the same statement as
# the project (one round trip instead of two), without the team members' companies.
_WITH_TEAM = (joinedload(Project.memberships).joinedload(ProjectMembership.user).lazyload(User.client),)


def get_project(user, project_id: int, action: str = "project.view") -> Project:
    """The project, if it exists and `user` may do `action` on it (404 if they may not even see it)."""
    project = db.session.get(Project, project_id, options=_WITH_TEAM)
    if project is None or not can(user, "project.view", project):
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    require(user, action, project)
    return project


# The longest text each field takes (the form shows them as `maxlength`).
LIMITS = declare_limits(
    "project",
    {
        "name": 200,
        "address": 300,
        "city": 120,
        "state": 60,
        "zip": 20,
        "description": LONG_TEXT,
        "notes": LONG_TEXT,
        "internal_notes": LONG_TEXT,
    },
)


def normalise_name(value) -> str:
    """A project name as stored (core.text.normalise: NFKC, no invisible characters,
    single spaces, trimmed)."""
    return normalise(value)


def _name_taken(client: Client, name: str) -> str:
    return f"{client.name} already has a project named {name!r}. Project names must be unique for each client."


def _unique_name(values: dict):
    """The writes of a project, flushed; the database's unique index has the last word on
    the name (a concurrent request may have taken it since the check)."""

    def message():
        return "name", _name_taken(db.session.get(Client, values["client_id"]), values["name"])

    return unique_fields(
        {
            ("uq_projects_client_id_name_key", "projects.name_key"): message,
            ("uq_projects_client_id_lower_name", "projects.client_id"): message,
        }
    )


def _parse_date(value, field: str, errors: dict) -> date | None:
    return parse_date(value, field, errors)


def _clean(data: dict, project: Project | None) -> tuple[dict, dict]:
    """Validated values from raw input (form or JSON) — every problem at once."""
    errors: dict[str, str] = {}
    values: dict = {}
    name = normalise_name(data.get("name"))
    raw_client = data.get("client_id")
    client_id = to_int(raw_client)
    client = db.session.get(Client, client_id) if client_id is not None else None
    if client is None:
        errors["client_id"] = (
            "Choose an existing client." if raw_client in (None, "") else "That client does not exist."
        )
    if not name:
        errors["name"] = "Give the project a name."
    elif len(name) > LIMITS["name"]:
        errors["name"] = "Keep the name under 200 characters."
    elif client is not None:
        clash = db.session.scalar(
            select(Project.id).where(
                Project.client_id == client.id,
                Project.name_key == name_key(name),
                Project.id != (project.id if project else 0),
            )
        )
        if clash:
            errors["name"] = _name_taken(client, name)
    values["name"] = name
    values["client_id"] = client_id
    address = str(data.get("address") or "").strip()
    if not address:
        errors["address"] = "The site address is required."
    values["address"] = address
    for key in ("city", "state", "zip", "description", "notes", "internal_notes"):
        values[key] = str(data.get(key) or "").strip()
    check_lengths(values, LIMITS, errors)
    budget = data.get("budget")
    if budget in (None, ""):
        values["budget"] = None
    else:
        try:
            values["budget"] = to_money(budget)
            if values["budget"] < 0:
                errors["budget"] = "The budget cannot be negative."
            elif values["budget"] >= 10**10:
                errors["budget"] = "That budget is too large."
        except ValueError as exc:
            errors["budget"] = str(exc)
    values["start_date"] = _parse_date(data.get("start_date"), "start_date", errors)
    values["end_date"] = _parse_date(data.get("end_date"), "end_date", errors)
    if values["start_date"] and values["end_date"] and values["end_date"] < values["start_date"]:
        errors["end_date"] = "The end date cannot be before the start date."
    return values, errors


def _pm_ids(raw) -> list[int] | None:
    if raw is None:
        return None
    if isinstance(raw, (str, int)):
        raw = [raw]
    ids = []
    for item in raw:
        if item in ("", None):
            continue
        user_id = to_int(item)
        if user_id is None:
            raise ValueError(f"not a user id: {item!r}")
        ids.append(user_id)
    return ids


def _validate_members(user_ids: list[int], allowed_roles, field: str) -> tuple[list[User], dict]:
    users = db.session.scalars(select(User).where(User.id.in_(user_ids))).all() if user_ids else []
    found = {u.id for u in users}
    bad = [str(i) for i in user_ids if i not in found]
    bad += [u.username for u in users if u.role not in allowed_roles or not u.is_active]
    if bad:
        labels = ", ".join(ROLE_LABELS[r] for r in allowed_roles)
        return users, {
            field: f"Only active users with these roles can be assigned here: {labels}. Not allowed: {', '.join(bad)}."
        }
    return users, {}


def may_choose_pms(actor, project: Project | None) -> bool:
    """May `actor` choose who manages `project` (None: the one they are creating)? Whoever
    creates a project names its PMs; changing them later is team management, which is
    an administrator's (SPEC.md §2, users row). The form shows the field by this."""
    return project is None or can(actor, "user.manage")


def create_project(actor, data: dict, pm_ids=None) -> Project:
    require(actor, "project.create")
    values, errors = _clean(data, None)
    try:
        pm_list = _pm_ids(pm_ids) or []
    except (TypeError, ValueError):
        pm_list, errors["assigned_pm_ids"] = [], "Send a list of user ids."
    pms, member_errors = _validate_members(pm_list, PM_ROLES, "assigned_pm_ids")
    errors.update(member_errors)
    # A project may start from a template (its tasks laid out from the start date).
    from app.project_templates.services import for_new_project, lay_out

    template = for_new_project(actor, data.get("template_id"), values.get("start_date"), errors)
    if not can(actor, "budget.modify"):
        # Setting the budget is modifying it: a PM trainee's project starts without one
        # and a full PM or admin sets it (SPEC.md §1).
        if values.get("budget") is not None:
            raise ValidationError({"budget": "Your role cannot set the budget; a project manager will."})
        values.pop("budget", None)
    if errors:
        raise ValidationError(errors)
    with _unique_name(values):
        project = Project(status=CREATED, **values)
        db.session.add(project)
    # A PM or trainee who creates a project is on its team, or they could not see it.
    team = {u.id: u for u in pms}
    if actor.role in MEMBER_ROLES:
        team.setdefault(actor.id, actor)
    for member in team.values():
        _add_member(actor, project, member)
    publish_project("project-created", project)
    if template is not None:
        lay_out(actor, project, template)
    return project


@checks_version("project")
def update_project(
    actor, project: Project, data: dict, pm_ids=None, partial: bool = False, fields: tuple = EDITABLE, version=None
) -> Project:
    """Edit a project. `partial` (PATCH) changes only the fields sent; otherwise (a form,
    PUT) the sent body replaces every field in `fields`, omitted optional ones emptied.
    `version` is the one the edit started from (a stale one: StaleObject, 409)."""
    require(actor, "project.edit", project)
    _ensure_open(project)
    expect_version(project, version)
    may_budget = can(actor, "budget.modify", project)
    incoming = {k: v for k, v in data.items() if k in EDITABLE}
    if not may_budget:
        if "budget" in incoming and _budget_changed(project.budget, incoming["budget"]):
            raise ValidationError({"budget": "Your role cannot change the budget."})
        incoming.pop("budget", None)
    merged = {key: getattr(project, key) for key in EDITABLE}
    if not partial:
        merged.update({key: None for key in fields if key != "budget" or may_budget})
    merged.update(incoming)
    values, errors = _clean(merged, project)
    if errors:
        raise ValidationError(errors)
    changed = set(incoming) if partial else set(incoming) | set(fields)
    with _unique_name(values):
        for key, value in values.items():
            if key in changed and (key != "budget" or may_budget):
                setattr(project, key, value)
    if "client_id" in changed:
        db.session.expire(project, ["client"])  # reload the new client on next access
    if pm_ids is not None:
        try:
            wanted = set(_pm_ids(pm_ids) or [])
        except (TypeError, ValueError):
            raise ValidationError({"assigned_pm_ids": "Send a list of user ids."}) from None
        current = {m.user_id: m for m in project.memberships if m.user.role in PM_ROLES}
        if wanted != set(current) and not may_choose_pms(actor, project):
            raise ValidationError({"assigned_pm_ids": "Only an administrator can change who manages a project."})
        pms, member_errors = _validate_members(sorted(wanted), PM_ROLES, "assigned_pm_ids")
        if member_errors:
            raise ValidationError(member_errors)
        if wanted != set(current):
            bump(project)  # the PMs are part of what the form shows and sends back
        for user_id, membership in current.items():
            if user_id not in wanted:
                remove_member(actor, project, membership.user, _checked=True)
        for pm in pms:
            if pm.id not in current:
                _add_member(actor, project, pm)
    db.session.flush()
    publish_project("project-updated", project)
    return project


def _budget_changed(current, incoming) -> bool:
    if incoming in (None, ""):
        return current is not None
    try:
        return current is None or to_money(incoming) != current
    except ValueError:
        return True


def _ensure_open(project: Project) -> None:
    if project.status == CLOSED:
        raise ConflictError("This project is closed and read-only.")


@checks_version("project")
def close_project(actor, project: Project, version=None) -> Project:
    require(actor, "project.close", project)
    _ensure_open(project)
    expect_version(project, version)
    project.status = CLOSED
    db.session.flush()
    publish_project("project-updated", project)
    return project


@checks_version("project")
def reopen_project(actor, project: Project, reason, version=None) -> Project:
    """Open a closed project again (admin, or a full PM of it), for a stated reason. The
    reason is recorded in the audit entry of the change."""
    require(actor, "project.reopen", project)
    if project.status != CLOSED:
        raise ConflictError("This project is not closed.")
    expect_version(project, version)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why the project is reopened."})
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    # A project reopens as it was before its first schedule item if nobody manages it.
    project.status = ACTIVE if project.pms else CREATED
    from app.core.audit import note_reason

    note_reason(project, reason)
    db.session.flush()
    publish_project("project-updated", project)
    return project


@checks_version("project")
def delete_project(actor, project: Project, version=None) -> None:
    require(actor, "project.delete", project)
    expect_version(project, version)
    from app.invoices.services import drop_drafts_of, issued_count

    if issued_count(project.id):
        raise ConflictError(
            "This project has issued invoices, which are kept for the accounts: close the project instead."
        )
    from app.progress_billing.services import before_project_deleted

    before_project_deleted(project)  # certified pay applications are kept too (409); a draft goes
    from app.expenses.services import refuse_deleting_project_with_expenses

    refuse_deleting_project_with_expenses(project)  # money spent is kept for the accounts (409)
    drop_drafts_of(project.id)
    audience = set()
    from app.core.events import project_audience

    audience.update(project_audience(project))
    project_id = project.id
    db.session.delete(project)
    db.session.flush()
    from app.core.events import publish
    from app.core.roles import ADMIN

    publish("project-deleted", {"id": project_id}, users=audience, roles=[ADMIN])


def closing_checklist(project: Project) -> list[dict]:
    """What closing leaves behind, for the confirmation page: each line a count, a
    label and the link to review them (open tasks now; unpaid invoices with the money)."""
    from app.tasks.queries import open_tasks_of

    open_tasks = open_tasks_of(project.id)
    return [
        {
            "label": "Open tasks (to do, in progress or blocked)",
            "count": len(open_tasks),
            "items": [t.title for t in open_tasks[:10]],
            "endpoint": "tasks.project_tasks",
        }
    ]


def schedule_started(project: Project) -> None:
    """Called by the schedule modules when an event or task is created: a project
    becomes active by itself at its first schedule item, if a PM is assigned."""
    if project.status == CREATED and project.pms:
        project.status = ACTIVE
        publish_project("project-updated", project)


def _add_member(actor, project: Project, user: User) -> ProjectMembership:
    membership = ProjectMembership(project=project, user=user)
    db.session.add(membership)
    db.session.flush()
    notify(
        user,
        "project_assigned",
        f"You were added to project {project.name} ({project.client.name})",
        "projects.detail",
        {"project_id": project.id},
        project_id=project.id,
        actor=actor,
    )
    return membership


def add_member(actor, project: Project, user: User) -> ProjectMembership:
    """Put a PM, trainee, designer or superintendent on the project team (admin)."""
    require(actor, "user.manage")
    _ensure_open(project)
    _, errors = _validate_members([user.id], MEMBER_ROLES, "user_id")
    if errors:
        raise ValidationError(errors)
    if user.id in project.member_ids:
        raise ValidationError({"user_id": f"{user.name} is already on this project."})
    if user.role in PM_ROLES:
        bump(project)  # its edit form shows the PMs: one opened before is stale now
    membership = _add_member(actor, project, user)
    publish_project("project-updated", project)
    return membership


def remove_member(actor, project: Project, user: User, _checked: bool = False) -> None:
    if not _checked:
        require(actor, "user.manage")
        _ensure_open(project)
    membership = next((m for m in project.memberships if m.user_id == user.id), None)
    if membership is None:
        raise ObjectNotFound(f"{user.name} is not on this project.")
    if not _checked and user.role in PM_ROLES:
        bump(project)  # its edit form shows the PMs: one opened before is stale now
    project.memberships.remove(membership)
    db.session.flush()
    from app.core.events import publish

    publish("project-deleted", {"id": project.id}, users=[user.id])  # it leaves their list
    if not _checked:
        publish_project("project-updated", project)
