"""Weekly timesheets (issue 9; app/timeclock/services.py): the week in company time,
who sees whose, approval and its lock, un-approval with a reason, corrections and missed
punches (audited with their reason), task hours from approved punches, "approve all",
the payroll CSV, and the review page's queries for a superintendent with 30 people."""

# ruff: noqa: F811 - the fixtures of tests/test_timeclock.py, imported by name
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied
from app.core.text import csv_cell as safe_cell
from app.extensions import db
from app.tasks.models import Task, TaskAssignment
from app.timeclock import services
from app.timeclock.models import Punch, TimesheetApproval
from tests.factories import make_project, make_punch, make_user
from tests.test_timeclock import MONDAY_7_02, clock, site  # noqa: F401 - fixtures, used by name

WEEK = date(2026, 3, 2)


def _at(days: int, hours: float = 0) -> datetime:
    return MONDAY_7_02 + timedelta(days=days, hours=hours)


@pytest.fixture()
def week(site, clock):
    """The worker: Monday 8 h on the task, Wednesday 4 h without; the mate Tuesday 6 h;
    the loner 5 h on the other project. The clock: the next Monday."""
    clock.now = MONDAY_7_02 + timedelta(days=7)
    return {
        "monday": make_punch(site.worker, site.project, task=site.task, clock_in=_at(0), hours=8),
        "wednesday": make_punch(site.worker, site.project, clock_in=_at(2), hours=4),
        "mate": make_punch(site.mate, site.project, task=site.task, clock_in=_at(1), hours=6),
        "loner": make_punch(site.loner, site.other, clock_in=_at(3), hours=5),
    }


# --- the week ------------------------------------------------------------------------


def test_my_week_is_monday_to_sunday_in_company_time(site, clock, week):
    # Sunday 11:30 PM in Denver (Monday 05:30 UTC: summer time began that Sunday): this week's
    make_punch(site.worker, site.other, clock_in=datetime(2026, 3, 9, 5, 30, tzinfo=UTC), hours=1)
    # Monday 00:30 in Denver: next week
    make_punch(site.worker, site.other, clock_in=datetime(2026, 3, 9, 7, 30, tzinfo=UTC), hours=1)
    mine = services.my_week(site.worker, WEEK)
    assert [(r.project.name, r.days) for r in mine.rows] == [
        ("Birch Row", [0, 0, 0, 0, 0, 0, Decimal("1.00")]),
        ("Harbor lofts", [Decimal("8.00"), 0, Decimal("4.00"), 0, 0, 0, 0]),
    ]
    assert mine.total == Decimal("13.00") and mine.day_totals[0] == Decimal("8.00")
    assert services.my_week(site.worker, WEEK + timedelta(days=7)).total == Decimal("1.00")
    assert services.parse_week("2026-03-05") == WEEK and services.parse_week("nonsense") == services.parse_week("")


def test_employees_see_only_their_own_timesheet(site, clock, week, client, login_as):
    login_as(site.worker)
    html = client.get(f"/timesheets?week={WEEK}").text
    assert "Harbor lofts" in html and "12.00" in html
    assert "Mia Mate" not in html and "6.00" not in html
    assert client.get(f"/timesheets/review?week={WEEK}").status_code == 403
    assert client.get(f"/timesheets/punches/{week['mate'].id}/correct").status_code == 403


def test_the_review_shows_my_projects_people_only(site, clock, week, client, login_as):
    login_as(site.superintendent)
    html = client.get(f"/timesheets/review?week={WEEK}").text
    assert "Walt Worker" in html and "Mia Mate" in html and "Lou Loner" not in html
    assert f'data-testid="approve-{site.worker.id}-{site.project.id}"' in html
    login_as(site.admin)
    assert "Lou Loner" in client.get(f"/timesheets/review?week={WEEK}").text
    login_as(site.trainee)  # sees, approves nothing
    html = client.get(f"/timesheets/review?week={WEEK}").text
    assert "Walt Worker" in html and 'data-testid="approve-' not in html and "approve-all" not in html


# --- approval ------------------------------------------------------------------------


