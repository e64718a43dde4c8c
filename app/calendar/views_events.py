"""An event's pages (detail, new, edit, delete) and the calendar blocks' expanded view
with inline editing (title, time, people, status). Thin: parse, call the EVENTS
services (app/calendar/services.py), render. Bad input comes back inline (422) with
nothing written; a stale save (409) comes back with the values as they are now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.calendar import bp, queries, services, views_layout
from app.calendar.models import (
    EVENT_TYPES,
    PROJECT_TEAM,
    SCHEDULED,
    STATUS_LABELS,
    STATUSES,
    TYPE_LABELS,
    VISIBILITIES,
    VISIBILITY_LABELS,
    CalendarEvent,
)
from app.calendar.views import State, place_of
from app.calendar.visibility import get_event
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to
from app.core.permissions import PermissionDenied, can, permission_required
from app.core.roles import ADMIN, CLIENT
from app.core.timezones import company_zone
from app.core.transaction import attempt
from app.core.versioning import StaleObject, current

# The service's field names → the form's (where one form field stands for it).
FORM_FIELD = {"start_datetime": "start_date", "end_datetime": "end_date", "rrule": "repeat"}
REPEATS = (
    ("", "Does not repeat"),
    ("weekly", "Every week on this day"),
    ("weekdays", "Every weekday (Mon–Fri)"),
    ("monthly", "Every month on this date"),
)
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MEANWHILE = "Changed meanwhile by someone else; this is it now."


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _occurrence(raw) -> datetime | None:
    """An occurrence's start from the query string or a form (ISO with an offset)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(str(raw).strip().replace(" ", "+"))
    except ValueError:
        return None
    return _aware(value).astimezone(UTC)


def _errors(exc: ValidationError) -> dict:
    fields = {FORM_FIELD.get(k, k): v for k, v in (exc.fields or {}).items()}
    if not fields:
        fields["form"] = exc.message
    return fields


# --- the expanded block and its inline editing --------------------------------------


