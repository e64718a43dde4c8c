"""The Gantt chart and the critical path (CPM) of a project's tasks, and the company's
projects as a timeline.

Files: cpm.py (the critical path method, pure), scales.py (the time axis), queries.py
(the reads and the chart's geometry), services.py (a dragged bar's move), routes.py (the
pages and the move), walk.py (the permission walk's rows); templates/gantt/,
static/js/gantt.js (drag and drop), static/css/gantt.css."""

from flask import Blueprint

from app.core.features import Feature

bp = Blueprint("gantt", __name__)

from app.gantt import routes, walk  # noqa: E402,F401

feature = Feature(
    name="gantt",
    blueprints=(bp,),
    walk=walk.ROUTES,
)
