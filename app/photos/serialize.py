"""A photo as the API shows it (SPEC.md §5): its URLs go through the authorising route."""

from __future__ import annotations

from flask import url_for


def photo_json(photo) -> dict:
    uploader = photo.uploaded_by
    return {
        "id": photo.id,
        "project": {"id": photo.project_id, "name": photo.project.name},
        "task_id": photo.task_id,
        "caption": photo.caption,
        "tags": list(photo.tags or []),
        "phase": photo.phase,
        "pair_id": photo.pair_id,
        "is_client_visible": photo.is_client_visible,
        "client_provided": photo.client_provided,
        "uploaded_by": {"id": uploader.id, "name": uploader.name} if uploader is not None else None,
        "content_type": photo.content_type,
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at.isoformat(),
        "url": url_for("photos.image", photo_id=photo.id, size="web", _external=True),
        "thumbnail_url": url_for("photos.image", photo_id=photo.id, size="thumb", _external=True),
        "version": photo.version,
    }
