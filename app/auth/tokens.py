"""JSON API tokens: access JWT (1 hour) and single-use, rotated refresh JWT (7 days)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth import hs256
from app.auth.models import RefreshToken, User
from app.core.models import utcnow
from app.core.transaction import keep_on_error
from app.extensions import db, redis_store

REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "typ")


class TokenError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _encode(claims: dict) -> str:
    return hs256.encode(claims, current_app.config["SECRET_KEY"])


def _decode(token: str, kind: str) -> dict:
    try:
        claims = hs256.decode(token, current_app.config["SECRET_KEY"], require=REQUIRED_CLAIMS)
    except hs256.ExpiredToken:
        raise TokenError("The token has expired.") from None
    except hs256.InvalidToken:
        raise TokenError("The token is not valid.") from None
    if claims.get("typ") != kind:
        raise TokenError(f"A {kind} token is required.")
    return claims


def issue_pair(user: User, family: str | None = None) -> dict:
    """A new access token and a new refresh token (of `family`, or a new family).

    Both carry the user's session epoch (`ep`), so a password change, role change or
    deactivation ends them, and the family (`fam`), so logging out with the access
    token alone still ends the refresh chain."""
    cfg = current_app.config
    now = datetime.now(UTC)
    family = family or uuid.uuid4().hex
    access = _encode(
        {
            "sub": str(user.id),
            "typ": "access",
            "jti": uuid.uuid4().hex,
            "ep": user.session_epoch,
            "fam": family,
            "iat": now,
            "exp": now + timedelta(seconds=cfg["JWT_ACCESS_SECONDS"]),
        }
    )
    refresh_jti = uuid.uuid4().hex
    expires = now + timedelta(seconds=cfg["JWT_REFRESH_SECONDS"])
    refresh = _encode(
        {
            "sub": str(user.id),
            "typ": "refresh",
            "jti": refresh_jti,
            "fam": family,
            "ep": user.session_epoch,
            "iat": now,
            "exp": expires,
        }
    )
    db.session.add(RefreshToken(jti=refresh_jti, family=family, user_id=user.id, expires_at=expires))
    db.session.flush()
    return {"access_token": access, "refresh_token": refresh, "expires_in": cfg["JWT_ACCESS_SECONDS"]}


def _family_key(family: str) -> str:
    return redis_store.key("revoked-family", family)


def end_family_access(family: str | None) -> None:
    """Stop every access token of `family` at once: a marker the access check reads,
    kept as long as the longest access token of the family can live."""
    if family:
        redis_store.client.set(_family_key(family), 1, ex=max(1, int(current_app.config["JWT_ACCESS_SECONDS"])))


def decode_access(token: str) -> dict:
    """The claims of an access token whose signature and expiry hold (TokenError if not)."""
    claims = _decode(token, "access")
    if not claims.get("fam"):  # a token without a family claim is refused
        raise TokenError("The token has been revoked.")
    return claims


def queue_revocation_check(pipe, claims: dict) -> None:
    """Add to a Redis pipeline: is this token's jti blocked, or its whole family ended
    (logout with a sibling token, refresh-token reuse)? Read its answer with user_for."""
    pipe.exists(redis_store.key("revoked-access", claims["jti"]), _family_key(claims["fam"]))


def user_for(claims: dict, revoked: int) -> User:
    """The user a decoded access token signs in, given queue_revocation_check's answer."""
    if revoked:
        raise TokenError("The token has been revoked.")
    from app.auth.services import signed_in_user

    user = signed_in_user(int(claims["sub"]))
    if user is None or not user.is_active or user.session_epoch != claims.get("ep"):
        raise TokenError("The token is no longer valid. Sign in again.")
    return user


def rotate(refresh_token: str) -> tuple[User, dict]:
    """Consume a refresh token and issue the next pair. Reuse revokes the family."""
    claims = _decode(refresh_token, "refresh")
    now = utcnow()
    consumed = db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.jti == claims["jti"],
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .returning(RefreshToken.user_id, RefreshToken.family)
    ).first()
    # Whatever happens below must persist even when the request answers 401: the token
    # is consumed, or its family revoked.
    keep_on_error()
    if consumed is None:
        # Already used or revoked: someone holds a stolen copy. End the whole family,
        # its access tokens too (the one minted by the thief's rotation among them).
        end_family_access(claims.get("fam"))
        db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == claims.get("fam", ""), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        raise TokenError("This refresh token has already been used or revoked.")
    user = db.session.get(User, consumed.user_id)
    if user is None or not user.is_active or user.session_epoch != claims.get("ep"):
        revoke_family(consumed.family)
        raise TokenError("The token is no longer valid. Sign in again.")
    return user, issue_pair(user, family=consumed.family)


def revoke_family(family: str) -> None:
    end_family_access(family)
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_user(user_id: int) -> None:
    """End every refresh chain of a user (password change, role change, deactivation)."""
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke(claims: dict, refresh_token: str | None, user: User) -> None:
    """Log out: block the access token until it expires and revoke its refresh family
    (and that of `refresh_token`, when one is sent)."""
    jti, exp = claims.get("jti"), claims.get("exp")
    if jti and exp:
        ttl = max(1, int(exp - datetime.now(UTC).timestamp()))
        redis_store.client.set(redis_store.key("revoked-access", jti), 1, ex=ttl)
    families = {claims["fam"]} if claims.get("fam") else set()
    if refresh_token:
        try:
            refresh = _decode(refresh_token, "refresh")
        except TokenError:
            refresh = None
        if refresh:
            family = db.session.scalar(
                select(RefreshToken.family).where(RefreshToken.jti == refresh["jti"], RefreshToken.user_id == user.id)
            )
            if family:
                families.add(family)
    for family in families:
        end_family_access(family)
        db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def access_claims(token: str) -> dict:
    return _decode(token, "access")


def purge_expired() -> int:
    """Delete refresh tokens past their expiry (run by the periodic maintenance job)."""
    from sqlalchemy import delete

    result = db.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < utcnow()))
    return result.rowcount or 0
