"""Budget alerts (app/budgets/alerts.py): the project's PMs are told at 90 % and 100 % of
a line and of the project's budget, once per line and threshold — whatever moved the
cost (an expense, an approved week, a rate, the lines), and when two transactions check
at the same moment."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D

from sqlalchemy import delete, select

from app.budgets.alerts import check_projects
from app.budgets.models import BudgetAlert
from app.extensions import db as _db
from app.notifications.models import Notification
from tests.factories import make_budget_line, make_cost_rate, make_expense, make_project, make_punch, make_user


def told(project):
    return [
        (n.user_id, n.title)
        for n in _db.session.scalars(
            select(Notification).where(Notification.kind == "budget_alert", Notification.project_id == project.id)
            .order_by(Notification.id)
        )
    ]  # fmt: skip


def test_each_threshold_is_told_once_to_the_projects_pms(db):
    pm, trainee, painter, other_pm = (make_user(r) for r in ("project_manager_full", "pm_trainee", "employee",
                                                             "project_manager_full"))  # fmt: skip
    project = make_project(members=(pm, trainee, painter), budget=D("100000.00"), name="Hughes deck")
    make_project(members=(other_pm,))
    line = make_budget_line(project, name="Paint", code="02", category="MATERIALS", amount="1000.00")
    make_expense(project, amount="899.99", category="MATERIALS")
    assert check_projects([project.id]) == 0
    make_expense(project, amount="0.01", category="MATERIALS")  # exactly 90 %
    assert check_projects([project.id]) == 2
    assert told(project) == [
        (pm.id, "Hughes deck: the line 02 Paint has used 90.0 % of its budget"),
        (trainee.id, "Hughes deck: the line 02 Paint has used 90.0 % of its budget"),
    ]
    assert check_projects([project.id]) == 0  # told once
    make_expense(project, amount="50.00", category="MATERIALS")
    assert check_projects([project.id]) == 0  # 95 %: nothing new
    make_expense(project, amount="100.00", category="MATERIALS")
    assert check_projects([project.id]) == 2
    assert told(project)[-1] == (trainee.id, "Hughes deck: the line 02 Paint is over budget (105.0 % used)")
    rows = _db.session.execute(select(BudgetAlert.subject, BudgetAlert.threshold)).all()
    assert sorted(rows) == [(f"line:{line.id}", 90), (f"line:{line.id}", 100)]
    body = _db.session.scalars(select(Notification.body).where(Notification.kind == "budget_alert")).first()
    assert body == "Cost to date 900.00 of a budget of 1,000.00. The budget page shows each line and the forecast."


def test_jumping_past_both_thresholds_writes_both_and_tells_the_higher_once(db):
    pm = make_user("project_manager_full")
    project = make_project(members=(pm,), budget=D("500.00"), name="Birch fence")
    make_expense(project, amount="750.00", category="TOOLS")
    assert check_projects([project.id]) == 1
    assert told(project) == [(pm.id, "Birch fence: the project is over budget (150.0 % used)")]
    assert _db.session.scalars(select(BudgetAlert.threshold).order_by(BudgetAlert.threshold)).all() == [90, 100]


def test_an_expense_saved_through_its_service_checks_the_alerts(db):
    from app.expenses import services as expenses

    pm, admin = make_user("project_manager_full"), make_user("admin")
    project = make_project(members=(pm,), budget=D("100.00"))
    expenses.create_expense(
        admin, project, {"category": "PERMITS", "amount": "95.00", "expense_date": "2026-03-02", "vendor": "City"}
    )
    assert [uid for uid, _ in told(project)] == [pm.id]


def test_an_approved_week_checks_the_alerts_and_its_withdrawal_does_not_re_arm_them(db):
    from app.timeclock import services as timeclock

    pm, painter, admin = make_user("project_manager_full"), make_user("employee"), make_user("admin")
    project = make_project(members=(pm, painter), budget=D("1000.00"))
    make_cost_rate(painter, "120.00", dt.date(2026, 1, 5))
    make_punch(painter, project, hours=8)  # Monday 2026-03-02: 960.00
    timeclock.approve(admin, painter.id, project.id, "2026-03-02")
    assert [title for _, title in told(project)] == [f"{project.name}: the project has used 96.0 % of its budget"]
    timeclock.unapprove(admin, painter.id, project.id, "2026-03-02", "Wrong project")
    timeclock.approve(admin, painter.id, project.id, "2026-03-02")
    assert len(told(project)) == 1


def test_a_new_rate_checks_the_projects_it_costs(db, client, login_as):
    from app.timeclock.models import TimesheetApproval

    pm, painter = make_user("project_manager_full"), make_user("employee")
    project = make_project(members=(pm, painter), budget=D("1000.00"))
    db.session.add(TimesheetApproval(user_id=painter.id, project_id=project.id, week_start=dt.date(2026, 3, 2),
                                     hours=D("40")))  # fmt: skip
    db.session.flush()
    assert check_projects([project.id]) == 0  # no rate: 0.00
    login_as("admin")
    form = {"user_id": str(painter.id), "hourly_cost": "25.00", "effective_from": "2026-03-02"}
    assert client.post("/admin/cost-rates", data=form).status_code == 303
    assert [title for _, title in told(project)] == [f"{project.name}: the project has used 100.0 % of its budget"]


def test_two_checks_at_the_same_moment_tell_once(app):
    """Committed data; two threads check the same project at once (each its own
    connection): the unique index lets one insert the rows, the other gets nothing."""
    with app.app_context():
        pm = make_user("project_manager_full")
        project = make_project(members=(pm,), budget=D("100.00"))
        make_expense(project, amount="99.00", category="TOOLS")
        _db.session.commit()
        project_id, pm_id = project.id, pm.id
        _db.session.remove()
    barrier, results, errors = threading.Barrier(2), [], []

    def check():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(check_projects([project_id]))
                _db.session.commit()
                _db.session.remove()
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        assert sorted(results) == [0, 1]
        with app.app_context():
            notes = _db.session.scalars(
                select(Notification.title).where(Notification.user_id == pm_id, Notification.kind == "budget_alert")
            ).all()
            assert len(notes) == 1
            _db.session.remove()
    finally:
        with app.app_context():
            from app.auth.models import User
            from app.clients.models import Client
            from app.core.audit import AuditLog
            from app.expenses.models import Expense
            from app.projects.models import Project, ProjectMembership

            project = _db.session.get(Project, project_id)
            client_id = project.client_id
            _db.session.execute(delete(Notification).where(Notification.user_id == pm_id))
            _db.session.execute(delete(BudgetAlert).where(BudgetAlert.project_id == project_id))
            _db.session.execute(delete(Expense).where(Expense.project_id == project_id))
            _db.session.execute(delete(ProjectMembership).where(ProjectMembership.project_id == project_id))
            _db.session.execute(delete(Project).where(Project.id == project_id))
            _db.session.execute(delete(Client).where(Client.id == client_id))
            _db.session.execute(delete(User).where(User.id == pm_id))
            _db.session.execute(delete(AuditLog).where(AuditLog.project_id == project_id))
            for kind, key in (("User", pm_id), ("Client", client_id), ("Project", project_id)):
                _db.session.execute(
                    delete(AuditLog).where(AuditLog.object_type == kind, AuditLog.object_id == str(key))
                )
            _db.session.commit()
            _db.session.remove()
