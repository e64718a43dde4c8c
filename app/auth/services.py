"""Sign-in, passwords, sessions and invitations: the rules, shared by pages and API.
Creating and administering accounts lives in app/users/services.py."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from app.auth import throttle
from app.auth.models import User
from app.auth.passwords import hash_password, policy_problem, verify_password
from app.core.errors import ValidationError
from app.core.events import publish
from app.core.models import utcnow
from app.extensions import db

INVALID_LOGIN = "That username and password do not match an active account."
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
    # Bookkeeping, not an edit: written past the user's version (core/versioning.py), so
    # signing in neither makes an admin's open form of this user stale nor fails when
    # an admin saved one meanwhile.
    db.session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow()))
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
