"""`python -m workers`: an RQ worker with the scheduler, serving every queue.

Builds the app once at start (not at import), schedules the periodic jobs (see
workers/periodic.py), then works.
"""

from __future__ import annotations

import gc
import logging
import sys

from rq import Worker

from app.core.jobs import QUEUES, get_queue
from app.extensions import redis_store
from workers.base import job_app
from workers.periodic import schedule_all

log = logging.getLogger("workers")


def main() -> int:
    app = job_app()
    # What start-up built is moved out of the collector's view before work-horses are forked
    # (as gunicorn.conf.py does for the web workers): a job's full collections walk only its
    # own garbage — an invoice's PDF p95 239 → 129 ms in `make bench-invoices --gc-freeze`.
    gc.collect()
    gc.freeze()
    if app.config["EMBEDDED"]:
        print("REDIS_URL is not set: the embedded app runs jobs in-process; no worker is needed.", file=sys.stderr)
        return 2
    with app.app_context():
        schedule_all(get_queue("default"))
        queues = [get_queue(name) for name in QUEUES]
        worker = Worker(queues, connection=redis_store.client)
        worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
