"""Client companies, their contacts (roles, one primary), the communication log with
follow-ups, and the invitations that make a person a client user."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.crypto import EncryptedString
from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.search import trigram_index
from app.core.text import key_of, name_key, normalise
from app.core.versioning import Versioned
from app.extensions import db

# Payment terms, stored as a code (the form and the API take the code).
PAYMENT_TERMS = {
    "due_on_receipt": "Due on receipt",
    "net_15": "Net 15",
    "net_30": "Net 30",
    "net_45": "Net 45",
    "net_60": "Net 60",
}
DEFAULT_TERMS = "net_30"
# What a contact is for; several per contact, stored as comma-separated codes.
CONTACT_ROLES = {
    "billing": "Billing",
    "site_access": "Site access",
    "decision_maker": "Decision maker",
    "accounts_payable": "Accounts payable",
    "other": "Other",
}
# The kinds of a communication log entry.
ENTRY_KINDS = {"call": "Call", "email": "Email", "meeting": "Meeting", "site_visit": "Site visit"}


class Client(Versioned, TimestampMixin, db.Model):
    __tablename__ = "clients"
    __audited__ = True
    # How the audit log speaks of a client (app/core/audit_text.py); None = bookkeeping.
    __audit_noun__ = "client"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,  # id, timestamps and the version (core.versioning)
        "name": "name",
        "name_key": None,  # the name as compared (app/core/text.py)
        "email": "email",
        "phone": "phone",
        "billing_address": "billing address",
        "billing_city": "billing city",
        "billing_state": "billing state",
        "billing_zip": "billing ZIP code",
        "tax_id": "tax id",
        "payment_terms": "payment terms",
        "notes": "notes",
    }
    __audit_values__ = {"payment_terms": PAYMENT_TERMS}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    # Unique: the name normalised and case-folded in Python (core.text.name_key), kept
    # in step with `name` by the validator below.
    name_key: Mapped[str] = mapped_column(Text, default=key_of("name"))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    billing_address: Mapped[str] = mapped_column(String(300), default="")
    billing_city: Mapped[str] = mapped_column(String(120), default="")
    billing_state: Mapped[str] = mapped_column(String(60), default="")
    billing_zip: Mapped[str] = mapped_column(String(20), default="")
    # Deferred: decrypting it for every client a project list joins costs CPU for a value
    # only the client's own page reads (services.get_client loads it with the client).
    tax_id: Mapped[str | None] = mapped_column(EncryptedString(255), deferred=True)
    payment_terms: Mapped[str] = mapped_column(
        String(20), default=DEFAULT_TERMS, server_default=text(f"'{DEFAULT_TERMS}'")
    )
    notes: Mapped[str] = mapped_column(Text, default="")

    users = relationship("User", back_populates="client")
    contacts = relationship("ClientContact", back_populates="client", cascade="all, delete-orphan")
    projects = relationship("Project", back_populates="client")

    @validates("name")
    def _name(self, _key, value):
        value = normalise(value)
        self.name_key = name_key(value)
        return value


# Client names are unique across the company, compared by their key (core.text).
Index("uq_clients_name_key", Client.name_key, unique=True)
# Search (core.search.contains, migration 0006).
trigram_index("ix_clients_name_trgm", Client.name)
trigram_index("ix_clients_email_trgm", Client.email)


class ClientContact(Versioned, db.Model):
    __tablename__ = "client_contacts"
    __audited__ = True
    __audit_noun__ = "contact"
    __audit_labels__ = {
        "id": None,
        "version": None,
        "client_id": "client",
        "roles": "roles",
        "name": "name",
        "title": "title",
        "email": "email",
        "phone": "phone",
        "is_primary": "primary contact",
    }
    __audit_created__ = "added the contact {name} to {client_id}"
    __audit_deleted__ = "removed the contact {name} from {client_id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_primary: Mapped[bool] = mapped_column(default=False)
    # Codes of CONTACT_ROLES, comma-separated ("billing,site_access"); "" for none.
    roles: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))

    client = relationship("Client", back_populates="contacts")

    @property
    def role_list(self) -> list[str]:
        return [r for r in (self.roles or "").split(",") if r]


# At most one primary contact per client, whatever two requests do at once.
Index(
    "uq_client_contacts_primary",
    ClientContact.client_id,
    unique=True,
    postgresql_where=ClientContact.is_primary,
    sqlite_where=ClientContact.is_primary,
)


class ClientCommunication(db.Model):
    """An entry of a client's communication log: a call, email, meeting or site visit,
    with an optional follow-up date on which its author is reminded once
    (workers/clients.py sets `reminded_at` in the same UPDATE that claims it)."""

    __tablename__ = "client_communications"
    __audited__ = True
    __audit_noun__ = "communication log entry"
    __audit_labels__ = {
        "id": None,
        "created_at": None,
        "client_id": "client",
        "kind": "kind",
        "occurred_at": "date and time",
        "author_id": "author",
        "summary": "summary",
        "follow_up_on": "follow-up date",
        "follow_up_done_at": "follow-up done",
        "reminded_at": None,  # bookkeeping of the reminder job
    }
    __audit_values__ = {"kind": ENTRY_KINDS}

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    follow_up_done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author = relationship("User", lazy="joined")


# The client page reads a client's log newest first.
Index("ix_client_communications_client", ClientCommunication.client_id, ClientCommunication.occurred_at.desc())
# The hourly job looks for due follow-ups not yet reminded.
Index(
    "ix_client_communications_follow_up",
    ClientCommunication.follow_up_on,
    postgresql_where=ClientCommunication.reminded_at.is_(None),
    sqlite_where=ClientCommunication.reminded_at.is_(None),
)


INVITATION_DAYS = 7


class ClientInvitation(db.Model):
    """An invitation of a person (by email, optionally one of the client's contacts) to
    become a client user. Only the SHA-256 of the random token is stored; the link in
    the email carries the token itself."""

    __tablename__ = "client_invitations"
    __audited__ = True
    __audit_noun__ = "client invitation"
    __audit_hidden__ = {"token_hash"}
    __audit_labels__ = {
        "id": None,
        "created_at": None,
        "client_id": "client",
        "contact_id": "contact",
        "email": "email",
        "token_hash": "link",
        "invited_by_id": "invited by",
        "expires_at": "expires",
        "accepted_at": "accepted",
        "user_id": "account",
        "revoked_at": "revoked",
    }
    __audit_created__ = "invited {email} to {client_id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("client_contacts.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    client = relationship("Client")
    contact = relationship("ClientContact")
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    def state(self, now: datetime | None = None) -> str:
        """open, accepted, revoked or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or utcnow()):
            return "expired"
        return "open"
