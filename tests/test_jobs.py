"""Background jobs: enqueued only after the commit, run by a real RQ worker on Redis."""

from __future__ import annotations

import time
from datetime import timedelta

from rq import SimpleWorker
from sqlalchemy import func, select

from app.auth.models import RefreshToken
from app.core.jobs import enqueue, get_queue
from app.core.models import utcnow
from tests.factories import make_user
from workers.maintenance import purge_expired_tokens


def _tokens(db, user, expired: int, live: int):
    now = utcnow()
    for i in range(expired + live):
        db.session.add(
            RefreshToken(
                jti=f"{user.id}-{i}",
                family="f",
                user_id=user.id,
                expires_at=now + timedelta(days=-1 if i < expired else 1),
            )
        )
    db.session.flush()


def _count(db):
    return db.session.scalar(select(func.count()).select_from(RefreshToken))


def test_job_is_queued_only_after_commit(app, db):
    queue = get_queue("default")
    with app.test_request_context():
        enqueue(purge_expired_tokens)
        assert queue.count == 0  # nothing leaves before the commit
        db.session.rollback()
    assert queue.count == 0  # …and nothing at all after a rollback
    with app.test_request_context():
        enqueue(purge_expired_tokens)
        db.session.commit()
    assert queue.count == 1


def test_worker_runs_the_job_against_the_database(app, db):
    user = make_user("employee")
    _tokens(db, user, expired=3, live=2)
    with app.test_request_context():
        enqueue(purge_expired_tokens)
        db.session.commit()
    queue = get_queue("default")
    worker = SimpleWorker([queue], connection=queue.connection)
    assert worker.work(burst=True)
    job = queue.finished_job_registry.get_job_ids()
    assert len(job) == 1
    assert _count(db) == 2


def test_failed_job_is_recorded_for_admins(app, db):
    queue = get_queue("default")
    job = queue.enqueue("workers.maintenance.no_such_job")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert job.id in queue.failed_job_registry.get_job_ids()


def test_embedded_mode_runs_jobs_in_process_after_commit(tmp_path):
    """No DATABASE_URL / REDIS_URL: SQLite, the in-process Redis stand-in, inline jobs."""
    from flask_migrate import upgrade

    from app import create_app
    from app.core.migrations import init_migrate
    from app.extensions import db as embedded_db

    app = create_app(
        {
            "DATABASE_URL": None,
            "REDIS_URL": None,
            "EMBEDDED": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/embedded.db",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "REDIS_KEY_PREFIX": "kibray-embedded-test",
        },
        env_name="test",
    )
    init_migrate(app)  # flask_migrate.upgrade() below needs it (app/core/migrations.py)
    with app.app_context():
        upgrade()
        assert app.test_client().get("/health/").json["status"] == "healthy"
        user = make_user("employee")
        _tokens(embedded_db, user, expired=2, live=1)
        embedded_db.session.commit()
        with app.test_request_context():
            enqueue(purge_expired_tokens)
            embedded_db.session.commit()
        deadline = time.time() + 5
        while _count(embedded_db) != 1 and time.time() < deadline:
            time.sleep(0.05)
            embedded_db.session.rollback()
        assert _count(embedded_db) == 1
        embedded_db.session.remove()
        embedded_db.engine.dispose()


def test_periodic_jobs_schedule_each_slot_once_and_reschedule_themselves(app, db):
    from workers.periodic import schedule_all, schedule_next

    queue = get_queue("default")
    first = schedule_all(queue)
    assert schedule_all(queue) == first  # a second worker starting adds nothing
    assert sorted(queue.scheduled_job_registry.get_job_ids()) == sorted(first)
    # Run one tick now (as the scheduler would when its time comes).
    job = queue.enqueue("workers.periodic.tick", "operations-alerts")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert job.id in queue.finished_job_registry.get_job_ids()
    assert schedule_next(queue, "operations-alerts") in queue.scheduled_job_registry.get_job_ids()


def test_a_periodic_job_a_previous_release_scheduled_ends_quietly(app, db):
    """After a deploy that retires a periodic job (check-capacity became operations-alerts),
    its already-scheduled tick finishes without error and is not scheduled again; the
    jobs this release knows get their next slots all the same (a worker of another
    release picking up a tick must not end their chains)."""
    from workers.periodic import periodic_jobs, schedule_next

    queue = get_queue("default")
    assert queue.scheduled_job_registry.get_job_ids() == []  # each test starts without rq's keys
    job = queue.enqueue("workers.periodic.tick", "check-capacity-retired")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert job.id in queue.finished_job_registry.get_job_ids()
    scheduled = set(queue.scheduled_job_registry.get_job_ids())
    assert not any("check-capacity-retired" in job_id for job_id in scheduled)
    assert scheduled == {schedule_next(queue, name) for name in periodic_jobs()}  # nothing added by this
