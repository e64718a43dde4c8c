"""Demo data: a believable painting company, and bulk volume for benchmarks."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from app.auth.models import User
from app.auth.passwords import hash_password
from app.clients.models import Client, ClientContact
from app.core.roles import CLIENT, DESIGNER, EMPLOYEE, PM_TRAINEE, PROJECT_MANAGER, SUPERINTENDENT
from app.extensions import db
from app.projects.models import ACTIVE, CLOSED, CREATED, Project, ProjectMembership

DEMO_USERS = (
    ("admin", "admin", "Kim Bray"),
    ("pm", "project_manager_full", "Paula Martinez"),
    ("trainee", "pm_trainee", "Tom Reyes"),
    ("designer", "designer", "Diana Cole"),
    ("super", "superintendent", "Sam Ortiz"),
    ("employee", "employee", "Eli Brooks"),
    ("client", "client", "Carla Hughes"),
)
CLIENTS = (
    ("Hughes Residence", "carla@hughes.example", "(512) 555-0142", "1402 Cedar Bend Dr", "Austin", "TX", "78758"),
    ("Lakeview HOA", "board@lakeviewhoa.example", "(512) 555-0199", "800 Lakeview Pkwy", "Austin", "TX", "78732"),
    ("Brightline Dental", "office@brightline.example", "(512) 555-0110", "2210 S Lamar Blvd", "Austin", "TX", "78704"),
)
JOBS = (
    ("Hughes interior repaint", 0, "1402 Cedar Bend Dr", ACTIVE, "18500.00"),
    ("Hughes deck stain", 0, "1402 Cedar Bend Dr", CREATED, "4200.00"),
    ("Lakeview clubhouse exterior", 1, "800 Lakeview Pkwy", ACTIVE, "62750.00"),
    ("Lakeview fence staining 2025", 1, "800 Lakeview Pkwy", CLOSED, "23900.00"),
    ("Brightline lobby refresh", 2, "2210 S Lamar Blvd", CREATED, "9800.00"),
    ("Brightline touch-ups", 2, "2210 S Lamar Blvd", CLOSED, "1250.00"),
)


def seed_demo(password: str) -> bool:
    """The small demo company. Returns False if it was already there."""
    if db.session.scalar(select(User.id).where(User.username == "admin")):
        return False
    clients = []
    for name, email, phone, street, city, state, zip_code in CLIENTS:
        client = Client(
            name=name,
            email=email,
            phone=phone,
            billing_address=street,
            billing_city=city,
            billing_state=state,
            billing_zip=zip_code,
        )
        client.contacts.append(
            ClientContact(name=name.split()[0] + " office", email=email, phone=phone, is_primary=True)
        )
        db.session.add(client)
        clients.append(client)
    db.session.flush()
    hashed = hash_password(password)
    users = {}
    for username, role, full_name in DEMO_USERS:
        user = User(
            username=username,
            email=f"{username}@kibray.example",
            full_name=full_name,
            role=role,
            password_hash=hashed,
            client_id=clients[0].id if role == CLIENT else None,
        )
        db.session.add(user)
        users[role] = user
    db.session.flush()
    today = date.today()
    projects = {}
    for index, (name, client_index, street, status, budget) in enumerate(JOBS):
        start = today - timedelta(days=60 - index * 12)
        project = Project(
            name=name,
            client_id=clients[client_index].id,
            address=street,
            city="Austin",
            state="TX",
            zip="78700",
            status=status,
            budget=Decimal(budget),
            start_date=start,
            # a closed job ended a month after it began; an open one runs on past today (its
            # work around today is not flagged as after the project's end)
            end_date=start + timedelta(days=30 if status == CLOSED else 120),
            description="Prep, prime and two finish coats."
            if "repaint" in name or "exterior" in name
            else "Clean, sand and stain.",
            internal_notes="Owner asked for low-VOC products; margin target 32%.",
            progress_percent={CREATED: 0, ACTIVE: 45, CLOSED: 100}[status],
        )
        db.session.add(project)
        db.session.flush()
        for role in (PROJECT_MANAGER, SUPERINTENDENT) + ((DESIGNER, PM_TRAINEE) if index % 2 == 0 else ()):
            db.session.add(ProjectMembership(project_id=project.id, user_id=users[role].id))
        if status == ACTIVE:
            _demo_tasks(project, users[EMPLOYEE], today)
        projects[name] = project
    db.session.flush()
    from app.calendar.seed import demo_events

    demo_events(projects, users, today)
    return True


# An interior repaint, as a crew works it: each step waits for the one before.
DEMO_STEPS = (
    ("Protect floors and furniture", -3, -3, 4, 100),
    ("Patch and sand walls", -2, -1, 6, 100),
    ("Prime patched areas", 0, 0, 4, 30),
    ("Two finish coats", 1, 3, 16, 0),
    ("Touch-up and walkthrough", 4, 4, 3, 0),
)


def _demo(username: str) -> int | None:
    return db.session.scalar(select(User.id).where(User.username == username))


def _demo_tasks(project: Project, painter: User, today: date) -> None:
    from app.tasks.models import COMPLETED, IN_PROGRESS, PENDING, Task, TaskAssignment, TaskDependency

    before = None
    for title, start, due, hours, progress in DEMO_STEPS:
        status = COMPLETED if progress == 100 else IN_PROGRESS if progress else PENDING
        task = Task(
            project_id=project.id,
            title=title,
            start_date=today + timedelta(days=start),
            due_date=today + timedelta(days=due),
            estimated_hours=Decimal(hours),
            actual_hours=Decimal(hours) * progress / 100,
            progress_percent=progress,
            status=status,
            checklist=[
                {"item": "Photos before", "checked": progress > 0},
                {"item": "Clean up", "checked": progress == 100},
            ],
        )
        db.session.add(task)
        db.session.flush()
        db.session.add(TaskAssignment(task_id=task.id, user_id=painter.id))
        if before is not None:
            db.session.add(TaskDependency(task_id=task.id, depends_on_id=before.id))
        before = task


def seed_bulk(scale: int, password: str) -> dict:
    """N× (2 clients, 20 projects, 3 users), inserted in bulk (no audit rows: seed data)."""
    rng = random.Random(scale)  # noqa: S311 - repeatable demo data, not security
    run = uuid.uuid4().hex[:6]
    hashed = hash_password(password)
    client_rows = [
        {
            "name": f"Client {run}-{i:05d}",
            "email": f"c{i}-{run}@clients.example",
            "phone": "",
            "billing_address": f"{100 + i} Main St",
            "billing_city": "Austin",
            "billing_state": "TX",
            "billing_zip": "78701",
            "notes": "",
        }
        for i in range(2 * scale)
    ]
    client_ids = list(db.session.scalars(insert(Client).returning(Client.id), client_rows))
    roles = [
        PROJECT_MANAGER,
        PROJECT_MANAGER,
        PM_TRAINEE,
        DESIGNER,
        SUPERINTENDENT,
        EMPLOYEE,
        EMPLOYEE,
        EMPLOYEE,
        CLIENT,
    ]
    user_rows = []
    for i in range(3 * scale):
        role = roles[i % len(roles)]
        user_rows.append(
            {
                "username": f"user-{run}-{i:05d}",
                "email": f"user-{run}-{i:05d}@kibray.example",
                "full_name": f"{rng.choice(['Ana', 'Ben', 'Cruz', 'Dee', 'Eve', 'Finn', 'Gus', 'Hana'])} {rng.choice(['Lopez', 'Nguyen', 'Smith', 'Patel', 'Kim', 'Garcia'])} {i}",
                "role": role,
                "password_hash": hashed,
                "client_id": rng.choice(client_ids) if role == CLIENT else None,
                "is_active_flag": True,
                "must_change_password": False,
                "session_epoch": 0,
            }
        )
    users = list(db.session.execute(insert(User).returning(User.id, User.role), user_rows))
    members = [u.id for u in users if u.role in (PROJECT_MANAGER, PM_TRAINEE, DESIGNER, SUPERINTENDENT)]
    pms = [u.id for u in users if u.role == PROJECT_MANAGER]
    demo_pm = db.session.scalar(select(User.id).where(User.username == "pm"))
    streets = ["Oak", "Maple", "Cedar", "Elm", "Pecan", "Willow", "Riverside", "Congress", "Guadalupe", "Lamar"]
    kinds = [
        "interior repaint",
        "exterior repaint",
        "deck stain",
        "cabinet refinish",
        "fence stain",
        "trim and doors",
        "touch-ups",
    ]
    project_rows = []
    today = date.today()
    for i in range(20 * scale):
        start = today - timedelta(days=rng.randint(-60, 400))
        project_rows.append(
            {
                "name": f"{rng.choice(streets)} {rng.choice(kinds)} {run}-{i:05d}",
                "description": "Bulk benchmark project.",
                "client_id": rng.choice(client_ids),
                "status": rng.choice([CREATED, ACTIVE, ACTIVE, ACTIVE, CLOSED]),
                "address": f"{rng.randint(100, 9999)} {rng.choice(streets)} St",
                "city": "Austin",
                "state": "TX",
                "zip": f"787{rng.randint(0, 99):02d}",
                "budget": Decimal(rng.randint(800, 250000)) + Decimal("0.50"),
                "start_date": start,
                "end_date": start + timedelta(days=rng.randint(3, 120)),
                "progress_percent": rng.randint(0, 100),
                "notes": "",
                "internal_notes": "",
            }
        )
    project_ids = list(db.session.scalars(insert(Project).returning(Project.id), project_rows))
    membership_rows = []
    for index, project_id in enumerate(project_ids):
        team = {rng.choice(pms)} if pms else set()
        team.update(rng.sample(members, k=min(2, len(members))))
        if demo_pm and index % 10 == 0:
            team.add(demo_pm)
        membership_rows.extend({"project_id": project_id, "user_id": uid} for uid in team)
    db.session.execute(insert(ProjectMembership), membership_rows)
    employees = [u.id for u in users if u.role == EMPLOYEE]
    demo_employee = db.session.scalar(select(User.id).where(User.username == "employee"))
    task_count, assignment_count = _bulk_tasks(rng, project_rows, project_ids, employees, demo_employee)
    photo_count = _bulk_photos(rng, project_ids, members)
    punch_count = _bulk_punches(rng, employees)
    from app.calendar import seed as schedule

    event_count, event_people = schedule.bulk_events(rng, project_rows, project_ids, employees, datetime.now(UTC))
    schedule.big_schedule(rng, client_ids[0], [u for u in (demo_pm, _demo("super")) if u], employees[:8], today)
    schedule.rebuild_schedule()  # the Core inserts bypassed the ORM flush that keeps conflicts
    return {
        "clients": len(client_ids),
        "users": len(users),
        "projects": len(project_ids),
        "memberships": len(membership_rows),
        "tasks": task_count,
        "task_assignees": assignment_count,
        "photos": photo_count,
        "punches": punch_count,
        "events": event_count,
        "event_assignees": event_people,
        "big_schedule_tasks": schedule.BIG_TASKS,
    }


TASKS_PER_PROJECT = 25
BULK_TASK_TITLES = (
    "Protect floors",
    "Mask windows",
    "Patch drywall",
    "Sand trim",
    "Caulk gaps",
    "Prime walls",
    "Cut in ceilings",
    "First coat walls",
    "Second coat walls",
    "Paint doors",
    "Stain deck boards",
    "Seal fence",
    "Touch-up",
    "Walkthrough",
)


def _bulk_tasks(rng, project_rows, project_ids, employees, demo_employee) -> tuple[int, int]:
    """About 25 tasks per project, one or two employees on each (the demo employee on one
    task in 250, so "My day" has a realistic load), dates around the project's."""
    from app.tasks.models import Task, TaskAssignment

    statuses = ["pending"] * 8 + ["in_progress"] * 5 + ["blocked"] + ["completed"] * 5 + ["cancelled"]
    now = datetime.now(UTC)
    today = now.date()
    rows, owners = [], []
    for project, project_id in zip(project_rows, project_ids, strict=True):
        for n in range(TASKS_PER_PROJECT):
            status = rng.choice(statuses)
            start = project["start_date"] + timedelta(days=rng.randint(0, 20))
            # as in a company's real books: a closed job's tasks are finished, and work due
            # more than two weeks ago is done, bar the odd one someone forgot to close
            if project["status"] == CLOSED or (start < today - timedelta(days=14) and rng.random() < 0.97):
                status = "completed" if rng.random() < 0.95 else "cancelled"
            progress = 100 if status == "completed" else rng.choice([0, 10, 25, 50, 75]) if status != "pending" else 0
            estimate = Decimal(rng.randint(2, 24))
            rows.append(
                {
                    "project_id": project_id,
                    "title": f"{rng.choice(BULK_TASK_TITLES)} {n + 1}",
                    "description": "",
                    "notes": "",
                    "status": status,
                    "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    "start_date": start,
                    "due_date": start + timedelta(days=rng.randint(0, 5)),
                    "estimated_hours": estimate,
                    "actual_hours": (
                        estimate * Decimal(progress) / 100 * Decimal(rng.choice([8, 10, 12])) / 10
                    ).quantize(Decimal("0.01")),
                    "progress_percent": progress,
                    "schedule_weight": rng.choice([25, 50, 50, 75]),
                    "checklist": [],
                    "is_design": rng.random() < 0.05,
                    "blocked_reason": "Waiting for materials" if status == "blocked" else "",
                    "completion_notes": "",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            people = {rng.choice(employees)} if employees else set()
            if employees and rng.random() < 0.2:
                people.add(rng.choice(employees))
            if demo_employee and len(rows) % 250 == 0:
                people.add(demo_employee)
            owners.append(people)
    task_ids = []
    for chunk in range(0, len(rows), 5000):
        task_ids.extend(db.session.scalars(insert(Task).returning(Task.id), rows[chunk : chunk + 5000]))
    assignment_rows = [
        {"task_id": task_id, "user_id": user_id}
        for task_id, people in zip(task_ids, owners, strict=True)
        for user_id in people
    ]
    for chunk in range(0, len(assignment_rows), 10000):
        db.session.execute(insert(TaskAssignment), assignment_rows[chunk : chunk + 10000])
    return len(task_ids), len(assignment_rows)  # seed_bulk rebuilds the conflicts once, at the end


PHOTOS_PER_PROJECT = 10  # 20,000 at scale 100
DEMO_GALLERY = 1200  # the demo PM's busiest gallery: many pages of 48
PHOTO_TAGS = ("walls", "ceilings", "trim", "doors", "cabinets", "siding", "deck", "kitchen", "hallway", "porch")


def _bulk_photos(rng, project_ids, uploaders) -> int:
    """Photo records (issue 9's gallery volume): ten a project and a large gallery on the
    first demo project, half of them approved for the client. Rows only — their keys name
    no stored object (a gallery page reads rows and links to the image route, which the
    benchmark does not fetch)."""
    from app.photos.models import Photo

    demo = db.session.scalar(select(Project.id).where(Project.name == JOBS[0][0]))
    now = datetime.now(UTC)
    plan = [(pid, PHOTOS_PER_PROJECT) for pid in project_ids] + ([(demo, DEMO_GALLERY)] if demo else [])
    rows = []
    for project_id, count in plan:
        for n in range(count):
            taken = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 600))
            shared = rng.random() < 0.5
            rows.append(
                {
                    "project_id": project_id,
                    "storage_key": f"bench/{uuid.uuid4().hex}.jpg",
                    "thumb_key": f"bench/{uuid.uuid4().hex}.jpg",
                    "web_key": f"bench/{uuid.uuid4().hex}.jpg",
                    "content_type": "image/jpeg",
                    "size": rng.randint(300_000, 4_000_000),
                    "width": 4032,
                    "height": 3024,
                    "caption": f"{rng.choice(PHOTO_TAGS).title()} {n + 1}",
                    "tags": rng.sample(PHOTO_TAGS, k=2),
                    "taken_on": taken.date(),
                    "uploaded_by_id": rng.choice(uploaders) if uploaders else None,
                    "client_provided": False,
                    "is_client_visible": shared,
                    "approved_at": taken if shared else None,
                    "version": 1,
                    "created_at": taken,
                    "updated_at": taken,
                }
            )
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Photo), rows[chunk : chunk + 5000])
    return len(rows)


