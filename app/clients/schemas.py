"""The client API's query, input and output (core/schemas.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import Input, ListQuery, Output, Text, Version
from app.core.text import LONG_TEXT

Terms = Literal["due_on_receipt", "net_15", "net_30", "net_45", "net_60"]
ContactRole = Literal["billing", "site_access", "decision_maker", "accounts_payable", "other"]


class ClientQuery(ListQuery):
    search: Text(200) | None = Field(None, description="Words in the name, email or phone.")


class BillingAddress(Output):
    address: str
    city: str
    state: str
    zip: str


class Contact(Output):
    id: int
    name: str
    title: str
    email: str
    phone: str
    is_primary: bool
    roles: list[ContactRole]
    version: int


class ClientOut(Output):
    id: int
    name: str
    email: str
    phone: str
    billing_address: BillingAddress
    payment_terms: Terms
    contacts: list[Contact]
    version: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class ClientDetailOut(ClientOut):
    tax_id_masked: str | None = Field(
        description='The tax ID\'s last four characters ("•••• 4321"), for roles that edit clients; null when none.'
    )


class BillingAddressInput(Input):
    address: Text(600) | None = None
    city: Text(240) | None = None
    state: Text(120) | None = None
    zip: Text(40) | None = None


class ClientInput(Input):
    """A client's writable fields; which are required is the service's rule."""

    name: Text(400) | None = None
    email: Text(500) | None = None
    phone: Text(80) | None = None
    billing_address: BillingAddressInput | None = None
    payment_terms: Terms | None = None
    tax_id: Text(80) | None = Field(
        None, description="Stored encrypted, never shown whole; empty or absent keeps the stored one."
    )
    notes: Text(LONG_TEXT) | None = Field(None, description="Internal notes (written here, shown on the client page).")
    version: Version | None = None


class ClientCreate(ClientInput):
    __required__ = ("name",)


class ClientPut(ClientInput):
    """PUT replaces every writable field (the tax ID: only when one is sent)."""

    __required__ = ("name",)


class ClientPatch(ClientInput):
    """PATCH changes the fields sent."""
