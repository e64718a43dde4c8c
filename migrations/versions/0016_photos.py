"""photos: project, task and daily-log galleries, captions, tags, before/after pairs, client approval

One table. A photo belongs to a project (and optionally a task); its original and the
thumbnail and web copies a job makes are private objects under random keys. Internal
until an admin or PM approves it for the client; a deletion keeps the row (who, when).
The task photos of issue 8 (task_attachments of kind "photo"/"completion_photo") move
here, keys and all, so a task's photos and its project's gallery are one list; the
attachments table keeps other files. Downgrade moves them back.

Revision ID: 0016_photos
Revises: 0015_attachment_sizes
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_photos"
down_revision = "0015_attachment_sizes"
branch_labels = None
depends_on = None

PHOTO_KINDS = "('photo', 'completion_photo')"


def upgrade():
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("thumb_key", sa.String(length=300), nullable=True),
        sa.Column("web_key", sa.String(length=300), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("caption", sa.String(length=500), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=True),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("client_provided", sa.Boolean(), nullable=False),
        sa.Column("is_client_visible", sa.Boolean(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("phase IS NULL OR phase IN ('before', 'after')", name=op.f("ck_photos_phase_known")),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_photos_approved_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"], ["users.id"], name=op.f("fk_photos_deleted_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["photos.id"], name=op.f("fk_photos_pair_id_photos"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_photos_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_photos_task_id_tasks"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_photos_uploaded_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_photos_storage_key")),
    )
    op.create_index("ix_photos_project_created", "photos", ["project_id", "created_at"], unique=False)
    op.create_index("ix_photos_task", "photos", ["task_id"], unique=False)
    op.create_index(
        "ix_photos_pairs",
        "photos",
        ["project_id"],
        unique=False,
        postgresql_where=sa.text("pair_id IS NOT NULL"),
        sqlite_where=sa.text("pair_id IS NOT NULL"),
    )
    # issue 8's task photos join the galleries (approved for nobody: they were internal)
    op.execute(
        "INSERT INTO photos (project_id, task_id, storage_key, thumb_key, web_key, content_type, size, caption,"
        " tags, taken_on, uploaded_by_id, client_provided, is_client_visible, version, created_at, updated_at)"
        " SELECT t.project_id, a.task_id, a.storage_key, a.thumb_key, a.web_key, a.content_type, a.size, '',"
        " '[]', CAST(a.created_at AS DATE), a.uploaded_by_id, false, false, 1, a.created_at, a.created_at"
        " FROM task_attachments a JOIN tasks t ON t.id = a.task_id"
        f" WHERE a.kind IN {PHOTO_KINDS} AND a.content_type LIKE 'image/%'"
    )
    op.execute(f"DELETE FROM task_attachments WHERE kind IN {PHOTO_KINDS} AND content_type LIKE 'image/%'")


def downgrade():
    op.execute(
        "INSERT INTO task_attachments (task_id, storage_key, thumb_key, web_key, filename, content_type, size, kind,"
        " uploaded_by_id, created_at)"
        " SELECT task_id, storage_key, thumb_key, web_key, '', content_type, size, 'photo', uploaded_by_id, created_at"
        " FROM photos WHERE task_id IS NOT NULL AND deleted_at IS NULL"
    )
    op.drop_index("ix_photos_pairs", table_name="photos")
    op.drop_index("ix_photos_task", table_name="photos")
    op.drop_index("ix_photos_project_created", table_name="photos")
    op.drop_table("photos")
