"""every editable object carries a version (core/versioning.py): projects, clients, users

Revision ID: 0004_versions
Revises: 0003_notification_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_versions"
down_revision = "0003_notification_links"
branch_labels = None
depends_on = None

TABLES = ("projects", "clients", "users")


def upgrade():
    # Existing rows start at version 1, as new ones do. A plain ADD COLUMN (no batch
    # rebuild): SQLite adds a NOT NULL column with a constant default in place.
    for table in TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))


def downgrade():
    # ALTER TABLE … DROP COLUMN on both (SQLite ≥ 3.35): rebuilding these tables in
    # batch mode would trip the foreign keys that point at them.
    for table in reversed(TABLES):
        op.drop_column(table, "version")
