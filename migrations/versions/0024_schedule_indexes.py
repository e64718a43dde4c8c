"""schedule indexes: a period's events by their span (GiST on tstzrange(start_at, end_at),
PostgreSQL only) and a project's tasks by the day they end (project_id,
coalesce(due_date, start_date)), so the calendar's month and week read the items of
the period, not every past one; the admins-only events (a partial index, PostgreSQL);
schedule_conflicts.severity_rank (SEVERITY_RANK of the severity, filled for existing
rows, checked on PostgreSQL) with the lists' order as an index. Downgrade drops them.

Revision ID: 0024_schedule_indexes
Revises: 0023_schedule_conflicts
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_schedule_indexes"
down_revision = "0023_schedule_conflicts"
branch_labels = None
depends_on = None


RANKS = {"low": 1, "medium": 2, "high": 3, "critical": 4}
RANK_OF = "CASE severity " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANKS.items()) + " END"


def upgrade():
    op.add_column("schedule_conflicts", sa.Column("severity_rank", sa.SmallInteger(), server_default="0", nullable=False))
    op.execute(f"UPDATE schedule_conflicts SET severity_rank = {RANK_OF}")
    op.create_index(
        "ix_schedule_conflicts_order", "schedule_conflicts", [sa.text("severity_rank DESC"), "day", "id"]
    )
    op.create_index("ix_tasks_project_last", "tasks", ["project_id", sa.text("coalesce(due_date, start_date)")])
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("schedule_conflicts", "severity_rank", server_default=None)
        op.create_check_constraint(
            op.f("ck_schedule_conflicts_severity_rank_matches"), "schedule_conflicts", f"severity_rank = {RANK_OF}"
        )
        op.create_index(
            "ix_calendar_events_admin_only",
            "calendar_events",
            ["id"],
            postgresql_where=sa.text("visibility = 'admin_only'"),
        )
        op.create_index(
            "ix_calendar_events_span",
            "calendar_events",
            [sa.text("tstzrange(start_at, end_at, '[]')")],
            postgresql_using="gist",
            postgresql_where=sa.text("rrule IS NULL AND series_id IS NULL"),
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_calendar_events_span", table_name="calendar_events")
        op.drop_index("ix_calendar_events_admin_only", table_name="calendar_events")
    op.drop_index("ix_tasks_project_last", table_name="tasks")
    op.drop_index("ix_schedule_conflicts_order", table_name="schedule_conflicts")
    op.drop_column("schedule_conflicts", "severity_rank")
