"""The rules of documents: where they live (a project or a client company), who sees,
adds, shares and deletes them, how a new upload of a known name becomes its next
version, and the one visibility every page, fragment, download and API answer reads.
Pages and the API call these; none commits.

Who (SPEC.md §2 rows file.view / file.upload / file.share / client_content.delete):
- a project's documents: file.view on the project (admins; PMs, trainees, designers and
  superintendents on its team; its client's users, for shared documents only);
- a client company's documents: whoever may see client records (client.view: admins,
  PMs, trainees), and that company's own users, for shared documents only;
- uploads: file.upload where one may see (client records: client.edit too); a client's
  upload is "client provided" and shared with them at once; a closed project takes none;
- sharing: file.share (client records: client.edit too); deleting: admins only
  (client_content.delete) — the row stays, with who and when; the objects go.

Each change is a live event (document-added, -updated, -removed: ids only) for exactly
the people who may see the document ("live" below)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.clients.models import Client
from app.core import storage, uploads
from app.core.errors import ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.models import utcnow
from app.core.permissions import ALL, MATRIX, NONE, PermissionDenied, can, scope_of
from app.core.roles import ADMIN, CLIENT, ROLES
from app.core.text import name_key
from app.core.transaction import after_commit, after_rollback
from app.extensions import db
from app.files.models import CATEGORIES, NAME_MAX, Document, DocumentVersion
from app.projects.models import Project, ProjectMembership

ACCEPT = ("pdf", "office", "photo")  # judged by content (core.uploads)
MAX_FILES = 5  # in one request, each up to its limit (the upload form's script sends one a request)
_LOCK_SPACE = {"project": 8_000_201, "client": 8_000_202}  # pg_advisory_xact_lock(space, id)
# What a name's extension may say for each stored type (a HEIC photo is stored as JPEG).
_ALIASES = {"jpg": {"jpg", "jpeg"}, "png": {"png"}, "webp": {"webp"}, "pdf": {"pdf"}}
_KNOWN = {"jpg", "jpeg", "png", "webp", "heic", "heif", "pdf", "docx", "xlsx", "pptx"}


@dataclass(frozen=True)
class Place:
    """Where documents live: a project, or a client company (never both)."""

    project: Project | None = None
    client: Client | None = None

    @property
    def kind(self) -> str:
        return "project" if self.project is not None else "client"

    @property
    def id(self) -> int:
        return self.project.id if self.project is not None else self.client.id

    @property
    def name(self) -> str:
        return self.project.name if self.project is not None else self.client.name

    @property
    def column(self):
        return Document.project_id if self.project is not None else Document.client_id


# --- who may --------------------------------------------------------------------------


def may_view_place(actor, place: Place) -> bool:
    if place.project is not None:
        return can(actor, "file.view", place.project)
    if actor.role == CLIENT:
        return actor.client_id == place.client.id and can(actor, "file.view")
    return can(actor, "client.view") and can(actor, "file.view")


def may_upload(actor, place: Place) -> bool:
    if place.project is not None:
        return not place.project.is_closed and can(actor, "file.upload", place.project)
    if actor.role == CLIENT:
        return actor.client_id == place.client.id and can(actor, "file.upload")
    return can(actor, "file.upload") and can(actor, "client.edit")


def may_share_in(actor, place: Place) -> bool:
    if place.project is not None:
        return can(actor, "file.share", place.project)
    return can(actor, "file.share") and can(actor, "client.edit")


def may_view(actor, document: Document) -> bool:
    if document.deleted_at is not None:
        return False
    if document.project_id is not None or actor.role == CLIENT:
        # a client: their company's (the project's or the record's own) and shared only
        return can(actor, "file.view", document)
    return can(actor, "client.view") and can(actor, "file.view")


def may_share(actor, document: Document) -> bool:
    if document.project_id is not None:
        return can(actor, "file.share", document)
    return can(actor, "file.share") and can(actor, "client.edit")


def may_delete(actor, _document: Document | None = None) -> bool:
    return can(actor, "client_content.delete")


# --- reads ----------------------------------------------------------------------------


def project_place(actor, project_id: int) -> Place:
    project = db.session.get(Project, project_id)
    place = Place(project=project) if project is not None else None
    if place is None or not may_view_place(actor, place):
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    return place


def client_place(actor, client_id: int) -> Place:
    client = db.session.get(Client, client_id)
    place = Place(client=client) if client is not None else None
    if place is None or not may_view_place(actor, place):
        raise ObjectNotFound("That client does not exist or you cannot see it.")
    return place


def place_of(actor, project_id: int | None, client_id: int | None) -> Place:
    """The place an upload names: exactly one of a project and a client."""
    if project_id is None and client_id is None:
        message = "Choose the project or the client the document belongs to."
        raise ValidationError({"project_id": message, "client_id": message})
    if project_id is not None and client_id is not None:
        message = "A document belongs to a project or to a client, not both: send only one."
        raise ValidationError({"project_id": message, "client_id": message})
    return project_place(actor, project_id) if project_id is not None else client_place(actor, client_id)


def visible_documents(actor, stmt=None):
    """`stmt` (a select of Document) restricted to the live documents `actor` may see:
    the one visibility of fragments, downloads and the API."""
    stmt = (select(Document) if stmt is None else stmt).where(Document.deleted_at.is_(None))
    scope = scope_of(actor, "file.view")
    if scope == NONE:
        return stmt.where(false())
    if actor.role == CLIENT:
        if actor.client_id is None:
            return stmt.where(false())
        own = select(Project.id).where(Project.client_id == actor.client_id)
        return stmt.where(
            Document.is_client_visible.is_(True),
            or_(Document.client_id == actor.client_id, Document.project_id.in_(own)),
        )
    if scope == ALL:
        return stmt
    mine = select(ProjectMembership.project_id).where(ProjectMembership.user_id == actor.id)
    seen = [Document.project_id.in_(mine)]
    if can(actor, "client.view"):
        seen.append(Document.client_id.is_not(None))
    return stmt.where(or_(*seen))


def get_document(actor, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or not may_view(actor, document):
        raise ObjectNotFound("That document does not exist or you cannot see it.")
    return document


def documents_in(actor, place: Place) -> list[Document]:
    """A place's documents the actor may see, by name, with their versions (newest first)
    and their uploaders, for the documents fragment."""
    stmt = (
        visible_documents(actor)
        .where(place.column == place.id)
        .options(selectinload(Document.versions).joinedload(DocumentVersion.uploaded_by))
        .order_by(Document.name_key, Document.id)
    )
    return list(db.session.scalars(stmt).unique())


ORDERING = {"name": Document.name_key, "created_at": Document.created_at, "updated_at": Document.updated_at}
DEFAULT_ORDER = [Document.name_key, Document.id]


def document_list(actor, project_id: int | None = None, client_id: int | None = None, category: str | None = None):
    """The API's list: visible documents, filtered (a project or client the actor cannot
    see simply has no documents for them)."""
    stmt = visible_documents(actor).options(joinedload(Document.project), joinedload(Document.client))
    if project_id is not None:
        stmt = stmt.where(Document.project_id == project_id)
    if client_id is not None:
        stmt = stmt.where(Document.client_id == client_id)
    if category is not None:
        stmt = stmt.where(Document.category == category)
    return stmt


def latest_versions(documents) -> dict[int, DocumentVersion]:
    """Each document's latest version (one statement for a page of documents)."""
    ids = [d.id for d in documents]
    if not ids:
        return {}
    stmt = (
        select(DocumentVersion)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(DocumentVersion.document_id.in_(ids), DocumentVersion.number == Document.latest_number)
        .options(joinedload(DocumentVersion.uploaded_by))
    )
    return {v.document_id: v for v in db.session.scalars(stmt)}


