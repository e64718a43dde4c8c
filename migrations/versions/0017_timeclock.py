"""time clock: punches with breaks and locations, weekly timesheets and their approval

Three new tables (issue 9, app/timeclock): `timesheet_approvals` (a person's week on a
project approved: who and when, the hours approved), `punches` (clock in/out against a
project and optionally a task, with an optional location; one open punch per person,
a partial unique index) and `punch_breaks` (one running break per punch). New tables
only: nothing existing is rewritten. Downgrade drops the three.

Revision ID: 0017_timeclock
Revises: 0016_photos
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_timeclock"
down_revision = "0016_photos"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "timesheet_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["users.id"],
            name=op.f("fk_timesheet_approvals_approved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_timesheet_approvals_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_timesheet_approvals_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timesheet_approvals")),
        sa.UniqueConstraint("user_id", "project_id", "week_start", name="uq_timesheet_approvals_user_project_week"),
    )
    op.create_index("ix_timesheet_approvals_project_week", "timesheet_approvals", ["project_id", "week_start"])

    op.create_table(
        "punches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("clock_in", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clock_out", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("accuracy_m", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("auto_closed", sa.Boolean(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("corrected_by_id", sa.Integer(), nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("clock_out IS NULL OR clock_out >= clock_in", name=op.f("ck_punches_times_ordered")),
        sa.CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name=op.f("ck_punches_latitude_range")),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name=op.f("ck_punches_longitude_range")
        ),
        sa.CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name=op.f("ck_punches_accuracy_positive")),
        sa.CheckConstraint("hours IS NULL OR hours >= 0", name=op.f("ck_punches_hours_positive")),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["timesheet_approvals.id"],
            name=op.f("fk_punches_approval_id_timesheet_approvals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["corrected_by_id"], ["users.id"], name=op.f("fk_punches_corrected_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_punches_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_punches_task_id_tasks"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_punches_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_punches")),
    )
    op.create_index(
        "uq_punches_open_user", "punches", ["user_id"], unique=True, postgresql_where=sa.text("clock_out IS NULL")
    )
    op.create_index("ix_punches_user_clock_in", "punches", ["user_id", "clock_in"])
    op.create_index("ix_punches_project_clock_in", "punches", ["project_id", "clock_in"])
    op.create_index("ix_punches_task", "punches", ["task_id"])
    op.create_index("ix_punches_approval", "punches", ["approval_id"])

    op.create_table(
        "punch_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("punch_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('"end" IS NULL OR "end" >= start', name=op.f("ck_punch_breaks_times_ordered")),
        sa.ForeignKeyConstraint(
            ["punch_id"], ["punches.id"], name=op.f("fk_punch_breaks_punch_id_punches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_punch_breaks")),
    )
    op.create_index(
        "uq_punch_breaks_open", "punch_breaks", ["punch_id"], unique=True, postgresql_where=sa.text('"end" IS NULL')
    )
    op.create_index("ix_punch_breaks_punch", "punch_breaks", ["punch_id"])


def downgrade():
    op.drop_table("punch_breaks")
    op.drop_table("punches")
    op.drop_table("timesheet_approvals")
