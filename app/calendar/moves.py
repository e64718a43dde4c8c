"""Drag and drop, resize, "Move…" and bulk actions on the calendar's views
(static/js/calendar.js posts here; the keyboard's "Move…" form and the bulk bar too).

Every change goes through app/calendar/services.py (events: move_event, update_event;
tasks: move_task and tasks.services), the same rules as the API. The answer is the
calendar as it is now — the fragment the page shows (views.py renders it from the
view, day and filters the request carries in its live-state fields) — with the result
out of band in the flash area: saved; saved with conflicts (the schedule's reasons);
a task's "also shift its N dependent tasks by D days" offer; 409 when the block changed
meanwhile (the calendar redrawn, the block where it is now, who changed it); 422 a
rule's refusal; 403/404 refused, nothing written. Without JavaScript the "Move…" form
is a page of its own and a move answers a redirect back to the calendar.

Times: the browser sends what it shows — company-local wall time "YYYY-MM-DDTHH:MM"
for timed events, days "YYYY-MM-DD" (the end being the last day) for all-day events
and tasks; an explicit offset is kept. A drop on another person's row of the crew view
also reassigns (person, from_person): both changes, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.calendar import bp, services
from app.calendar.models import CalendarEvent
from app.calendar.visibility import get_event
from app.core.errors import ConflictError, ObjectNotFound, ValidationError, record_refused_write
from app.core.htmx import is_htmx, lazy, wants_fragment
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied, require
from app.core.timezones import company_zone, format_datetime
from app.core.transaction import attempt
from app.core.versioning import StaleObject, current, last_change

KINDS = ("event", "task")
MOVE_FIELDS = frozenset(
    {
        "csrf_token",
        "kind",
        "id",
        "version",
        "occurrence",
        "start",
        "end",
        "mode",
        "person",
        "from_person",
        "start_date",
        "start_time",
        "end_date",
        "end_time",
        "form",
        "task",
        "days",
        "items",
        "action",
        "user_ids",
        "new_status",
        "confirm",
    }
)
# the bulk bar's "Set status…": events' and tasks' statuses differ; each item takes what fits
BULK_STATUSES = (
    ("scheduled", "Scheduled (events)"),
    ("pending", "To do (tasks)"),
    ("in_progress", "In progress"),
    ("completed", "Completed"),
    ("rescheduled", "Rescheduled (events)"),
    ("cancelled", "Cancelled"),
)
BULK_ACTIONS = (
    ("move", "Move by N days"),
    ("reassign", "Reassign to…"),
    ("status", "Set status…"),
    ("delete", "Delete"),
)


@dataclass
class Result:
    """What the flash area says after a move or a bulk action."""

    level: str = "success"  # success | warning | error
    message: str = ""
    reasons: list[str] = field(default_factory=list)
    offer: dict | None = None  # a task's dependants: {task_id, days, count, version}
    confirm: dict | None = None  # a bulk delete to confirm: {items, count}
    status: int = 200
    kept: list[str] | None = None  # bulk: the items still selected (refused)


# --- the answer ---------------------------------------------------------------------


def state() -> dict:
    """The view, day and filters the calendar showed (its live-state fields), without
    the move's own fields."""
    return {k: v for k, v in request.values.items() if k not in MOVE_FIELDS and v != ""}


def _calendar_fragment() -> str:
    """The calendar's body as the page shows it (views.py's fragment of #calendar-body)
    for the view, day and filters the request carried."""
    from app.calendar import views

    context = views.calendar_context(views.State(state(), current_user))
    return render_template("calendar/_body.html", **{**context, "oob": False})


