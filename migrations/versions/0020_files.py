"""files: project and client documents with versions, shared with the client or not

`documents`: one row per document name in one place — a project or a client company,
exactly one (CHECK one_place) — with its category (CHECK category_known), whether the
client sees it, the number of its latest version, and a soft delete (who, when): a
deleted document keeps its row for the record and frees its name (the unique indexes on
the case-folded name are partial, over live documents only). `document_versions`: one
immutable row per upload (number unique per document; the storage key, random, unique;
type, size, who, whether the client sent it). New tables only: nothing existing changes.
Downgrade drops both (their objects in storage are not touched).

Revision ID: 0020_files
Revises: 0019_daily_logs
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_files"
down_revision = "0019_daily_logs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=20), server_default="other", nullable=False),
        sa.Column("is_client_visible", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("latest_number", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(project_id IS NULL) <> (client_id IS NULL)", name=op.f("ck_documents_one_place")),
        sa.CheckConstraint(
            "category IN ('contract', 'permit', 'spec_sheet', 'colour_schedule', 'other')",
            name=op.f("ck_documents_category_known"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_documents_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"], ["users.id"], name=op.f("fk_documents_deleted_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_documents_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    live = sa.text("deleted_at IS NULL")
    op.create_index(
        "uq_documents_project_name",
        "documents",
        ["project_id", "name_key"],
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )
    op.create_index(
        "uq_documents_client_name",
        "documents",
        ["client_id", "name_key"],
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("client_provided", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_document_versions_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint("document_id", "number", name="uq_document_versions_number"),
        sa.UniqueConstraint("storage_key", name=op.f("uq_document_versions_storage_key")),
    )


def downgrade():
    op.drop_table("document_versions")
    op.drop_index("uq_documents_client_name", table_name="documents")
    op.drop_index("uq_documents_project_name", table_name="documents")
    op.drop_table("documents")
