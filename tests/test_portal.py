"""The client portal (issue 9): a client's home shows their company's projects, the photos
approved for them and their conversation with the team — never internal photos, internal
comments, crew names or another company's anything; the thread is theirs to write in."""

from __future__ import annotations

from sqlalchemy import select

from app.comments import services as comments
from app.comments.models import Comment
from app.notifications.models import Notification
from app.photos import services as photos
from tests.factories import make_client, make_project, make_user
from tests.images import png
from tests.test_events import open_stream  # noqa: F401 - the fixture, used by name
from tests.test_live_audience import receivers

PNG = png()


def _world(db):
    company = make_client(name="Harbor Holdings")
    pm, sup = (
        make_user("project_manager_full", full_name="Paula PM"),
        make_user("superintendent", full_name="Sam Super"),
    )
    owner, stranger = make_user("client", client=company), make_user("client")
    project = make_project(client=company, members=[pm, sup], name="Harbor lofts")
    other = make_project(client=stranger.client, members=[pm], name="Birch Row")
    return project, other, pm, sup, owner, stranger


def test_the_portal_shows_approved_photos_and_the_conversation_only(client, db, login_as):
    project, other, pm, sup, owner, stranger = _world(db)
    internal = photos.add(sup, project, PNG, caption="Primer coat")
    shared = photos.add(sup, project, PNG, caption="Hallway finished")
    photos.set_client_visible(pm, [shared], True)
    photos.set_client_visible(pm, [photos.add(pm, other, PNG, caption="Birch fence")], True)
    comments.add_comment(pm, project, "Internal: margin is thin")
    comments.add_comment(pm, comments.ClientThread(project), "We start Monday at 8.")
    db.session.commit()
    login_as(owner)
    home = client.get("/").text
    assert 'data-testid="portal-home"' in home and "Harbor lofts" in home
    assert "Hallway finished" in home and f"/photos/{shared.id}/image?size=thumb" in home
    assert "Primer coat" not in home and f"/photos/{internal.id}/" not in home
    assert "We start Monday at 8." in home and "margin is thin" not in home
    assert "Birch Row" not in home and "Birch fence" not in home and "Sam Super" not in home
    page = client.get(f"/projects/{project.id}").text
    assert "client-thread-slot" in page and "comments-slot" not in page
    thread = client.get(f"/projects/{project.id}/client-comments").text
    assert "We start Monday at 8." in thread and "margin is thin" not in thread
    assert client.get(f"/projects/{project.id}/comments").status_code == 403  # the internal thread
    assert client.get(f"/projects/{other.id}/client-comments").status_code == 404
    assert client.get(f"/projects/{project.id}/client-mention-options?q=pa").text.strip() == ""


def test_a_clients_message_reaches_the_team_and_the_pm_is_told(client, db, login_as):
    project, _other, pm, sup, owner, _stranger = _world(db)
    db.session.commit()
    login_as(owner)
    posted = client.post(f"/projects/{project.id}/client-comments", data={"body": "Can we see the trim colour?"})
    assert posted.status_code == 200 and "Can we see the trim colour?" in posted.text
    comment = db.session.scalars(select(Comment)).one()
    assert comment.for_client and comment.author_id == owner.id
    told = db.session.scalars(select(Notification).where(Notification.kind == "client_comment")).all()
    assert [n.user_id for n in told] == [pm.id]
    login_as(sup)
    assert "Can we see the trim colour?" in client.get(f"/projects/{project.id}/client-comments").text
    assert "Can we see the trim colour?" not in client.get(f"/projects/{project.id}/comments").text


def test_client_thread_events_reach_the_client_internal_ones_never(db, open_stream):  # noqa: F811
    project, _other, pm, sup, owner, stranger = _world(db)
    db.session.commit()
    people = {"pm": pm, "sup": sup, "owner": owner, "stranger": stranger}
    got = receivers(
        db,
        open_stream,
        people,
        lambda: comments.add_comment(pm, comments.ClientThread(project), "Monday at 8"),
        "comment-created",
        {},
    )
    assert got == {"pm", "sup", "owner"}
    got = receivers(
        db, open_stream, people, lambda: comments.add_comment(pm, project, "internal"), "comment-created", {}
    )
    assert got == {"pm", "sup"}


def test_the_portal_home_reads_a_fixed_number_of_statements(client, db, login_as, count_queries):
    project, _other, pm, sup, owner, _stranger = _world(db)
    photos.set_client_visible(pm, [photos.add(pm, project, PNG)], True)
    comments.add_comment(pm, comments.ClientThread(project), "Hello")
    db.session.commit()
    login_as(owner)
    client.get("/portal/home")
    with count_queries() as few:
        client.get("/portal/home")
    for n in range(3):
        extra = make_project(client=project.client, members=[pm], name=f"Extra {n}")
        photos.set_client_visible(pm, [photos.add(pm, extra, PNG)], True)
        comments.add_comment(pm, comments.ClientThread(extra), f"Hello {n}")
    db.session.commit()
    client.get("/portal/home")
    with count_queries() as many:
        page = client.get("/portal/home")
    assert page.text.count('data-testid="portal-project"') == 4
    assert many.n == few.n
