"""Health endpoints exactly as SPEC.md §4: 200 when every check passes, 503 otherwise."""

from __future__ import annotations

from sqlalchemy import text

from app import create_app


def test_single_checks(client):
    for path, name in (("/api/health/db/", "database"), ("/api/health/redis/", "redis")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json["checks"] == {name: True}
        assert response.json["status"] == "healthy"


def test_unapplied_migrations_make_it_unhealthy(client, db):
    db.session.execute(text("UPDATE alembic_version SET version_num = 'not_the_head'"))
    db.session.flush()
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json["status"] == "unhealthy"
    assert response.json["checks"]["migrations"] is False
    assert response.json["checks"]["database"] is True


def test_redis_and_storage_outage_is_reported(app, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the media folder should be")
    broken = create_app(
        {"REDIS_URL": "redis://127.0.0.1:1/0", "MEDIA_ROOT": str(blocked / "media"), "EMBEDDED": False}, env_name="test"
    )
    web = broken.test_client()
    response = web.get("/health/")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["redis"] is False and checks["storage"] is False and checks["database"] is True
    assert web.get("/api/health/redis/").status_code == 503
    assert web.get("/api/health/db/").status_code == 200
    with broken.app_context():
        from app.extensions import db

        db.engine.dispose()  # close this app's own pool now, not at garbage collection


def test_storage_and_migrations_are_remembered_only_while_they_pass(monkeypatch, tmp_path):
    """The probe writes to storage at most once per HEALTH_CACHE_SECONDS, and a failure
    is never remembered: the next probe checks again."""
    from app.core import storage

    probe_app = create_app({"HEALTH_CACHE_SECONDS": 60, "MEDIA_ROOT": str(tmp_path / "media")}, env_name="test")
    writes = []
    real_save = storage.save
    monkeypatch.setattr(storage, "save", lambda *a, **k: writes.append(a[0]) or real_save(*a, **k))
    web = probe_app.test_client()
    for _ in range(5):
        assert web.get("/health/").status_code == 200
    assert len(writes) == 1
    # storage breaks: the remembered pass hides it until it expires …
    probe_app.extensions["kibray.health"]["storage"] = 0.0  # expired
    monkeypatch.setattr(storage, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    assert web.get("/health/").json["checks"]["storage"] is False
    assert web.get("/health/").json["checks"]["storage"] is False  # not remembered: checked again
    monkeypatch.setattr(storage, "save", real_save)
    assert web.get("/health/").json["checks"]["storage"] is True
    with probe_app.app_context():
        from app.extensions import db

        db.engine.dispose()
