"""My day (issue 8): an employee's own tasks by section, and the card's one-thumb actions
— start, progress, checklist, note, blocker, finish with a photo — each confirmed in
place, refused in place (nothing saved) when a rule says no."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.photos.models import Photo
from app.tasks import services
from app.tasks.models import Task
from tests.factories import make_project, make_user
from tests.images import png

PNG = png()


@pytest.fixture()
def day(db):
    pm, painter = make_user("project_manager_full"), make_user("employee", full_name="Pat Painter")
    project = make_project(members=[pm], name="Harbor lofts")
    today = services.today()

    def task(title, **dates):
        data = {"title": title, **{k: str(today + timedelta(days=v)) for k, v in dates.items()}}
        return services.create_task(pm, project, data, [painter.id])

    tasks = {
        "late": task("Scrape fence", start_date=-4, due_date=-1),
        "today": task("Mask windows", start_date=0, due_date=1),
        "week": task("Prime doors", start_date=3, due_date=4),
        "later": task("Stain deck"),
    }
    services.update_task(
        pm,
        tasks["today"],
        {"checklist": [{"item": "Tape", "checked": False}, {"item": "Paper", "checked": False}]},
        partial=True,
    )
    services.create_task(pm, project, {"title": "Somebody else's"})
    return pm, painter, project, tasks


def test_my_day_shows_only_my_tasks_by_section(client, db, login_as, day):
    pm, painter, project, tasks = day
    login_as(painter)
    html = client.get("/tasks/my-day").text
    for key, title in (
        ("overdue", "Scrape fence"),
        ("today", "Mask windows"),
        ("week", "Prime doors"),
        ("other", "Stain deck"),
    ):
        section = html.split(f'data-testid="day-{key}"')[1].split("</section>")[0]
        assert title in section, key
        # today's and overdue tasks are full cards with their actions; later ones a line
        # that opens into the card
        full = key in ("overdue", "today")
        assert ('data-testid="task-card"' in section) is full and ('data-testid="open-card"' in section) is not full
    assert "Somebody else" not in html
    later = tasks["week"]
    opened = client.get(f"/tasks/{later.id}/card", headers={"HX-Request": "true"})
    assert opened.status_code == 200 and 'data-testid="task-card"' in opened.text and "Prime doors" in opened.text
    home = client.get("/").text
    assert 'data-testid="my-day-slot"' in home and 'hx-get="/tasks/my-day"' in home  # the home loads their day


def test_the_card_actions_confirm_in_place(client, db, login_as, day, app):
    pm, painter, project, tasks = day
    login_as(painter)
    task = tasks["today"]
    started = client.post(f"/tasks/{task.id}/start", data={"version": task.version})
    assert started.status_code == 200 and "Started" in started.text and "In progress" in started.text
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    saved = client.post(
        f"/tasks/{task.id}/progress", data={"progress_percent": "60", "actual_hours": "3.5", "version": task.version}
    )
    assert "Progress saved." in saved.text and 'data-testid="task-progress">60%' in saved.text
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    ticked = client.post(f"/tasks/{task.id}/checklist/2", data={"version": task.version})
    assert "Checklist saved." in ticked.text and "☑ Paper" in ticked.text
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    noted = client.post(f"/tasks/{task.id}/note", data={"note": "North side done", "version": task.version})
    assert "Note added." in noted.text
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert task.notes.endswith("Pat Painter: North side done")
    done = client.post(
        f"/tasks/{task.id}/complete",
        data={
            "completion_notes": "Clean lines",
            "version": task.version,
            "photo": (__import__("io").BytesIO(PNG), "after.png"),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 200 and "Done — nice work." in done.text
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert task.status == "completed" and task.progress_percent == 100
    photo = db.session.scalars(select(Photo).where(Photo.task_id == task.id)).one()
    assert photo.caption == "Completion photo" and photo.content_type == "image/png"
    assert photo.project_id == project.id and not photo.is_client_visible  # in the gallery, internal


def test_refusals_come_back_in_the_card_and_save_nothing(client, db, login_as, day):
    pm, painter, project, tasks = day
    login_as(painter)
    task = tasks["week"]
    bad = client.post(f"/tasks/{task.id}/progress", data={"progress_percent": "140", "version": task.version})
    assert bad.status_code == 422 and "from 0 to 100" in bad.text
    empty_blocker = client.post(f"/tasks/{task.id}/block", data={"reason": " ", "version": task.version})
    assert empty_blocker.status_code == 422 and "Say what blocks the task" in empty_blocker.text
    not_a_photo = client.post(
        f"/tasks/{task.id}/complete",
        data={"version": task.version, "photo": (__import__("io").BytesIO(b"GIF89a"), "x.gif")},
        content_type="multipart/form-data",
    )
    assert not_a_photo.status_code == 422 and "JPEG, PNG, WebP or HEIC" in not_a_photo.text
    stale = client.post(f"/tasks/{task.id}/progress", data={"progress_percent": "10", "version": "99"})
    assert stale.status_code == 409 and "changed meanwhile" in stale.text
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.status, task.progress_percent, task.blocked_reason) == ("pending", 0, "")
    assert db.session.scalars(select(Photo).where(Photo.task_id == task.id)).all() == []


def test_a_double_booking_shows_on_my_day(client, db, login_as, day):
    pm, painter, project, tasks = day
    other = make_project(members=[pm], name="Birch Row")
    today = services.today()
    services.create_task(
        pm,
        other,
        {"title": "Fence", "start_date": str(today), "due_date": str(today + timedelta(days=1))},
        [painter.id],
    )
    login_as(painter)
    html = client.get("/tasks/my-day").text
    assert "Pat Painter is also booked on “Fence”" in html


def test_a_photo_from_the_site_is_added_from_the_card_and_shown_only_to_who_may_see_the_task(
    client, db, login_as, day, app
):
    """The painter adds a photo from the card (kept by core.storage under a random key);
    the task's page shows it through the authorising route — to the team, not to another
    project's PM; a file that is not a photo is refused in place, nothing stored."""
    import io
    import os

    from app.core import storage

    pm, painter, project, tasks = day
    task = tasks["today"]
    db.session.commit()
    login_as(painter)
    card = client.get(f"/tasks/{task.id}/card").text
    assert 'data-testid="add-photo"' in card and 'capture="environment"' in card
    added = client.post(f"/tasks/{task.id}/photo", data={"photo": (io.BytesIO(PNG), "north wall.png")})
    assert added.status_code == 200 and "Photo added." in added.text
    photo = db.session.scalars(select(Photo).where(Photo.task_id == task.id)).one()
    assert photo.project_id == project.id and photo.uploaded_by_id == painter.id
    assert "north wall" not in photo.storage_key and photo.storage_key.startswith(f"photos/{project.id}/")
    with app.app_context():
        stored = storage.read(photo.storage_key)  # written again by Pillow: a real PNG, same size
    from PIL import Image

    assert Image.open(__import__("io").BytesIO(stored)).size == (4, 3)
    refused = client.post(f"/tasks/{task.id}/photo", data={"photo": (io.BytesIO(b"GIF89a..."), "x.gif")})
    assert refused.status_code == 422 and "JPEG, PNG, WebP or HEIC" in refused.text
    empty = client.post(f"/tasks/{task.id}/photo", data={})
    assert empty.status_code == 422 and "Choose a photo to add." in empty.text
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
    url = f"/photos/{photo.id}/image"
    for who in (painter, pm):
        login_as(who)
        assert f'src="{url}?size=thumb"' in client.get(f"/tasks/{task.id}").text
        shown = client.get(url)
        assert shown.status_code == 200 and shown.data == stored and shown.mimetype == "image/png"
        assert shown.headers["Content-Disposition"].startswith("inline") and "private" in shown.headers["Cache-Control"]
    login_as(make_user("project_manager_full"))  # not on this project's team
    assert client.get(url).status_code == 404
    assert os.path.basename(photo.storage_key) != "north wall.png"


