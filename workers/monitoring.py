"""Capacity monitoring job (queue `default`), scheduled every minute."""

from __future__ import annotations

from workers.base import job


@job
def check_capacity() -> list[str]:
    from app.core.monitoring import check

    return check()
