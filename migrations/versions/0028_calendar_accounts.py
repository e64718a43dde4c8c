"""calendar_accounts (a person's CalDAV calendar, the app password encrypted) and
calendar_synced_items (what was last put there for each UID: href, ETag, digest) — issue
11's two-way sync. Downgrade drops both.

Revision ID: 0028_calendar_accounts
Revises: 0027_calendar_feeds
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_calendar_accounts"
down_revision = "0027_calendar_feeds"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password", sa.String(length=1000), nullable=False),
        sa.Column("calendar_url", sa.String(length=1000), nullable=False),
        sa.Column("calendar_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="ok", nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'syncing', 'failing')", name=op.f("ck_calendar_accounts_status_valid")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_accounts")),
    )
    op.create_index("ix_calendar_accounts_user", "calendar_accounts", ["user_id"], unique=False)
    op.create_table(
        "calendar_synced_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("href", sa.String(length=1000), nullable=False),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["calendar_accounts.id"],
            name=op.f("fk_calendar_synced_items_account_id_calendar_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_synced_items")),
        sa.UniqueConstraint("account_id", "uid", name="uq_calendar_synced_items_uid"),
    )


def downgrade():
    op.drop_table("calendar_synced_items")
    op.drop_index("ix_calendar_accounts_user", table_name="calendar_accounts")
    op.drop_table("calendar_accounts")
