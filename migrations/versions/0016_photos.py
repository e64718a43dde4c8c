"""photos and files: project, task and daily-log photo galleries; project and client documents with versions

Revision ID: 0016_photos
Revises: 0015_attachment_sizes
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016_photos"
down_revision = "0015_attachment_sizes"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
