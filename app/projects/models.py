"""Projects and their teams."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.audit_text import role_phrase
from app.core.cached_reads import writes_also
from app.core.labels import PROJECT_STATUS_LABELS
from app.core.models import BOOKKEEPING_LABELS, IdList, TimestampMixin
from app.core.permissions import Scope
from app.core.search import trigram_index
from app.core.text import key_of, name_key, normalise
from app.core.versioning import Versioned
from app.extensions import db

CREATED, ACTIVE, CLOSED = "created", "active", "closed"
STATUSES = (CREATED, ACTIVE, CLOSED)


class Project(Versioned, TimestampMixin, db.Model):
    __tablename__ = "projects"
    __audited__ = True
    # A project is its own project; its client's users see it (SPEC.md §2 "O" for clients).
    __scope__ = Scope(project="id", client_visible=True, team="team_ids")
    # How the audit log speaks of a project (app/core/audit_text.py); None = bookkeeping.
    __audit_noun__ = "project"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,  # id, timestamps and the version (core.versioning)
        "name": "name",
        "name_key": None,  # the name as compared (app/core/text.py)
        "description": "scope",
        "client_id": "client",
        "status": "status",
        "address": "address",
        "city": "city",
        "state": "state",
        "zip": "ZIP code",
        "budget": "budget",
        "contract_value": "contract value",
        "start_date": "start date",
        "end_date": "end date",
        "progress_percent": "progress",
        "notes": "notes",
        "internal_notes": "internal notes",
        "estimate_id": "estimate",
        "reason": "reason",  # why a closed project was reopened (projects.services.reopen_project)
    }
    __audit_values__ = {"status": PROJECT_STATUS_LABELS}  # the one label of each status
    # Its PMs are part of its version (services bump it): their entries say who changed it.
    __versioned_with__ = ("ProjectMembership",)
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        CheckConstraint("status IN ('created', 'active', 'closed')", name="status_valid"),
        Index("ix_projects_status_name", "status", "name"),
        Index("ix_projects_team_ids", "team_ids", postgresql_using="gin").ddl_if(dialect="postgresql"),
    )
    __audit_exclude__ = {"team_ids"}  # the memberships are audited themselves

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # unique per client: see the index below
    name_key: Mapped[str] = mapped_column(
        Text, default=key_of("name")
    )  # core.text.name_key(name), kept by the validator
    description: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CREATED)
    address: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(60), default="")
    zip: Mapped[str] = mapped_column(String(20), default="")
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # What the client agreed to pay: the approved estimate's total, changed by each
    # approved change order (issue 12); None until it is known.
    contract_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    start_date: Mapped[date | None] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    progress_percent: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    internal_notes: Mapped[str] = mapped_column(Text, default="")
    estimate_id: Mapped[int | None] = mapped_column()  # set when created from an estimate (later issue)
    # The team's user ids, kept by PostgreSQL itself: triggers on project_memberships
    # rewrite it in the same statement as any change to the team (migration 0007), so it
    # never disagrees with the memberships. Read only in SQL (`has_member`): a PM's list,
    # search and filter intersect it with the trigram indexes through one GIN index,
    # instead of joining every membership (docs/architecture.md). Never written by the
    # app, never loaded with a project; SQLite (no triggers here) leaves it empty and
    # `has_member` reads the memberships there.
    team_ids: Mapped[list[int]] = mapped_column(
        IdList, server_default=text("'{}'"), nullable=False, deferred=True, deferred_raiseload=True
    )

    client = relationship("Client", back_populates="projects", lazy="joined")
    memberships = relationship(
        "ProjectMembership", back_populates="project", cascade="all, delete-orphan", lazy="selectin"
    )

    @validates("name")
    def _name(self, _key, value):
        value = normalise(value)
        self.name_key = name_key(value)
        return value

    @property
    def project_id(self) -> int:
        return self.id

    def audit_name(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED

    @property
    def is_not_started(self) -> bool:
        return self.status == CREATED

    @property
    def members(self):
        return [m.user for m in self.memberships]

    @property
    def pms(self):
        from app.core.roles import PM_ROLES

        return [m.user for m in self.memberships if m.user.role in PM_ROLES]

    @property
    def member_ids(self) -> set[int]:
        return {m.user_id for m in self.memberships}


# One client cannot have two projects of the same name, compared by the key Python
# computes (core.text.name_key: NFKC, invisible characters out, spaces collapsed,
# case-folded). The older index on lower(name) stays as it was (0002).
Index("uq_projects_client_id_lower_name", Project.client_id, func.lower(Project.name), unique=True)
Index("uq_projects_client_id_name_key", Project.client_id, Project.name_key, unique=True)
# Search (core.search.contains), the home page's latest changes and the list's order (migration 0006).
trigram_index("ix_projects_name_trgm", Project.name)
trigram_index("ix_projects_address_trgm", Project.address)
trigram_index("ix_projects_city_trgm", Project.city)
Index("ix_projects_updated_at", Project.updated_at)
Index("ix_projects_name_id", Project.name, Project.id)  # the list's default order: page 1 stops at 25 rows


def _member_added(said: dict) -> str:
    member = said.get("user_id_obj")
    role = f" as {role_phrase(member.role_label)}" if member is not None else ""
    return f"added {said['user_id']} to {said['project_id']}{role}"


class ProjectMembership(db.Model):
    __tablename__ = "project_memberships"
    __audited__ = True
    # The team of a project; its client's users see it (their PMs are their contacts).
    __scope__ = Scope(project="project_id", client_visible=True)
    __audit_noun__ = "team membership"
    __audit_labels__ = {"id": None, "project_id": "project", "user_id": "team member"}
    __audit_created__ = staticmethod(_member_added)
    __audit_deleted__ = "removed {user_id} from {project_id}"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="uq_project_memberships_project_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    project = relationship("Project", back_populates="memberships")
    user = relationship("User", lazy="joined")

    def audit_name(self) -> str:
        return self.user.name if self.user is not None else ""


# A change to a team rewrites the projects' team_ids (migration 0007's triggers): the
# cached reads of projects (a PM's list total, say) are as stale as the memberships'.
# Deleting a user removes their memberships by cascade, and so changes teams too.
writes_also("project_memberships", "projects")
writes_also("users", "project_memberships", "projects", verbs=("DELETE",))
