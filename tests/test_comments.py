"""Comments and mentions (issue 8): safe Markdown, @mentions only of people who may see
the task or project (each told once), editing and deleting one's own within 15 minutes,
internal comments never reaching a client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.comments import services
from app.comments.markdown import mentions_in, render
from app.comments.models import Comment
from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied
from app.notifications.models import Notification
from app.tasks import services as tasks
from tests.factories import make_project, make_user


def test_markdown_is_a_safe_subset():
    html = str(
        render("**Bold** and *soft*\n- one\n- two\n[site](https://example.com/a?b=1&c=2) <script>alert(1)</script>")
    )
    assert "<strong>Bold</strong>" in html and "<em>soft</em>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">site</a>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<a" not in str(render("[x](javascript:alert(1))")) and "<img" not in str(
        render('<img src=x onerror="a()">')
    )
    assert 'href="https://kibray.example/x"' in str(render("see https://kibray.example/x"))
    assert str(render("hi @eli.b", {"eli.b"})) == '<p>hi <span class="mention">@eli.b</span></p>'
    assert mentions_in("@Eli and @sam, @eli again; mail a@b.com") == ["eli", "sam"]


@pytest.fixture()
def job(db):
    pm, painter = make_user("project_manager_full", username="paula"), make_user("employee", username="eli")
    stranger = make_user("employee", username="zed")
    project = make_project(members=[pm], name="Harbor lofts")
    task = tasks.create_task(pm, project, {"title": "Mask windows"}, [painter.id])
    return pm, painter, stranger, project, task


def test_a_mention_tells_the_person_once_and_only_people_who_may_see_it(db, job):
    pm, painter, stranger, project, task = job
    comment = services.add_comment(pm, task, "@eli please tape the **north** side")
    told = db.session.scalars(
        select(Notification).where(Notification.user_id == painter.id, Notification.kind == "mention")
    ).all()
    assert len(told) == 1 and told[0].title.endswith("mentioned you on the task Mask windows")
    assert told[0].link_args == {"task_id": task.id}
    services.edit_comment(pm, comment, task, "@eli please tape the north side first")
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "mention")) == 1
    before = db.session.scalar(select(func.count()).select_from(Comment))
    with pytest.raises(ValidationError) as caught:
        services.add_comment(pm, task, "@zed can you help?")
    assert caught.value.fields["body"] == "@zed cannot see this task, so they cannot be mentioned here."
    with pytest.raises(ValidationError) as caught:
        services.add_comment(pm, task, "@nobody_here hi")
    assert "No one is called @nobody_here" in caught.value.fields["body"]
    assert db.session.scalar(select(func.count()).select_from(Comment)) == before


def test_own_comments_change_for_fifteen_minutes_and_others_never(db, job):
    pm, painter, stranger, project, task = job
    comment = services.add_comment(painter, task, "Started on the hall")
    with pytest.raises(PermissionDenied):
        services.edit_comment(pm, comment, task, "Hijacked")
    services.edit_comment(painter, comment, task, "Started on the hall and stairs")
    assert comment.edited_at is not None
    comment.created_at = comment.created_at - timedelta(minutes=16)
    with pytest.raises(ConflictError, match="15 minutes"):
        services.delete_comment(painter, comment, task)


def test_bad_comments_are_refused_with_a_message(db, job):
    pm, painter, stranger, project, task = job
    with pytest.raises(ValidationError) as caught:
        services.add_comment(pm, task, "x" * 1_000_000)
    assert "under 5,000 characters" in caught.value.fields["body"]
    with pytest.raises(ValidationError):
        services.add_comment(pm, task, "   ")


def test_who_reads_the_threads(client, db, login_as, job):
    pm, painter, stranger, project, task = job
    services.add_comment(pm, task, "Tape first")
    services.add_comment(pm, project, "Client prefers eggshell")
    login_as(painter)
    assert "Tape first" in client.get(f"/tasks/{task.id}/comments").text
    assert client.get(f"/projects/{project.id}/comments").status_code == 404  # employees do not see projects
    login_as(stranger)
    assert client.get(f"/tasks/{task.id}/comments").status_code == 404
    customer = make_user("client", client=project.client)
    login_as(customer)
    assert client.get(f"/projects/{project.id}/comments").status_code == 403
    login_as(pm)
    page = client.post(f"/tasks/{task.id}/comments", data={"body": "@zed look"})
    assert page.status_code == 422 and "cannot see this task" in page.text and "@zed look" in page.text
    ok = client.post(f"/tasks/{task.id}/comments", data={"body": "@eli **thanks**"})
    assert ok.status_code == 200 and '<span class="mention">@eli</span> <strong>thanks</strong>' in ok.text
    options = client.get(f"/tasks/{task.id}/mention-options?q=e").text
    assert "@eli" in options and "@zed" not in options


# --- versions: a stale edit or delete is refused, never a silent overwrite -------------


def _version_in(html: str, comment_id: int, form: str) -> str:
    """The hidden version of comment `comment_id`'s edit or delete form in a thread."""
    import re

    start = html.index(f'action="/comments/{comment_id}/{form}"')
    return re.search(r'name="version" value="(\d+)"', html[start:]).group(1)