def test_approving_locks_the_week_and_feeds_the_task_hours(site, clock, week):
    week["monday"].needs_review = True
    approval = services.approve(site.superintendent, site.worker.id, site.project.id, WEEK)
    assert approval.hours == Decimal("12.00") and approval.approved_by_id == site.superintendent.id
    assert week["monday"].approval_id == approval.id == week["wednesday"].approval_id
    assert not week["monday"].needs_review and week["mate"].approval_id is None
    assert site.task.actual_hours == Decimal("8.00")
    with pytest.raises(ConflictError, match="locked"):
        services.correct_punch(
            site.superintendent,
            week["monday"],
            {
                "clock_in": "2026-03-02T07:00",
                "clock_out": "2026-03-02T15:00",
                "project_id": site.project.id,
                "reason": "late",
            },
        )
    with pytest.raises(ConflictError, match="already approved"):
        services.approve(site.pm, site.worker.id, site.project.id, WEEK)
    assert services.approved_hours_by_project([site.project.id]) == {site.project.id: Decimal("12.00")}


def test_withdrawing_an_approval_needs_a_reason_and_takes_the_hours_back(site, clock, week):
    services.approve(site.pm, site.worker.id, site.project.id, WEEK)
    services.approve(site.pm, site.mate.id, site.project.id, WEEK)
    assert site.task.actual_hours == Decimal("14.00")
    with pytest.raises(ValidationError) as refused:
        services.unapprove(site.superintendent, site.worker.id, site.project.id, WEEK, "  ")
    assert "reason" in refused.value.fields
    services.unapprove(site.superintendent, site.worker.id, site.project.id, WEEK, "Wednesday was rained out")
    db.session.flush()
    assert week["monday"].approval_id is None and site.task.actual_hours == Decimal("6.00")
    entry = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "TimesheetApproval", AuditLog.action == "delete")
    ).one()
    assert entry.user_id is None or entry.object_label
    punch_entries = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "Punch", AuditLog.object_id == str(week["monday"].id))
    ).all()
    assert any("approval withdrawn: Wednesday was rained out" in str(e.changes) for e in punch_entries)
    task_entries = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "Task")).all()
    assert any("Wednesday was rained out" in str(e.changes) for e in task_entries)
    with pytest.raises(ConflictError, match="not approved"):
        services.unapprove(site.superintendent, site.worker.id, site.project.id, WEEK, "again")


@pytest.mark.parametrize("who", ["trainee", "designer", "worker", "client_user"])
def test_only_superintendents_pms_and_admins_approve(site, clock, week, who):
    with pytest.raises(PermissionDenied):
        services.approve(getattr(site, who), site.mate.id, site.project.id, WEEK)
    assert db.session.scalar(select(TimesheetApproval.id)) is None


def test_an_approver_of_another_project_cannot_approve_here(site, clock, week):
    outsider = make_user("superintendent")
    make_project(members=[outsider])
    with pytest.raises(PermissionDenied):
        services.approve(outsider, site.worker.id, site.project.id, WEEK)


def test_nobody_but_an_admin_approves_their_own_hours(site, clock, week):
    make_punch(site.superintendent, site.project, clock_in=_at(4), hours=3)
    with pytest.raises(PermissionDenied, match="Someone else"):
        services.approve(site.superintendent, site.superintendent.id, site.project.id, WEEK)
    services.approve(site.pm, site.superintendent.id, site.project.id, WEEK)
    make_punch(site.admin, site.other, clock_in=_at(4), hours=3)
    services.approve(site.admin, site.admin.id, site.other.id, WEEK)


def test_a_week_with_someone_still_clocked_in_or_no_time_is_not_approved(site, clock, week):
    make_punch(site.mate, site.project, clock_in=clock.now - timedelta(days=1, hours=1) - timedelta(days=5), hours=None)
    with pytest.raises(ConflictError, match="still clocked in"):
        services.approve(site.pm, site.mate.id, site.project.id, WEEK)
    with pytest.raises(ConflictError, match="no time"):
        services.approve(site.pm, site.worker.id, site.project.id, WEEK - timedelta(days=7))


