"""Project templates: a named list of steps a new project's tasks are laid from."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.text import key_of, name_key
from app.core.versioning import Versioned
from app.extensions import db


class ProjectTemplate(Versioned, TimestampMixin, db.Model):
    """`steps` is the ordered list the form edits as a whole (services.clean_steps keeps
    it valid): each step {"title", "description", "start_day" (1 = the project's start
    date), "days" (how long, ≥ 1), "estimated_hours" (text or null), "schedule_weight"
    (0–100), "after" (the 1-based numbers of the steps it depends on)}. One row, one
    version: a template is edited by one person at a time, as one thing."""

    __tablename__ = "project_templates"
    __audited__ = True
    __audit_noun__ = "project template"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "name": "name",
        "name_key": None,
        "description": "description",
        "steps": "steps",
        "created_by_id": None,
    }
    __table_args__ = (Index("uq_project_templates_name_key", "name_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, default=key_of("name"))
    description: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @validates("name")
    def _keep_key(self, _key, value):
        self.name_key = name_key(value)
        return value

    def audit_name(self) -> str:
        return self.name
