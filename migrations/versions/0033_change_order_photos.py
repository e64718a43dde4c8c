"""Change order photos (issue 12): a project photo shown with a change order and the
drawing made over it in the browser, kept as a separate layer; invoice_pdfs.fingerprint
(what a stored PDF shows, so a change of the company's details makes it stale too).
Downgrade drops them.

Revision ID: 0033_change_order_photos
Revises: 0032_estimates
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_change_order_photos"
down_revision = "0032_estimates"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "change_order_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_order_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("annotation_key", sa.String(300), nullable=True),
        sa.Column("annotated_by_id", sa.Integer(), nullable=True),
        sa.Column("annotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_order_id"],
            ["change_orders.id"],
            name=op.f("fk_change_order_photos_change_order_id_change_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_change_order_photos_photo_id_photos"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["annotated_by_id"],
            ["users.id"],
            name=op.f("fk_change_order_photos_annotated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_order_photos")),
        sa.UniqueConstraint("change_order_id", "photo_id", name=op.f("uq_change_order_photos_change_order_id")),
    )
    op.create_index("ix_change_order_photos_change_order_id", "change_order_photos", ["change_order_id"])
    op.create_index("ix_change_order_photos_photo_id", "change_order_photos", ["photo_id"])
    # (a plain ADD COLUMN: batch mode would reflect, through the foreign keys, tables whose
    # expression indexes SQLite's copy would lose)
    op.add_column("invoice_pdfs", sa.Column("fingerprint", sa.String(64), server_default=sa.text("''"), nullable=False))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("invoice_pdfs") as batch:
            batch.drop_column("fingerprint")
    else:
        op.drop_column("invoice_pdfs", "fingerprint")
    op.drop_index("ix_change_order_photos_photo_id", table_name="change_order_photos")
    op.drop_index("ix_change_order_photos_change_order_id", table_name="change_order_photos")
    op.drop_table("change_order_photos")