def test_approve_all_shown_from_the_page(site, clock, week, client, login_as):
    login_as(site.superintendent)
    rows = [
        f"{site.worker.id}-{site.project.id}",
        f"{site.mate.id}-{site.project.id}",
        f"{site.loner.id}-{site.other.id}",
    ]
    answer = client.post("/timesheets/approve-all", data={"week": WEEK.isoformat(), "row": rows})
    assert answer.status_code == 303
    approved = db.session.scalars(select(TimesheetApproval)).all()
    assert sorted(a.user_id for a in approved) == sorted([site.worker.id, site.mate.id])  # not the other project
    again = client.post("/timesheets/approve-all", data={"week": WEEK.isoformat(), "row": rows})
    assert again.status_code == 409 and "Nothing shown is ready to approve." in again.text
    html = client.get(f"/timesheets/review?week={WEEK}").text
    assert 'data-testid="approved"' in html and "Withdraw approval" in html


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 303),
        ("pm", 303),
        ("trainee", 403),
        ("designer", 403),
        ("superintendent", 303),
        ("worker", 403),
        ("client_user", 403),
    ],
)
def test_withdrawing_an_approval_from_the_page_for_every_role(site, clock, week, client, login_as, role, status):
    """The walk row this route skips (app/timeclock/walk.py)."""
    services.approve(site.admin, site.mate.id, site.project.id, WEEK)
    login_as(getattr(site, role))
    data = {"week": WEEK.isoformat(), "user_id": site.mate.id, "project_id": site.project.id, "reason": "Wrong day"}
    assert client.post("/timesheets/unapprove", data=data).status_code == status
    still = db.session.scalar(select(TimesheetApproval.id))
    assert (still is None) == (status == 303)
    if status == 303:
        login_as(site.pm)
        missing = client.post("/timesheets/unapprove", data={**data, "reason": ""})
        assert missing.status_code in (409, 422)


# --- corrections and missed punches --------------------------------------------------


def _fix(punch, **changes):
    data = {
        "clock_in": "2026-03-02T07:00",
        "clock_out": "2026-03-02T16:00",
        "project_id": punch.project_id,
        "task_id": punch.task_id or "",
        "reason": "Forgot to punch on arrival",
    }
    data.update(changes)
    return data


