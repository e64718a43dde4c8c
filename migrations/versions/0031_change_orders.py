"""Change orders (issue 12): change_orders (numbered CO-YYYY-NNNN, states draft →
pending_internal_approval → pending_client → approved | rejected, the client's typed
signature) and their cost lines; tasks.change_order_id becomes a foreign key. Downgrade
drops them.

Revision ID: 0031_change_orders
Revises: 0030_invoices
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_change_orders"
down_revision = "0030_invoices"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade():
    op.create_table(
        "change_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("schedule_impact_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("internal_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signature_name", sa.String(200), nullable=False),
        sa.Column("signature_ip", sa.String(64), nullable=False),
        sa.Column("signature_user_agent", sa.String(300), nullable=False),
        sa.Column("on_behalf_reason", sa.Text(), nullable=False),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("internal_comment", sa.Text(), nullable=False),
        sa.Column("put_to_client_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schedule_applied", sa.Boolean(), nullable=False),
        sa.Column(
            "is_client_visible",
            sa.Boolean(),
            sa.Computed(
                "status IN ('pending_client', 'approved') OR (status = 'rejected' AND put_to_client_at IS NOT NULL)",
                persisted=True,
            ),
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_internal_approval', 'pending_client', 'approved', 'rejected')",
            name=op.f("ck_change_orders_status_valid"),
        ),
        sa.CheckConstraint("schedule_impact_days BETWEEN -365 AND 365", name=op.f("ck_change_orders_impact_in_range")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_change_orders_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_change_orders_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["internal_approved_by_id"],
            ["users.id"],
            name=op.f("fk_change_orders_internal_approved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_change_orders_decided_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_change_orders_number")),
    )
    op.create_index("ix_change_orders_project_id", "change_orders", ["project_id"])
    op.create_index("ix_change_orders_project_status", "change_orders", ["project_id", "status"])
    op.create_table(
        "change_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
        sa.Column("unit_cost", MONEY, nullable=False),
        sa.Column("markup_pct", sa.Numeric(6, 3), nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("line_total", MONEY, nullable=False),
        sa.CheckConstraint("kind IN ('materials', 'labor', 'other')", name=op.f("ck_change_order_lines_kind_valid")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_change_order_lines_quantity_positive")),
        sa.CheckConstraint("markup_pct >= 0 AND markup_pct <= 100", name=op.f("ck_change_order_lines_markup_valid")),
        sa.ForeignKeyConstraint(
            ["change_order_id"],
            ["change_orders.id"],
            name=op.f("fk_change_order_lines_change_order_id_change_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_order_lines")),
    )
    op.create_index("ix_change_order_lines_change_order_id", "change_order_lines", ["change_order_id"])
    # The foreign key of tasks.change_order_id: on PostgreSQL. SQLite (the embedded app)
    # could only add it by copying the table, which would lose the tasks' expression index
    # (ix_tasks_project_last); the embedded database goes without it.
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(
            op.f("fk_tasks_change_order_id_change_orders"),
            "tasks",
            "change_orders",
            ["change_order_id"],
            ["id"],
            ondelete="SET NULL",
        )

def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_tasks_change_order_id_change_orders"), "tasks", type_="foreignkey")
    op.drop_index("ix_change_order_lines_change_order_id", table_name="change_order_lines")
    op.drop_table("change_order_lines")
    op.drop_index("ix_change_orders_project_status", table_name="change_orders")
    op.drop_index("ix_change_orders_project_id", table_name="change_orders")
    op.drop_table("change_orders")
