"""JSON API tokens: access JWT (1 hour) and single-use, rotated refresh JWT (7 days)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import jwt
from flask import current_app
from sqlalchemy import select, update

from app.auth.models import RefreshToken, User
from app.core.models import utcnow
from app.extensions import db, redis_store

ALGORITHM = "HS256"


class TokenError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _encode(claims: dict) -> str:
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)


def _decode(token: str, kind: str) -> dict:
    try:
        claims = jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise TokenError("The token is not valid.") from None
    if claims.get("typ") != kind:
        raise TokenError(f"A {kind} token is required.")
    return claims


def issue_pair(user: User, family: str | None = None) -> dict:
    """A new access token and a new refresh token (of `family`, or a new family)."""
    cfg = current_app.config
    now = datetime.now(timezone.utc)
    access = _encode(
        {
            "sub": str(user.id),
            "typ": "access",
            "jti": uuid.uuid4().hex,
            "ep": user.session_epoch,
            "iat": now,
            "exp": now + timedelta(seconds=cfg["JWT_ACCESS_SECONDS"]),
        }
    )
    refresh_jti = uuid.uuid4().hex
    expires = now + timedelta(seconds=cfg["JWT_REFRESH_SECONDS"])
    family = family or uuid.uuid4().hex
    refresh = _encode(
        {"sub": str(user.id), "typ": "refresh", "jti": refresh_jti, "fam": family, "iat": now, "exp": expires}
    )
    db.session.add(RefreshToken(jti=refresh_jti, family=family, user_id=user.id, expires_at=expires))
    db.session.flush()
    return {"access_token": access, "refresh_token": refresh, "expires_in": cfg["JWT_ACCESS_SECONDS"]}


def user_from_access(token: str) -> User:
    claims = _decode(token, "access")
    if redis_store.client.exists(redis_store.key("revoked-access", claims["jti"])):
        raise TokenError("The token has been revoked.")
    user = db.session.get(User, int(claims["sub"]))
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
    if consumed is None:
        # Already used or revoked: someone holds a stolen copy. End the whole family.
        db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == claims.get("fam", ""), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        raise TokenError("This refresh token has already been used or revoked.")
    user = db.session.get(User, consumed.user_id)
    if user is None or not user.is_active:
        raise TokenError("The account is not active.")
    return user, issue_pair(user, family=consumed.family)


def revoke(access_claims_jti: str | None, access_exp: int | None, refresh_token: str | None, user: User) -> None:
    """Log out: revoke the refresh token's family and block the access token until it expires."""
    if access_claims_jti and access_exp:
        ttl = max(1, int(access_exp - datetime.now(timezone.utc).timestamp()))
        redis_store.client.set(redis_store.key("revoked-access", access_claims_jti), 1, ex=ttl)
    if refresh_token:
        try:
            claims = _decode(refresh_token, "refresh")
        except TokenError:
            return
        family = db.session.scalar(select(RefreshToken.family).where(RefreshToken.jti == claims["jti"], RefreshToken.user_id == user.id))
        if family:
            db.session.execute(
                update(RefreshToken).where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow())
            )


def access_claims(token: str) -> dict:
    return _decode(token, "access")


def purge_expired() -> int:
    """Delete refresh tokens past their expiry (run by the periodic maintenance job)."""
    from sqlalchemy import delete

    result = db.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < utcnow()))
    return result.rowcount or 0