def _answer(result: Result):
    """The calendar redrawn as it is now, the result in the flash area (out of band);
    without JavaScript a redirect to the calendar with the result flashed."""
    if not wants_fragment():
        flash(_plain(result), "success" if result.level == "success" else "error")
        return redirect(url_for("calendar.index", **state()), 303)
    body = _calendar_fragment() + render_template("calendar/_move_flash.html", result=result, state=state())
    response = make_response(body, result.status)
    if result.kept is not None:
        response.headers["X-Kibray-Kept"] = ",".join(result.kept)
    return response


def _plain(result: Result) -> str:
    return " ".join([result.message, *result.reasons]).strip()


def _refused(exc: Exception):
    """Refused (403) or not visible (404): nothing written. A fragment request gets the
    calendar back with the refusal; a plain request the error page."""
    if not wants_fragment():
        raise exc
    record_refused_write(exc)
    status = 404 if isinstance(exc, ObjectNotFound) else 403
    return _answer(Result("error", getattr(exc, "message", "") or "Refused.", status=status))


def _field_errors(exc: ValidationError) -> list[str]:
    return list(dict.fromkeys(str(v) for v in exc.fields.values())) or [exc.message]


# --- reading what was sent -------------------------------------------------------------


def _combined(form, side: str) -> str:
    """`start`/`end` as sent by a drop, or the "Move…" form's date and time fields."""
    value = (form.get(side) or "").strip()
    if value:
        return value
    day = (form.get(f"{side}_date") or "").strip()
    clock = (form.get(f"{side}_time") or "").strip()
    return f"{day}T{clock}" if day and clock else day


def _day(text: str, name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        errors[name] = "Give a day as YYYY-MM-DD."
        return None


def _instant(text: str, name: str, errors: dict) -> datetime | None:
    """A timed event's new start or end: company-local wall time unless an offset is given."""
    if len(text) > 40:
        errors[name] = "That is not a date and time."
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = "Give a date and a time."
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=company_zone())  # a DST gap: zoneinfo's fold=0, as the series do
    return value


def _event_times(event: CalendarEvent, form) -> tuple:
    errors: dict = {}
    start_raw, end_raw = _combined(form, "start"), _combined(form, "end")
    if not start_raw:
        errors["start"] = "Give the new start."
    if not end_raw:
        errors["end"] = "Give the new end."
    if errors:
        raise ValidationError(errors)
    if event.all_day:
        start, end = _day(start_raw, "start", errors), _day(end_raw, "end", errors)
    else:
        start, end = _instant(start_raw, "start", errors), _instant(end_raw, "end", errors)
    if errors:
        raise ValidationError(errors)
    return start, end


def _task_dates(task, form) -> tuple:
    errors: dict = {}
    start_raw, end_raw = _combined(form, "start"), _combined(form, "end")
    start = _day(start_raw, "start", errors) if start_raw else None
    end = _day(end_raw, "end", errors) if end_raw else None
    if errors:
        raise ValidationError(errors)
    if start is None and end is None:
        raise ValidationError({"start": "Give the new dates."})
    # a task with one date keeps one date (the calendar draws it on that day)
    if task.start_date is None and task.due_date is not None:
        return None, end or start
    if task.due_date is None and task.start_date is not None:
        return start or end, None
    return start, end


def _crew_people(form) -> tuple[int | None, int | None]:
    to, source = to_int(form.get("person")), to_int(form.get("from_person"))
    if to is None or to == source:
        return None, None
    return to, source


def _swap_person(ids, source: int | None, to: int) -> list[int]:
    people = [i for i in sorted(ids) if i != source]
    return people if to in people else [*people, to]


def _reasons(kind: str, item_id: int) -> list:
    """The schedule's conflict reasons for the item (when its engine is installed)."""
    try:
        from app.schedule.conflicts import for_items
    except ImportError:  # pragma: no cover - the schedule feature ships with this issue
        return []
    return list(for_items(current_user, [(kind, item_id)]).get((kind, item_id), []))