def uploader_shown(viewer, version: DocumentVersion):
    """Who uploaded `version`, as `viewer` may learn it: staff see everyone; a client sees
    the names of their own company's people only (a staff upload is "the team": crew
    names never reach a client)."""
    if version.uploaded_by is None:
        return None
    if viewer.role == CLIENT and not (version.client_provided and version.uploaded_by.client_id == viewer.client_id):
        return None
    return version.uploaded_by


def version_of(actor, document_id: int, number: int | None = None) -> tuple[Document, DocumentVersion]:
    """A document and one of its versions (the latest by default), for a download."""
    document = get_document(actor, document_id)
    wanted = document.latest_number if number is None else number
    version = db.session.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == document.id, DocumentVersion.number == wanted)
    )
    if version is None:
        raise ObjectNotFound("That version of the document does not exist.")
    return document, version


# --- writes ---------------------------------------------------------------------------


def display_name(filename: str, found: uploads.Upload) -> str:
    """The uploaded name without directories or unsafe characters (core.storage), its
    extension made to say what the content is: `plan` → `plan.pdf`, `IMG_1.HEIC` stored
    as JPEG → `IMG_1.jpg`, `notes.exe` holding a PDF → `notes.exe.pdf`."""
    name = storage.safe_filename(filename, "document")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    if extension.lower() in _ALIASES.get(found.extension, {found.extension}):
        return name
    if extension.lower() in _KNOWN:
        return f"{stem}.{found.extension}"
    return f"{name}.{found.extension}"


