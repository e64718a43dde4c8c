"""TOTP two-factor sign-in (RFC 6238), required for the roles named in
TWO_FACTOR_REQUIRED_ROLES (production: admin and project managers) and available to all.

The secret is stored encrypted (User.totp_secret is an EncryptedString). A code is
accepted once: the time step it matched is remembered in Redis, so a code seen over a
shoulder cannot be replayed.
"""

from __future__ import annotations

import re
import time

import pyotp
from flask import current_app

from app.core.errors import ValidationError
from app.core.permissions import require
from app.extensions import db, redis_store

ISSUER = "Kibray ERP"
CODE_RE = re.compile(r"^\d{6}$")


def required_for(user) -> bool:
    return user.role in current_app.config["TWO_FACTOR_REQUIRED_ROLES"]


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email or user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no script or style: CSP-safe)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


OK, WRONG, USED = "ok", "wrong", "used"
WRONG_CODE = "That code is not right. Check the time on your phone and try the newest code."
USED_CODE = (
    "That code was already used. Wait for the next code in your authenticator app "
    "(a new one appears every 30 seconds) and type that one."
)


def verify_code(user, code: str, secret: str | None = None) -> str:
    """OK when `code` is valid now for `secret` (default: the user's) and not used
    before — it is then used up; USED when it matched a time step already accepted
    (e.g. the code that just turned two-factor on); WRONG otherwise."""
    secret = secret or user.totp_secret
    code = (code or "").replace(" ", "").strip()
    if not secret or not CODE_RE.match(code):
        return WRONG
    totp = pyotp.TOTP(secret)
    now = int(time.time() // totp.interval)
    for step in (now - 1, now, now + 1):  # one step of clock drift either way
        if totp.generate_otp(step) == code:
            key = redis_store.key("totp-used", user.id, step)
            return OK if redis_store.client.set(key, 1, nx=True, ex=120) else USED
    return WRONG


def enable(user, secret: str, code: str) -> None:
    result = verify_code(user, code, secret)
    if result != OK:
        raise ValidationError({"code": USED_CODE if result == USED else WRONG_CODE})
    user.totp_secret = secret
    db.session.flush()


def disable(user, password: str, code: str) -> None:
    """The user turns it off themselves (not allowed where their role requires it)."""
    from app.auth import throttle
    from app.auth.services import LockedOut, check_current_password

    errors = {}
    if required_for(user):
        errors["code"] = "Your role requires two-factor sign-in; it cannot be turned off."
    elif not check_current_password(user, password, field="password"):
        # Throttled with the account's sign-in failures (the same secret).
        errors["password"] = "Your password is not correct."  # noqa: S105 - a message
    else:
        outcome = []

        def code_ok() -> bool:
            outcome.append(verify_code(user, code))
            return outcome[0] == OK

        try:
            throttle.guarded(f"2fa:{user.id}", throttle.client_ip(), code_ok)
        except throttle.TooManyAttempts as exc:
            raise LockedOut("code", exc) from None
        if outcome[0] != OK:
            errors["code"] = USED_CODE if outcome[0] == USED else "That code is not right."
    if errors:
        raise ValidationError(errors)
    user.totp_secret = None
    db.session.flush()


def reset(actor, user) -> None:
    """An admin clears a user's second factor (lost phone); they enrol again at next sign-in."""
    require(actor, "user.manage")
    from app.auth.services import end_sessions

    user.totp_secret = None
    end_sessions(user)
    db.session.flush()
