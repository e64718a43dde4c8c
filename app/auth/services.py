"""Sign-in, passwords, sessions and invitations: the rules, shared by pages and API.
Creating and administering accounts lives in app/users/services.py."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from app.auth import throttle
from app.auth.models import User
from app.auth.passwords import MAX_PASSWORD_LENGTH, hash_password, policy_problem, verify_password
from app.core.errors import ValidationError
from app.core.events import publish
from app.core.models import utcnow
from app.core.transaction import release_connection
from app.extensions import db

INVALID_LOGIN = "That username and password do not match an active account."
INVITE_MAX_AGE = 7 * 24 * 3600
WRONG_CURRENT_PASSWORD = "Your current password is not correct."  # noqa: S105 - a message


class LockedOut(ValidationError):
    """A secret check refused by the throttle: shown beside `field`, answered 429 with
    Retry-After like sign-in."""

    def __init__(self, field: str, exc: throttle.TooManyAttempts):
        super().__init__({field: exc.message})
        self.retry_after = exc.retry_after


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
    # The check is slow (argon2, in the hashing threads): hold no database connection
    # while it waits and runs, so a burst of sign-ins cannot take the whole pool.
    release_connection()
    try:
        ok = throttle.guarded(
            account,
            ip,
            lambda: (
                verify_password(user.password_hash if user else None, password or "")
                and user is not None
                and user.is_active
            ),
        )
    except throttle.TooManyAttempts as exc:
        _audit_failed_sign_in(login, "denied")
        raise LoginFailed(exc.message, exc.retry_after) from None
    if not ok:
        _audit_failed_sign_in(login, "failed")
        raise LoginFailed()
    # Bookkeeping, not an edit: written past the user's version (core/versioning.py), so
    # signing in neither makes an admin's open form of this user stale nor fails when
    # an admin saved one meanwhile.
    db.session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow()))
    return user


def _audit_failed_sign_in(login: str, result: str) -> None:
    """A refused sign-in in the audit log: the name tried and the address (never the
    password); `failed` for a wrong secret, `denied` while locked out."""
    from app.core.audit import record_attempt

    record_attempt("sign_in", result, username=login or "")


def user_from_session_id(token: str) -> User | None:
    """The user named by a session id ("id:epoch"), if that id is still current."""
    user_id, _, epoch = (token or "").partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = signed_in_user(int(user_id))
    if user is None or not user.is_active or user.session_epoch != int(epoch):
        return None
    return user


def signed_in_user(user_id: int) -> User | None:
    """The user behind a session or an access token (app/auth/signed_in.py: usually this
    worker's current copy, else one statement with their company's id and name)."""
    from app.auth import signed_in

    return signed_in.signed_in_user(user_id)


INVALID_CODE = "That code is not right. Use the newest 6-digit code from your authenticator app."


def check_second_factor(user: User | None, code: str, ip: str) -> None:
    """The sign-in's second step; failures are throttled like passwords."""
    from app.auth import twofactor

    account = f"2fa:{user.id}" if user else "2fa:unknown"
    outcome = []

    def code_ok() -> bool:
        outcome.append(twofactor.verify_code(user, code) if user else twofactor.WRONG)
        return outcome[0] == twofactor.OK

    try:
        throttle.guarded(account, ip, code_ok)
    except throttle.TooManyAttempts as exc:
        _audit_failed_sign_in(user.username if user else "", "denied")
        raise LoginFailed(exc.message, exc.retry_after) from None
    if outcome[0] != twofactor.OK:
        _audit_failed_sign_in(user.username if user else "", "failed")
        raise LoginFailed(twofactor.USED_CODE if outcome[0] == twofactor.USED else INVALID_CODE)


def end_sessions(user: User) -> None:
    """Invalidate every session and access token of `user` and close their live streams."""
    from app.auth.tokens import revoke_user

    user.session_epoch = (user.session_epoch or 0) + 1
    revoke_user(user.id)  # API refresh chains end too (access tokens carry the epoch)
    publish("session-ended", {}, users=[user.id])


def check_current_password(user: User, password: str, field: str = "current_password") -> bool:
    """Whether `password` is `user`'s current one; LockedOut (on `field`) when the account
    or address is locked. Counted with the account's sign-in failures: the same secret,
    the same limit."""
    try:
        ok = throttle.guarded(
            f"user:{user.id}",
            throttle.client_ip(),
            lambda: len(password or "") <= MAX_PASSWORD_LENGTH and verify_password(user.password_hash, password or ""),
        )
    except throttle.TooManyAttempts as exc:
        raise LockedOut(field, exc) from None
    return ok


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    errors = {}
    wrong = not check_current_password(user, current)
    if wrong:
        errors["current_password"] = WRONG_CURRENT_PASSWORD
    problem = policy_problem(new)
    if not problem and not wrong and verify_password(user.password_hash, new):
        problem = "Choose a password different from your current one."  # noqa: S105 - a message
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
    """The user an invitation link is for. Guessing links is throttled like sign-in, per
    client address (a forged token names no account)."""
    ip = throttle.client_ip()
    try:
        data = throttle.guarded(f"token:invite:{ip}", ip, lambda: _load_invite(token))
    except throttle.TooManyAttempts as exc:
        raise LockedOut("token", exc) from None
    if not data:
        raise ValidationError({"token": "This invitation link is not valid."})
    if data == "expired":
        raise ValidationError({"token": "This invitation has expired. Ask an administrator for a new one."})
    user = db.session.get(User, data.get("u"))
    if user is None or not user.is_active or user.session_epoch != data.get("e") or user.password_hash:
        raise ValidationError({"token": "This invitation has already been used or withdrawn."})
    return user


def _load_invite(token: str) -> dict | str | None:
    """The invitation's data; "expired" for a genuine but expired link; None if forged."""
    try:
        return _invite_serializer().loads(token, max_age=INVITE_MAX_AGE)
    except SignatureExpired:
        return "expired"
    except BadSignature:
        return None


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