def upload(
    actor,
    place: Place,
    files: list[tuple[str, bytes]],
    *,
    category: str | None = None,
    is_client_visible: bool | None = None,
) -> list[DocumentVersion]:
    """Add `files` ((name, bytes) each) to `place`: each is judged by its content first
    (all of them, before anything is stored: one bad file refuses the lot), then becomes
    a new document or — same name, compared case-insensitively — the next version of
    one. `is_client_visible` None leaves a document's sharing as it is (new: not shared);
    a client's upload is always shared with them."""
    if not may_view_place(actor, place):
        raise ObjectNotFound("That place does not exist or you cannot see it.")
    if place.project is not None and place.project.is_closed:
        raise ValidationError({"file": f"{place.name} is closed: it takes no new documents."})
    if not may_upload(actor, place):
        raise PermissionDenied("You cannot add documents here.")
    from_client = actor.role == CLIENT
    errors: dict[str, str] = {}
    if category is not None and category not in CATEGORIES:
        errors["category"] = "Choose one of: " + ", ".join(CATEGORIES.values()) + "."
    if is_client_visible is not None and not from_client and not may_share_in(actor, place):
        errors["is_client_visible"] = "You cannot choose what the client sees: leave this out."
    judged: list[tuple[str, uploads.Upload]] = []
    problems: list[str] = []
    if not files:
        problems.append("Choose a file to upload.")
    elif len(files) > MAX_FILES:
        problems.append(f"At most {MAX_FILES} files at once, please.")
    else:
        for filename, data in files:
            try:
                found = uploads.inspect(data, "file", accept=ACCEPT)
            except ValidationError as exc:
                said = exc.fields.get("file", exc.message)
                problems.append(f"{storage.safe_filename(filename)}: {said}" if len(files) > 1 else said)
                continue
            judged.append((display_name(filename, found), found))
    if problems:
        errors["file"] = " ".join(problems)
    if errors:
        raise ValidationError(errors)
    _lock(place)
    return [_add(actor, place, name, found, category, is_client_visible, from_client) for name, found in judged]


def _lock(place: Place) -> None:
    """Uploads to one place take turns (PostgreSQL): two uploads of a new name at once
    would otherwise both make "version 1"."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(literal(_LOCK_SPACE[place.kind]), literal(place.id))))


def _live(place: Place, key: str) -> Document | None:
    return db.session.scalar(
        select(Document).where(place.column == place.id, Document.name_key == key, Document.deleted_at.is_(None))
    )


def _free_name(place: Place, name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    for n in range(2, 1000):
        candidate = f"{stem} ({n}).{extension}" if extension else f"{stem} ({n})"
        if _live(place, name_key(candidate)) is None:
            return candidate
    raise ValidationError({"file": "Too many documents of that name: rename the file."})


def _add(actor, place, name, found, category, is_client_visible, from_client) -> DocumentVersion:
    name = name[:NAME_MAX]
    document = _live(place, name_key(name))
    if document is not None and from_client and not document.is_client_visible:
        # A client never adds to, nor sees, an internal document: theirs is a new one.
        name = _free_name(place, name)
        document = None
    before = _audience(document) if document is not None else None
    if document is None:
        document = Document(
            project_id=place.project.id if place.project is not None else None,
            client_id=place.client.id if place.client is not None else None,
            name=name,
            name_key=name_key(name),
            category=category or "other",
            is_client_visible=True if from_client else bool(is_client_visible),
            latest_number=1,
            created_by_id=actor.id,
        )
        db.session.add(document)
        db.session.flush()
    else:
        document.latest_number += 1
        if category is not None:
            document.category = category
        if is_client_visible is not None and not from_client:
            document.is_client_visible = is_client_visible
    key = storage.new_key(f"documents/{place.kind}-{place.id}", found.extension)
    storage.save(key, found.data, found.content_type)
    after_rollback(lambda: storage.delete(key))  # the row is not kept: neither is the object
    version = DocumentVersion(
        document_id=document.id,
        number=document.latest_number,
        filename=name,
        storage_key=key,
        content_type=found.content_type,
        size=len(found.data),
        uploaded_by_id=actor.id,
        client_provided=from_client,
    )
    db.session.add(version)
    db.session.flush()
    _publish("document-added" if before is None else "document-updated", document, before=before)
    return version


def set_shared(actor, document: Document, shared: bool) -> Document:
    """Share the document with the client (or stop): audited as the column's change."""
    if not may_share(actor, document):
        raise PermissionDenied("You cannot change who sees this document.")
    if document.is_client_visible != shared:
        before = _audience(document)
        document.is_client_visible = shared
        db.session.flush()
        _publish("document-updated", document, before=before)
    return document


