"""The reports' indexes (issue 13): the expenses that count as cost (`is_cost IS TRUE`,
as app/budgets/actuals.py asks) with what the reports sum, so the company's totals, the
monthly trend, WIP as of a day and a page of projects read the index alone (index-only
scans) rather than the table: by date, and by project then date.

Revision ID: 0035_report_indexes
Revises: 0034_money_out
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0035_report_indexes"
down_revision = "0034_money_out"
branch_labels = None
depends_on = None

COST = sa.text("is_cost IS TRUE")


def upgrade():
    op.create_index(
        "ix_expenses_cost_date",
        "expenses",
        ["expense_date"],
        postgresql_include=["project_id", "category", "amount"],
        postgresql_where=COST,
        sqlite_where=COST,
    )
    op.create_index(
        "ix_expenses_cost_project",
        "expenses",
        ["project_id", "expense_date"],
        postgresql_include=["category", "amount"],
        postgresql_where=COST,
        sqlite_where=COST,
    )


def downgrade():
    op.drop_index("ix_expenses_cost_project", table_name="expenses")
    op.drop_index("ix_expenses_cost_date", table_name="expenses")
