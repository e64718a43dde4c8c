"""Client companies and their contacts."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.crypto import EncryptedString
from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.search import trigram_index
from app.core.text import key_of, name_key, normalise
from app.core.versioning import Versioned
from app.extensions import db


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
        "notes": "notes",
    }

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


class ClientContact(db.Model):
    __tablename__ = "client_contacts"
    __audited__ = True
    __audit_noun__ = "contact"
    __audit_labels__ = {
        "id": None,
        "client_id": "client",
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

    client = relationship("Client", back_populates="contacts")