def _saved(title: str, kind: str, item_id: int, when: str, reassigned: str = "") -> Result:
    reasons = _reasons(kind, item_id)
    moved = f"“{title}” moved to {when}{reassigned}."
    if not reasons:
        return Result("success", moved + " Saved.")
    return Result(
        "warning",
        f"{moved} Saved, with conflicts: the people affected are told.",
        [getattr(r, "message", str(r)) for r in reasons],
    )


def _when(obj) -> str:
    """The new time of a moved event or task, as the flash says it."""
    from app.core.timezones import format_date

    if isinstance(obj, CalendarEvent):
        if obj.all_day:
            first, last = _local_days(obj)
            return format_date(first) if first == last else f"{format_date(first)} – {format_date(last)}"
        zone = company_zone()
        start, end = _aware(obj.start_at).astimezone(zone), _aware(obj.end_at).astimezone(zone)
        if start.date() == end.date():
            return f"{format_date(start)}, {_clock(start)} – {_clock(end)}"
        return f"{format_date(start)}, {_clock(start)} – {format_date(end)}, {_clock(end)}"
    first, last = obj.start_date or obj.due_date, obj.due_date or obj.start_date
    return format_date(first) if first == last else f"{format_date(first)} – {format_date(last)}"


def _clock(value: datetime) -> str:
    """9:30 AM"""
    return f"{value.hour % 12 or 12}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


def _local_days(event: CalendarEvent) -> tuple[date, date]:
    return _days_between(event.start_at, event.end_at)


def _days_between(start: datetime, end: datetime) -> tuple[date, date]:
    """The company-local days an all-day span covers (its end is exclusive at midnight)."""
    zone = company_zone()
    first = _aware(start).astimezone(zone)
    last = _aware(end).astimezone(zone)
    last_day = last.date()
    if last > first and last.time() == time(0):
        last_day -= timedelta(days=1)
    return first.date(), max(first.date(), last_day)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _meanwhile(obj, title: str) -> Result:
    who, at = last_change(obj)
    since = f" ({who}, {format_datetime(at)})" if at else ""
    return Result(
        "error",
        f"“{title}” was changed meanwhile{since}, so nothing was saved. It is shown where it is now: "
        "look, then move it again if you still need to.",
        status=409,
    )


# --- POST /calendar/move ---------------------------------------------------------------


@bp.post("/calendar/move")
@login_required
def move():
    """A block dropped on another day or time, resized, or moved with the "Move…" form."""
    require(current_user, "calendar.move_event")
    form = request.form
    kind, item_id = form.get("kind", ""), to_int(form.get("id"))
    if kind not in KINDS or item_id is None:
        raise ValidationError({"id": "Say which event or task to move."})
    try:
        if kind == "event":
            return _move_event(item_id, form)
        return _move_task(item_id, form)
    except (PermissionDenied, ObjectNotFound) as exc:
        return _refused(exc)


def _form_errors(kind: str, item_id: int, form, errors: list[str], status: int):
    """The "Move…" form's refusal: the form again with the reasons (it stays open)."""
    if not wants_fragment():
        return _move_page(kind, item_id, form.get("occurrence") or None, errors, status, typed=form)
    html = _form_html(kind, item_id, form.get("occurrence") or None, errors, typed=form)
    response = make_response(html, status)
    response.headers["HX-Retarget"] = f"#{_form_id(kind, item_id, form.get('occurrence'))}"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _move_event(event_id: int, form):
    event = get_event(current_user, event_id)
    title = event.title
    occurrence = form.get("occurrence") or None
    to, source = _crew_people(form)
    try:
        start, end = _event_times(event, form)
        with attempt():
            moved = services.move_event(
                current_user, event, start, end, version=form.get("version"), occurrence_start=occurrence
            )
            reassigned = ""
            if to is not None:
                people = _swap_person(moved.assignee_ids, source, to)
                moved = services.update_event(current_user, moved, {"assigned_to_ids": people})
                reassigned = _reassigned_to(moved, to)
    except StaleObject as exc:
        return _answer(_meanwhile(current(exc.obj), title))
    except ValidationError as exc:
        if form.get("form"):
            return _form_errors("event", event_id, form, _field_errors(exc), 422)
        return _answer(Result("error", f"“{title}” was not moved.", _field_errors(exc), status=422))
    except ConflictError as exc:
        return _answer(Result("error", f"“{title}” was not moved.", [exc.message], status=422))
    return _answer(_saved(moved.title, "event", moved.id, _when(moved), reassigned))


