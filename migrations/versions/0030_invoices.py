"""Money in, part 1 (issue 12): company_settings (the details printed on invoices),
document_counters (EST/CO/INV numbers per kind and
year, core.numbering), projects.contract_value, invoices with their lines,
payments, stored PDFs and email deliveries (app/invoices). Downgrade drops them.

Revision ID: 0030_invoices
Revises: 0029_calendar_sync_pull
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_invoices"
down_revision = "0029_calendar_sync_pull"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)
RATE = sa.Numeric(6, 3)


def upgrade():
    op.create_table(
        "company_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("zip", sa.String(20), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("website", sa.String(200), nullable=False),
        sa.Column("default_tax_rate", RATE, server_default=sa.text("0"), nullable=False),
        sa.Column("payment_instructions", sa.Text(), nullable=False),
        sa.Column("logo_key", sa.String(255), nullable=True),
        sa.Column("logo_content_type", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_company_settings_single_row")),
        sa.CheckConstraint(
            "default_tax_rate >= 0 AND default_tax_rate <= 100", name=op.f("ck_company_settings_tax_rate_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_settings")),
    )
    op.create_table(
        "document_counters",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_value >= 0", name=op.f("ck_document_counters_last_value_not_negative")),
        sa.PrimaryKeyConstraint("kind", "year", name=op.f("pk_document_counters")),
    )
    # (a plain ADD COLUMN: batch mode would copy the table on SQLite and lose the projects'
    # expression index uq_projects_client_id_lower_name)
    op.add_column("projects", sa.Column("contract_value", MONEY, nullable=True))
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("invoice_type", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("tax_rate", RATE, server_default=sa.text("0"), nullable=False),
        sa.Column("subtotal", MONEY, server_default=sa.text("0"), nullable=False),
        sa.Column("tax_amount", MONEY, server_default=sa.text("0"), nullable=False),
        sa.Column("total_amount", MONEY, server_default=sa.text("0"), nullable=False),
        sa.Column("retention_amount", MONEY, server_default=sa.text("0"), nullable=False),
        sa.Column("amount_paid", MONEY, server_default=sa.text("0"), nullable=False),
        sa.Column("payment_terms", sa.String(20), nullable=False),
        sa.Column("client_message", sa.Text(), nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        sa.Column("is_draft_for_review", sa.Boolean(), nullable=False),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("reminder_stage", sa.String(12), server_default=sa.text("''"), nullable=False),
        sa.Column("is_client_visible", sa.Boolean(), sa.Computed("status <> 'DRAFT'", persisted=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("invoice_type IN ('standard', 'deposit', 'final')", name=op.f("ck_invoices_type_valid")),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'SENT', 'PAID', 'OVERDUE', 'CANCELLED')", name=op.f("ck_invoices_status_valid")
        ),
        sa.CheckConstraint("due_date >= issue_date", name=op.f("ck_invoices_due_after_issue")),
        sa.CheckConstraint("total_amount = subtotal + tax_amount", name=op.f("ck_invoices_total_is_sum")),
        sa.CheckConstraint(
            "retention_amount >= 0 AND retention_amount <= total_amount", name=op.f("ck_invoices_retention_in_total")
        ),
        sa.CheckConstraint(
            "amount_paid >= 0 AND amount_paid <= total_amount - retention_amount", name=op.f("ck_invoices_paid_in_owed")
        ),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name=op.f("ck_invoices_tax_rate_valid")),
        sa.CheckConstraint("status = 'DRAFT' OR number IS NOT NULL", name=op.f("ck_invoices_issued_has_number")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_invoices_project_id_projects"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_invoices_client_id_clients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_invoices_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    op.create_index("ix_invoices_project_id", "invoices", ["project_id"])
    op.create_index("ix_invoices_client_id", "invoices", ["client_id"])
    op.create_index("ix_invoices_project_status", "invoices", ["project_id", "status"])
    op.create_index("ix_invoices_status_due", "invoices", ["status", "due_date"])
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("tax_rate", RATE, nullable=False),
        sa.Column("line_total", MONEY, nullable=False),
        sa.Column("source", sa.String(16), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_invoice_lines_quantity_positive")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name=op.f("ck_invoice_lines_tax_rate_valid")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    op.create_index("ix_invoice_lines_invoice_id", "invoice_lines", ["invoice_id"])
    op.create_index("ix_invoice_lines_source", "invoice_lines", ["source", "source_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("method IN ('check', 'ach', 'card', 'cash')", name=op.f("ck_payments_method_valid")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_payments_recorded_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["users.id"], name=op.f("fk_payments_voided_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index("ix_payments_invoice_id", "payments", ["invoice_id"])
    op.create_table(
        "invoice_pdfs",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("invoice_version", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_pdfs_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice_pdfs")),
    )
    op.create_table(
        "invoice_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(40), nullable=True),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("recipient_email", sa.String(254), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f("ck_invoice_deliveries_status_valid")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_deliveries_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_invoice_deliveries_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_deliveries")),
    )
    op.create_index("ix_invoice_deliveries_invoice_id", "invoice_deliveries", ["invoice_id"])
    op.create_index("ix_invoice_deliveries_batch_id", "invoice_deliveries", ["batch_id"])


def downgrade():
    op.drop_index("ix_invoice_deliveries_batch_id", table_name="invoice_deliveries")
    op.drop_index("ix_invoice_deliveries_invoice_id", table_name="invoice_deliveries")
    op.drop_table("invoice_deliveries")
    op.drop_table("invoice_pdfs")
    op.drop_index("ix_payments_invoice_id", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_invoice_lines_source", table_name="invoice_lines")
    op.drop_index("ix_invoice_lines_invoice_id", table_name="invoice_lines")
    op.drop_table("invoice_lines")
    op.drop_index("ix_invoices_status_due", table_name="invoices")
    op.drop_index("ix_invoices_project_status", table_name="invoices")
    op.drop_index("ix_invoices_client_id", table_name="invoices")
    op.drop_index("ix_invoices_project_id", table_name="invoices")
    op.drop_table("invoices")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("projects") as batch:
            batch.drop_column("contract_value")
    else:
        op.drop_column("projects", "contract_value")
    op.drop_table("document_counters")
    op.drop_table("company_settings")