def test_a_photo_gets_its_thumbnail_and_web_copy_from_the_job(client, db, login_as, day, app):
    """The upload answers at once; the job (workers/media.py) then writes a thumbnail
    and a web-sized copy, and the task's page shows the thumbnail, links the web copy."""
    import io

    from PIL import Image

    from app.core import storage
    from tests.images import png
    from workers.media import make_photo_sizes

    pm, painter, project, tasks = day
    task = tasks["today"]
    db.session.commit()
    login_as(painter)
    big = png(2000, 1000)
    assert client.post(f"/tasks/{task.id}/photo", data={"photo": (io.BytesIO(big), "wall.png")}).status_code == 200
    photo = db.session.scalars(select(Photo).where(Photo.task_id == task.id)).one()
    url = f"/photos/{photo.id}/image"
    assert client.get(f"{url}?size=thumb").mimetype == "image/png"  # not made yet: the original
    assert make_photo_sizes(photo.id) is True and make_photo_sizes(photo.id) is False  # once
    db.session.expire_all()
    photo = db.session.get(Photo, photo.id)
    with app.app_context():
        thumb = Image.open(io.BytesIO(storage.read(photo.thumb_key)))
        web = Image.open(io.BytesIO(storage.read(photo.web_key)))
    assert thumb.size == (320, 160) and web.size == (1600, 800) and thumb.format == "JPEG"
    shown = client.get(f"{url}?size=thumb")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(shown.data)).size == (320, 160)
    login_as(pm)
    page = client.get(f"/tasks/{task.id}").text
    assert f'src="{url}?size=thumb"' in page and f'href="/photos/{photo.id}"' in page