CREW_SIZE = 30  # the superintendent's review page in the benchmark: 30 people's week


def _bulk_punches(rng, employees) -> int:
    """This week's punches of 30 employees on the demo superintendent's active projects,
    a day each from Monday to today (7:00 to 15:30 company time, 8.5 hours): the weekly
    timesheet review a superintendent opens on Monday morning, at a real crew's size."""
    from datetime import time as clock

    from app.core.timezones import company_zone
    from app.projects.models import ACTIVE as ACTIVE_PROJECT
    from app.timeclock.models import Punch

    sup = db.session.scalar(select(User.id).where(User.username == "super"))
    projects = db.session.scalars(
        select(Project.id)
        .join(ProjectMembership, ProjectMembership.project_id == Project.id)
        .where(ProjectMembership.user_id == sup, Project.status == ACTIVE_PROJECT)
    ).all()
    crew = employees[:CREW_SIZE]
    if not projects or not crew:
        return 0
    zone = company_zone()
    today = datetime.now(zone).date()
    monday = today - timedelta(days=today.weekday())
    now = datetime.now(UTC)
    rows = []
    for person in crew:
        project_id = rng.choice(projects)
        day = monday
        while day <= today:
            start = datetime.combine(day, clock(7, 0), zone)
            rows.append(
                {
                    "user_id": person,
                    "project_id": project_id,
                    "clock_in": start,
                    "clock_out": start + timedelta(hours=8, minutes=30),
                    "hours": Decimal("8.50"),
                    "note": "",
                    "auto_closed": False,
                    "needs_review": rng.random() < 0.05,
                    "correction_reason": "",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            day += timedelta(days=1)
    db.session.execute(insert(Punch), rows)
    return len(rows)
