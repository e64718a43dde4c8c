"""Project template rules: who manages them, what a valid step list is, and laying a
new project's tasks out from one (dates from the project's start, dependencies kept).

A step's fields follow the task's own rules (tasks.services.clean: title, hours,
weight), so a template can never hold a step that would not make a valid task. Days
are calendar days: "start_day" 1 is the project's start date, and a step of "days" 2
starting on day 3 is due on day 4.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.core.errors import ObjectNotFound, ValidationError
from app.core.numbers import to_int
from app.core.permissions import require
from app.core.text import LONG_TEXT, check_lengths, declare_limits, name_key, normalise
from app.core.unique import unique_fields
from app.core.versioning import checks_version, expect_version
from app.extensions import db
from app.project_templates.models import ProjectTemplate

LIMITS = declare_limits("project_template", {"name": 120, "description": LONG_TEXT})
MAX_STEPS = 100
MAX_DAY = 730  # a step may start up to two years into the job
MAX_DAYS = 365
STEP_FIELDS = ("title", "description", "start_day", "days", "estimated_hours", "schedule_weight", "after")


def template_list(actor):
    """select() of every template, by name: those who may create projects choose from them."""
    require(actor, "project.create")
    return select(ProjectTemplate).order_by(ProjectTemplate.name_key, ProjectTemplate.id)


def templates(actor) -> list[ProjectTemplate]:
    return list(db.session.scalars(template_list(actor)))


def get_template(actor, template_id, action: str = "project.create") -> ProjectTemplate:
    require(actor, action)
    template_id = to_int(template_id)
    template = db.session.get(ProjectTemplate, template_id) if template_id is not None else None
    if template is None:
        raise ObjectNotFound("That project template does not exist.")
    return template


# --- steps ---------------------------------------------------------------------------


def _whole(value, field: str, errors: dict, low: int, high: int, label: str, default=None) -> int | None:
    if value in (None, ""):
        if default is None:
            errors[field] = f"{label} is required."
        return default
    number = to_int(value if isinstance(value, int) else str(value), maximum=high, minimum=low)
    if number is None:
        errors[field] = f"{label} must be a whole number from {low} to {high}."
    return number


def _after(value, field: str, errors: dict) -> list[int] | None:
    """ "2, 3" or [2, 3] → [2, 3] (step numbers as the form shows them)."""
    if value in (None, ""):
        return []
    parts = value if isinstance(value, list) else str(value).replace(";", ",").replace(" ", ",").split(",")
    numbers = []
    for part in parts:
        if part in ("", None):
            continue
        number = to_int(part if isinstance(part, int) else str(part), maximum=MAX_STEPS * 10)
        if number is None:
            errors[field] = "List the numbers of the steps it waits for, such as 2, 3."
            return None
        if number not in numbers:
            numbers.append(number)
    return numbers


def _blank(row: dict) -> bool:
    return not any(str(row.get(key) or "").strip() for key in STEP_FIELDS if key != "schedule_weight")


def clean_steps(rows: list[dict]) -> tuple[list[dict], dict]:
    """Valid steps from the rows as typed (a form's rows or a list of dicts), with every
    problem at once as errors keyed "step-<row>-<field>". Blank rows are dropped and the
    rest numbered again; "after" refers to row numbers as typed and is renumbered."""
    from app.tasks.services import clean as clean_task

    errors: dict[str, str] = {}
    if not isinstance(rows, list):
        return [], {"steps": "Send the steps as a list."}
    if len(rows) > MAX_STEPS * 2:
        return [], {"steps": f"A template holds at most {MAX_STEPS} steps."}
    kept: list[tuple[int, dict]] = []  # (row number as typed, step)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or _blank(row):
            continue
        field = f"step-{number}-"
        task_values, task_errors = clean_task(
            {
                "title": row.get("title"),
                "description": row.get("description"),
                "estimated_hours": row.get("estimated_hours"),
                "schedule_weight": row.get("schedule_weight"),
            }
        )
        for key in ("title", "description", "estimated_hours", "schedule_weight"):
            if key in task_errors:
                errors[field + key] = task_errors[key]
        start_day = _whole(row.get("start_day"), field + "start_day", errors, 1, MAX_DAY, "The start day", default=1)
        days = _whole(row.get("days"), field + "days", errors, 1, MAX_DAYS, "The length in days", default=1)
        after = _after(row.get("after"), field + "after", errors)
        hours = task_values.get("estimated_hours")
        kept.append(
            (
                number,
                {
                    "title": task_values["title"],
                    "description": task_values.get("description", ""),
                    "start_day": start_day,
                    "days": days,
                    "estimated_hours": str(hours) if hours is not None else None,
                    "schedule_weight": task_values["schedule_weight"],
                    "after": after or [],
                },
            )
        )
    if not kept and not errors:
        errors["steps"] = "Add at least one step."
    if len(kept) > MAX_STEPS:
        errors["steps"] = f"A template holds at most {MAX_STEPS} steps."
    renumber = {typed: index for index, (typed, _) in enumerate(kept, start=1)}
    for typed, step in kept:
        field = f"step-{typed}-after"
        if field in errors:
            continue
        unknown = [n for n in step["after"] if n not in renumber]
        if typed in step["after"]:
            errors[field] = "A step cannot wait for itself."
        elif unknown:
            errors[field] = f"There is no step {', '.join(map(str, unknown))}."
        else:
            step["after"] = [renumber[n] for n in step["after"]]
    steps = [step for _, step in kept]
    if not any(key.endswith("-after") for key in errors):
        loop = _cycle(steps)
        if loop:
            typed_of = {index: typed for typed, index in renumber.items()}
            errors[f"step-{typed_of[loop[0]]}-after"] = "These steps wait for each other: " + " → ".join(
                steps[i - 1]["title"] for i in loop
            )
    return steps, errors


def _cycle(steps: list[dict]) -> list[int] | None:
    """The step numbers along a loop of "waits for" ([1, 3, 1]), or None."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done

    def walk(node: int, path: list[int]) -> list[int] | None:
        state[node] = 1
        for nxt in steps[node - 1]["after"]:
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                loop = walk(nxt, [*path, nxt])
                if loop:
                    return loop
        state[node] = 2
        return None

    for start in range(1, len(steps) + 1):
        if start not in state:
            loop = walk(start, [start])
            if loop:
                return loop
    return None


def _clean(data: dict, template: ProjectTemplate | None) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    values = {"name": normalise(data.get("name")), "description": str(data.get("description") or "").strip()}
    if not values["name"]:
        errors["name"] = "Give the template a name."
    check_lengths(values, LIMITS, errors)
    if "name" not in errors:
        clash = db.session.scalar(
            select(ProjectTemplate.id).where(
                ProjectTemplate.name_key == name_key(values["name"]),
                ProjectTemplate.id != (template.id if template else 0),
            )
        )
        if clash:
            errors["name"] = f"A template named {values['name']} already exists."
    steps, step_errors = clean_steps(data.get("steps"))
    errors.update(step_errors)
    values["steps"] = steps
    return values, errors


def _unique_name(values: dict):
    message = ("name", f"A template named {values['name']} already exists.")
    return unique_fields({("uq_project_templates_name_key", "project_templates.name_key"): message})


def create_template(actor, data: dict) -> ProjectTemplate:
    require(actor, "template.manage")
    values, errors = _clean(data, None)
    if errors:
        raise ValidationError(errors)
    with _unique_name(values):
        template = ProjectTemplate(created_by_id=actor.id, **values)
        db.session.add(template)
    return template


@checks_version("template")
def update_template(actor, template: ProjectTemplate, data: dict, version=None) -> ProjectTemplate:
    require(actor, "template.manage")
    expect_version(template, version)
    values, errors = _clean(data, template)
    if errors:
        raise ValidationError(errors)
    with _unique_name(values):
        for key, value in values.items():
            setattr(template, key, value)
    return template


@checks_version("template")
def delete_template(actor, template: ProjectTemplate, version=None) -> None:
    """Projects laid from it keep their tasks: a template is only where they came from."""
    require(actor, "template.manage")
    expect_version(template, version)
    db.session.delete(template)
    db.session.flush()


# --- laying a project out ------------------------------------------------------------


def for_new_project(actor, template_id, start: date | None, errors: dict) -> ProjectTemplate | None:
    """The template a new project starts from (None when none was chosen), checked with
    the project's other fields: it must exist, and the project needs a start date."""
    if template_id in (None, ""):
        return None
    template_id = to_int(template_id if isinstance(template_id, int) else str(template_id))
    template = db.session.get(ProjectTemplate, template_id) if template_id is not None else None
    if template is None:
        errors["template_id"] = "That project template does not exist."
        return None
    if start is None and "start_date" not in errors:
        errors["start_date"] = f"Set the start date: the tasks of “{template.name}” are dated from it."
    return template


def dates_of(step: dict, start: date) -> tuple[date, date]:
    first = start + timedelta(days=step["start_day"] - 1)
    return first, first + timedelta(days=step["days"] - 1)


def lay_out(actor, project, template: ProjectTemplate) -> list:
    """The template's steps as the project's tasks, in order, each dated from the
    project's start and waiting for the tasks of the steps it waits for. Every task is
    made by tasks.services.create_task (its rules, its events, the project's start)."""
    from app.tasks.services import create_task

    made = []
    for step in template.steps:
        start, due = dates_of(step, project.start_date)
        task = create_task(
            actor,
            project,
            {
                "title": step["title"],
                "description": step.get("description") or "",
                "start_date": start.isoformat(),
                "due_date": due.isoformat(),
                "estimated_hours": step.get("estimated_hours"),
                "schedule_weight": step.get("schedule_weight"),
            },
            dependency_ids=[made[n - 1].id for n in step.get("after") or ()],
        )
        made.append(task)
    return made
