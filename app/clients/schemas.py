"""The client API's query and output (core/schemas.py)."""

from __future__ import annotations

from pydantic import Field

from app.core.schemas import ListQuery, Output, Text


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


class ClientOut(Output):
    id: int
    name: str
    email: str
    phone: str
    billing_address: BillingAddress
    contacts: list[Contact]
    version: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
