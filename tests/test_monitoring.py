"""Capacity alerts read the real PostgreSQL, Redis and RQ figures."""

from __future__ import annotations

from app.core import monitoring
from app.core.jobs import get_queue


def test_measure_reads_real_figures(app, db):
    figures = monitoring.measure()
    assert figures["db_connections"] >= 1
    assert set(figures["queues"]) == {"invoices", "sync", "notifications", "default"}
    assert monitoring.alerts(figures) == []


def test_a_backed_up_queue_raises_an_alert(app, db, monkeypatch, caplog):
    queue = get_queue("sync")
    monkeypatch.setattr(monitoring, "QUEUE_LENGTH_MAX", 2)
    for _ in range(3):
        queue.enqueue("workers.maintenance.purge_expired_tokens")
    found = monitoring.check()
    assert found == ["job queue 'sync' has 3 waiting jobs (> 2)"]
    assert "alert=capacity" in caplog.text
    result = app.test_cli_runner().invoke(args=["capacity-check"])
    assert result.exit_code == 1 and "ALERT: job queue 'sync'" in result.output


def test_thresholds_match_the_spec():
    assert monitoring.alerts({"db_connections": 81, "redis_memory_ratio": 0.91, "queues": {"default": 1001}}) == [
        "database connections 81 > 80",
        "Redis memory at 91% of its limit (> 90%)",
        "job queue 'default' has 1001 waiting jobs (> 1000)",
    ]
    assert monitoring.alerts({"db_connections": 80, "redis_memory_ratio": 0.9, "queues": {"default": 1000}}) == []
