"""Estimate jobs (queue `invoices`): an estimate's review link emailed with its PDF
(app/estimates/delivery.py)."""

from __future__ import annotations

from workers.base import job, retries_left


@job
def deliver(delivery_id: int, sealed: str) -> str:
    """Draw the estimate's PDF, email it with the review link, record it; never twice."""
    from app.estimates.delivery import deliver as run

    return run(delivery_id, sealed, retries_left())
