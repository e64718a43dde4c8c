"""`python -m workers`: an RQ worker with the scheduler, serving every queue.

Builds the app once at start (not at import), schedules the periodic jobs, then works.
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

from rq import Worker

from app.core.jobs import QUEUES, get_queue
from app.extensions import redis_store
from workers.base import job_app

log = logging.getLogger("workers")

PERIODIC = {
    # job id: (function path, every)
    "periodic:purge-expired-tokens": ("workers.maintenance.purge_expired_tokens", timedelta(hours=6)),
    "periodic:check-capacity": ("workers.monitoring.check_capacity", timedelta(minutes=1)),
}


def schedule_periodic() -> None:
    """Queue each periodic job once; every run re-queues itself through rq's Repeat."""
    from rq import Repeat
    from rq.job import Job
    from rq.exceptions import NoSuchJobError

    queue = get_queue("default")
    for job_id, (path, every) in PERIODIC.items():
        try:
            Job.fetch(job_id, connection=queue.connection)
            continue
        except NoSuchJobError:
            pass
        queue.enqueue_in(every, path, job_id=job_id, repeat=Repeat(times=10000, interval=int(every.total_seconds())))


def main() -> int:
    app = job_app()
    if app.config["EMBEDDED"]:
        print("REDIS_URL is not set: the embedded app runs jobs in-process; no worker is needed.", file=sys.stderr)
        return 2
    with app.app_context():
        schedule_periodic()
        queues = [get_queue(name) for name in QUEUES]
        worker = Worker(queues, connection=redis_store.client)
        worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
