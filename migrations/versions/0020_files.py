"""files: project and client documents with versions, shared with the client or not

Revision ID: 0020_files
Revises: 0019_daily_logs
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0020_files"
down_revision = "0019_daily_logs"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
