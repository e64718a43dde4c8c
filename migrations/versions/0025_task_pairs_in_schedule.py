"""task_conflicts dropped: a task's double bookings are the schedule's rows
(schedule_conflicts, kind double_booking, the other item a task), kept by the one
conflict engine (app/schedule/engine.py); app/tasks/conflicts.py reads them there.
Upgrade first carries over any pair the schedule's rows lack (a database upgraded past
0023 without `flask schedule rebuild`) that still holds (both tasks open and dated, the
person on both), on the first day both tasks book the person,
and raises those tasks' risk to at least high; downgrade recreates task_conflicts and
fills it from the tasks as 0013 did.

Revision ID: 0025_task_pairs_in_schedule
Revises: 0024_schedule_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_task_pairs_in_schedule"
down_revision = "0024_schedule_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        INSERT INTO schedule_conflicts (item_kind, item_id, kind, severity, severity_rank, other_kind, other_id,
                                        user_id, project_id, day, detail, task_id, other_task_id)
        SELECT 'task', mine.id, 'double_booking', 'high', 3, 'task', other.id, tc.user_id, mine.project_id,
               CASE WHEN mine.start_date > other.start_date THEN mine.start_date ELSE other.start_date END,
               '', mine.id, other.id
        FROM task_conflicts tc
        JOIN tasks mine ON mine.id = tc.task_id
        JOIN tasks other ON other.id = tc.other_id
        WHERE mine.status IN ('pending', 'in_progress', 'blocked')
          AND other.status IN ('pending', 'in_progress', 'blocked')
          AND mine.start_date IS NOT NULL AND mine.due_date IS NOT NULL
          AND other.start_date IS NOT NULL AND other.due_date IS NOT NULL
          AND EXISTS (SELECT 1 FROM task_assignees a WHERE a.task_id = mine.id AND a.user_id = tc.user_id)
          AND EXISTS (SELECT 1 FROM task_assignees a WHERE a.task_id = other.id AND a.user_id = tc.user_id)
          AND NOT EXISTS (
            SELECT 1 FROM schedule_conflicts s
            WHERE s.task_id = tc.task_id AND s.other_task_id = tc.other_id AND s.user_id = tc.user_id
              AND s.kind = 'double_booking'
        )
        """
    )
    op.execute(
        """
        UPDATE tasks SET risk_level = 'high'
        WHERE risk_level IN ('none', 'low', 'medium')
          AND EXISTS (SELECT 1 FROM schedule_conflicts s WHERE s.task_id = tasks.id AND s.kind = 'double_booking')
        """
    )
    op.drop_index("ix_task_conflicts_user", table_name="task_conflicts")
    op.drop_index("ix_task_conflicts_other", table_name="task_conflicts")
    op.drop_table("task_conflicts")


def downgrade():
    op.create_table(
        "task_conflicts",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["other_id"], ["tasks.id"], name=op.f("fk_task_conflicts_other_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_conflicts_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_conflicts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "other_id", "user_id", name=op.f("pk_task_conflicts")),
    )
    op.create_index("ix_task_conflicts_other", "task_conflicts", ["other_id"], unique=False)
    op.create_index("ix_task_conflicts_user", "task_conflicts", ["user_id"], unique=False)
    op.execute(
        """
        INSERT INTO task_conflicts (task_id, other_id, user_id)
        WITH booking AS (
            SELECT a.user_id, a.task_id, t.start_date, t.due_date
            FROM task_assignees a JOIN tasks t ON t.id = a.task_id
            WHERE t.status IN ('pending', 'in_progress', 'blocked')
              AND t.start_date IS NOT NULL AND t.due_date IS NOT NULL
        )
        SELECT mine.task_id, theirs.task_id, mine.user_id
        FROM booking mine JOIN booking theirs
          ON theirs.user_id = mine.user_id AND theirs.task_id <> mine.task_id
         AND theirs.start_date <= mine.due_date AND theirs.due_date >= mine.start_date
        """
    )
