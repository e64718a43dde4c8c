"""scripts/log_deployment.py against a temporary git repository (never the real
docs/deployment_log.md): a row in the document's columns with the commit, the changes and
the migrations added since the last entry's commit, and the test count from an argument,
a JUnit file or pytest's output."""

from __future__ import annotations

import subprocess

import pytest

from scripts import log_deployment

LOG = """# Deployment log

| date | commit | deployer | changes | migrations applied | tests | status |
|---|---|---|---|---|---|---|
| 2026-11-27 | — | — | first release | `0001_foundation` | — | — |
"""


def _git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def _commit(repo, subject: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        _git(repo, "add", name)
    _git(repo, "commit", "-q", "-m", subject)
    return _git(repo, "rev-parse", "--short", "HEAD")


@pytest.fixture()
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "ci@example.com")
    _git(repo, "config", "user.name", "Deploy Bot")
    _commit(repo, "Foundation", {"migrations/versions/0001_foundation.py": 'revision = "0001_foundation"\n'})
    return repo


def _run(repo, log, *args) -> None:
    assert log_deployment.main(["--repo", str(repo), "--log", str(log), "--date", "2026-12-01", *args]) == 0


def test_an_entry_lists_the_changes_and_migrations_since_the_last_entrys_commit(repo, tmp_path):
    log = tmp_path / "deployment_log.md"
    log.write_text(LOG)
    _run(repo, log, "--tests", "12", "--deployer", "Ana")  # the first logged commit: everything so far
    first = _git(repo, "rev-parse", "--short", "HEAD")
    _commit(repo, "Invoices | send by email", {"app.py": "x = 1\n"})
    _commit(repo, "Add pay applications", {"migrations/versions/0002_pay_apps.py": 'revision: str = "0002_pay_apps"\n'})
    _commit(repo, "Fix a typo", {"migrations/versions/__init__.py": "", "README": "typo fixed\n"})
    second = _git(repo, "rev-parse", "--short", "HEAD")
    _run(repo, log, "--tests", "15", "--status", "deployed")

    lines = log.read_text().splitlines()
    assert lines[2] == "| date | commit | deployer | changes | migrations applied | tests | status |"
    assert lines[4].startswith("| 2026-11-27 | — |")  # the earlier entry kept
    assert lines[5] == f"| 2026-12-01 | `{first}` | Ana | Foundation | `0001_foundation` | 12 passed | deployed |"
    assert lines[6] == (
        f"| 2026-12-01 | `{second}` | Deploy Bot | Fix a typo; Add pay applications; Invoices \\| send by email "
        "| `0002_pay_apps` | 15 passed | deployed |"
    )
    assert len(log_deployment.rows(log.read_text())) == 3
    assert log_deployment.last_commit(log.read_text()) == second
    # nothing new since: said so, and no migrations
    _run(repo, log, "--tests", "15", "--status", "rolled back", "--deployer", "Ana")
    assert log.read_text().splitlines()[7] == (
        f"| 2026-12-01 | `{second}` | Ana | no new commits | none | 15 passed | rolled back |"
    )


def test_the_test_count_from_a_junit_file_or_pytest_output(repo, tmp_path):
    junit = tmp_path / "report.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest" tests="20" failures="1" errors="1" skipped="3"/></testsuites>'
    )
    assert log_deployment.tests_from_junit(str(junit)) == "15 passed, 2 failed, 3 skipped"
    output = tmp_path / "pytest.txt"
    output.write_text("....\n========= 2140 passed, 4 skipped, 1 warning in 812.3s =========\n")
    assert log_deployment.tests_from_pytest_output(str(output)) == "2140 passed, 4 skipped"
    log = tmp_path / "deployment_log.md"
    log.write_text(LOG)
    _run(repo, log, "--junit", str(junit), "--deployer", "Ana", "--status", "failed")
    assert log.read_text().splitlines()[-1].endswith("| 15 passed, 2 failed, 3 skipped | failed |")


def test_dry_run_writes_nothing(repo, tmp_path, capsys):
    log = tmp_path / "deployment_log.md"
    log.write_text(LOG)
    _run(repo, log, "--dry-run", "--tests", "1", "--deployer", "Ana")
    assert log.read_text() == LOG
    assert capsys.readouterr().out.startswith("| 2026-12-01 | `")


def test_the_real_log_parses_and_has_the_documents_columns():
    with open(log_deployment.os.path.join(log_deployment.ROOT, "docs", "deployment_log.md")) as handle:
        document = handle.read()
    assert "| " + " | ".join(log_deployment.COLUMNS) + " |" in document
    assert all(len(cells) == len(log_deployment.COLUMNS) for cells in log_deployment.rows(document))
