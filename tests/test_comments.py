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
