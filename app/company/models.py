"""The company's details: one row (id 1), written only through company.services.

Estimate defaults (issue 12): the labour rate, paint price per gallon, coverage, markup
and terms a new estimate line or estimate starts from, and the production rate of each
painted surface. *Why the production rates are one JSON column* and not a column per
surface: the surfaces are a list in code (estimates.models.SURFACES) that grows with
the trade (fences, floors…); a JSON object {surface: "units per hour"} needs no
migration when one is added, a surface missing from it reads the built-in default
(estimates.services.production_rates), the values are written as decimal *strings*
(never floats) by company.services after validation, and the audit log shows the
object's change as one diff. The money and coverage defaults stay typed columns:
they are single figures with CHECKs in the database."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Integer, Numeric, String, Text, text
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
        "estimate_labor_rate": "estimate labour rate ($/h)",
        "estimate_price_per_gallon": "estimate paint price per gallon",
        "estimate_coverage": "estimate coverage (sq ft per gallon)",
        "estimate_markup_pct": "estimate markup (%)",
        "estimate_valid_days": "estimates valid for (days)",
        "estimate_terms": "estimate terms",
        "production_rates": "production rates (units per hour)",
    }
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("default_tax_rate >= 0 AND default_tax_rate <= 100", name="tax_rate_valid"),
        CheckConstraint("estimate_labor_rate >= 0 AND estimate_price_per_gallon >= 0", name="estimate_prices_valid"),
        CheckConstraint("estimate_coverage > 0", name="estimate_coverage_positive"),
        CheckConstraint("estimate_markup_pct >= 0 AND estimate_markup_pct <= 100", name="estimate_markup_valid"),
        CheckConstraint("estimate_valid_days BETWEEN 1 AND 365", name="estimate_valid_days_range"),
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
    # estimate defaults (see the module's docstring)
    estimate_labor_rate: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("55.00"), server_default=text("55.00")
    )
    estimate_price_per_gallon: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("48.00"), server_default=text("48.00")
    )
    estimate_coverage: Mapped[Decimal] = mapped_column(
        Numeric(10, 2), default=Decimal("350.00"), server_default=text("350.00")
    )
    estimate_markup_pct: Mapped[Decimal] = mapped_column(
        Numeric(6, 3), default=Decimal("20.000"), server_default=text("20")
    )
    estimate_valid_days: Mapped[int] = mapped_column(Integer, default=30, server_default=text("30"))
    estimate_terms: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    production_rates: Mapped[dict | None] = mapped_column(JSON)  # {surface: "units per hour"}, overrides

    def audit_name(self) -> str:
        return self.name

    @property
    def address_lines(self) -> list[str]:
        place = " ".join(p for p in (f"{self.city}," if self.city else "", self.state, self.zip) if p).strip(", ")
        return [line for line in (self.address, place) if line]
