"""The Gantt's reads: a project's tasks with the critical path computed over them, laid
out as SVG geometry (the template only prints numbers), and the company's projects as a
timeline.

Decisions (docs/architecture.md "Gantt"):
- The CPM runs over **every** task of the project that is not cancelled — the schedule is
  one, whoever looks at it — but only the tasks the viewer may see
  (tasks.services.visible_tasks) are drawn, and only arrows between two drawn tasks: a
  designer sees the design tasks and the same planned end as the PM.
- Durations are calendar days, a task's start and due dates inclusive. A task with a
  start but no due date lasts one day; one with only a due date is a one-day task on it.
  A task with no date at all is not drawn (listed as "not scheduled") and takes part in
  the CPM as a zero-length link, so a chain through it still holds.
- A task's planned start is a "start no earlier than" constraint; a dependency finishing
  later pushes its earliest start (the bar is flagged "waits for …"). The project's
  planned end is the CPM finish; it is flagged when later than the project's end date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, select

from app.calendar.models import CANCELLED as EVENT_CANCELLED
from app.calendar.models import CalendarEvent
from app.calendar.visibility import visible_events
from app.core.permissions import ALL, ASSIGNED, member_project_ids, require, scope_of
from app.core.statements import inline
from app.core.timezones import format_date, to_company_time
from app.core.transaction import read_connection
from app.extensions import db
from app.gantt import cpm
from app.gantt.scales import Scale, Tick, align, scale_of, shifted, short, ticks, window
from app.projects.models import ACTIVE, Project
from app.tasks.models import CANCELLED, CLOSED_STATUSES, STATUS_LABELS, Task, TaskDependency
from app.tasks.services import today, visible_tasks

ROW_H = 30
BAR_Y = 7  # the bar's top inside its row
BAR_H = 16
HEADER_H = 44  # two bands of 22
MILESTONE_H = 26
LABEL_W = 220
RISKS = ("low", "medium", "high", "critical")


@dataclass(slots=True)
class Bar:
    id: int
    title: str
    label: str  # the title cut for the label column
    row: int
    y: int
    status: str
    status_label: str
    start: date | None
    due: date | None
    version: int
    progress: int
    x: int = 0
    width: int = 0
    progress_width: int = 0
    drawn: bool = False  # inside the window (at least partly)
    critical: bool = False
    float_days: int | None = None
    earliest: date | None = None  # the CPM's earliest start, when a dependency pushes it
    risk: str | None = None
    movable: bool = False

    @property
    def mid(self) -> int:
        return self.y + BAR_Y + BAR_H // 2


@dataclass
class Arrow:
    d: str
    critical: bool


@dataclass
class Milestone:
    id: int
    title: str
    day: date
    x: int
    label: str


@dataclass
class Chart:
    project: Project
    scale: Scale
    first: date
    end: date
    width: int
    height: int
    top: int  # y of the first row (below header and milestones)
    upper: list[Tick]
    lower: list[Tick]
    bars: list[Bar]
    arrows: list[Arrow]
    milestones: list[Milestone]
    unscheduled: list[Bar]
    today: date
    today_x: int | None
    planned_end: date | None
    planned_end_x: int | None
    end_date_x: int | None
    late_days: int  # how far the planned end is after the project's end date (0: not)
    critical_count: int
    prev_start: date
    next_start: date
    today_start: date
    fit_start: date
    hidden: int = 0  # tasks of the project the viewer may not see (not told which)
    rows_height: int = 0
    schedule_days: int = 0
    scroll_x: int = 0  # where a narrow screen scrolls the chart to: the first bar shown
    notes: list[str] = field(default_factory=list)


# tasks.risk_level arrives with migration 0023 (the schedule's conflict engine): read when there
_RISK = getattr(Task, "risk_level", None)
_TASK_COLUMNS = (
    Task.id,
    Task.title,
    Task.status,
    Task.start_date,
    Task.due_date,
    Task.progress_percent,
    Task.version,
    *((_RISK,) if _RISK is not None else ()),
)


def _task_rows(project_id: int) -> list[tuple]:
    """(id, title, status, start, due, progress, version[, risk]) of the project's tasks but
    the cancelled ones, as plain tuples (a Core select on the session's connection: no ORM
    rows for 300 tasks)."""
    stmt = (
        select(*_TASK_COLUMNS)
        .where(Task.project_id == project_id, Task.status != inline(CANCELLED))
        .order_by(Task.start_date.asc().nulls_last(), Task.due_date.asc().nulls_last(), Task.id)
    )
    return [tuple(row) for row in read_connection(db.session).execute(stmt)]


def _dependency_rows(project_id: int) -> list[tuple[int, int]]:
    stmt = (
        select(TaskDependency.depends_on_id, TaskDependency.task_id)
        .join(Task, Task.id == TaskDependency.task_id)
        .where(Task.project_id == project_id)
    )
    return [tuple(row) for row in read_connection(db.session).execute(stmt)]


def _visible_ids(user, project_id: int) -> set[int] | None:
    """The ids of the project's tasks `user` may see; None for "all of them": an admin,
    or a role whose task.view is the project's team (A) — the caller has checked the user
    sees the project, which for them means being on its team."""
    scope = scope_of(user, "task.view")
    if scope == ALL or (scope == ASSIGNED and project_id in member_project_ids(user)):
        return None
    stmt = visible_tasks(user, stmt=select(Task.id).where(Task.project_id == project_id))
    return set(db.session.scalars(stmt))


def _milestone_rows(user, project_id: int, first: date, end: date):
    stmt = visible_events(
        user,
        stmt=select(CalendarEvent.id, CalendarEvent.title, CalendarEvent.start_at).where(
            CalendarEvent.project_id == project_id,
            CalendarEvent.event_type == inline("milestone"),
            CalendarEvent.status != inline(EVENT_CANCELLED),
            CalendarEvent.rrule.is_(None),
        ),
    )
    # a day's margin either side: the company's day of a UTC time may differ by one
    lo = first - timedelta(days=1)
    hi = end + timedelta(days=1)
    stmt = stmt.where(
        CalendarEvent.start_at >= datetime.combine(lo, time(), UTC),
        CalendarEvent.start_at < datetime.combine(hi, time(), UTC),
    ).order_by(CalendarEvent.start_at)
    return read_connection(db.session).execute(stmt).all()


def _cut(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def project_chart(user, project: Project, scale_name: str | None, start: date | None, movable: bool = False) -> Chart:
    """The Gantt of `project` for `user` (who may see it: the caller read it through
    projects.services.get_project) over the window of `scale` starting about `start`
    (None: the window holding the schedule's start)."""
    require(user, "task.view")
    scale = scale_of(scale_name)
    rows = _task_rows(project.id)
    visible = _visible_ids(user, project.id)
    links = _dependency_rows(project.id)
    now = today()

    # the schedule's origin: the project's start, or an earlier task's. Days as ordinals.
    # row: 0 id, 1 title, 2 status, 3 start, 4 due, 5 progress, 6 version[, 7 risk]
    spans: dict[int, tuple[int, int]] = {}  # id → (first day, last day) as ordinals
    for row in rows:
        first_day, last_day = row[3] or row[4], row[4] or row[3]
        if first_day is not None:
            spans[row[0]] = (first_day.toordinal(), last_day.toordinal())
    starts = [a for a, _ in spans.values()]
    starts_all = [*starts, project.start_date.toordinal()] if project.start_date else starts
    origin = min(starts_all, default=now.toordinal())
    durations = {row[0]: 0 for row in rows}  # not scheduled: a zero-length link
    earliest: dict[int, int] = {}
    for task_id, (a, b) in spans.items():
        durations[task_id] = b - a + 1
        earliest[task_id] = a - origin
    schedule = cpm.compute(durations, links, earliest)
    planned_end = date.fromordinal(origin + schedule.finish - 1) if spans else None

    if start is None:
        start = date.fromordinal(min(starts) if starts else (project.start_date or now).toordinal()) - timedelta(days=2)
    first, end = window(scale, start)
    px = scale.px
    width = (end - first).days * px
    first_n = first.toordinal()

    def x(day: date) -> int:
        return (day.toordinal() - first_n) * px

    milestones = [
        Milestone(m.id, m.title, d, x(d) + px // 2, _cut(m.title, 24))
        for m in _milestone_rows(user, project.id, first, end)
        if first <= (d := to_company_time(m.start_at).date()) < end
    ]
    top = HEADER_H + (MILESTONE_H if milestones else 0)
    bars: list[Bar] = []
    unscheduled: list[Bar] = []
    es, slack = schedule.es, schedule.float
    has_risk = _RISK is not None
    for row in rows:
        task_id = row[0]
        if visible is not None and task_id not in visible:
            continue
        span = spans.get(task_id)
        risk = row[7] if has_risk else None
        bar = Bar(
            id=task_id,
            title=row[1],
            label=_cut(row[1]),
            row=len(bars),
            y=top + len(bars) * ROW_H,
            status=row[2],
            status_label=STATUS_LABELS.get(row[2], row[2]),
            start=row[3] or row[4],
            due=row[4] or row[3],
            version=row[6],
            progress=row[5] or 0,
            critical=slack[task_id] == 0 and durations[task_id] > 0,
            float_days=slack[task_id],
            risk=risk if risk in RISKS else None,
        )
        if span is None:
            unscheduled.append(bar)
            continue
        pushed = origin + es[task_id]
        bar.earliest = date.fromordinal(pushed) if pushed > span[0] else None
        x0, x1 = (span[0] - first_n) * px, (span[1] + 1 - first_n) * px
        bar.x, bar.width = x0, max(px, x1 - x0)
        bar.progress_width = bar.width * min(100, max(0, bar.progress)) // 100
        bar.drawn = x1 > 0 and x0 < width
        bar.movable = movable and row[2] not in CLOSED_STATUSES
        bars.append(bar)

    by_id = {b.id: b for b in bars}
    arrows = []
    for before, after in links:
        a, b = by_id.get(before), by_id.get(after)
        if a is None or b is None or not (a.drawn or b.drawn):
            continue
        arrows.append(Arrow(_elbow(a.x + a.width, a.mid, b.x, b.mid), a.critical and b.critical))

    rows_height = len(bars) * ROW_H
    today_x = x(now) + px // 2 if first <= now < end else None
    planned_end_x = (
        x(planned_end + timedelta(days=1)) if planned_end and first < planned_end + timedelta(days=1) <= end else None
    )
    end_date = project.end_date
    end_date_x = x(end_date + timedelta(days=1)) if end_date and first < end_date + timedelta(days=1) <= end else None
    late = (planned_end - end_date).days if planned_end and end_date and planned_end > end_date else 0
    fit = (date.fromordinal(min(starts)) if starts else (project.start_date or now)) - timedelta(days=2)
    upper, lower = ticks(scale, first, end)
    return Chart(
        project=project,
        scale=scale,
        first=first,
        end=end,
        width=width,
        height=top + max(rows_height, ROW_H),
        top=top,
        upper=upper,
        lower=lower,
        bars=bars,
        arrows=arrows,
        milestones=milestones,
        unscheduled=unscheduled,
        today=now,
        today_x=today_x,
        planned_end=planned_end,
        planned_end_x=planned_end_x,
        end_date_x=end_date_x,
        late_days=late,
        critical_count=sum(1 for b in bars if b.critical),
        prev_start=shifted(scale, first, -1),
        next_start=shifted(scale, first, 1),
        today_start=align(scale, now - timedelta(days=7 if scale.name != "month" else 30)),
        fit_start=align(scale, fit),
        hidden=0 if visible is None else len(rows) - len(bars) - len(unscheduled),
        rows_height=rows_height,
        schedule_days=schedule.finish,
        scroll_x=max(0, min((b.x for b in bars if b.drawn), default=0) - 2 * px),
    )


def _elbow(x1: int, y1: int, x2: int, y2: int) -> str:
    """An arrow from the end of one bar to the start of another, in right angles."""
    if x2 - x1 >= 12:
        return f"M{x1} {y1}H{x1 + 6}V{y2}H{x2 - 1}"
    mid = y1 + (ROW_H // 2 if y2 > y1 else -ROW_H // 2)
    return f"M{x1} {y1}H{x1 + 6}V{mid}H{x2 - 8}V{y2}H{x2 - 1}"


def fmt(day: date | None) -> str:
    return format_date(day) if day else "—"


def days(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n} day" if n == 1 else f"{n} days"


def bar_title(bar: Bar) -> str:
    """What hovering a bar tells (its SVG <title>): dates, progress, float."""
    span = (bar.due - bar.start).days + 1 if bar.start and bar.due else None
    parts = [bar.title, f"{short(bar.start)} → {short(bar.due)} ({days(span)})", f"{bar.progress}% done"]
    parts.append("critical (float 0)" if bar.critical else f"float {days(bar.float_days)}")
    if bar.earliest:
        parts.append(f"waits for a dependency: earliest start {short(bar.earliest)}")
    if bar.risk:
        parts.append(f"risk {bar.risk}")
    return " · ".join(parts)


# --- the company's timeline: projects as rows ---------------------------------------------

TIMELINE_PER_PAGE = 50


@dataclass
class ProjectBar:
    id: int
    name: str
    label: str
    y: int
    start: date | None
    end: date | None
    progress: int
    x: int = 0
    width: int = 0
    progress_width: int = 0
    estimated_end: bool = False  # no end date: the latest task's due date stands in


@dataclass
class Timeline:
    scale: Scale
    first: date
    end: date
    width: int
    height: int
    top: int
    upper: list[Tick]
    lower: list[Tick]
    bars: list[ProjectBar]
    undated: list[ProjectBar]
    page: object
    today_x: int | None
    prev_start: date
    next_start: date
    today_start: date


def timeline(user, scale_name: str | None, start: date | None, pm_id: int | None, page: int) -> Timeline:
    """The active projects `user` may see (projects.queries.visible_projects), optionally of
    one PM (refused, as on the project list, for roles without team.view), as bars over a
    window; a page of TIMELINE_PER_PAGE, ordered by start date."""
    from app.core.pagination import paginate_rows
    from app.projects.queries import ProjectFilters, check_filters, managed_by, visible_projects

    require(user, "project.view")
    check_filters(user, ProjectFilters(pm_id=pm_id))
    latest = (
        select(func.max(Task.due_date))
        .where(Task.project_id == Project.id, Task.status != inline(CANCELLED))
        .correlate(Project)
        .scalar_subquery()
        .label("latest_due")
    )
    stmt = visible_projects(
        user, (Project.id, Project.name, Project.start_date, Project.end_date, Project.progress_percent, latest)
    ).where(Project.status == inline(ACTIVE))
    if pm_id is not None:
        stmt = stmt.where(and_(managed_by(pm_id)))
    stmt = stmt.order_by(Project.start_date.asc().nulls_last(), Project.name, Project.id)
    result = paginate_rows(stmt, page, TIMELINE_PER_PAGE)
    scale = scale_of(scale_name)
    now = today()
    if start is None:
        start = now - timedelta(days=14 if scale.name != "month" else 60)
    first, end = window(scale, start)
    px = scale.px
    width = (end - first).days * px
    top = HEADER_H

    def x(day: date) -> int:
        return (day - first).days * px

    bars, undated = [], []
    for r in result.items:
        last = r.end_date or r.latest_due
        bar = ProjectBar(r.id, r.name, _cut(r.name), 0, r.start_date, last, r.progress_percent or 0)
        bar.estimated_end = r.end_date is None and last is not None
        if bar.start is None:
            undated.append(bar)
            continue
        bar.end = max(bar.end or bar.start, bar.start)
        bar.y = top + len(bars) * ROW_H
        x0, x1 = x(bar.start), x(bar.end + timedelta(days=1))
        bar.x, bar.width = x0, max(px, x1 - x0)
        bar.progress_width = bar.width * min(100, max(0, bar.progress)) // 100
        bars.append(bar)
    upper, lower = ticks(scale, first, end)
    return Timeline(
        scale=scale,
        first=first,
        end=end,
        width=width,
        height=top + max(len(bars), 1) * ROW_H,
        top=top,
        upper=upper,
        lower=lower,
        bars=bars,
        undated=undated,
        page=result,
        today_x=x(now) + px // 2 if first <= now < end else None,
        prev_start=shifted(scale, first, -1),
        next_start=shifted(scale, first, 1),
        today_start=align(scale, now - timedelta(days=14 if scale.name != "month" else 60)),
    )


def pm_choices(user):
    """The PM filter's choices [(id, name)], for roles that may use it (team.view), else None."""
    from app.core.permissions import can
    from app.projects.queries import pm_choices as all_pms

    return [(pm.id, pm.name) for pm in all_pms()] if can(user, "team.view") else None
