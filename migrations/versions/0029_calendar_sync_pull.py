"""The way back of the CalDAV sync (issue 11): calendar_synced_items.sent (the text last
agreed with the server, which an edit made in the calendar app is compared against);
calendar_accounts.provider (caldav, icloud, google), import_project_id and import_since
(events created in the calendar app from then on come into that project); calendar_sync_conflicts (the losing version
of an item changed on both sides); one account a person a calendar. Downgrade drops them.

Revision ID: 0029_calendar_sync_pull
Revises: 0028_calendar_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_calendar_sync_pull"
down_revision = "0028_calendar_accounts"
branch_labels = None
depends_on = None


def upgrade():
    # (batch: SQLite, the embedded database, alters constraints by copying the table)
    with op.batch_alter_table("calendar_synced_items") as batch:
        batch.add_column(sa.Column("sent", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("calendar_accounts") as batch:
        batch.add_column(sa.Column("provider", sa.String(length=16), server_default="caldav", nullable=False))
        batch.add_column(sa.Column("import_project_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("import_since", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_calendar_accounts_import_project_id_projects"),
            "projects",
            ["import_project_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_unique_constraint("uq_calendar_accounts_calendar", ["user_id", "calendar_url"])
    op.create_table(
        "calendar_sync_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kept", sa.String(length=8), nullable=False),
        sa.Column("lost_summary", sa.Text(), nullable=False),
        sa.Column("lost_ics", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kept IN ('kibray', 'calendar')", name=op.f("ck_calendar_sync_conflicts_kept_valid")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["calendar_accounts.id"],
            name=op.f("fk_calendar_sync_conflicts_account_id_calendar_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_sync_conflicts")),
    )
    op.create_index(
        "ix_calendar_sync_conflicts_account", "calendar_sync_conflicts", ["account_id", "dismissed_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_calendar_sync_conflicts_account", table_name="calendar_sync_conflicts")
    op.drop_table("calendar_sync_conflicts")
    with op.batch_alter_table("calendar_accounts") as batch:
        batch.drop_constraint("uq_calendar_accounts_calendar", type_="unique")
        batch.drop_constraint(op.f("fk_calendar_accounts_import_project_id_projects"), type_="foreignkey")
        batch.drop_column("import_since")
        batch.drop_column("import_project_id")
        batch.drop_column("provider")
    with op.batch_alter_table("calendar_synced_items") as batch:
        batch.drop_column("sent")
