"""Estimates (issue 12): estimates (numbered EST-YYYY-NNNN, draft → sent → approved |
declined, the typed-name signature, the hashed review-link token, the project made on
approval), their lines (painted surfaces with hours and whole cans, prep and other
lines, optional items) and email deliveries; company_settings grows the estimate
defaults (labour rate, paint price, coverage, markup, validity, terms, production rates
per surface as JSON). Downgrade drops them.

Revision ID: 0032_estimates
Revises: 0031_change_orders
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_estimates"
down_revision = "0031_change_orders"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)
RATE = sa.Numeric(6, 3)
COMPANY_CHECKS = (
    ("estimate_prices_valid", "estimate_labor_rate >= 0 AND estimate_price_per_gallon >= 0"),
    ("estimate_coverage_positive", "estimate_coverage > 0"),
    ("estimate_markup_valid", "estimate_markup_pct >= 0 AND estimate_markup_pct <= 100"),
    ("estimate_valid_days_range", "estimate_valid_days BETWEEN 1 AND 365"),
)


def upgrade():
    with op.batch_alter_table("company_settings") as batch:
        batch.add_column(sa.Column("estimate_labor_rate", MONEY, server_default=sa.text("55.00"), nullable=False))
        batch.add_column(sa.Column("estimate_price_per_gallon", MONEY, server_default=sa.text("48.00"), nullable=False))
        batch.add_column(
            sa.Column("estimate_coverage", sa.Numeric(10, 2), server_default=sa.text("350.00"), nullable=False)
        )
        batch.add_column(sa.Column("estimate_markup_pct", RATE, server_default=sa.text("20"), nullable=False))
        batch.add_column(sa.Column("estimate_valid_days", sa.Integer(), server_default=sa.text("30"), nullable=False))
        batch.add_column(sa.Column("estimate_terms", sa.Text(), server_default=sa.text("''"), nullable=False))
        batch.add_column(sa.Column("production_rates", sa.JSON(), nullable=True))
        for name, condition in COMPANY_CHECKS:
            batch.create_check_constraint(op.f(f"ck_company_settings_{name}"), condition)
    op.create_table(
        "estimates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("zip", sa.String(20), nullable=False),
        sa.Column("markup_pct", RATE, nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("subtotal", MONEY, nullable=False),
        sa.Column("markup_amount", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("signature_name", sa.String(200), nullable=False),
        sa.Column("signature_ip", sa.String(64), nullable=False),
        sa.Column("signature_user_agent", sa.String(300), nullable=False),
        sa.Column("on_behalf_reason", sa.Text(), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("review_token_hash", sa.String(64), nullable=True),
        sa.Column("review_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_client_visible", sa.Boolean(), sa.Computed("status <> 'draft'", persisted=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'approved', 'declined')", name=op.f("ck_estimates_status_valid")
        ),
        sa.CheckConstraint("markup_pct >= 0 AND markup_pct <= 100", name=op.f("ck_estimates_markup_valid")),
        sa.CheckConstraint("total = subtotal + markup_amount", name=op.f("ck_estimates_total_is_sum")),
        sa.CheckConstraint(
            "status <> 'approved' OR approved_at IS NOT NULL", name=op.f("ck_estimates_approved_has_time")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_estimates_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_estimates_project_id_projects"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_estimates_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["users.id"], name=op.f("fk_estimates_sent_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_estimates_approved_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimates")),
        sa.UniqueConstraint("number", name=op.f("uq_estimates_number")),
        sa.UniqueConstraint("review_token_hash", name=op.f("uq_estimates_review_token_hash")),
    )
    op.create_index("ix_estimates_client_id", "estimates", ["client_id"])
    op.create_index("ix_estimates_project_id", "estimates", ["project_id"])
    op.create_index("ix_estimates_client_status", "estimates", ["client_id", "status"])
    op.create_table(
        "estimate_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estimate_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("surface", sa.String(10), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.Column("coats", sa.Integer(), nullable=True),
        sa.Column("production_rate", sa.Numeric(10, 2), nullable=True),
        sa.Column("labor_hours", sa.Numeric(9, 2), nullable=False),
        sa.Column("labor_rate", MONEY, nullable=True),
        sa.Column("labor_amount", MONEY, nullable=False),
        sa.Column("coverage", sa.Numeric(10, 2), nullable=True),
        sa.Column("material_gallons", sa.Integer(), nullable=False),
        sa.Column("price_per_gallon", MONEY, nullable=True),
        sa.Column("material_amount", MONEY, nullable=False),
        sa.Column("unit_price", MONEY, nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("is_optional", sa.Boolean(), nullable=False),
        sa.Column("is_selected", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "surface IN ('walls', 'ceilings', 'trim', 'doors', 'cabinets', 'siding', 'deck', 'prep', 'other')",
            name=op.f("ck_estimate_lines_surface_valid"),
        ),
        sa.CheckConstraint(
            "unit IN ('sq_ft', 'linear_ft', 'count', 'hours', 'each')", name=op.f("ck_estimate_lines_unit_valid")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_estimate_lines_quantity_positive")),
        sa.CheckConstraint("coats IS NULL OR coats BETWEEN 1 AND 10", name=op.f("ck_estimate_lines_coats_valid")),
        sa.CheckConstraint(
            "amount = labor_amount + material_amount OR unit_price IS NOT NULL",
            name=op.f("ck_estimate_lines_amount_is_sum"),
        ),
        sa.ForeignKeyConstraint(
            ["estimate_id"], ["estimates.id"], name=op.f("fk_estimate_lines_estimate_id_estimates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_lines")),
    )
    op.create_index("ix_estimate_lines_estimate_id", "estimate_lines", ["estimate_id"])
    op.create_table(
        "estimate_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estimate_id", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("recipient_email", sa.String(254), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'skipped')", name=op.f("ck_estimate_deliveries_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["estimate_id"],
            ["estimates.id"],
            name=op.f("fk_estimate_deliveries_estimate_id_estimates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_estimate_deliveries_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_deliveries")),
    )
    op.create_index("ix_estimate_deliveries_estimate_id", "estimate_deliveries", ["estimate_id"])


def downgrade():
    op.drop_index("ix_estimate_deliveries_estimate_id", table_name="estimate_deliveries")
    op.drop_table("estimate_deliveries")
    op.drop_index("ix_estimate_lines_estimate_id", table_name="estimate_lines")
    op.drop_table("estimate_lines")
    op.drop_index("ix_estimates_client_status", table_name="estimates")
    op.drop_index("ix_estimates_project_id", table_name="estimates")
    op.drop_index("ix_estimates_client_id", table_name="estimates")
    op.drop_table("estimates")
    with op.batch_alter_table("company_settings") as batch:
        for name, _condition in COMPANY_CHECKS:
            batch.drop_constraint(op.f(f"ck_company_settings_{name}"), type_="check")
        for column in (
            "production_rates",
            "estimate_terms",
            "estimate_valid_days",
            "estimate_markup_pct",
            "estimate_coverage",
            "estimate_price_per_gallon",
            "estimate_labor_rate",
        ):
            batch.drop_column(column)