def delete_document(actor, document: Document) -> None:
    """Admins only. The row stays (who deleted it and when, in the row and the audit log)
    and frees its name; every version's object leaves storage once this is committed."""
    if not may_delete(actor, document):
        raise PermissionDenied("Only an administrator deletes documents.")
    before = _audience(document)
    document.deleted_at = utcnow()
    document.deleted_by_id = actor.id
    keys = [version.storage_key for version in document.versions]
    db.session.flush()
    publish("document-removed", _payload(document), users=before.users, roles=before.roles)

    def remove():
        for key in keys:
            storage.delete(key)

    after_commit(remove)


# --- live -------------------------------------------------------------------------------
# Events carry ids only (never a file name): each open documents list refetches itself
# with its viewer's own permissions (templates/files/_documents.html, kibray:documents).


@dataclass(frozen=True)
class Audience:
    users: list[int]
    roles: list[str]


# Who sees every client company's documents by role (client.view and file.view: admins,
# PMs, trainees; files.services.may_view), read from the matrix.
_RECORD_ROLES = tuple(
    role for role in ROLES if role != CLIENT and NONE not in (MATRIX["client.view"][role], MATRIX["file.view"][role])
)


def _audience(document: Document) -> Audience:
    """Who hears of the document: of the people of its place, those who may see it now.
    A project's: its team and its client's users (admins by role), each as the matrix
    lets them see this document — a client only while it is shared. A client company's:
    the roles that see client records, and that company's users while it is shared."""
    if document.project_id is not None:
        people = project_audience(db.session.get(Project, document.project_id))
        roles = [ADMIN]
    else:
        from app.auth.models import User

        people = db.session.scalars(
            select(User.id).where(
                User.client_id == document.client_id, User.role == CLIENT, User.is_active_flag.is_(True)
            )
        )
        roles = list(_RECORD_ROLES)
    return Audience(entitled(people, lambda user: may_view(user, document)), roles)


def _payload(document: Document) -> dict:
    if document.project_id is not None:
        return {"id": document.id, "project_id": document.project_id}
    return {"id": document.id, "client_id": document.client_id}


def _publish(name: str, document: Document, before: Audience | None = None) -> None:
    now = _audience(document)
    publish(name, _payload(document), users=now.users, roles=now.roles)
    gone = sorted(set(before.users if before else ()) - set(now.users))
    if gone:  # no longer shared: the client's open list drops it
        publish("document-removed", _payload(document), users=gone, roles=[])


# --- a deleted project or client takes its documents' objects along -------------------

_HOOKED = []


def install_cleanup(_app=None) -> None:
    """A project (or client) deleted outright loses its documents' rows by the foreign
    keys' cascade; their objects leave storage after the commit, as a document's do."""
    if _HOOKED:
        return
    from flask_sqlalchemy.session import Session
    from sqlalchemy import event

    @event.listens_for(Session, "before_flush")
    def _going(session, _context, _instances):
        gone = [obj for obj in session.deleted if isinstance(obj, (Project, Client))]
        if not gone:
            return
        projects = [o.id for o in gone if isinstance(o, Project)]
        clients = [o.id for o in gone if isinstance(o, Client)]
        keys = list(
            session.scalars(
                select(DocumentVersion.storage_key)
                .join(Document, Document.id == DocumentVersion.document_id)
                .where(or_(Document.project_id.in_(projects), Document.client_id.in_(clients)))
            )
        )
        if keys:

            def remove():
                for key in keys:
                    storage.delete(key)

            after_commit(remove)

    _HOOKED.append(True)