def _reassigned_to(obj, person_id: int) -> str:
    """ ", now Ana's" — the person a crew drop gave the item to (from its assignees)."""
    names = [u.name for u in obj.assignees if u.id == person_id]
    return f" and given to {names[0]}" if names else ""


def _move_task(task_id: int, form):
    from app.tasks import services as tasks

    task = tasks.get_task(current_user, task_id)
    title = task.title
    to, source = _crew_people(form)
    before = task.start_date or task.due_date
    try:
        start, due = _task_dates(task, form)
        with attempt():
            services.move_task(current_user, task, start, due, version=form.get("version"))
            reassigned = ""
            if to is not None:
                people = _swap_person(task.assignee_ids, source, to)
                tasks.update_task(current_user, task, {}, assignee_ids=people, partial=True)
                reassigned = _reassigned_to(task, to)
    except StaleObject as exc:
        return _answer(_meanwhile(current(exc.obj), title))
    except ValidationError as exc:
        if form.get("form"):
            return _form_errors("task", task_id, form, _field_errors(exc), 422)
        return _answer(Result("error", f"“{title}” was not moved.", _field_errors(exc), status=422))
    except ConflictError as exc:
        return _answer(Result("error", f"“{title}” was not moved.", [exc.message], status=422))
    result = _saved(task.title, "task", task.id, _when(task), reassigned)
    after = task.start_date or task.due_date
    days = (after - before).days if before and after else 0
    followers = services.dependants_to_shift(task, days) if days else []
    if followers:
        result.offer = {"task_id": task.id, "days": days, "count": len(followers)}
    return _answer(result)


# --- POST /calendar/move/shift-dependants ------------------------------------------------


@bp.post("/calendar/move/shift-dependants")
@login_required
def shift_dependants():
    """The offer after a task moved: everything that depends on it, transitively, moves
    by the same number of days — all or nothing."""
    from app.tasks import services as tasks

    require(current_user, "calendar.move_event")
    task_id, days = to_int(request.form.get("task")), request.form.get("days", "")
    try:
        days = int(days)
    except ValueError:
        raise ValidationError({"days": "Shift by a whole number of days."}) from None
    if task_id is None or not days or abs(days) > 3660:
        raise ValidationError({"days": "Shift by a whole number of days."})
    try:
        task = tasks.get_task(current_user, task_id)
        if not services.may_move(current_user, task):
            raise PermissionDenied("Only admins and the project's PMs move tasks on the calendar.")
        followers = services.dependants_to_shift(task, days)
        with attempt():
            for dependant in followers:
                services.move_task(
                    current_user,
                    dependant,
                    dependant.start_date + timedelta(days=days) if dependant.start_date else None,
                    dependant.due_date + timedelta(days=days) if dependant.due_date else None,
                )
    except (PermissionDenied, ObjectNotFound) as exc:
        return _refused(exc)
    except StaleObject as exc:
        return _answer(_meanwhile(current(exc.obj), getattr(exc.obj, "title", "A task")))
    except ValidationError as exc:
        return _answer(Result("error", "The dependent tasks were not shifted.", _field_errors(exc), status=422))
    except ConflictError as exc:
        return _answer(Result("error", "The dependent tasks were not shifted.", [exc.message], status=422))
    n = len(followers)
    label = f"{abs(days)} day{'s' if abs(days) != 1 else ''} {'later' if days > 0 else 'earlier'}"
    return _answer(Result("success", f"{n} dependent task{'s' if n != 1 else ''} of “{task.title}” moved {label}."))


