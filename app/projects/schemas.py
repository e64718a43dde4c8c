"""The project API's input and output (core/schemas.py): parsed, documented, checked."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import (
    Amount,
    Date,
    Id,
    IdList,
    Input,
    ListQuery,
    Output,
    QueryId,
    Text,
    Version,
)
from app.core.text import LONG_TEXT
from app.projects.services import LIMITS

Status = Literal["created", "active", "closed"]


class ProjectQuery(ListQuery):
    status: Status | None = Field(None, description="Only projects in this status (default: every status).")
    assigned_pm: QueryId | None = Field(None, description="Only projects this project manager runs (a user id).")
    client: QueryId | None = Field(None, description="Only this client's projects (a client id).")
    search: Text(200) | None = Field(None, description="Words in the name, client or address.")


class LocationInput(Input):
    address: Text(LIMITS["address"]) | None = None
    city: Text(LIMITS["city"]) | None = None
    state: Text(LIMITS["state"]) | None = None
    zip: Text(LIMITS["zip"]) | None = None


class ProjectInput(Input):
    """A project's writable fields; which are required is the service's rule (below)."""

    name: Text(LIMITS["name"]) | None = None
    client_id: Id | None = None
    description: Text(LONG_TEXT) | None = None
    budget: Amount | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    notes: Text(LONG_TEXT) | None = None
    location: LocationInput | None = None
    assigned_pm_ids: IdList | None = Field(None, description="Project managers to put on the team (user ids).")
    version: Version | None = None


class ProjectCreate(ProjectInput):
    __required__ = ("name", "client_id", "location")

    template_id: Id | None = Field(
        None,
        description="Start from this project template (GET /api/project-templates/): its tasks are "
        "laid out from `start_date`, which is then required.",
    )


class ProjectPut(ProjectInput):
    """PUT replaces every field this API exposes."""

    __required__ = ("name", "client_id", "location")


class ProjectPatch(ProjectInput):
    """PATCH changes the fields sent."""


class ReopenInput(Input):
    reason: Text(LONG_TEXT) | None = Field(None, description="Why the closed project is reopened (required).")
    version: Version | None = None

    __required__ = ("reason",)


class Ref(Output):
    id: int
    name: str


class Location(Output):
    address: str
    city: str
    state: str
    zip: str


class Profitability(Output):
    total_invoiced: str
    total_paid: str
    total_expenses: str
    profit: str
    roi: str | None


class ProjectOut(Output):
    id: int
    name: str
    description: str
    client: Ref
    status: Status
    assigned_pms: list[Ref]
    budget: str | None = Field(description="Money; null for roles that may not see it, or none set.")
    contract_value: str | None = Field(
        description="Money: the approved estimate's total changed by approved change orders; null when none, "
        "or for roles that may not see it."
    )
    start_date: str | None = Field(json_schema_extra={"format": "date"})
    end_date: str | None = Field(json_schema_extra={"format": "date"})
    progress_percent: int
    location: Location
    version: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})


class ProjectDetail(ProjectOut):
    profitability: Profitability | None = Field(None, description="For roles that may see the money.")


class Deleted(Output):
    id: int
    deleted: Literal[True]
