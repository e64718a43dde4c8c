"""Housekeeping jobs (queue `default`)."""

from __future__ import annotations

from workers.base import job


@job
def purge_expired_tokens() -> int:
    """Delete API refresh tokens past their expiry. Idempotent."""
    from app.auth.tokens import purge_expired

    return purge_expired()
