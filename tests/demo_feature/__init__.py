"""A minimal feature, added only by tests/test_features.py through the same FEATURES
list as the real ones: a page, an API resource, a periodic job, a live event, a
notification kind, a home widget, a CLI group, its permission-walk rows and the audit log's
phrase for a refused request."""

import click
from flask import Blueprint
from flask_login import login_required

from app.core.api import api_ok
from app.core.features import Feature, LiveEvent, NavEntry, PeriodicJob, WalkRoute, Widget
from app.core.openapi import operation
from app.core.permissions import permission_required
from app.core.schemas import Output

bp = Blueprint("demo", __name__, template_folder="templates")
api = Blueprint("demo", __name__)
cli = click.Group("demo", help="The demo feature's commands.")


@bp.get("/demo")
@login_required
@permission_required("project.view")
def index():
    return "demo page"


@bp.post("/demo")
@login_required
@permission_required("project.create")
def create():
    return "demo started"


class DemoOut(Output):
    demo: bool


@api.get("/demo/")
@operation("The demo resource", returns=DemoOut)
def api_index():
    return api_ok({"demo": True})


@cli.command("hello")
def hello():
    click.echo("hello from the demo feature")


def ping() -> str:
    return "pong"


feature = Feature(
    name="demo",
    blueprints=(bp,),
    api=(api,),
    nav=(NavEntry("demo", "Demo", "demo.index", permission="project.view", order=60),),
    commands=(cli,),
    periodic=(PeriodicJob("demo-ping", "tests.demo_feature.ping", 300),),
    live_events=(LiveEvent("demo-updated"),),
    notification_kinds=("demo_done",),
    widgets=(Widget("demo/_home.html", order=50, permission="project.view", context=lambda user: {"who": user.name}),),
    audit_refusals={"demo.create": "start a demo"},
    walk=(
        WalkRoute("GET", "/demo", "200 200 200 200 200 403 200"),
        WalkRoute("POST", "/demo", "200 200 200 403 403 403 403"),
        WalkRoute("GET", "/api/demo/", "200 200 200 200 200 200 200"),
    ),
)
