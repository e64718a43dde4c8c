"""Users and API refresh tokens."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.crypto import EncryptedString
from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.roles import ROLE_LABELS, ROLES
from app.core.search import trigram_index
from app.core.text import key_of, name_key, normalise
from app.core.versioning import Versioned
from app.extensions import db


class User(UserMixin, Versioned, TimestampMixin, db.Model):
    __tablename__ = "users"
    __audited__ = True
    # Security changes are recorded (a password or second factor changed, sessions ended)
    # without their values; the last-login stamp is not a modification worth an entry.
    __audit_exclude__ = {"last_login_at"}
    __audit_hidden__ = {"password_hash"}
    # How the audit log speaks of an account (app/core/audit_text.py); None = bookkeeping.
    __audit_noun__ = "user"
    __audit_possessive__ = True
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,  # id, timestamps and the version (core.versioning)
        "session_epoch": None,  # bumped with a password, role or activation change
        "username": "username",
        "username_key": None,  # username and email as compared (app/core/text.py)
        "email": "email",
        "email_key": None,
        "full_name": "full name",
        "role": "role",
        "client_id": "client company",
        "daily_capacity_hours": "daily capacity (hours)",
    }
    __audit_values__ = {"role": ROLE_LABELS}
    __audit_phrases__ = {
        "password_hash": {True: "changed {their} password", False: "removed {their} password"},
        "is_active_flag": {True: "reactivated {name}", False: "deactivated {name}"},
        "must_change_password": {True: "required {name} to choose a new password at the next sign-in"},
        "totp_secret": {
            True: "turned on two-factor sign-in for {name}",
            False: "turned off two-factor sign-in for {name}",
        },
    }
    __audit_created__ = "created the account of {name} ({role})"
    __audit_deleted__ = "deleted the account of {name} ({role})"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    # Unique: username and email normalised and case-folded in Python (core.text), kept
    # in step by the validator below.
    username_key: Mapped[str] = mapped_column(Text, default=key_of("username"))
    email_key: Mapped[str] = mapped_column(Text, default=key_of("email"))
    full_name: Mapped[str] = mapped_column(String(160), default="")
    role: Mapped[str] = mapped_column(String(32), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active_flag: Mapped[bool] = mapped_column("is_active", Boolean, default=True, nullable=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(255))
    # Bumped on password change, role change and deactivation: every session and
    # access token carrying an older epoch stops working at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"), index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Hours a day the schedule may book this person before "over capacity" (app/schedule)
    daily_capacity_hours: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("8"), server_default="8")

    client = relationship("Client", back_populates="users", lazy="joined")

    @validates("username", "email")
    def _login_name(self, key, value):
        value = normalise(value)
        setattr(self, f"{key}_key", name_key(value))
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_active_flag

    @property
    def name(self) -> str:
        return self.full_name or self.username

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def audit_name(self) -> str:
        return self.name

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"

    @staticmethod
    def valid_role(role: str) -> bool:
        return role in ROLES

    @classmethod
    def by_login(cls, login: str) -> User | None:
        key = name_key(login)  # compared as uniqueness compares them (core.text)
        return db.session.scalar(select(cls).where((cls.username_key == key) | (cls.email_key == key)))


Index("uq_users_username_key", User.username_key, unique=True)
Index("uq_users_email_key", User.email_key, unique=True)
# Search (core.search.contains, migration 0006).
trigram_index("ix_users_username_trgm", User.username)
trigram_index("ix_users_email_trgm", User.email)
trigram_index("ix_users_full_name_trgm", User.full_name)


class RefreshToken(db.Model):
    """A refresh token of the JSON API. Single use: refreshing consumes it and issues the
    next of the same family; presenting a consumed one revokes the whole family."""

    __tablename__ = "api_refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
