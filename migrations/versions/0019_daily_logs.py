"""daily logs: one per project and day, locked after the day

`daily_logs` holds a project's log of one company-time day (unique per project and
day: the one-log rule is the database's too), the weather as typed (conditions from a
fixed list, temperature °F and humidity % checked by range), the texts of the day, the
client-visible flag, the hand lock and how long an unlocking holds (`unlocked_until`).
`daily_log_crew` lists who was on site (both ends cascade). Downgrade drops both.

Revision ID: 0019_daily_logs
Revises: 0018_client_records
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_daily_logs"
down_revision = "0018_client_records"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "daily_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("work_done", sa.Text(), nullable=False),
        sa.Column("weather_conditions", sa.String(length=20), nullable=False),
        sa.Column("temperature_f", sa.Integer(), nullable=True),
        sa.Column("humidity", sa.Integer(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("materials_delivered", sa.Text(), nullable=False),
        sa.Column("visitors", sa.Text(), nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        sa.Column("is_client_visible", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("unlocked_until", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("humidity IS NULL OR humidity BETWEEN 0 AND 100", name=op.f("ck_daily_logs_humidity_range")),
        sa.CheckConstraint(
            "temperature_f IS NULL OR temperature_f BETWEEN -60 AND 140", name=op.f("ck_daily_logs_temperature_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_daily_logs_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_daily_logs_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_logs")),
        sa.UniqueConstraint("project_id", "date", name="uq_daily_logs_project_date"),
    )
    op.create_table(
        "daily_log_crew",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("daily_log_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["daily_log_id"],
            ["daily_logs.id"],
            name=op.f("fk_daily_log_crew_daily_log_id_daily_logs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_daily_log_crew_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_log_crew")),
        sa.UniqueConstraint("daily_log_id", "user_id", name="uq_daily_log_crew_log_user"),
    )
    with op.batch_alter_table("daily_log_crew", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_log_crew_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("daily_log_crew", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_log_crew_user_id"))
    op.drop_table("daily_log_crew")
    op.drop_table("daily_logs")