def test_comments_are_versioned():
    assert Comment.__mapper__.version_id_col is Comment.__table__.c.version


def test_a_stale_edit_of_a_comment_is_refused_by_the_service(db, job):
    from app.core.versioning import StaleObject

    pm, painter, stranger, project, task = job
    comment = services.add_comment(pm, task, "Tape first")
    assert comment.version == 1
    services.edit_comment(pm, comment, task, "Tape first, then mask", version=1)
    assert comment.version == 2
    with pytest.raises(StaleObject):
        services.edit_comment(pm, comment, task, "Overwrite", version=1)
    with pytest.raises(StaleObject):
        services.delete_comment(pm, comment, task, version="1")
    db.session.refresh(comment)
    assert comment.body == "Tape first, then mask" and comment.version == 2
    with pytest.raises(ValidationError):
        services.edit_comment(pm, comment, task, "x", version="two")
    services.delete_comment(pm, comment, task, version=2)
    assert db.session.get(Comment, comment.id) is None


def test_a_stale_edit_from_the_thread_shows_changed_meanwhile_and_saves_nothing(client, db, login_as, job):
    pm, painter, stranger, project, task = job
    login_as(pm)
    comment = services.add_comment(pm, task, "Tape first")
    opened = client.get(f"/tasks/{task.id}/comments").text  # two tabs show version 1
    assert _version_in(opened, comment.id, "edit") == "1" and _version_in(opened, comment.id, "delete") == "1"
    first = client.post(f"/comments/{comment.id}/edit", data={"body": "Tape the north side", "version": "1"})
    assert first.status_code == 200 and _version_in(first.text, comment.id, "edit") == "2"
    stale = client.post(f"/comments/{comment.id}/edit", data={"body": "Tape the south side", "version": "1"})
    assert stale.status_code == 409
    assert 'data-testid="changed-meanwhile"' in stale.text
    assert 'data-testid="typed-value">Tape the south side<' in stale.text  # what was typed is not lost
    assert "Tape the north side" in stale.text  # the thread as saved now
    db.session.refresh(comment)
    assert comment.body == "Tape the north side" and comment.version == 2
    # the thread that came back carries the current version: saving again saves
    again = client.post(
        f"/comments/{comment.id}/edit",
        data={"body": "Tape the south side", "version": _version_in(stale.text, comment.id, "edit")},
    )
    assert again.status_code == 200 and 'data-testid="changed-meanwhile"' not in again.text
    db.session.refresh(comment)
    assert comment.body == "Tape the south side" and comment.version == 3


def test_a_stale_delete_from_the_thread_shows_changed_meanwhile_and_deletes_nothing(client, db, login_as, job):
    pm, painter, stranger, project, task = job
    login_as(pm)
    comment = services.add_comment(pm, project, "Client prefers eggshell")
    edited = client.post(f"/comments/{comment.id}/edit", data={"body": "Client prefers satin", "version": "1"})
    assert edited.status_code == 200
    stale = client.post(f"/comments/{comment.id}/delete", data={"version": "1"})
    assert stale.status_code == 409 and 'data-testid="changed-meanwhile"' in stale.text
    assert "Client prefers satin" in stale.text
    comment_id = comment.id
    assert db.session.get(Comment, comment_id) is not None
    gone = client.post(
        f"/comments/{comment_id}/delete", data={"version": _version_in(stale.text, comment_id, "delete")}
    )
    assert gone.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.id == comment_id)) == 0


def test_a_write_between_load_and_flush_is_changed_meanwhile_not_an_overwrite(client, db, login_as, job, monkeypatch):
    """Someone commits between the request's read of the comment and its flush: the
    UPDATE … WHERE version = 1 matches nothing — a 409, not a 500 or an overwrite."""
    from sqlalchemy import text

    pm, painter, stranger, project, task = job
    login_as(pm)
    comment = services.add_comment(pm, task, "Tape first")
    loaded = services.get_comment

    def get_then_someone_writes(user, comment_id):
        found = loaded(user, comment_id)
        db.session.execute(
            text("UPDATE comments SET version = version + 1, body = 'Written meanwhile' WHERE id = :id"),
            {"id": comment_id},
        )
        return found

    monkeypatch.setattr(services, "get_comment", get_then_someone_writes)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "Mine", "version": "1"})
    assert response.status_code == 409 and 'data-testid="changed-meanwhile"' in response.text
    assert "Written meanwhile" in response.text and _version_in(response.text, comment.id, "edit") == "2"
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body != "Mine"  # (the 409 rolled the request back)


def test_comments_have_no_api_to_version():
    """Comments are written through the thread's forms only; an API for them would have
    to answer a stale version with the 409 CONFLICT envelope like the others."""
    from app.comments import feature

    assert feature.api == ()
