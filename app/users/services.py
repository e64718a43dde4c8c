"""User administration: create accounts, change role, activate, reset, edit name and
email — and the queries of the user pages. Shared by the admin pages and the CLI."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.passwords import generate_password, hash_password, policy_problem
from app.auth.services import end_sessions
from app.clients.models import Client
from app.core.errors import ObjectNotFound, ValidationError
from app.core.pagination import paginate_rows
from app.core.permissions import require
from app.core.roles import CLIENT, ROLES
from app.core.search import contains
from app.core.text import declare_limits, name_key, normalise
from app.core.unique import unique_fields
from app.core.validators import is_email
from app.core.versioning import checks_version, expect_version
from app.extensions import db
from app.projects.models import Project

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,80}$")
USERS_PER_PAGE = 50
# The longest text each field takes, enforced here and shown in the form (`maxlength`).
LIMITS = declare_limits("user", {"username": 80, "email": 254, "full_name": 160})
USERNAME_TAKEN = "The username {!r} is already taken."
EMAIL_TAKEN = "Another account already uses this email address."


def _unique_login(username: str):
    """The writes of an account, flushed; the unique indexes on the username's and the
    email's keys have the last word (a concurrent request may have taken them since)."""
    taken = ("username", USERNAME_TAKEN.format(username))
    return unique_fields(
        {
            ("uq_users_username_key", "users.username_key"): taken,
            ("ix_users_username", "users.username"): taken,
            ("uq_users_email_key", "users.email_key"): ("email", EMAIL_TAKEN),
            ("ix_users_email", "users.email"): ("email", EMAIL_TAKEN),
        }
    )


def get_user(user_id: int) -> User:
    """The user with `user_id` — a lookup for callers that checked their own permission
    (a team form names a person); the user pages use `managed_user`."""
    user = db.session.get(User, user_id)
    if user is None:
        raise ObjectNotFound("That user does not exist.")
    return user


def managed_user(actor, user_id: int) -> User:
    """The user an administrator opens on the user pages."""
    require(actor, "user.manage")
    return get_user(user_id)


# What the list shows of a user: rows of these columns, not User objects (no password
# hash, no two-factor secret decrypted per row).
_LIST_COLUMNS = (
    User.id,
    func.coalesce(func.nullif(User.full_name, ""), User.username).label("name"),  # User.name
    User.username,
    User.email,
    User.role,
    User.is_active_flag.label("is_active"),
    Client.name.label("client_name"),
)


def search_users(actor, q: str = "", role: str = "", page: int = 1):
    """One page of users, by name, username or email and by role (admin's user list):
    rows of `_LIST_COLUMNS`."""
    require(actor, "user.manage")
    stmt = (
        select(*_LIST_COLUMNS)
        .outerjoin(Client, Client.id == User.client_id)
        .where(contains((User.username, User.email, User.full_name), q))
        .order_by(User.username)
    )
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    return paginate_rows(stmt, page, USERS_PER_PAGE)


def client_choices(actor) -> list[Client]:
    """The client companies a client user may belong to."""
    from app.projects.queries import client_choices as all_clients

    require(actor, "user.manage")
    return all_clients()


def projects_of(actor, user: User) -> list[Project]:
    """The projects whose team `user` is on (their user page)."""
    require(actor, "user.manage")
    return db.session.scalars(
        select(Project).where(Project.memberships.any(user_id=user.id)).order_by(Project.name)
    ).all()


def validate_user_fields(username: str, email: str, role: str, user_id: int | None = None) -> dict:
    errors = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = "Use 3–80 letters, digits, dots, dashes or underscores."
    elif db.session.scalar(select(User.id).where(User.username_key == name_key(username), User.id != (user_id or 0))):
        errors["username"] = USERNAME_TAKEN.format(username)
    errors.update(_email_problem(email, user_id))
    if role not in ROLES:
        errors["role"] = "Choose one of the seven roles."
    return errors


def _email_problem(email: str, user_id: int | None) -> dict:
    if not is_email(email):
        return {"email": "Enter a valid email address."}
    if len(email) > LIMITS["email"]:
        return {"email": f"An email address has at most {LIMITS['email']} characters."}
    if db.session.scalar(select(User.id).where(User.email_key == name_key(email), User.id != (user_id or 0))):
        return {"email": EMAIL_TAKEN}
    return {}


def _full_name_problem(full_name: str) -> str | None:
    return "Keep the name under 160 characters." if len((full_name or "").strip()) > 160 else None


