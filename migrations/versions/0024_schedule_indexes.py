"""schedule indexes: a period's events by their span (GiST on tstzrange(start_at, end_at),
PostgreSQL only) and a project's tasks by the day they end (project_id,
coalesce(due_date, start_date)), so the calendar's month and week read the items of
the period, not every past one. Downgrade drops them.

Revision ID: 0024_schedule_indexes
Revises: 0023_schedule_conflicts
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_schedule_indexes"
down_revision = "0023_schedule_conflicts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tasks_project_last", "tasks", ["project_id", sa.text("coalesce(due_date, start_date)")])
    if op.get_bind().dialect.name == "postgresql":
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
    op.drop_index("ix_tasks_project_last", table_name="tasks")
