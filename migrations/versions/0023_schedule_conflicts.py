"""schedule conflicts: the stored conflicts of events and tasks (app/schedule), the
company holidays, tasks.risk_level and each person's daily capacity. Downgrade drops
them. Existing rows get risk "none" and 8 hours; `flask schedule rebuild` (or the seed)
computes the conflicts of existing data.

Revision ID: 0023_schedule_conflicts
Revises: 0022_calendar_events
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_schedule_conflicts"
down_revision = "0022_calendar_events"
branch_labels = None
depends_on = None


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


KINDS = ("double_booking", "over_capacity", "dependency", "dates", "holiday")
SEVERITIES = ("low", "medium", "high", "critical")


def upgrade():
    op.add_column("tasks", sa.Column("risk_level", sa.String(8), server_default="none", nullable=False))
    op.add_column("users", sa.Column("daily_capacity_hours", sa.Numeric(4, 2), server_default="8", nullable=False))
    op.create_table(
        "company_holidays",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.UniqueConstraint("day", name=op.f("uq_company_holidays_day")),
    )
    op.create_table(
        "schedule_conflicts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_kind", sa.String(8), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("other_kind", sa.String(8), nullable=True),
        sa.Column("other_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("detail", sa.String(200), server_default="", nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("calendar_events.id", ondelete="CASCADE"), nullable=True),
        sa.Column("other_task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True),
        sa.Column(
            "other_event_id", sa.Integer(), sa.ForeignKey("calendar_events.id", ondelete="CASCADE"), nullable=True
        ),
        sa.CheckConstraint(_in("item_kind", ("event", "task")), name=op.f("ck_schedule_conflicts_item_kind_valid")),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_schedule_conflicts_kind_valid")),
        sa.CheckConstraint(_in("severity", SEVERITIES), name=op.f("ck_schedule_conflicts_severity_valid")),
    )
    for name, columns in (
        ("ix_schedule_conflicts_item", ["item_kind", "item_id"]),
        ("ix_schedule_conflicts_other", ["other_kind", "other_id"]),
        ("ix_schedule_conflicts_user_day", ["user_id", "day"]),
        ("ix_schedule_conflicts_project_day", ["project_id", "day"]),
        ("ix_schedule_conflicts_task", ["task_id"]),
        ("ix_schedule_conflicts_event", ["event_id"]),
        ("ix_schedule_conflicts_other_task", ["other_task_id"]),
        ("ix_schedule_conflicts_other_event", ["other_event_id"]),
    ):
        op.create_index(name, "schedule_conflicts", columns)


def downgrade():
    op.drop_table("schedule_conflicts")
    op.drop_table("company_holidays")
    op.drop_column("users", "daily_capacity_hours")
    op.drop_column("tasks", "risk_level")