# --- the keyboard's way: "Move…" --------------------------------------------------------


def _form_id(kind: str, item_id: int, occurrence) -> str:
    suffix = ""
    if occurrence:
        suffix = "-" + "".join(c for c in str(occurrence) if c.isalnum())[:14]
    return f"move-form-{kind}-{item_id}{suffix}"


def _current_times(kind: str, item_id: int, occurrence) -> dict:
    """What the "Move…" form starts from: the item's title, version, all-day flag and
    its start and end as the form's fields."""
    from app.tasks import services as tasks

    zone = company_zone()
    if kind == "task":
        task = tasks.get_task(current_user, item_id)
        if not services.may_move(current_user, task):
            raise PermissionDenied("Only admins and the project's PMs move tasks on the calendar.")
        first, last = task.start_date or task.due_date, task.due_date or task.start_date
        return {
            "title": task.title,
            "version": task.version,
            "all_day": True,
            "start_date": first.isoformat() if first else "",
            "end_date": last.isoformat() if last else "",
        }
    event = get_event(current_user, item_id)
    if not services.may_move(current_user, event):
        raise PermissionDenied("Only admins and the project's PMs change an event's time.")
    row, start, end, version = event, _aware(event.start_at), _aware(event.end_at), event.version
    if occurrence:
        errors: dict = {}
        when = services.parse_when(occurrence, "occurrence", errors)
        if errors or when is None:
            raise ValidationError(errors or {"occurrence": "Give the occurrence's start."})
        found = services.exception_for(event, when)
        if found is not None:
            row, start, end, version = found, _aware(found.start_at), _aware(found.end_at), found.version
        else:
            start, end = when, when + (_aware(event.end_at) - _aware(event.start_at))
    if row.all_day:
        first, last = _days_between(start, end)
        return {
            "title": row.title,
            "version": version,
            "all_day": True,
            "start_date": first.isoformat(),
            "end_date": last.isoformat(),
        }
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return {
        "title": row.title,
        "version": version,
        "all_day": False,
        "start_date": local_start.date().isoformat(),
        "start_time": f"{local_start:%H:%M}",
        "end_date": local_end.date().isoformat(),
        "end_time": f"{local_end:%H:%M}",
    }


def _form_context(kind: str, item_id: int, occurrence, errors: list[str], typed=None) -> dict:
    values = _current_times(kind, item_id, occurrence)
    if typed is not None:  # a refused form keeps what was typed
        for key in ("start_date", "start_time", "end_date", "end_time"):
            if key in typed:
                values[key] = typed.get(key, "")
    return {
        "kind": kind,
        "item_id": item_id,
        "occurrence": occurrence or "",
        "values": values,
        "errors": errors,
        "form_id": _form_id(kind, item_id, occurrence),
        "state": state(),
    }


def _form_html(kind: str, item_id: int, occurrence, errors: list[str], typed=None) -> str:
    return render_template("calendar/_move_form.html", **_form_context(kind, item_id, occurrence, errors, typed))


def _move_page(kind: str, item_id: int, occurrence, errors: list[str], status: int = 200, typed=None):
    context = _form_context(kind, item_id, occurrence, errors, typed)
    return make_response(render_template("calendar/_move_page.html", **context), status)


@bp.get("/calendar/move/form")
@login_required
def move_form():
    """The "Move…" form of one block (its details open it; a page without JavaScript)."""
    require(current_user, "calendar.move_event")
    kind, item_id = request.args.get("kind", ""), to_int(request.args.get("id"))
    if kind not in KINDS or item_id is None:
        raise ObjectNotFound("That event or task does not exist or you cannot see it.")
    occurrence = request.args.get("occurrence") or None
    if wants_fragment() or (is_htmx() and request.headers.get("HX-Boosted") != "true"):
        return _form_html(kind, item_id, occurrence, [])
    return _move_page(kind, item_id, occurrence, [])


