"""Sign-in, passwords, user accounts: the rules, shared by pages, API and CLI."""

from __future__ import annotations

import re

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.auth import throttle
from app.auth.models import User
from app.auth.passwords import generate_password, hash_password, policy_problem, verify_password
from app.core.errors import ValidationError
from app.core.events import publish
from app.core.models import utcnow
from app.core.permissions import require
from app.core.roles import CLIENT, ROLES
from app.extensions import db

INVALID_LOGIN = "That username and password do not match an active account."
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,80}$")
INVITE_MAX_AGE = 7 * 24 * 3600


class LoginFailed(Exception):
    def __init__(self, message: str = INVALID_LOGIN, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def authenticate(login: str, password: str, ip: str) -> User:
    """The active user with these credentials, or LoginFailed (throttled, no enumeration)."""
    user = User.by_login(login) if login else None
    # One failure counter per account, whether it is named by username or by email
    # (otherwise each spelling would get its own allowance); unknown names count too.
    account = f"user:{user.id}" if user else (login or "")
    try:
        throttle.check(account, ip)
    except throttle.TooManyAttempts as exc:
        raise LoginFailed(exc.message, exc.retry_after) from None
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        throttle.record_failure(account, ip)
        raise LoginFailed()
    throttle.record_success(account, ip)
    user.last_login_at = utcnow()
    return user


def user_from_session_id(token: str) -> User | None:
    """The user named by a session id ("id:epoch"), if that id is still current."""
    user_id, _, epoch = (token or "").partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_epoch != int(epoch):
        return None
    return user


INVALID_CODE = "That code is not right. Use the newest 6-digit code from your authenticator app."


def check_second_factor(user: User | None, code: str, ip: str) -> None:
    """The sign-in's second step; failures are throttled like passwords."""
    from app.auth import twofactor

    account = f"2fa:{user.id}" if user else "2fa:unknown"
    try:
        throttle.check(account, ip)
    except throttle.TooManyAttempts as exc:
        raise LoginFailed(exc.message, exc.retry_after) from None
    result = twofactor.verify_code(user, code) if user else twofactor.WRONG
    if result != twofactor.OK:
        throttle.record_failure(account, ip)
        raise LoginFailed(twofactor.USED_CODE if result == twofactor.USED else INVALID_CODE)
    throttle.record_success(account, ip)


def end_sessions(user: User) -> None:
    """Invalidate every session and access token of `user` and close their live streams."""
    from app.auth.tokens import revoke_user

    user.session_epoch = (user.session_epoch or 0) + 1
    revoke_user(user.id)  # API refresh chains end too (access tokens carry the epoch)
    publish("session-ended", {}, users=[user.id])


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    errors = {}
    if not verify_password(user.password_hash, current or ""):
        errors["current_password"] = "Your current password is not correct."  # noqa: S105 - a message
    problem = policy_problem(new)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = "The two new passwords do not match."  # noqa: S105 - a message
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user)
    db.session.flush()


def validate_user_fields(username: str, email: str, role: str, user_id: int | None = None) -> dict:
    errors = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = "Use 3–80 letters, digits, dots, dashes or underscores."
    elif db.session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower(), User.id != (user_id or 0))
    ):
        errors["username"] = f"The username {username!r} is already taken."
    if not EMAIL_RE.match(email or ""):
        errors["email"] = "Enter a valid email address."
    elif db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower(), User.id != (user_id or 0))):
        errors["email"] = "Another account already uses this email address."
    if role not in ROLES:
        errors["role"] = "Choose one of the seven roles."
    return errors


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
    username, email = (username or "").strip(), (email or "").strip()
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
    user = User(
        username=username,
        email=email,
        role=role,
        full_name=(full_name or "").strip(),
        password_hash=hash_password(password) if password else None,
        client_id=client_id,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
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


def change_role(actor, user: User, role: str, client_id: int | None = None) -> None:
    """Change a user's role (a client user belongs to a client company: `client_id`)."""
    require(actor, "user.manage")
    if role not in ROLES:
        raise ValidationError({"role": "Choose one of the seven roles."})
    if user.id == actor.id:
        raise ValidationError({"role": "You cannot change your own role."})
    if role == CLIENT:
        from app.clients.models import Client

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


def _invite_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kibray-invite")


def invite_token(user: User) -> str:
    """A link token valid 7 days, and only until the user has set a password."""
    return _invite_serializer().dumps({"u": user.id, "e": user.session_epoch})


def user_from_invite(token: str) -> User:
    try:
        data = _invite_serializer().loads(token, max_age=INVITE_MAX_AGE)
    except SignatureExpired:
        raise ValidationError({"token": "This invitation has expired. Ask an administrator for a new one."}) from None
    except BadSignature:
        raise ValidationError({"token": "This invitation link is not valid."}) from None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.is_active or user.session_epoch != data.get("e") or user.password_hash:
        raise ValidationError({"token": "This invitation has already been used or withdrawn."})
    return user


def accept_invite(token: str, password: str, confirm: str) -> User:
    user = user_from_invite(token)
    problem = policy_problem(password)
    if problem:
        raise ValidationError({"password": problem})
    if password != confirm:
        raise ValidationError({"confirm_password": "The two passwords do not match."})
    user.password_hash = hash_password(password)
    end_sessions(user)  # the link stops working once used
    db.session.flush()
    return user
