"""The notification settings page (GET/POST /notifications/preferences): one row per
kind, a column per channel, quiet hours and the digest, saved through
channels.save_preferences — the same rules as PUT /api/notifications/preferences/.
The form is submitted as a browser would (tests read the rendered inputs back)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.auth.tokens import issue_pair
from app.core.features import notification_kinds
from app.notifications import channels
from app.notifications.models import NotificationPreference
from tests.factories import make_user

URL = "/notifications/preferences"
FRAGMENT = {"HX-Request": "true", "HX-Target": "prefs-form"}


class _Form(HTMLParser):
    """What a browser would send for the page's settings form: the enabled, named
    inputs (checkboxes only when ticked); submit buttons are left out."""

    def __init__(self):
        super().__init__()
        self.inside, self.fields = False, MultiDict()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "prefs-form":
            self.inside = True
        if not self.inside or tag != "input" or "name" not in a or "disabled" in a:
            return
        kind = a.get("type", "text")
        if kind == "checkbox" and "checked" not in a:
            return
        self.fields.add(a["name"], a.get("value", "on"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def browser_form(html: str) -> MultiDict:
    parser = _Form()
    parser.feed(html)
    return parser.fields


def checkbox(html: str, name: str) -> str:
    return re.search(rf'<input type="checkbox"[^>]*name="{re.escape(name)}"[^>]*>', html).group(0)


def api_prefs(client, user) -> dict:
    headers = {"Authorization": "Bearer " + issue_pair(user)["access_token"]}
    response = client.get("/api/notifications/preferences/", headers=headers)
    assert response.status_code == 200
    return response.json["data"]


def row_of(db, user) -> NotificationPreference | None:
    db.session.expire_all()
    return db.session.scalar(select(NotificationPreference).where(NotificationPreference.user_id == user.id))


@pytest.fixture()
def email_on(app, monkeypatch):
    """A configured SMTP server (nothing is sent here: only the settings are shown/saved)."""
    monkeypatch.setitem(app.config, "EMAIL_HOST", "smtp.example.invalid")


@pytest.fixture()
def email_off(app, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_HOST", "")


def test_the_page_shows_every_kind_with_a_column_per_channel(client, login_as, db, email_on):
    login_as("designer")
    page = client.get(URL)
    assert page.status_code == 200
    html = page.text
    assert "<h1>Notification settings</h1>" in html and 'name="csrf_token"' in html
    for kind in notification_kinds():
        assert f'data-kind="{kind}"' in html
        assert channels.KIND_LABELS[kind] in html
    for header in ("In-app (the bell)", ">Email", ">SMS ", ">Push "):
        assert header in html
    # the defaults: the bell for everything, email for the kinds that email by default
    assert "checked" in checkbox(html, "task_assigned.email")
    assert "checked" not in checkbox(html, "system.email")
    assert "checked" in checkbox(html, "system.in_app")
    assert "disabled" not in checkbox(html, "task_assigned.email")
    assert re.search(r'<a href="/notifications" class="active"[^>]*data-nav="notifications"', html)


def test_the_notifications_page_links_to_the_settings(client, login_as, db):
    login_as("employee")
    html = client.get("/notifications").text
    assert f'href="{URL}" data-testid="prefs-link"' in html


def test_unticking_email_for_a_kind_is_saved_and_the_api_sees_it(client, login_as, db, email_on):
    me = login_as("superintendent")
    form = browser_form(client.get(URL).text)
    assert "task_assigned.email" in form
    form.poplist("task_assigned.email")
    form.add("system.email", "1")
    saved = client.post(URL, data=form)
    assert saved.status_code == 200
    assert re.search(r'role="status"[^>]*>Your notification settings are saved', saved.text)
    assert "checked" not in checkbox(saved.text, "task_assigned.email")
    assert "checked" in checkbox(saved.text, "system.email")
    shape = {p["kind"]: p for p in api_prefs(client, me)["preferences"]}
    assert shape["task_assigned"] == {"kind": "task_assigned", "in_app": True, "email": False}
    assert shape["system"] == {"kind": "system", "in_app": True, "email": True}
    assert shape["mention"] == {"kind": "mention", "in_app": True, "email": True}  # untouched default
    # and the page shows it again on the next visit
    assert "checked" not in checkbox(client.get(URL).text, "task_assigned.email")


def test_htmx_gets_the_form_fragment_back(client, login_as, db, email_on):
    me = login_as("employee")
    form = browser_form(client.get(URL).text)
    form.poplist("mention.in_app")
    answer = client.post(URL, data=form, headers=FRAGMENT)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith("<form") and "<html" not in answer.text
    assert 'id="prefs-form"' in answer.text and 'data-testid="prefs-saved"' in answer.text
    assert channels.wants(row_of(db, me), "mention", "in_app") is False


def test_bad_quiet_hours_are_inline_errors_and_nothing_is_saved(client, login_as, db, email_on):
    me = login_as("pm_trainee")
    form = browser_form(client.get(URL).text)
    form.poplist("task_assigned.email")  # also typed: kept on the form, not saved
    form["quiet_hours.start"], form["quiet_hours.end"] = "25:99", "06:30"
    answer = client.post(URL, data=form, headers=FRAGMENT)
    assert answer.status_code == 422
    html = answer.text
    assert 'role="alert"' in html and 'data-testid="prefs-saved"' not in html
    start = re.search(r'<input id="f-quiet_hours.start"[^>]*>', html).group(0)
    assert 'value="25:99"' in start and 'aria-invalid="true"' in start
    assert 'data-error-for="quiet_hours.start">Enter a time as HH:MM (24-hour clock).' in html
    assert 'value="06:30"' in re.search(r'<input id="f-quiet_hours.end"[^>]*>', html).group(0)
    assert "checked" not in checkbox(html, "task_assigned.email")  # what was typed, not what is saved
    assert row_of(db, me) is None
    assert api_prefs(client, me)["quiet_hours"] is None
    # the same end as start: the service's rule, shown beside the end
    form["quiet_hours.start"], form["quiet_hours.end"] = "22:00", "22:00"
    same = client.post(URL, data=form)  # without JavaScript: the whole page, with the error
    assert same.status_code == 422 and "<html" in same.text
    assert 'data-error-for="quiet_hours.end">Quiet hours must end at another time than they start.' in same.text
    assert row_of(db, me) is None


def test_quiet_hours_are_saved_and_cleared(client, login_as, db, email_on):
    me = login_as("designer")
    form = browser_form(client.get(URL).text)
    form["quiet_hours.start"], form["quiet_hours.end"] = "22:00", "06:30"
    assert client.post(URL, data=form).status_code == 200
    assert api_prefs(client, me)["quiet_hours"] == {"start": "22:00", "end": "06:30"}
    html = client.get(URL).text
    assert 'value="22:00"' in html and 'data-testid="clear-quiet"' in html
    form = browser_form(html)
    form["clear_quiet"] = "1"
    assert client.post(URL, data=form).status_code == 200
    assert api_prefs(client, me)["quiet_hours"] is None
    # both fields emptied: none either
    form = browser_form(client.get(URL).text)
    form["quiet_hours.start"], form["quiet_hours.end"] = "21:00", "07:00"
    form = browser_form(client.post(URL, data=form).text)  # the saved form (its new version)
    assert form["quiet_hours.start"] == "21:00"
    form["quiet_hours.start"], form["quiet_hours.end"] = "", ""
    assert client.post(URL, data=form).status_code == 200
    assert api_prefs(client, me)["quiet_hours"] is None


def test_the_digest_is_a_setting_when_email_is_configured(client, login_as, db, email_on):
    me = login_as("employee")
    form = browser_form(client.get(URL).text)
    assert "digest" not in form and form["digest_field"] == "1"
    form["digest"] = "1"
    client.post(URL, data=form)
    assert api_prefs(client, me)["digest"] is True
    form = browser_form(client.get(URL).text)
    form.poplist("digest")
    client.post(URL, data=form)
    assert api_prefs(client, me)["digest"] is False


def test_sms_and_push_are_shown_as_not_configured(client, login_as, db, email_on):
    login_as("admin")
    html = client.get(URL).text
    for name, reason in channels.UNCONFIGURED.items():
        assert reason in html
        assert re.search(rf'<th scope="col" data-channel="{name}">[^<]+<span class="badge">not configured</span>', html)
        box = re.search(rf'<input type="checkbox" id="p-system-{name}"[^>]*>', html).group(0)
        assert "disabled" in box and "name=" not in box and "checked" not in box  # nothing to send
    assert not re.search(r'name="\w+\.(sms|push)"', html)


def test_without_email_its_column_and_the_digest_are_shown_but_not_editable(client, login_as, db, email_off):
    me = login_as("designer")
    channels.save_preferences(me, preferences=[{"kind": "system", "email": True}], digest=True)
    html = client.get(URL).text
    assert "Not configured: this installation has no SMTP server (EMAIL_HOST)." in html
    assert re.search(r'data-channel="email">Email <span class="badge">not configured</span>', html)
    box = checkbox(html, "system.email")
    assert "disabled" in box and "checked" in box  # the saved choice, on view
    assert "disabled" in re.search(r'<input type="checkbox" name="digest"[^>]*>', html).group(0)
    # what a browser sends leaves email and the digest as they were
    form = browser_form(html)
    assert not [name for name in form if name.endswith(".email")] and "digest_field" not in form
    form.poplist("system.in_app")
    assert client.post(URL, data=form).status_code == 200
    shape = api_prefs(client, me)
    system = next(p for p in shape["preferences"] if p["kind"] == "system")
    assert system == {"kind": "system", "in_app": False, "email": True} and shape["digest"] is True


def test_a_client_sees_and_saves_only_their_own(client, login_as, db, email_on):
    other = make_user("employee")
    channels.save_preferences(other, preferences=[{"kind": "system", "email": True}], quiet_hours=None)
    before = dict(row_of(db, other).choices)
    customer = login_as("client")
    html = client.get(URL).text
    assert "checked" not in checkbox(html, "system.email")  # their own defaults, not the employee's
    form = browser_form(html)
    form.poplist("mention.email")
    form["user_id"] = str(other.id)  # not a field of the form: ignored
    form["quiet_hours.start"], form["quiet_hours.end"] = "20:00", "07:00"
    assert client.post(URL, data=form).status_code == 200
    mine = row_of(db, customer)
    assert mine is not None and channels.wants(mine, "mention", "email") is False
    assert row_of(db, other).choices == before and row_of(db, other).quiet_start is None
    assert api_prefs(client, customer)["quiet_hours"] == {"start": "20:00", "end": "07:00"}


def test_an_unknown_kind_is_refused_whole(client, login_as, db, email_on):
    me = login_as("employee")
    form = browser_form(client.get(URL).text)
    form.add("kind", "not_a_kind")
    answer = client.post(URL, data=form)
    assert answer.status_code == 422
    assert 'data-error-for="preferences">Item' in answer.text and "not_a_kind" in answer.text
    assert row_of(db, me) is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signing_in_comes_first(app, db, method):
    before = db.session.scalars(select(NotificationPreference.id)).all()
    answer = app.test_client().open(URL, method=method, data={"kind": "system", "channel": "in_app"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert db.session.scalars(select(NotificationPreference.id)).all() == before


def test_a_save_from_a_window_opened_before_another_save_is_refused(client, login_as, db, email_on):
    """Two windows on the settings: the second to save started from what the first
    replaced — refused (409) with what is saved now, nothing overwritten; its next save
    (from the refreshed form) goes through."""
    me = login_as("employee")
    first, second = browser_form(client.get(URL).text), browser_form(client.get(URL).text)
    assert first.get("version") == second.get("version") == "1"  # the defaults, never saved
    first.poplist("task_assigned.email")
    assert client.post(URL, data=first).status_code == 200
    assert row_of(db, me).version == 2
    second.poplist("mention.in_app")  # a different change, made on the older form
    stale = client.post(URL, data=second, headers=FRAGMENT)
    assert stale.status_code == 409
    assert 'data-testid="prefs-stale"' in stale.text and "changed in another window" in stale.text
    saved_now = row_of(db, me)
    assert channels.wants(saved_now, "mention", "in_app") is True  # the stale change: not saved
    assert channels.wants(saved_now, "task_assigned", "email") is False  # the first window's: kept
    assert "checked" not in checkbox(stale.text, "task_assigned.email")  # the form shows what is saved
    again = browser_form(stale.text)
    assert again.get("version") == "2"
    again.poplist("mention.in_app")
    assert client.post(URL, data=again).status_code == 200
    assert channels.wants(row_of(db, me), "mention", "in_app") is False
    assert row_of(db, me).version == 3


def test_the_api_checks_the_version_sent_in_the_body_or_if_match(client, db):
    from tests.conftest import bearer

    person = make_user("employee")
    headers = bearer(client, person)
    shown = client.get("/api/notifications/preferences/", headers=headers)
    assert shown.json["data"]["version"] == 1 and shown.headers["ETag"] == '"1"'
    saved = client.put("/api/notifications/preferences/", json={"digest": True, "version": 1}, headers=headers)
    assert saved.status_code == 200 and saved.json["data"]["version"] == 2 and saved.headers["ETag"] == '"2"'
    stale = client.put(
        "/api/notifications/preferences/", json={"digest": False}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 409 and stale.json["error"]["code"] == "CONFLICT"
    assert stale.json["error"]["details"]["digest"] is True and stale.json["error"]["details"]["version"] == 2
    assert row_of(db, person).digest is True
    # no version sent: the API's last write wins (as everywhere in the API)
    free = client.put("/api/notifications/preferences/", json={"digest": False}, headers=headers)
    assert free.status_code == 200 and free.json["data"]["version"] == 3 and free.json["data"]["digest"] is False
    mixed = client.put(
        "/api/notifications/preferences/", json={"digest": True, "version": 3}, headers={**headers, "If-Match": '"2"'}
    )
    assert mixed.status_code == 400 and "version" in mixed.json["error"]["details"]
