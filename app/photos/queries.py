"""What a viewer sees of photos: one visibility definition (`visible`) for the galleries,
the viewer, the task page, the client portal and /api/photos/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.core.errors import ValidationError
from app.core.pagination import Page, paginate
from app.core.permissions import require, scope_query
from app.core.statements import inline
from app.extensions import db
from app.photos.models import Photo

PER_PAGE = 48  # a gallery page: 6 rows of 8 on a desktop, 24 rows of 2 on a phone
SHOWN = ("", "client", "internal")


def visible(actor, stmt=None):
    """The photos `actor` may see (SPEC.md §2): the matrix's scope (a client only the
    approved photos of their own company's projects, an employee their own), never a
    deleted one."""
    stmt = select(Photo) if stmt is None else stmt
    return scope_query(stmt, actor, "photo.view", Photo).where(Photo.deleted_at.is_(None))


@dataclass(frozen=True)
class GalleryFilters:
    task_id: int | None = None
    tag: str = ""
    day: date | None = None
    shown: str = ""  # "client" (approved for the client) or "internal"

    def check(self) -> None:
        if self.shown not in SHOWN:
            raise ValidationError({"shown": "Choose client, internal or all."})

    def as_args(self) -> dict:
        return {
            k: v
            for k, v in (
                ("task", self.task_id),
                ("tag", self.tag),
                ("day", self.day.isoformat() if self.day else None),
                ("shown", self.shown),
            )
            if v
        }


def _filtered(stmt, filters: GalleryFilters):
    filters.check()
    if filters.task_id is not None:
        stmt = stmt.where(Photo.task_id == filters.task_id)
    if filters.day is not None:
        stmt = stmt.where(Photo.taken_on == filters.day)
    if filters.shown == "client":
        stmt = stmt.where(Photo.is_client_visible.is_(True))
    elif filters.shown == "internal":
        stmt = stmt.where(Photo.is_client_visible.is_(False))
    if filters.tag:
        # tags are a short JSON list: compare its text, quoted, so "trim" is not "trimmed"
        needle = '"' + filters.tag.replace("\\", "").replace('"', "") + '"'
        stmt = stmt.where(func.cast(Photo.tags, db.String).contains(needle, autoescape=True))
    return stmt


# What a tile shows, read as plain rows (not ORM objects): 48 of them a page.
TILE_COLUMNS = (
    Photo.id,
    Photo.project_id,
    Photo.caption,
    Photo.tags,
    Photo.phase,
    Photo.is_client_visible,
    Photo.client_provided,
    Photo.taken_on,
    Photo.created_at,
)


def gallery(actor, project, filters: GalleryFilters, page: int) -> Page:
    """A page of the project's photos (newest first) as tile rows, with who took each."""
    from app.auth.models import User

    require(actor, "photo.view")
    stmt = (
        visible(actor, select(*TILE_COLUMNS, User.full_name.label("uploader")))
        .outerjoin(User, User.id == Photo.uploaded_by_id)
        .where(Photo.project_id == inline(project.id))  # planned per project: see core/statements.py
        .order_by(Photo.created_at.desc(), Photo.id.desc())
    )
    return paginate(_filtered(stmt, filters), page, PER_PAGE, rows=True)


def pairs(actor, project) -> list[tuple[Photo, Photo]]:
    """The project's before/after pairs the viewer may see both halves of."""
    require(actor, "photo.view")
    before = visible(actor).where(Photo.project_id == project.id, Photo.phase == "before", Photo.pair_id.is_not(None))
    firsts = db.session.scalars(before.order_by(Photo.created_at.desc()).limit(24)).all()
    if not firsts:
        return []
    seconds = {
        p.id: p for p in db.session.scalars(visible(actor).where(Photo.id.in_([f.pair_id for f in firsts]))).all()
    }
    return [(f, seconds[f.pair_id]) for f in firsts if f.pair_id in seconds]


def task_photos(actor, task) -> list[Photo]:
    """The photos of a task (its page), newest first."""
    return db.session.scalars(
        visible(actor).where(Photo.task_id == task.id).order_by(Photo.created_at.desc()).limit(60)
    ).all()


def neighbours(actor, photo: Photo) -> tuple[int | None, int | None]:
    """The ids of the newer and the older photo of the same gallery (the viewer's swipe)."""
    same = visible(actor, select(Photo.id)).where(Photo.project_id == photo.project_id, Photo.id != photo.id)
    newer = same.where(
        or_(Photo.created_at > photo.created_at, and_(Photo.created_at == photo.created_at, Photo.id > photo.id))
    ).order_by(Photo.created_at.asc(), Photo.id.asc())
    older = same.where(
        or_(Photo.created_at < photo.created_at, and_(Photo.created_at == photo.created_at, Photo.id < photo.id))
    ).order_by(Photo.created_at.desc(), Photo.id.desc())
    return db.session.scalar(newer.limit(1)), db.session.scalar(older.limit(1))


def list_statement(actor, project_id: int | None = None, task_id: int | None = None):
    """/api/photos/: the photos the viewer sees, by project and task."""
    require(actor, "photo.view")
    stmt = visible(actor).options(selectinload(Photo.uploaded_by), selectinload(Photo.project))
    if project_id is not None:
        stmt = stmt.where(Photo.project_id == inline(project_id))
    if task_id is not None:
        stmt = stmt.where(Photo.task_id == task_id)
    return stmt


def client_photos(actor, project, limit: int = 12) -> list[Photo]:
    """The newest photos of a project a client sees (the portal's strip)."""
    return db.session.scalars(
        visible(actor).where(Photo.project_id == project.id).order_by(Photo.created_at.desc()).limit(limit)
    ).all()
