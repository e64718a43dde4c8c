"""calendar events: events of a project or of the company, with assignees, recurrence
(a series row with an RRULE and exception rows for single occurrences), visibility
levels, a risk level kept by the conflict engine and the external sync columns the
CalDAV issue fills. Downgrade drops both tables.

Revision ID: 0022_calendar_events
Revises: 0021_client_threads
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_calendar_events"
down_revision = "0021_client_threads"
branch_labels = None
depends_on = None


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


TYPES = ("milestone", "task", "meeting", "deadline", "reminder", "phase_start", "phase_end", "inspection", "delivery")
STATUSES = ("scheduled", "in_progress", "completed", "cancelled", "rescheduled")
VISIBILITIES = ("admin_only", "internal", "project_team", "client_visible")
RISKS = ("none", "low", "medium", "high", "critical")
SYNC = ("local", "synced", "pending", "failed")


def upgrade():
    op.create_table(
        "calendar_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=True),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("is_client_visible", sa.Boolean(), sa.Computed("visibility = 'client_visible'", persisted=True)),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("series_id", sa.Integer(), sa.ForeignKey("calendar_events.id", ondelete="CASCADE"), nullable=True),
        sa.Column("recurrence_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_level", sa.String(8), server_default="none", nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("external_uid", sa.String(255), nullable=True),
        sa.Column("external_etag", sa.String(255), nullable=True),
        sa.Column("external_calendar", sa.String(500), nullable=True),
        sa.Column("sync_status", sa.String(8), server_default="local", nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("end_at >= start_at", name=op.f("ck_calendar_events_dates_ordered")),
        sa.CheckConstraint(_in("event_type", TYPES), name=op.f("ck_calendar_events_type_valid")),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_calendar_events_status_valid")),
        sa.CheckConstraint(_in("visibility", VISIBILITIES), name=op.f("ck_calendar_events_visibility_valid")),
        sa.CheckConstraint(_in("risk_level", RISKS), name=op.f("ck_calendar_events_risk_valid")),
        sa.CheckConstraint(_in("sync_status", SYNC), name=op.f("ck_calendar_events_sync_status_valid")),
        sa.CheckConstraint(
            "series_id IS NULL OR (recurrence_start IS NOT NULL AND rrule IS NULL)",
            name=op.f("ck_calendar_events_exception"),
        ),
        sa.UniqueConstraint("series_id", "recurrence_start", name="uq_calendar_events_occurrence"),
    )
    op.create_index("ix_calendar_events_start", "calendar_events", ["start_at"])
    op.create_index("ix_calendar_events_project_start", "calendar_events", ["project_id", "start_at"])
    op.create_index("ix_calendar_events_external_uid", "calendar_events", ["external_uid"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_calendar_events_series", "calendar_events", ["start_at"], postgresql_where=sa.text("rrule IS NOT NULL")
        )
    op.create_table(
        "calendar_event_assignees",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("calendar_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("event_id", "user_id", name="uq_calendar_event_assignees_pair"),
    )
    op.create_index("ix_calendar_event_assignees_user_event", "calendar_event_assignees", ["user_id", "event_id"])


def downgrade():
    op.drop_table("calendar_event_assignees")
    op.drop_table("calendar_events")
