"""comment versions: comments are editable objects, so they carry a version (core/versioning.py)

An edit or delete of a comment says which version it started from; a stale one is refused
(409, "changed meanwhile") instead of overwriting. Existing rows start at version 1, as new
ones do. Downgrade drops the column.

Revision ID: 0012_comment_versions
Revises: 0011_project_templates
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_comment_versions"
down_revision = "0011_project_templates"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch rebuild): SQLite adds a NOT NULL column with a
    # constant default in place, PostgreSQL without rewriting the table.
    op.add_column("comments", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))


def downgrade():
    # ALTER TABLE … DROP COLUMN on both (SQLite ≥ 3.35).
    op.drop_column("comments", "version")