def test_a_correction_changes_the_times_with_a_reason_in_the_audit(site, clock, week):
    punch = week["monday"]
    punch.needs_review = True
    db.session.flush()
    services.correct_punch(site.superintendent, punch, _fix(punch), version=punch.version)
    assert punch.clock_in == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert punch.hours == Decimal("9.00") and punch.corrected_by_id == site.superintendent.id
    assert punch.correction_reason == "Forgot to punch on arrival" and not punch.needs_review
    db.session.flush()
    entry = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "Punch", AuditLog.action == "update")
        .order_by(AuditLog.id.desc())
    ).first()
    assert "Forgot to punch on arrival" in str(entry.changes)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"clock_out": "2026-03-02T06:00"}, "clock_out"),
        ({"clock_in": "2027-01-01T07:00", "clock_out": "2027-01-01T09:00"}, "clock_in"),
        ({"clock_in": "2026-03-04T07:00", "clock_out": "2026-03-04T12:00"}, "clock_in"),  # overlaps Wednesday
        ({"task_id": "other"}, "task_id"),
        ({"project_id": "other"}, "project_id"),
        ({"clock_in": "yesterday"}, "clock_in"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(site, clock, week, changes, field):
    punch = week["monday"]
    if changes.get("task_id") == "other":
        changes["task_id"] = site.other_task.id
    if changes.get("project_id") == "other":
        changes["project_id"] = site.other.id
    before = (punch.clock_in, punch.clock_out, punch.project_id, punch.hours)
    with pytest.raises(ValidationError) as refused:
        services.correct_punch(site.superintendent, punch, _fix(punch, **changes))
    assert field in refused.value.fields
    db.session.refresh(punch)
    assert (punch.clock_in, punch.clock_out, punch.project_id, punch.hours) == before


def test_corrections_are_for_the_projects_approvers_not_ones_own(site, clock, week):
    mine = make_punch(site.superintendent, site.project, clock_in=_at(5), hours=2)
    with pytest.raises(PermissionDenied):
        services.correct_punch(site.superintendent, mine, _fix(mine))
    with pytest.raises(PermissionDenied):
        services.correct_punch(site.trainee, week["monday"], _fix(week["monday"]))
    with pytest.raises(PermissionDenied):
        services.correct_punch(site.superintendent, week["loner"], _fix(week["loner"]))


def test_a_stale_correction_form_is_refused(site, clock, week, client, login_as):
    login_as(site.pm)
    punch = week["monday"]
    form = client.get(f"/timesheets/punches/{punch.id}/correct").text
    assert 'value="2026-03-02T07:02"' in form and "Mask the windows" in form
    data = {**_fix(punch), "version": punch.version}
    assert client.post(f"/timesheets/punches/{punch.id}/correct", data=data).status_code == 303
    stale = client.post(f"/timesheets/punches/{punch.id}/correct", data=data)
    assert stale.status_code == 409
    bad = client.post(f"/timesheets/punches/{punch.id}/correct", data={**data, "version": punch.version, "reason": ""})
    assert bad.status_code == 422 and "Say why" in bad.text


def test_a_missed_punch_is_added_by_an_approver(site, clock, week, client, login_as):
    login_as(site.superintendent)
    page = client.get(f"/timesheets/missed?week={WEEK}").text
    assert "Walt Worker" in page and "Lou Loner" not in page
    data = {
        "user_id": site.worker.id,
        "project_id": site.project.id,
        "task_id": "",
        "clock_in": "2026-03-03T07:00",
        "clock_out": "2026-03-03T15:30",
        "reason": "Phone died",
        "week": WEEK.isoformat(),
    }
    assert client.post("/timesheets/missed", data=data).status_code == 303
    added = db.session.scalars(select(Punch).where(Punch.user_id == site.worker.id).order_by(Punch.id.desc())).first()
    assert added.hours == Decimal("8.50") and added.corrected_by_id == site.superintendent.id
    again = client.post("/timesheets/missed", data=data)
    assert again.status_code == 422 and "overlaps" in again.text
    loner = client.post("/timesheets/missed", data={**data, "user_id": site.loner.id})
    assert loner.status_code == 422 and "not on the team of Harbor lofts" in loner.text
    no_reason = client.post(
        "/timesheets/missed",
        data={**data, "clock_in": "2026-03-05T07:00", "clock_out": "2026-03-05T08:00", "reason": ""},
    )
    assert no_reason.status_code == 422


def test_needs_review_is_highlighted(site, clock, week, client, login_as):
    week["mate"].needs_review = True
    week["mate"].auto_closed = True
    db.session.flush()
    login_as(site.pm)
    html = client.get(f"/timesheets/review?week={WEEK}").text
    assert 'data-testid="needs-review"' in html and "Closed automatically" in html


def test_a_rows_punches_open_on_demand_for_its_reviewers(site, clock, week, client, login_as):
    week["mate"].auto_closed = True
    db.session.flush()
    login_as(site.superintendent)
    html = client.get(f"/timesheets/review?week={WEEK}").text
    assert f'data-testid="punch-{week["monday"].id}"' not in html  # not drawn until opened
    assert "2 punches" in html and "Closed automatically" in html  # the mate's row says so
    url = f"/timesheets/review/punches?week={WEEK}&user_id={site.worker.id}&project_id={site.project.id}"
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "row-punches-x"}).text
    assert "<html" not in fragment and f'data-testid="punch-{week["monday"].id}"' in fragment
    assert f'data-testid="punch-{week["wednesday"].id}"' in fragment and site.task.title in fragment
    assert f'data-testid="correct-{week["monday"].id}"' in fragment and week["mate"].id != week["monday"].id
    page = client.get(url).text  # without JavaScript: a page of its own
    assert "<html" in page and "Walt Worker" in page and "Back to the review" in page
    services.approve(site.superintendent, site.worker.id, site.project.id, WEEK)
    assert "correct-" not in client.get(url).text  # an approved week is locked
    login_as(site.trainee)  # sees, corrects nothing
    assert "Walt Worker" in client.get(url).text and "correct-" not in client.get(url).text
    other = f"/timesheets/review/punches?week={WEEK}&user_id={site.loner.id}&project_id={site.other.id}"
    login_as(site.superintendent)  # not their project: not found, nothing said
    assert client.get(other).status_code == 404
    assert client.get(f"/timesheets/review/punches?week={WEEK}&user_id=x&project_id=").status_code == 404
    login_as(site.admin)
    assert "Lou Loner" in client.get(other).text
    login_as(site.worker)
    assert client.get(url).status_code == 403


