"""schedule_conflicts: the (item_kind, item_id) and (other_kind, other_id) indexes
dropped — every reader finds an item's rows through its foreign key column (task_id,
event_id, other_task_id, other_event_id), whose indexes the cascades need anyway; two
fewer indexes to keep up on every conflict row a move writes. Downgrade recreates them.

Revision ID: 0026_schedule_conflicts_indexes
Revises: 0025_task_pairs_in_schedule
"""

from alembic import op

revision = "0026_schedule_conflicts_indexes"
down_revision = "0025_task_pairs_in_schedule"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_schedule_conflicts_other", table_name="schedule_conflicts")
    op.drop_index("ix_schedule_conflicts_item", table_name="schedule_conflicts")


def downgrade():
    op.create_index("ix_schedule_conflicts_item", "schedule_conflicts", ["item_kind", "item_id"], unique=False)
    op.create_index("ix_schedule_conflicts_other", "schedule_conflicts", ["other_kind", "other_id"], unique=False)
