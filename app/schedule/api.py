"""GET /api/calendar/conflicts/: the stored conflicts the user may see, most severe
first, each with the items involved, a message and a recommendation."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_login import current_user

from app.core.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api_ok
from app.core.errors import ValidationError
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import request_query
from app.schedule import services
from app.schedule.conflicts import Filters
from app.schedule.schemas import ConflictQuery, ConflictsPage

bp = Blueprint("schedule", __name__)


def conflict_json(reason) -> dict:
    return {
        "id": reason.id,
        "type": reason.kind,
        "severity": reason.severity,
        "day": reason.day.isoformat() if reason.day else None,
        "events": [{"id": p.id, "title": p.title, "kind": p.kind} for p in reason.parties],
        "message": reason.message,
        "recommendation": reason.recommendation,
    }


@bp.get("/calendar/conflicts/")
@operation("List schedule conflicts", returns=ConflictsPage, query=ConflictQuery)
def api_conflicts():
    require(current_user, "calendar.view")
    query = request_query()
    if query.start_date and query.end_date and query.end_date < query.start_date:
        raise ValidationError({"end_date": "Must be on or after start_date."})
    filters = Filters(project_id=query.project_id, start=query.start_date, end=query.end_date, severity=query.severity)
    page_size = min(query.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    found = services.conflict_page(current_user, filters, query.page or 1, page_size)

    def link(number):
        if number < 1 or number > max(1, found.pages):
            return None
        args = request.args.to_dict()
        args.update(page=number, page_size=page_size)
        return url_for(request.endpoint, _external=True, **args)

    return api_ok(
        {
            "conflicts": [conflict_json(r) for r in found.items],
            "pagination": {
                "page": found.page,
                "page_size": page_size,
                "total_pages": max(1, found.pages),
                "total_count": found.total,
                "next": link(found.page + 1),
                "previous": link(found.page - 1),
            },
        }
    )
