"""calendar_feeds: a person's secret subscription URLs (their schedule, or one project's
as they may see it), the token kept as its SHA-256 for lookups and encrypted for its
owner (issue 11). Downgrade drops the table.

Revision ID: 0027_calendar_feeds
Revises: 0026_schedule_conflicts_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_calendar_feeds"
down_revision = "0026_schedule_conflicts_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_calendar_feeds_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index(
        "uq_calendar_feeds_mine",
        "calendar_feeds",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("project_id IS NULL"),
        sqlite_where=sa.text("project_id IS NULL"),
    )
    op.create_index(
        "uq_calendar_feeds_project",
        "calendar_feeds",
        ["user_id", "project_id"],
        unique=True,
        postgresql_where=sa.text("project_id IS NOT NULL"),
        sqlite_where=sa.text("project_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("uq_calendar_feeds_project", table_name="calendar_feeds")
    op.drop_index("uq_calendar_feeds_mine", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
