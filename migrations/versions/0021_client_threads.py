"""client threads: a project's conversation with its client, as comments marked for_client

A boolean on comments, false for every existing one (they were internal). The client
reads and writes only the comments marked for_client of their own projects. Downgrade
drops the column (and with it which comments were the client's conversation).

Revision ID: 0021_client_threads
Revises: 0020_files
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_client_threads"
down_revision = "0020_files"
branch_labels = None
depends_on = None


def upgrade():
    # a constant default: PostgreSQL adds it without rewriting the table
    op.add_column("comments", sa.Column("for_client", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column("comments", "for_client")
