"""attachment sizes: a task photo's thumbnail and web-sized copy (workers/media.py)

Two nullable keys on task_attachments, filled by a job after the upload; until then, and
for files that are not photos, the original is served. Existing photos get theirs when
the job is run for them; they are served as they are meanwhile. Downgrade drops both.

Revision ID: 0015_attachment_sizes
Revises: 0014_preference_versions
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_attachment_sizes"
down_revision = "0014_preference_versions"
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN of nullable columns: no table rewrite, on PostgreSQL and SQLite
    op.add_column("task_attachments", sa.Column("thumb_key", sa.String(length=300), nullable=True))
    op.add_column("task_attachments", sa.Column("web_key", sa.String(length=300), nullable=True))


def downgrade():
    op.drop_column("task_attachments", "web_key")
    op.drop_column("task_attachments", "thumb_key")
