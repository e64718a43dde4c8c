"""`flask create-user`, `flask seed-demo` and `flask capacity-check` — the contracts
scripts depend on."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.passwords import verify_password
from app.clients.models import Client
from app.projects.models import Project


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_user(app, db):
    result = run(
        app,
        "create-user",
        "maria",
        "--role",
        "superintendent",
        "--email",
        "maria@kibray.example",
        "--password",
        "Ladder#2026",
    )
    assert result.exit_code == 0, result.output
    assert "Created user maria (superintendent)" in result.output
    user = db.session.scalar(select(User).where(User.username == "maria"))
    assert user.role == "superintendent" and verify_password(user.password_hash, "Ladder#2026")


def test_create_user_errors_are_clear_and_write_nothing(app, db):
    before = db.session.scalar(select(func.count()).select_from(User))
    weak = run(app, "create-user", "weak", "--role", "employee", "--email", "w@x.example", "--password", "short")
    assert weak.exit_code != 0 and "Password needs" in weak.output
    bad_role = run(app, "create-user", "r", "--role", "boss", "--email", "r@x.example", "--password", "Ladder#2026")
    assert bad_role.exit_code != 0 and "--role must be one of" in bad_role.output
    assert (
        run(
            app, "create-user", "dup", "--role", "employee", "--email", "d@x.example", "--password", "Ladder#2026"
        ).exit_code
        == 0
    )
    again = run(app, "create-user", "dup", "--role", "employee", "--email", "d2@x.example", "--password", "Ladder#2026")
    assert again.exit_code != 0 and "already taken" in again.output
    no_company = run(
        app, "create-user", "cl", "--role", "client", "--email", "cl@x.example", "--password", "Ladder#2026"
    )
    assert no_company.exit_code != 0 and "--client" in no_company.output
    assert db.session.scalar(select(func.count()).select_from(User)) == before + 1


def test_create_client_user_links_or_creates_the_company(app, db):
    first = run(
        app,
        "create-user",
        "carla",
        "--role",
        "client",
        "--email",
        "carla@h.example",
        "--password",
        "Ladder#2026",
        "--client",
        "Hughes Residence",
    )
    second = run(
        app,
        "create-user",
        "carl",
        "--role",
        "client",
        "--email",
        "carl@h.example",
        "--password",
        "Ladder#2026",
        "--client",
        "Hughes Residence",
    )
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    companies = db.session.scalars(select(Client).where(Client.name == "Hughes Residence")).all()
    assert len(companies) == 1
    users = db.session.scalars(select(User).where(User.username.in_(["carla", "carl"]))).all()
    assert {u.client_id for u in users} == {companies[0].id}


def test_seed_demo_and_scale(app, db):
    result = run(app, "seed-demo", "--scale", "2")
    assert result.exit_code == 0, result.output
    for username in ("admin", "pm", "trainee", "designer", "super", "employee", "client"):
        assert username in result.output
    statuses = set(db.session.scalars(select(Project.status)))
    assert statuses == {"created", "active", "closed"}
    # six demo jobs, 20 a scale step, and the 300-task tower repaint the Gantt is timed on
    assert db.session.scalar(select(func.count()).select_from(Project)) == 6 + 40 + 1
    from app.calendar.models import CalendarEvent

    assert db.session.scalar(select(func.count()).select_from(CalendarEvent)) == 5 + 400
    assert db.session.scalar(select(func.count()).select_from(Client)) == 3 + 4
    again = run(app, "seed-demo")
    assert again.exit_code == 0 and "already present" in again.output


def test_capacity_check_is_the_health_features_command(app, db):
    """Declared by the health feature, beside its periodic job of the same check."""
    from app.health import feature

    assert [command.name for command in feature.commands] == ["capacity-check"]
    with app.app_context():
        assert app.cli.get_command(None, "capacity-check") is feature.commands[0]
    result = run(app, "capacity-check")
    assert result.exit_code == 0, result.output
    assert "database connections:" in result.output and "queue default: 0" in result.output
