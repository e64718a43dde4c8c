"""The company's details: one row (id 1), written only through company.services."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.money import ZERO
from app.core.versioning import Versioned
from app.extensions import db

DEFAULT_NAME = "Kibray Painting & Staining"


class CompanySettings(Versioned, TimestampMixin, db.Model):
    __tablename__ = "company_settings"
    __audited__ = True
    __audit_noun__ = "company details"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "name": "name",
        "address": "address",
        "city": "city",
        "state": "state",
        "zip": "ZIP code",
        "phone": "phone",
        "email": "email",
        "website": "website",
        "default_tax_rate": "default tax rate (%)",
        "payment_instructions": "payment instructions",
        "logo_key": "logo",
        "logo_content_type": None,
    }
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("default_tax_rate >= 0 AND default_tax_rate <= 100", name="tax_rate_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200), default=DEFAULT_NAME)
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(60), default="")
    zip: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    default_tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=ZERO, server_default=text("0"))
    payment_instructions: Mapped[str] = mapped_column(Text, default="")
    logo_key: Mapped[str | None] = mapped_column(String(255))
    logo_content_type: Mapped[str | None] = mapped_column(String(40))

    def audit_name(self) -> str:
        return self.name

    @property
    def address_lines(self) -> list[str]:
        place = " ".join(p for p in (f"{self.city}," if self.city else "", self.state, self.zip) if p).strip(", ")
        return [line for line in (self.address, place) if line]
