"""The document API's input and output (core/schemas.py). Uploads are multipart
(`file` and the fields of FileUploadForm, read from the form like a query string);
the rules are the service's (app/files/services.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import FilePart, Form, FormBool, ListQuery, Output, Query, QueryId
from app.files.models import CATEGORIES

Category = Literal["contract", "permit", "spec_sheet", "colour_schedule", "other"]
assert set(Category.__args__) == set(CATEGORIES)  # noqa: S101 - one list of categories


class Ref(Output):
    id: int
    name: str


class FileOut(Output):
    id: int
    project: Ref | None
    client: Ref | None
    name: str
    category: Category
    version: int = Field(description="The latest version's number (1, 2, …); older versions stay downloadable.")
    content_type: str = Field(description="Of the latest version, judged by its content.")
    size: int = Field(description="Of the latest version, in bytes.")
    is_client_visible: bool
    client_provided: bool = Field(description="The latest version was uploaded by the client.")
    uploaded_by: Ref | None = Field(
        description="Who uploaded the latest version; for a client, null unless one of their own company's people."
    )
    created_at: str = Field(json_schema_extra={"format": "date-time"}, description="When the latest version came.")
    url: str = Field(
        description=(
            "The authorising download route for a signed-in browser (`?version=N` for an older version); "
            "bearer-token clients use /api/files/{id}/download/."
        )
    )


class FileQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's documents.")
    client_id: QueryId | None = Field(None, description="Only this client company's own documents.")
    category: Category | None = None


class FileDownloadQuery(Query):
    version: QueryId | None = Field(None, description="An older version's number (default: the latest).")


class FileUpload(Form):
    """The multipart upload: `file` and where it goes."""

    file: FilePart
    project_id: QueryId | None = Field(None, description="The project (or client_id; exactly one).")
    client_id: QueryId | None = Field(None, description="The client company (or project_id; exactly one).")
    is_client_visible: FormBool | None = Field(
        None, description="Share with the client (default: a new document is internal, a new version keeps it)."
    )
    category: Category | None = Field(None, description="Default: other (a new version keeps its document's).")


class Deleted(Output):
    id: int
    deleted: Literal[True]