def create_user(
    actor,
    *,
    username: str,
    email: str,
    role: str,
    password: str | None = None,
    full_name: str = "",
    client_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account. `actor` None means a trusted CLI/system call."""
    if actor is not None:
        require(actor, "user.manage")
    username, email = normalise(username), normalise(email)
    errors = validate_user_fields(username, email, role)
    if _full_name_problem(full_name):
        errors["full_name"] = _full_name_problem(full_name)
    if password is not None:
        problem = policy_problem(password)
        if problem:
            errors["password"] = problem
    if role == CLIENT and not client_id:
        errors["client_id"] = "A client user must belong to a client company."
    if role != CLIENT and client_id:
        errors["client_id"] = "Only client users belong to a client company."
    if errors:
        raise ValidationError(errors)
    password_hash = hash_password(password) if password else None  # before the savepoint: slow
    with _unique_login(username):
        user = User(
            username=username,
            email=email,
            role=role,
            full_name=(full_name or "").strip(),
            password_hash=password_hash,
            client_id=client_id,
            must_change_password=must_change_password,
        )
        db.session.add(user)
    return user


def create_staff_or_client_user(
    actor, *, username: str, email: str, role: str, full_name: str, client_id: int | None, invite: bool
) -> tuple[User, str | None]:
    """An admin creates an account. First sign-in is either an invitation link (no password
    yet) or a one-time password, returned here to be shown once and replaced at sign-in."""
    one_time = None if invite else generate_password()
    user = create_user(
        actor,
        username=username,
        email=email,
        role=role,
        full_name=full_name,
        password=one_time,
        client_id=client_id if role == CLIENT else None,
        must_change_password=one_time is not None,
    )
    return user, one_time


@checks_version("user")
def change_role(actor, user: User, role: str, client_id: int | None = None, version=None) -> None:
    """Change a user's role (a client user belongs to a client company: `client_id`).
    `version`: the one the form showed (a stale one: StaleObject, core/versioning.py)."""
    require(actor, "user.manage")
    expect_version(user, version)
    if role not in ROLES:
        raise ValidationError({"role": "Choose one of the seven roles."})
    if user.id == actor.id:
        raise ValidationError({"role": "You cannot change your own role."})
    if role == CLIENT:
        client_id = client_id or user.client_id
        if not client_id or db.session.get(Client, client_id) is None:
            raise ValidationError({"client_id": "Choose the client company this user belongs to."})
    changed = user.role != role or (role == CLIENT and user.client_id != client_id)
    if changed:
        user.role = role
        user.client_id = client_id if role == CLIENT else None
        end_sessions(user)
    db.session.flush()


def set_active(actor, user: User, active: bool) -> None:
    require(actor, "user.manage")
    if user.id == actor.id and not active:
        raise ValidationError({"is_active": "You cannot deactivate your own account."})
    if user.is_active_flag != active:
        user.is_active_flag = active
        if not active:
            end_sessions(user)
    db.session.flush()


def issue_one_time_password(actor, user: User) -> str:
    """A new password for `user`, shown once to the admin; it opens nothing but the
    change-password page, and every current session of the user ends."""
    require(actor, "user.manage")
    one_time = generate_password()
    user.password_hash = hash_password(one_time)
    user.must_change_password = True
    end_sessions(user)
    db.session.flush()
    return one_time


@checks_version("user")
def update_profile(actor, user: User, *, full_name: str, email: str, version=None) -> None:
    """An admin corrects a user's name or email (audited like every change of a user).
    `version`: the one the form showed (a stale one: StaleObject, core/versioning.py)."""
    require(actor, "user.manage")
    expect_version(user, version)
    full_name, email = (full_name or "").strip(), normalise(email)
    errors = _email_problem(email, user.id)
    if _full_name_problem(full_name):
        errors["full_name"] = _full_name_problem(full_name)
    if errors:
        raise ValidationError(errors)
    with _unique_login(user.username):
        user.full_name, user.email = full_name, email


# --- the people a caller works with (/api/users/, assignee and mention pickers) ----------


def people_list(actor, search: str = "", role: str = ""):
    """A select of the users `actor` may list (team.view): an admin everyone; a PM,
    trainee or superintendent the team members of their projects and the employees
    assigned to those projects' tasks; anyone else is refused (403). Rows of id,
    username, email, full_name, role, is_active."""
    from sqlalchemy import or_

    from app.core.permissions import ALL, scope_of
    from app.core.statements import inline
    from app.projects.models import ProjectMembership
    from app.tasks.models import Task, TaskAssignment

    require(actor, "team.view")
    if role and role not in ROLES:
        raise ValidationError({"role": f"Choose one of: {', '.join(ROLES)}."})
    stmt = select(
        User.id,
        User.username,
        User.email,
        User.full_name,
        User.role,
        User.is_active_flag.label("is_active"),
    )
    if scope_of(actor, "team.view") != ALL:
        mine = select(ProjectMembership.project_id).where(ProjectMembership.user_id == inline(actor.id))
        team = select(ProjectMembership.user_id).where(ProjectMembership.project_id.in_(mine))
        crews = (
            select(TaskAssignment.user_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(Task.project_id.in_(mine))
        )
        stmt = stmt.where(or_(User.id.in_(team), User.id.in_(crews)))
    if search:
        stmt = stmt.where(contains((User.username, User.full_name, User.email), search))
    if role:
        stmt = stmt.where(User.role == role)
    return stmt.order_by(User.full_name, User.username, User.id)


def person_json(row) -> dict:
    return {
        "id": row.id,
        "username": row.username,
        "email": row.email,
        "full_name": row.full_name or "",
        "role": row.role,
        "is_active": bool(row.is_active),
    }
