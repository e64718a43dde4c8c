"""The Gantt chart and the critical path (CPM) of a project's tasks, and the company's
projects as a timeline."""

from app.core.features import Feature

feature = Feature(name="gantt")
