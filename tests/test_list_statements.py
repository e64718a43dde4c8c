"""The project list's statements are built once per viewer and filters and reused — and
never shared between viewers whose permission scope differs (app/projects/queries.py
project_list, app/core/statements.py)."""

from __future__ import annotations

from app.core.statements import count_statement, page_statement
from app.projects import queries
from tests.factories import make_project, make_user


def test_the_same_viewer_and_filters_reuse_one_statement(db):
    admin = make_user("admin")
    filters = queries.ProjectFilters(search="oak")
    first = queries.project_list(admin, filters, shape="page")
    assert queries.project_list(admin, filters, shape="page") is first
    assert count_statement(first) is count_statement(first)
    column = queries.team_column("postgresql")
    assert page_statement(first, 25, 0, (column,)) is page_statement(first, 25, 0, (column,))
    assert page_statement(first, 25, 25, (column,)) is not page_statement(first, 25, 0, (column,))


def test_viewers_with_different_scopes_never_share_a_statement(db):
    first_pm, second_pm = make_user("project_manager_full"), make_user("project_manager_full")
    mine, theirs = make_project(members=[first_pm]), make_project(members=[second_pm])
    filters = queries.ProjectFilters(status="all")
    stmt_first = queries.project_list(first_pm, filters, shape="page")
    stmt_second = queries.project_list(second_pm, filters, shape="page")
    assert stmt_first is not stmt_second
    ids_first = {row.id for row in db.session.execute(stmt_first)}
    ids_second = {row.id for row in db.session.execute(stmt_second)}
    assert mine.id in ids_first and theirs.id not in ids_first
    assert theirs.id in ids_second and mine.id not in ids_second


def test_a_role_change_gets_a_new_statement(db):
    user = make_user("project_manager_full")
    filters = queries.ProjectFilters()
    before = queries.project_list(user, filters)
    user.role = "admin"
    assert queries.project_list(user, filters) is not before


def test_managers_are_the_teams_pms_in_name_order_whatever_the_column_form(db):
    """The team column answers member ids (PostgreSQL an array, SQLite JSON text);
    managers_of keeps the PMs and trainees, ordered by full name, username, id."""
    zed = make_user("project_manager_full", full_name="", username="zed")
    ann = make_user("pm_trainee", full_name="Ann Lee", username="ann")
    bo = make_user("project_manager_full", full_name="Bo Wu", username="bo")
    painter = make_user("employee", full_name="Al Painter", username="al")
    expected = [(zed.id, "zed"), (ann.id, "Ann Lee"), (bo.id, "Bo Wu")]  # "" sorts first
    names = queries.pm_names()
    assert painter.id not in names
    assert queries.managers_of([zed.id, painter.id, bo.id, ann.id], names) == expected
    assert queries.managers_of(f"[{bo.id}, {zed.id}, {ann.id}, {painter.id}]", names) == expected
    assert queries.managers_of(None, names) == [] and queries.managers_of([painter.id], names) == []


def test_a_common_search_walks_the_order_and_a_rare_one_reads_the_matches(db, monkeypatch):
    """queries.search_page_source: both statements find exactly the same page; the walk
    is chosen only when the matches are common enough to fill a page quickly."""
    from app.core.cached_reads import count_of

    admin = make_user("admin")
    for n in range(30):
        make_project(name=f"Walnut deck {n:02d}")
    make_project(name="Quincy porch", address="9 Zzyzx Rd")
    common = queries.ProjectFilters(search="walnut", status="all")
    rare = queries.ProjectFilters(search="zzyzx", status="all")
    source = queries.search_page_source(admin, common, shape="page")
    union = queries.project_list(admin, common, shape="page")
    total = count_of(union, db.session)
    walk = source(total, 0, 25)
    assert walk is not union  # few rows to walk for 25 matches: the walk
    assert [r.id for r in db.session.execute(walk.limit(25))] == [r.id for r in db.session.execute(union.limit(25))]
    assert [r.id for r in db.session.execute(walk.limit(25).offset(25))] == [
        r.id for r in db.session.execute(union.limit(25).offset(25))
    ]
    everything = count_of(queries._ALL_PROJECTS, db.session)
    # between the rows a walk reads for the common term (25 of 30 matches) and the rare one
    monkeypatch.setattr(queries, "WALK_ROWS", 25 * everything / total + 1)
    rare_union = queries.project_list(admin, rare, shape="page")
    rare_total = count_of(rare_union, db.session)
    assert rare_total == 1
    assert queries.search_page_source(admin, rare, shape="page")(rare_total, 0, 25) is rare_union
    assert source(total, 0, 25) is walk
    assert [r.name for r in db.session.execute(rare_union)] == ["Quincy porch"]
    assert (
        queries.search_page_source(admin, queries.ProjectFilters(search="walnut", ordering=(("budget", False),)), False)
        is None
    )
