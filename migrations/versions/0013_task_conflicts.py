"""task_conflicts: double bookings kept as rows; open tasks by due date (issue 8, 50,000 tasks)

One row per (task, other task, person) each way, for open tasks with both dates that
share an assignee over overlapping days; kept by app/tasks/conflicts.py in the same
flush as any change that can alter them. Upgrade fills it from the tasks as they are
(the same pairs the app computes). ix_tasks_open_due: the open tasks by due date, a
partial index (PostgreSQL only). Downgrade drops both.

Revision ID: 0013_task_conflicts
Revises: 0012_comment_versions
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_task_conflicts'
down_revision = '0012_comment_versions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('task_conflicts',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['other_id'], ['tasks.id'], name=op.f('fk_task_conflicts_other_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_conflicts_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_conflicts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'other_id', 'user_id', name=op.f('pk_task_conflicts'))
    )
    with op.batch_alter_table('task_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_task_conflicts_other', ['other_id'], unique=False)
        batch_op.create_index('ix_task_conflicts_user', ['user_id'], unique=False)
    if op.get_context().dialect.name == "postgresql":
        with op.batch_alter_table('tasks', schema=None) as batch_op:
            batch_op.create_index('ix_tasks_open_due', ['due_date', 'id'], unique=False, postgresql_where=sa.text("status IN ('pending', 'in_progress', 'blocked')"))
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


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        with op.batch_alter_table('tasks', schema=None) as batch_op:
            batch_op.drop_index('ix_tasks_open_due', postgresql_where=sa.text("status IN ('pending', 'in_progress', 'blocked')"))
    with op.batch_alter_table('task_conflicts', schema=None) as batch_op:
        batch_op.drop_index('ix_task_conflicts_user')
        batch_op.drop_index('ix_task_conflicts_other')

    op.drop_table('task_conflicts')
