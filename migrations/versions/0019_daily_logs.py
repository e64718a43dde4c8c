"""daily logs: one per project and day, locked after the day

Revision ID: 0019_daily_logs
Revises: 0018_client_records
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0019_daily_logs"
down_revision = "0018_client_records"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
