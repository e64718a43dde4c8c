"""Time clock jobs: close the punches people forgot to clock out of (hourly; each punch is
closed once it has been open 14 hours, so "nightly" for a day's work)."""

from __future__ import annotations

from workers.base import job


@job
def close_forgotten() -> int:
    """Close punches open longer than 14 hours, flag them for review, tell the people."""
    from app.timeclock.services import close_forgotten as close

    return close()
