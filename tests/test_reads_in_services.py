"""Reads follow the same rules as writes: pages and API endpoints build no queries —
every select() lives in a feature's services (or its queries.py)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

ALLOWED: set[tuple[str, str]] = set()  # (module, function) pairs excused from the rule; none today
QUERY_FUNCTIONS = {"select", "insert", "update", "delete", "text"}
# What a route may not do with the session: query it, or end its transaction by hand
# (the request boundary commits; core.transaction.attempt() undoes a failed attempt).
SESSION_USES = {"execute", "scalars", "scalar", "get", "query", "paginate", "commit", "rollback", "flush"}


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def query_building(source: str) -> list[tuple[str, int, str]]:
    """(function, line, what) for every query built in a module's source."""
    tree = ast.parse(source)
    found = []
    sqlalchemy_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            sqlalchemy_names.update(alias.asname or alias.name for alias in node.names)

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Attribute):
                dotted = _dotted(child)
                if dotted == "db.paginate" or (dotted.startswith("db.session.") and child.attr in SESSION_USES):
                    found.append((function, child.lineno, dotted))
            elif (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Name)
                and child.func.id in QUERY_FUNCTIONS
                and child.func.id in sqlalchemy_names
            ):
                found.append((function, child.lineno, f"{child.func.id}(…)"))
            visit(child, inner)

    visit(tree, "<module>")
    return found


def test_the_scanner_finds_queries():
    source = (
        "from sqlalchemy import select\n"
        "from app.extensions import db\n"
        "def page():\n"
        "    return db.session.scalars(select(X)).all()\n"
        "def other():\n"
        "    return db.paginate(q)\n"
    )
    hits = {(f, what) for f, _, what in query_building(source)}
    assert ("page", "select(…)") in hits
    assert ("page", "db.session.scalars") in hits
    assert query_building("def stream():\n    db.session.remove()\n") == []  # releasing is fine
    assert ("other", "db.paginate") in hits
    assert query_building("def page():\n    return services.listing(user)\n") == []


def test_routes_and_api_modules_build_no_queries():
    # every feature package's pages and endpoints (core/api.py is the shared envelope helper)
    modules = [p for p in sorted(APP.rglob("*.py")) if p.name in ("routes.py", "api.py") and p.parent.name != "core"]
    assert any(p.parent.name == "projects" for p in modules)
    problems = []
    for path in modules:
        relative = str(path.relative_to(APP))
        for function, line, what in query_building(path.read_text()):
            if (relative, function) not in ALLOWED:
                problems.append(f"app/{relative}:{line} {function}() uses {what}")
    assert problems == [], "move these reads into the feature's services or queries.py:\n" + "\n".join(problems)
