"""Versions for the budget (issue 13): `budget_versions`, one row per project whose
budget lines were saved — the one version of its set of lines (a project without a row
is at version 1; app/budgets/services.save_lines bumps it) — and `cost_rates.version`
(a cost rate becomes Versioned: an edit or delete based on an older version is refused).
Plain create_table / add_column (SQLite-safe, no batch mode).

Revision ID: 0036_budget_rate_versions
Revises: 0035_report_indexes
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0036_budget_rate_versions"
down_revision = "0035_report_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "budget_versions",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_budget_versions_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_budget_versions")),
    )
    op.add_column("cost_rates", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))


def downgrade():
    op.drop_column("cost_rates", "version")
    op.drop_table("budget_versions")
