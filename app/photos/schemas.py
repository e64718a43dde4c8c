"""/api/photos/'s input and output (SPEC.md §5 Photo)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.core.schemas import FilePart, Form, IdList, Input, ListQuery, Output, QueryId, Text, Version
from app.photos.models import MAX_TAG, MAX_TAGS
from app.photos.services import CAPTION_MAX


class Ref(Output):
    id: int
    name: str


class PhotoOut(Output):
    id: int
    project: Ref
    task_id: int | None
    caption: str
    tags: list[str]
    phase: Literal["before", "after"] | None
    pair_id: int | None
    is_client_visible: bool
    client_provided: bool
    uploaded_by: Ref | None
    content_type: str
    width: int | None
    height: int | None
    created_at: datetime
    url: str = Field(description="The photo (web size), through the authorising route; short-lived once redirected.")
    thumbnail_url: str
    version: int


class PhotoQuery(ListQuery):
    project_id: QueryId | None = None
    task_id: QueryId | None = None


class PhotoUpload(Form):
    file: FilePart
    project_id: QueryId
    task_id: QueryId | None = None
    caption: Text(CAPTION_MAX) | None = None
    tags: Text(MAX_TAGS * (MAX_TAG + 2)) | None = Field(None, description="Comma-separated, e.g. `kitchen, trim`.")
    phase: Literal["before", "after"] | None = None


class PhotoPatch(Input):
    caption: Text(CAPTION_MAX) | None = None
    tags: list[Text(MAX_TAG)] | None = Field(None, max_length=MAX_TAGS)
    phase: Literal["before", "after", ""] | None = Field(None, description='"" clears it.')
    version: Version | None = None


class BulkApprove(Input):
    __required__ = ("ids",)
    ids: IdList = Field(default_factory=list)


class Approved(Output):
    results: list[PhotoOut]


class Deleted(Output):
    id: int
    deleted: bool