# --- POST /calendar/bulk ---------------------------------------------------------------


def _items(raw: list[str], versions: list[str] = ()) -> list[tuple[str, int, int | None]]:
    """The selected "kind:id"s, each with the version it was selected on ("kind:id:version"
    in `versions`, sent by static/js/calendar.js; None when not known)."""
    seen: dict[tuple[str, int], int | None] = {}
    for value in versions:
        kind, _, rest = str(value).partition(":")
        number, _, version = rest.partition(":")
        if kind in KINDS and to_int(number) is not None:
            seen[(kind, to_int(number))] = to_int(version)
    items = []
    for value in raw:
        kind, _, number = str(value).partition(":")
        item_id = to_int(number)
        if kind not in KINDS or item_id is None:
            raise ValidationError({"items": "Select events or tasks of the calendar."})
        if all((kind, item_id) != (k, i) for k, i, _v in items):
            items.append((kind, item_id, seen.get((kind, item_id))))
    return items


def _title_of(kind: str, item_id: int) -> str:
    """An item's title for the bulk report — only one the user may see."""
    from app.tasks import services as tasks

    try:
        return (get_event(current_user, item_id) if kind == "event" else tasks.get_task(current_user, item_id)).title
    except (ObjectNotFound, PermissionDenied):
        return "An item you cannot see"


@bp.post("/calendar/bulk")
@login_required
def bulk():
    """The bulk bar: move by N days, reassign, set status or delete the selected blocks,
    each on its own (a refused one does not stop the others); delete asks first."""
    require(current_user, "calendar.move_event")
    form = request.form
    action = form.get("action", "")
    try:
        items = _items(form.getlist("items"), form.getlist("versions"))
        if not items:
            raise ValidationError({"items": "Select at least one event or task (Select, then tick them)."})
        if action == "delete" and form.get("confirm") != "yes":
            keys = [f"{k}:{i}" for k, i, _v in items]
            return _answer(
                Result(
                    "warning",
                    f"Delete {len(items)} item{'s' if len(items) != 1 else ''}? This cannot be undone.",
                    confirm={"items": keys, "count": len(items)},
                    kept=keys,
                )
            )
        params: dict = {}
        if action == "move":
            params["days"] = form.get("days", "")
        elif action == "reassign":
            params["user_ids"] = form.getlist("user_ids")
        elif action == "status":
            params["status"] = form.get("new_status", "")
        outcome = services.bulk(current_user, items, action, **params)
    except ValidationError as exc:
        return _answer(Result("error", "Nothing was changed.", _field_errors(exc), status=422))
    done, refused = outcome["done"], outcome["refused"]
    reasons = [f"{_title_of(r['kind'], r['id']) if r['id'] else 'An item'}: {r['reason']}" for r in refused]
    message = f"{len(done)} done" + (f", {len(refused)} refused:" if refused else ".")
    kept = [f"{r['kind']}:{r['id']}" for r in refused if r["id"]]
    return _answer(Result("success" if not refused else "warning", message, reasons, kept=kept))


# --- what the bulk bar offers (the calendar's templates, computed only if drawn) --------------


@dataclass
class BulkChoices:
    actions: tuple = BULK_ACTIONS
    statuses: tuple = BULK_STATUSES
    people: object = None


@bp.context_processor
def _bulk_choices():
    from app.core.permissions import can

    def people():
        from app.calendar.queries import Filters, crew_people

        return [
            (pid, f"{name} ({role})" if role else name) for pid, name, role in crew_people(current_user, Filters(), 200)
        ]

    if not current_user.is_authenticated or not can(current_user, "calendar.move_event"):
        return {"calendar_bulk": None}
    return {"calendar_bulk": BulkChoices(people=lazy(people))}
