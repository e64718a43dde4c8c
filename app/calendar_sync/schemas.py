"""What the subscription endpoints read and answer."""

from __future__ import annotations

from pydantic import Field

from app.core.schemas import Input, Output, Query, QueryId


class FeedOut(Output):
    url: str = Field(description="The secret subscription URL (RFC 5545): add it to a calendar app.")


class RegenerateInput(Input):
    project_id: int | None = Field(None, description="A project's feed; left out: your schedule's.")


class FeedQuery(Query):
    project_id: QueryId | None = Field(None, description="A project's feed; left out: your schedule's.")


class FeedStopped(Output):
    stopped: bool = Field(description="False: there was no such feed (nothing to stop).")
