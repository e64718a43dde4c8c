"""client records: contacts' roles, billing terms, the communication log, invitations

Revision ID: 0018_client_records
Revises: 0017_timeclock
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018_client_records"
down_revision = "0017_timeclock"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
