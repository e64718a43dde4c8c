"""First checks that the skeleton stands up on the real services."""

from tests.factories import make_project


def test_health_all_green(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "healthy"
    assert body["checks"] == {"database": True, "redis": True, "storage": True, "migrations": True}
    assert "T" in body["timestamp"]


def test_pm_sees_assigned_project_only(client, login_as, db):
    pm = login_as("project_manager_full")
    mine = make_project(members=[pm], name="Mine")
    make_project(name="Not mine")
    response = client.get("/projects")
    assert response.status_code == 200
    assert "Mine" in response.text
    assert "Not mine" not in response.text
    assert f'id="project-row-{mine.id}"' in response.text
