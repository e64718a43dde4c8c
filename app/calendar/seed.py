"""The schedule's demo and benchmark data: events of the demo company (a weekly site
meeting series, an inspection, a delivery, a client-visible milestone), 20,000 events
across the bulk projects, and one 300-task project with dependency chains for the
Gantt ("Riverside tower repaint"). Bulk rows go in by Core inserts; the conflict engine
is rebuilt once afterwards by the caller."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import insert

from app.calendar.models import CLIENT_VISIBLE, INTERNAL, PROJECT_TEAM, CalendarEvent, EventAssignee
from app.core.timezones import company_zone
from app.extensions import db

EVENTS_PER_PROJECT = 10  # 20,000 at scale 100 (2,000 projects)
BIG_SCHEDULE = "Riverside tower repaint"
BIG_TASKS, BIG_CHAINS = 300, 15


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=company_zone()).astimezone(UTC)


def demo_events(projects: dict[str, object], users: dict[str, object], today: date) -> None:
    """The demo company's calendar. Never on "Hughes interior repaint", whose task board
    the browser tests drag cards on."""
    from app.core.roles import ADMIN, EMPLOYEE, PROJECT_MANAGER, SUPERINTENDENT

    monday = today - timedelta(days=today.weekday())
    lakeview = projects.get("Lakeview clubhouse exterior")
    deck = projects.get("Hughes deck stain")
    team = [users[PROJECT_MANAGER], users[SUPERINTENDENT], users[EMPLOYEE]]
    if lakeview is not None:
        meeting = CalendarEvent(
            title="Site meeting",
            description="Weekly walk of the clubhouse with the crew: progress, safety, next week.",
            start_at=_at(monday, 7),
            end_at=_at(monday, 7, 45),
            project_id=lakeview.id,
            event_type="meeting",
            visibility=PROJECT_TEAM,
            rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=12",
        )
        inspection = CalendarEvent(
            title="HOA board inspection of the east elevation",
            start_at=_at(today + timedelta(days=3), 10),
            end_at=_at(today + timedelta(days=3), 11),
            project_id=lakeview.id,
            event_type="inspection",
            visibility=CLIENT_VISIBLE,
        )
        delivery = CalendarEvent(
            title="Paint delivery: 40 gal exterior satin",
            notes="Gate code 4410. Stage pallets by the pool house.",
            start_at=_at(today + timedelta(days=1), 8),
            end_at=_at(today + timedelta(days=1), 9),
            project_id=lakeview.id,
            event_type="delivery",
            visibility=INTERNAL,
        )
        for event, people in ((meeting, team), (inspection, team[:2]), (delivery, team[1:])):
            event.assignments = [EventAssignee(user_id=person.id) for person in people]
            db.session.add(event)
    if deck is not None:
        start = deck.start_date or today
        db.session.add(
            CalendarEvent(
                title="Deck stain complete: final walkthrough with Carla",
                start_at=datetime.combine(start + timedelta(days=14), time.min, tzinfo=UTC),
                end_at=datetime.combine(start + timedelta(days=14), time.min, tzinfo=UTC),
                all_day=True,
                project_id=deck.id,
                event_type="milestone",
                visibility=CLIENT_VISIBLE,
                assignments=[EventAssignee(user_id=users[PROJECT_MANAGER].id)],
            )
        )
    db.session.add(
        CalendarEvent(
            title="Quarterly numbers review",
            start_at=_at(monday + timedelta(days=4), 15),
            end_at=_at(monday + timedelta(days=4), 16),
            event_type="meeting",
            visibility="admin_only",
            assignments=[EventAssignee(user_id=users[ADMIN].id)],
        )
    )
    db.session.flush()


EVENT_KINDS = (
    ("Site meeting", "meeting", PROJECT_TEAM, 1),
    ("Color walkthrough with the owner", "meeting", CLIENT_VISIBLE, 1),
    ("Paint delivery", "delivery", INTERNAL, 1),
    ("City inspection", "inspection", CLIENT_VISIBLE, 2),
    ("Prep complete", "milestone", CLIENT_VISIBLE, 0),
    ("Scaffold pickup", "delivery", INTERNAL, 1),
    ("Punch list review", "meeting", PROJECT_TEAM, 2),
    ("Invoice due", "deadline", INTERNAL, 0),
)


def bulk_events(rng, project_rows, project_ids, people: list[int], now: datetime) -> tuple[int, int]:
    """Ten events per bulk project within its dates (the active ones around today), one to
    three people on each; returns (events, assignees)."""
    zone = company_zone()
    rows, owners = [], []
    for project, project_id in zip(project_rows, project_ids, strict=True):
        first = project["start_date"]
        span = max(1, (project["end_date"] - first).days)
        for n in range(EVENTS_PER_PROJECT):
            title, kind, visibility, hours = EVENT_KINDS[(n + project_id) % len(EVENT_KINDS)]
            day = first + timedelta(days=rng.randint(0, span))
            if hours == 0:
                start = datetime.combine(day, time.min, tzinfo=UTC)
                end, all_day = start, True
            else:
                start = datetime.combine(day, time(rng.choice([7, 8, 9, 10, 13, 14, 15])), tzinfo=zone).astimezone(UTC)
                end, all_day = start + timedelta(hours=hours), False
            done = day < now.date() - timedelta(days=3)
            rows.append(
                {
                    "title": f"{title} {n + 1}",
                    "description": "",
                    "notes": "",
                    "start_at": start,
                    "end_at": end,
                    "all_day": all_day,
                    "project_id": project_id,
                    "event_type": kind,
                    "status": "completed" if done else "scheduled",
                    "visibility": visibility,
                    "risk_level": "none",
                    "sync_status": "local",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            owners.append(set(rng.sample(people, k=min(len(people), rng.randint(1, 3)))) if people else set())
    event_ids = []
    for chunk in range(0, len(rows), 5000):
        event_ids.extend(
            db.session.scalars(insert(CalendarEvent).returning(CalendarEvent.id), rows[chunk : chunk + 5000])
        )
    links = [{"event_id": e, "user_id": u} for e, who in zip(event_ids, owners, strict=True) for u in who]
    for chunk in range(0, len(links), 10000):
        db.session.execute(insert(EventAssignee), links[chunk : chunk + 10000])
    return len(event_ids), len(links)


def big_schedule(rng, client_id: int, team: list[int], crew: list[int], today: date) -> int:
    """A 300-task tower repaint in 15 chains of 20 steps (each waits for the one before;
    every fifth also waits for the same step of the chain before), for the Gantt."""
    from app.projects.models import ACTIVE, Project, ProjectMembership
    from app.tasks.models import Task, TaskAssignment, TaskDependency

    project_id = db.session.scalar(
        insert(Project)
        .returning(Project.id)
        .values(
            name=BIG_SCHEDULE,
            description="Twelve floors, hallways and stairwells.",
            client_id=client_id,
            status=ACTIVE,
            address="1 Riverside Dr",
            city="Austin",
            state="TX",
            zip="78704",
            budget=Decimal("480000.00"),
            start_date=today - timedelta(days=30),
            end_date=today + timedelta(days=150),
            progress_percent=20,
            notes="",
            internal_notes="",
        )
    )
    db.session.execute(insert(ProjectMembership), [{"project_id": project_id, "user_id": u} for u in team])
    now = datetime.now(UTC)
    ids: list[list[int]] = []
    for chain in range(BIG_CHAINS):
        start = today - timedelta(days=30) + timedelta(days=chain * 3)
        rows = []
        for step in range(BIG_TASKS // BIG_CHAINS):
            length = rng.randint(1, 4)
            rows.append(
                {
                    "project_id": project_id,
                    "title": f"Floor {chain + 1}: step {step + 1}",
                    "description": "",
                    "notes": "",
                    "status": "completed" if start + timedelta(days=length) < today - timedelta(days=3) else "pending",
                    "priority": "normal",
                    "start_date": start,
                    "due_date": start + timedelta(days=length - 1),
                    "estimated_hours": Decimal(length * 8),
                    "actual_hours": Decimal("0"),
                    "progress_percent": 0,
                    "schedule_weight": 50,
                    "checklist": [],
                    "is_design": False,
                    "blocked_reason": "",
                    "completion_notes": "",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            start += timedelta(days=length + rng.randint(0, 1))
        ids.append(list(db.session.scalars(insert(Task).returning(Task.id), rows)))
    links = []
    for chain, steps in enumerate(ids):
        links += [{"task_id": b, "depends_on_id": a} for a, b in zip(steps, steps[1:], strict=False)]
        if chain:
            links += [
                {"task_id": steps[i], "depends_on_id": ids[chain - 1][i]}
                for i in range(4, len(steps), 5)
                if ids[chain - 1][i] != steps[i]
            ]
    db.session.execute(insert(TaskDependency), links)
    if crew:
        db.session.execute(
            insert(TaskAssignment),
            [{"task_id": t, "user_id": crew[(i // 20) % len(crew)]} for i, t in enumerate(x for s in ids for x in s)],
        )
    return project_id


def rebuild_schedule() -> None:
    """After Core inserts: the conflict engine's stored rows and risk levels."""
    try:
        from app.schedule import conflicts as schedule
    except ImportError:  # pragma: no cover - the schedule package declares it
        return
    rebuild = getattr(schedule, "rebuild", None)
    if rebuild is not None:
        rebuild()