def _block_response(user, found, place: str, pop: str, status: int = 200, **context):
    """One block (`.cal-item`) drawn open with `pop` (a template) inside."""
    zone = company_zone()
    reasons = queries.risk_reasons(user, [found])
    block = views_layout.block_of(found, zone, reasons.get(found.key), place=place)
    response = make_response(
        render_template(
            "calendar/_block.html",
            block=block,
            item=found,
            open=True,
            pop=pop,
            shows_people=user.role != CLIENT,
            **context,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_edit(user, event: CalendarEvent) -> bool:
    return can(user, "calendar.create_event", event)


def _event_context(user, event: CalendarEvent, item) -> dict:
    return {
        "event": event,
        "item": item,
        "series": queries.series_of(user, event),
        "repeat_text": describe_rrule(event.rrule, event.start_at) if event.rrule else "",
        "may_edit": _may_edit(user, event),
        "may_delete": services.may_delete(user, event),
        "shows_notes": user.role != CLIENT,
        "visibility_label": VISIBILITY_LABELS.get(event.visibility, ""),
        "type_label": TYPE_LABELS.get(event.event_type, ""),
        "status_label": STATUS_LABELS.get(event.status, ""),
    }


@bp.get("/calendar/items/event/<int:event_id>")
@login_required
@permission_required("calendar.view")
def event_item(event_id):
    """What an expanded event block shows (the inside of its details)."""
    user = current_user
    event = get_event(user, event_id)
    occurrence = _occurrence(request.args.get("occurrence")) if event.rrule else None
    found = queries.item_of(user, event, occurrence)
    reasons = queries.risk_reasons(user, [found])
    context = _event_context(user, event, found)
    block = views_layout.block_of(found, company_zone(), reasons.get(found.key))
    response = make_response(
        render_template(
            "calendar/_pop_event.html",
            block=block,
            place=place_of(request.args.get("place")),
            shows_people=user.role != CLIENT,
            **context,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/calendar/items/task/<int:task_id>")
@login_required
@permission_required("calendar.view")
def task_item(task_id):
    """What an expanded task block shows (its own page edits it)."""
    from app.tasks.services import get_task

    user = current_user
    task = get_task(user, task_id)
    found = queries.task_item(user, task)
    reasons = queries.risk_reasons(user, [found])
    block = views_layout.block_of(found, company_zone(), reasons.get(found.key))
    response = make_response(render_template("calendar/_pop_task.html", block=block, task=task))
    response.headers["Cache-Control"] = "no-store"
    return response


def _people(user, event: CalendarEvent | None):
    """The event's people controls: (Choices of the people the user may put on it, the
    ones on it now)."""
    from app.tasks.queries import people_choices, people_named

    project = event.project if event is not None else None
    chosen = people_named(event.assignee_ids) if event is not None else []
    return people_choices(user, project), chosen


def _local_parts(value: datetime) -> tuple[str, str]:
    local = _aware(value).astimezone(company_zone())
    return local.date().isoformat(), f"{local:%H:%M}"


def _inline_values(event: CalendarEvent, item) -> dict:
    start_date, start_time = _local_parts(item.start)
    end = item.end
    if event.all_day:
        end = _aware(end) - timedelta(microseconds=1)
    end_date, end_time = _local_parts(end)
    return {
        "title": event.title,
        "start_date": start_date,
        "start_time": start_time,
        "end_date": end_date,
        "end_time": end_time,
        "status": event.status,
        "assigned_to_ids": sorted(event.assignee_ids),
    }


def _inline_form(user, event, item, place, errors=None, values=None, notice="", status=200):
    people, chosen = _people(user, event)
    return _block_response(
        user,
        item,
        place,
        "calendar/_inline_form.html",
        status,
        event=event,
        errors=errors or {},
        values=values or _inline_values(event, item),
        people=people,
        chosen_people=chosen,
        people_source=url_for("tasks.people_options", **({"project_id": event.project_id} if event.project_id else {})),
        status_options=[(s, STATUS_LABELS[s]) for s in STATUSES],
        notice=notice,
        may_move=services.may_move(user, event),
    )


@bp.get("/calendar/events/<int:event_id>/inline")
@login_required
@permission_required("calendar.create_event")
def inline_form(event_id):
    """The block with its inline editor open."""
    user = current_user
    event = get_event(user, event_id, "calendar.create_event")
    occurrence = _occurrence(request.args.get("occurrence")) if event.rrule else None
    return _inline_form(user, event, queries.item_of(user, event, occurrence), place_of(request.args.get("place")))


def _when(form, errors: dict, all_day: bool) -> tuple[datetime | None, datetime | None]:
    """The form's start and end (company time) as aware datetimes; field errors otherwise."""
    zone = company_zone()

    def day(name):
        try:
            return date.fromisoformat(form.get(name, "").strip())
        except ValueError:
            errors[name] = "Give a date (YYYY-MM-DD)."
            return None

    def clock(name):
        raw = form.get(name, "").strip()
        if all_day:
            return time(0)
        try:
            return time.fromisoformat(raw)
        except ValueError:
            errors[name] = "Give a time (HH:MM)."
            return None

    start_day, end_day = day("start_date"), day("end_date")
    start_time, end_time = clock("start_time"), clock("end_time")
    if None in (start_day, end_day, start_time, end_time):
        return None, None
    if not (date(1900, 1, 1) < start_day < date(2999, 1, 1) and date(1900, 1, 1) < end_day < date(2999, 1, 1)):
        errors["start_date"] = "Give a date between 1900 and 2999."
        return None, None
    if all_day:
        start = datetime.combine(start_day, time(0), zone)
        end = datetime.combine(end_day + timedelta(days=1), time(0), zone)  # the whole last day
    else:
        start = datetime.combine(start_day, start_time, zone)
        end = datetime.combine(end_day, end_time, zone)
    if end < start:
        errors["end_date"] = "The end is before the start."
    return start, end


@bp.post("/calendar/events/<int:event_id>/inline")
@login_required
@permission_required("calendar.create_event")
def inline(event_id):
    """Title, time, people and status saved from the block: the block comes back."""
    user = current_user
    event = get_event(user, event_id, "calendar.create_event")
    form = request.form
    occurrence = _occurrence(form.get("occurrence")) if event.rrule else None
    place = place_of(form.get("place"))
    errors: dict = {}
    start, end = _when(form, errors, event.all_day)
    values = {
        "title": form.get("title", ""),
        "start_date": form.get("start_date", ""),
        "start_time": form.get("start_time", ""),
        "end_date": form.get("end_date", ""),
        "end_time": form.get("end_time", ""),
        "status": form.get("status", ""),
        "assigned_to_ids": [int(v) for v in form.getlist("assigned_to_ids") if v.isdigit()],
    }
    item = queries.item_of(user, event, occurrence)
    if errors:
        return _inline_form(user, event, item, place, errors, values, status=422)
    data = {"title": values["title"], "start_datetime": start, "end_datetime": end, "status": values["status"]}
    if form.get("assigned_to_ids_field") == "1":
        data["assigned_to_ids"] = values["assigned_to_ids"]
    try:
        with attempt():
            saved = services.update_event(user, event, data, form.get("version"), occurrence_start=occurrence)
    except ValidationError as exc:
        return _inline_form(user, event, item, place, _errors(exc), values, status=422)
    except StaleObject as exc:
        fresh = current(exc.obj)
        fresh_item = queries.item_of(user, fresh, occurrence if fresh.rrule else None)
        return _inline_form(user, fresh, fresh_item, place, {"form": MEANWHILE}, status=409)
    except (ConflictError, PermissionDenied) as exc:
        return _inline_form(
            user,
            event,
            item,
            place,
            {"form": getattr(exc, "message", "") or "You may not change this event."},
            values,
            status=422,
        )
    saved = saved if isinstance(saved, CalendarEvent) else event
    occurrence = occurrence if saved.rrule else None
    fresh_item = queries.item_of(user, saved, occurrence)
    context = _event_context(user, saved, fresh_item)
    context.pop("item")
    return _block_response(user, fresh_item, place, "calendar/_pop_event.html", notice="Saved.", **context)


# --- the event's page and its forms ----------------------------------------------


def describe_rrule(rule: str | None, start) -> str:
    """The repeat rule in words ("Every week on Monday, until Jan 4, 2027")."""
    if not rule:
        return ""
    parts = dict(p.split("=", 1) for p in rule.upper().split(";") if "=" in p)
    freq, interval = parts.get("FREQ", ""), parts.get("INTERVAL", "1")
    every = "Every" if interval in ("", "1") else f"Every {interval}"
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}.get(freq, "time")
    text = f"{every} {unit}{'s' if every != 'Every' else ''}"
    days = parts.get("BYDAY", "")
    if days == "MO,TU,WE,TH,FR":
        text = "Every weekday (Mon–Fri)"
    elif days:
        names = [WEEKDAY_NAMES[WEEKDAY_CODES.index(d[-2:])] for d in days.split(",") if d[-2:] in WEEKDAY_CODES]
        text += " on " + ", ".join(names)
    if parts.get("BYMONTHDAY"):
        text += f" on day {parts['BYMONTHDAY']}"
    if parts.get("COUNT"):
        text += f", {parts['COUNT']} times"
    if parts.get("UNTIL"):
        raw = parts["UNTIL"][:8]
        try:
            until = date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
            text += f", until {views_layout.MONTHS[until.month - 1][:3]} {until.day}, {until.year}"
        except ValueError:
            pass
    return text


def _repeat_of(rule: str | None, start: datetime) -> tuple[str, str, str]:
    """(choice, until, count) of a stored rule, for the form; "keep" when the rule is not
    one of the form's simple choices (it is then kept as it is)."""
    if not rule:
        return "", "", ""
    parts = dict(p.split("=", 1) for p in rule.upper().split(";") if "=" in p)
    until = ""
    if parts.get("UNTIL"):
        raw = parts["UNTIL"][:8]
        until = f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}"
    count = parts.get("COUNT", "")
    local = _aware(start).astimezone(company_zone())
    shape = {k: v for k, v in parts.items() if k not in ("UNTIL", "COUNT", "WKST")}
    if shape == {"FREQ": "WEEKLY", "BYDAY": WEEKDAY_CODES[local.weekday()]} or shape == {"FREQ": "WEEKLY"}:
        return "weekly", until, count
    if shape == {"FREQ": "WEEKLY", "BYDAY": "MO,TU,WE,TH,FR"}:
        return "weekdays", until, count
    if shape == {"FREQ": "MONTHLY", "BYMONTHDAY": str(local.day)} or shape == {"FREQ": "MONTHLY"}:
        return "monthly", until, count
    return "keep", until, count


def _rrule(form, start: datetime | None, errors: dict, current_rule: str | None) -> str | None:
    choice = form.get("repeat", "")
    if choice == "keep":
        return current_rule
    if not choice:
        return None
    if choice not in dict(REPEATS) or start is None:
        if start is not None:
            errors["repeat"] = "Choose how it repeats."
        return None
    local = start.astimezone(company_zone())
    rule = {
        "weekly": f"FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[local.weekday()]}",
        "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "monthly": f"FREQ=MONTHLY;BYMONTHDAY={local.day}",
    }[choice]
    until, count = form.get("repeat_until", "").strip(), form.get("repeat_count", "").strip()
    if until and count:
        errors["repeat_until"] = "Give an end date or a number of times, not both."
        return None
    if until:
        try:
            rule += f";UNTIL={date.fromisoformat(until):%Y%m%d}"
        except ValueError:
            errors["repeat_until"] = "Give a date (YYYY-MM-DD)."
            return None
    elif count:
        if not count.isdigit() or not 1 <= int(count) <= 500:
            errors["repeat_count"] = "Give a number from 1 to 500."
            return None
        rule += f";COUNT={int(count)}"
    else:
        errors["repeat_until"] = "Say until when it repeats, or how many times."
        return None
    return rule


def _form_values(event: CalendarEvent | None, occurrence: datetime | None, day: date | None) -> dict:
    if event is None:
        zone = company_zone()
        day = day or queries_today()
        start = datetime.combine(day, time(8, 0), zone)
        return {
            "title": "",
            "description": "",
            "notes": "",
            "start_date": day.isoformat(),
            "start_time": "08:00",
            "end_date": day.isoformat(),
            "end_time": "09:00",
            "all_day": False,
            "event_type": "meeting",
            "status": SCHEDULED,
            "visibility": PROJECT_TEAM,
            "project_id": "",
            "assigned_to_ids": [],
            "repeat": "",
            "repeat_until": "",
            "repeat_count": "",
            "_start": start,
        }
    start, end = _aware(event.start_at), _aware(event.end_at)
    if occurrence is not None:
        start, end = occurrence, occurrence + (end - start)
    start_date, start_time = _local_parts(start)
    end_date, end_time = _local_parts(end - timedelta(microseconds=1) if event.all_day else end)
    repeat, until, count = _repeat_of(event.rrule, event.start_at) if occurrence is None else ("", "", "")
    return {
        "title": event.title,
        "description": event.description,
        "notes": event.notes,
        "start_date": start_date,
        "start_time": start_time,
        "end_date": end_date,
        "end_time": end_time,
        "all_day": event.all_day,
        "event_type": event.event_type,
        "status": event.status,
        "visibility": event.visibility,
        "project_id": event.project_id or "",
        "assigned_to_ids": sorted(event.assignee_ids),
        "repeat": repeat,
        "repeat_until": until,
        "repeat_count": count,
    }


def queries_today() -> date:
    from app.calendar.views import today

    return today()


def _typed(form) -> dict:
    ids = [int(v) for v in form.getlist("assigned_to_ids") if v.strip().isdigit()]
    return {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "notes": form.get("notes", ""),
        "start_date": form.get("start_date", ""),
        "start_time": form.get("start_time", ""),
        "end_date": form.get("end_date", ""),
        "end_time": form.get("end_time", ""),
        "all_day": form.get("all_day") == "1",
        "event_type": form.get("event_type", ""),
        "status": form.get("status", ""),
        "visibility": form.get("visibility", ""),
        "project_id": form.get("project_id", ""),
        "assigned_to_ids": ids,
        "repeat": form.get("repeat", ""),
        "repeat_until": form.get("repeat_until", ""),
        "repeat_count": form.get("repeat_count", ""),
    }


def _service_data(user, form, errors: dict, event: CalendarEvent | None, occurrence) -> dict:
    typed = _typed(form)
    start, end = _when(form, errors, typed["all_day"])
    data = {
        "title": typed["title"],
        "description": typed["description"],
        "start_datetime": start,
        "end_datetime": end,
        "all_day": typed["all_day"],
        "event_type": typed["event_type"],
        "status": typed["status"],
        "visibility": typed["visibility"],
        "project_id": typed["project_id"] or None,
        "assigned_to_ids": typed["assigned_to_ids"],
    }
    if user.role != CLIENT:
        data["notes"] = typed["notes"]
    if occurrence is None:
        data["rrule"] = _rrule(form, start, errors, event.rrule if event is not None else None)
    return data


def _form_page(user, event, values, errors=None, occurrence=None, status=200, meanwhile=None):
    people, chosen = _people(user, event)
    if event is None and values.get("assigned_to_ids"):
        from app.tasks.queries import people_named

        chosen = people_named(values["assigned_to_ids"])
    projects = queries.event_project_choices(user)
    if event is not None and event.project_id and event.project_id not in {p[0] for p in projects}:
        projects.append((event.project_id, event.project.name))
    return make_response(
        render_template(
            "calendar/event_form.html",
            event=event,
            occurrence=occurrence,
            occurrence_iso=occurrence.astimezone(company_zone()).isoformat() if occurrence else "",
            values=values,
            errors=errors or {},
            meanwhile=meanwhile,
            people=people,
            chosen_people=chosen,
            chosen_ids=set(values.get("assigned_to_ids") or ()),
            people_source=url_for("tasks.people_options"),
            project_options=projects,
            company_event=user.role == ADMIN,
            type_options=[(t, TYPE_LABELS[t]) for t in EVENT_TYPES],
            status_options=[(s, STATUS_LABELS[s]) for s in STATUSES],
            visibility_options=[
                (v, VISIBILITY_LABELS[v]) for v in VISIBILITIES if v != "admin_only" or user.role == ADMIN
            ],
            repeat_options=[
                *REPEATS,
                *(
                    (("keep", "As it is: " + describe_rrule(event.rrule, event.start_at)),)
                    if event is not None and event.rrule and values.get("repeat") == "keep"
                    else ()
                ),
            ],
            shows_notes=user.role != CLIENT,
        ),
        status,
    )


@bp.get("/calendar/events/new")
@login_required
@permission_required("calendar.create_event")
def new_event():
    from app.calendar.views import _day

    values = _form_values(None, None, _day(request.args.get("date")))
    values.pop("_start", None)
    project_id = request.args.get("project", "")
    if project_id.isdigit():
        values["project_id"] = int(project_id)
    return _form_page(current_user, None, values)


@bp.post("/calendar/events/new")
@login_required
@permission_required("calendar.create_event")
def create():
    user = current_user
    errors: dict = {}
    data = _service_data(user, request.form, errors, None, None)
    if not errors:
        try:
            with attempt():
                event = services.create_event(user, data)
        except ValidationError as exc:
            errors = _errors(exc)
        except PermissionDenied:
            errors = {"project_id": "You may not add events to that project."}
        else:
            return redirect_to(url_for("calendar.event_detail", event_id=event.id))
    return _form_page(user, None, _typed(request.form), errors, status=422)


@bp.get("/calendar/events/<int:event_id>")
@login_required
@permission_required("calendar.view")
def event_detail(event_id):
    user = current_user
    event = get_event(user, event_id)
    occurrence = _occurrence(request.args.get("occurrence")) if event.rrule else None
    found = queries.item_of(user, event, occurrence)
    reasons = queries.risk_reasons(user, [found])
    block = views_layout.block_of(found, company_zone(), reasons.get(found.key))
    upcoming = []
    if event.rrule:
        from app.calendar.recurrence import occurrences

        now = datetime.now(UTC)
        try:
            upcoming = [s for s, _ in occurrences(event, now, now + timedelta(days=120))][:6]
        except (ValueError, ValidationError):  # a rule stored before today's checks
            upcoming = []
    state_date = found.days(company_zone())[0].isoformat()
    return render_template(
        "calendar/event_detail.html",
        block=block,
        occurrence=occurrence,
        occurrence_iso=block.occurrence_iso,
        upcoming=[(s, s.astimezone(company_zone()).isoformat()) for s in upcoming],
        calendar_url=url_for("calendar.index", view="week", date=state_date),
        **_event_context(user, event, found),
    )


@bp.get("/calendar/events/<int:event_id>/edit")
@login_required
@permission_required("calendar.create_event")
def edit_event(event_id):
    user = current_user
    event = get_event(user, event_id, "calendar.create_event")
    occurrence = _occurrence(request.args.get("occurrence")) if event.rrule else None
    return _form_page(user, event, _form_values(event, occurrence, None), occurrence=occurrence)


@bp.post("/calendar/events/<int:event_id>/edit")
@login_required
@permission_required("calendar.create_event")
def update(event_id):
    user = current_user
    event = get_event(user, event_id, "calendar.create_event")
    occurrence = _occurrence(request.form.get("occurrence")) if event.rrule else None
    errors: dict = {}
    data = _service_data(user, request.form, errors, event, occurrence)
    if not errors:
        try:
            with attempt():
                saved = services.update_event(
                    user, event, data, request.form.get("version"), occurrence_start=occurrence
                )
        except ValidationError as exc:
            errors = _errors(exc)
        except StaleObject as exc:
            fresh = current(exc.obj)
            return _form_page(
                user,
                fresh,
                _typed(request.form),
                {
                    "form": "Changed meanwhile by someone else: the saved values are shown beside yours. Nothing was saved."
                },
                occurrence=occurrence,
                status=409,
                meanwhile=_form_values(fresh, occurrence if fresh.rrule else None, None),
            )
        except PermissionDenied:
            errors = {"form": "You may not change this event."}
        else:
            saved = saved if isinstance(saved, CalendarEvent) else event
            return redirect_to(url_for("calendar.event_detail", event_id=saved.id))
    return _form_page(user, event, _typed(request.form), errors, occurrence=occurrence, status=422)


@bp.post("/calendar/events/<int:event_id>/delete")
@login_required
@permission_required("calendar.create_event")
def delete(event_id):
    user = current_user
    event = get_event(user, event_id, "calendar.create_event")
    occurrence = _occurrence(request.form.get("occurrence")) if event.rrule else None
    day = queries.item_of(user, event, occurrence).days(company_zone())[0]
    try:
        with attempt():
            services.delete_event(user, event, request.form.get("version"), occurrence_start=occurrence)
    except StaleObject as exc:
        fresh = current(exc.obj)
        return _form_page(
            user,
            fresh,
            _form_values(fresh, occurrence, None),
            {"form": MEANWHILE + " Nothing was deleted."},
            occurrence=occurrence,
            status=409,
        )
    except (ValidationError, ConflictError) as exc:
        return _form_page(
            user, event, _form_values(event, occurrence, None), {"form": exc.message}, occurrence=occurrence, status=422
        )
    return redirect_to(State({"view": "week", "date": day.isoformat()}, user).url())
