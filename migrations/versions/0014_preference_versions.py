"""notification preference versions: a person's notification settings are an editable
object (the settings page, PUT /api/notifications/preferences/), so they carry a version
(core/versioning.py)

A save says which version it started from; a stale one (the same person saving from
another window or a script meanwhile) is refused (409, "changed meanwhile") instead of
overwriting. Version 1 is "the defaults, never saved" (no row); the first save writes
version 2. Existing rows start at version 2 for the same reason. Downgrade drops the
column.

Revision ID: 0014_preference_versions
Revises: 0013_task_conflicts
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_preference_versions"
down_revision = "0013_task_conflicts"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN with a constant default: no table rewrite on PostgreSQL, in
    # place on SQLite. Rows that exist were saved at least once: version 2.
    op.add_column(
        "notification_preferences",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.execute("UPDATE notification_preferences SET version = 2")


def downgrade():
    op.drop_column("notification_preferences", "version")