def test_the_review_sums_open_punches_until_now(site, clock, week, client, login_as):
    clock.now = _at(4, 3)  # Friday, three hours after the open punch began
    make_punch(site.mate, site.project, clock_in=_at(4), hours=None)
    review = services.review_week(site.superintendent, WEEK)
    mate = next(r for r in review.rows if r.user.id == site.mate.id)
    assert mate.has_open and mate.days[4] == Decimal("3.00") and mate.total == Decimal("9.00")
    assert mate.punch_count == 2 and mate.may_approve


def test_the_review_page_shows_the_projects_approved_labour_hours(site, clock, week, client, login_as):
    services.approve(site.pm, site.worker.id, site.project.id, WEEK)
    login_as(site.superintendent)
    html = client.get(f"/timesheets/review?week={WEEK}").text
    assert 'data-testid="project-labour"' in html and "12.00" in html


# --- the CSV -------------------------------------------------------------------------


def test_the_csv_has_approved_hours_per_person_project_and_task(site, clock, week, client, login_as):
    site.project.name = '=HYPERLINK("http://evil")'
    site.task.title = 'Mask, "north" side'
    db.session.flush()
    services.approve(site.pm, site.worker.id, site.project.id, WEEK)
    login_as(site.pm)
    answer = client.get(f"/timesheets/export.csv?week={WEEK}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows == [
        ["person", "username", "week", "project", "task", "hours"],
        ["Walt Worker", site.worker.username, "2026-03-02", '\'=HYPERLINK("http://evil")', "", "4.00"],
        [
            "Walt Worker",
            site.worker.username,
            "2026-03-02",
            '\'=HYPERLINK("http://evil")',
            'Mask, "north" side',
            "8.00",
        ],
    ]  # the mate's week is not approved: not there; no wages anywhere
    assert "rate" not in answer.text.lower() and "wage" not in answer.text.lower()
    for who in (site.superintendent, site.trainee, site.worker, site.client_user):
        login_as(who)
        assert client.get(f"/timesheets/export.csv?week={WEEK}").status_code == 403


def test_cells_are_made_formula_safe():
    assert [safe_cell(v) for v in ("=1+2", "+1", "-2", "@SUM(A1)", "plain", "7.50")] == [
        "'=1+2",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "plain",
        "7.50",
    ]


# --- the review page's queries -------------------------------------------------------


def _crew_of(size: int, superintendent, project):
    tasks = [Task(project_id=project.id, title=f"Wall {n}") for n in range(3)]
    db.session.add_all(tasks)
    db.session.flush()
    for n in range(size):
        person = make_user("employee", full_name=f"Painter {n:02d}")
        db.session.add(TaskAssignment(task_id=tasks[n % 3].id, user_id=person.id))
        for day in range(5):
            make_punch(person, project, task=tasks[n % 3], clock_in=_at(day, -1), hours=8)
        if n % 4 == 0:
            services.approve(superintendent, person.id, project.id, WEEK)
    db.session.flush()


def test_the_review_page_stays_cheap_for_thirty_people(site, clock, client, login_as, count_queries):
    boss = make_user("superintendent")
    small, big = make_project(members=[boss]), make_project(members=[boss])
    _crew_of(5, site.admin, small)
    login_as(boss)
    client.get(f"/timesheets/review?week={WEEK}")  # warm: the session's user, caches
    with count_queries() as few:
        assert client.get(f"/timesheets/review?week={WEEK}").status_code == 200
    _crew_of(30, site.admin, big)
    with count_queries() as many:
        html = client.get(f"/timesheets/review?week={WEEK}").text
    assert "Painter 29" in html
    assert many.n == few.n, many.statements  # no query per person, row or punch
    assert many.n <= 10, many.statements  # the user, the team, punches, breaks, approvals, labour
