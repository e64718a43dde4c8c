"""Append a deployment to docs/deployment_log.md, one table row in the document's columns:

| date | commit | deployer | changes | migrations applied | tests | status |

- commit: the deployed commit (--commit, default HEAD), short hash;
- changes: the subjects of `git log` since the last entry's commit (the previous
  deployment), newest first, at most 12 listed and the rest counted;
- migrations applied: the Alembic revisions added under migrations/versions/ in that range
  (each file's `revision = "…"`); "none" when there are none;
- tests: --tests N, or counted from a JUnit XML file (--junit, `pytest --junitxml=…`) or a
  saved pytest output (--pytest-output: its closing "N passed, M failed …" line);
- deployer: --deployer, else $DEPLOYER, else git's user.name, else $USER;
- status: --status (default "deployed"; e.g. "failed", "rolled back").

  python scripts/log_deployment.py --tests 2143 --status deployed
  python scripts/log_deployment.py --junit report.xml --deployer "Ana" --dry-run

--dry-run prints the row instead of writing it; --log and --repo point elsewhere (the tests)."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - our own pytest's JUnit file
from datetime import UTC, datetime

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
COLUMNS = ("date", "commit", "deployer", "changes", "migrations applied", "tests", "status")
MAX_SUBJECTS = 12
UNKNOWN = "—"


def git(repo: str, *args: str) -> str:
    return subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", *args],  # noqa: S607 - git from PATH
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or UNKNOWN


def rows(document: str) -> list[list[str]]:
    """The table's data rows as cells (header and separator left out)."""
    found = []
    for line in document.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and (set("".join(cells)) <= set("-: ") or cells[0].lower() == "date"):
            continue
        found.append(cells)
    return found


def last_commit(document: str) -> str | None:
    """The commit of the last entry that names one (its cell may be `abc1234` or —)."""
    for cells in reversed(rows(document)):
        if len(cells) > 1:
            value = cells[1].strip("` ")
            if re.fullmatch(r"[0-9a-f]{7,40}", value):
                return value
    return None


def changes(repo: str, since: str | None, commit: str) -> str:
    span = f"{since}..{commit}" if since else commit
    subjects = [s for s in git(repo, "log", "--no-merges", "--format=%s", span).splitlines() if s.strip()]
    if not subjects:
        return "no new commits"
    listed = [s if len(s) <= 100 else s[:99] + "…" for s in subjects[:MAX_SUBJECTS]]
    more = len(subjects) - len(listed)
    return "; ".join(listed) + (f"; … and {more} more" if more else "")


def migrations(repo: str, since: str | None, commit: str) -> str:
    if since:
        added = git(repo, "diff", "--name-only", "--diff-filter=A", f"{since}..{commit}", "--", "migrations/versions/")
    else:
        added = git(repo, "ls-tree", "-r", "--name-only", commit, "--", "migrations/versions/")
    revisions = []
    for path in sorted(p for p in added.splitlines() if p.endswith(".py")):
        source = git(repo, "show", f"{commit}:{path}")
        found = re.search(r"""^revision\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]""", source, re.MULTILINE)
        if found:  # a migration (not a package's __init__.py or a helper module)
            revisions.append(found.group(1))
    return ", ".join(f"`{r}`" for r in revisions) if revisions else "none"


def tests_from_junit(path: str) -> str:
    root = ET.parse(path).getroot()  # noqa: S314 - a file our own test run wrote
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return _summary(total - failed - skipped, failed, skipped)


def tests_from_pytest_output(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    counts = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    closing = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    if not closing:
        raise ValueError(f"{path} has no pytest closing line (N passed …)")
    for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", closing[-1]):
        counts["error" if word.startswith("error") else word] += int(number)
    return _summary(counts["passed"], counts["failed"] + counts["error"], counts["skipped"])


def _summary(passed: int, failed: int, skipped: int) -> str:
    text = f"{passed} passed"
    if failed:
        text += f", {failed} failed"
    if skipped:
        text += f", {skipped} skipped"
    return text


def deployer(repo: str, given: str | None) -> str:
    if given:
        return given
    if os.environ.get("DEPLOYER"):
        return os.environ["DEPLOYER"]
    try:
        name = git(repo, "config", "user.name").strip()
    except subprocess.CalledProcessError:
        name = ""
    return name or os.environ.get("USER", UNKNOWN)


def entry(args: argparse.Namespace, document: str) -> str:
    commit = git(args.repo, "rev-parse", "--short", args.commit).strip()
    since = args.since or last_commit(document)
    if args.tests is not None:
        tests = f"{args.tests} passed"
    elif args.junit:
        tests = tests_from_junit(args.junit)
    elif args.pytest_output:
        tests = tests_from_pytest_output(args.pytest_output)
    else:
        tests = UNKNOWN
    values = (
        args.date or datetime.now(UTC).date().isoformat(),
        f"`{commit}`",
        deployer(args.repo, args.deployer),
        changes(args.repo, since, args.commit),
        migrations(args.repo, since, args.commit),
        tests,
        args.status,
    )
    return "| " + " | ".join(cell(v) for v in values) + " |"


def append(document: str, row: str) -> str:
    """The document with `row` after the table's last row."""
    lines = document.rstrip("\n").splitlines()
    last = max((i for i, line in enumerate(lines) if line.startswith("|")), default=None)
    if last is None:
        header = "| " + " | ".join(COLUMNS) + " |"
        lines += ["", header, "|" + "---|" * len(COLUMNS)]
        last = len(lines) - 1
    lines.insert(last + 1, row)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Append a deployment to docs/deployment_log.md.")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--since", help="the previous deployment's commit (default: the last entry's)")
    parser.add_argument("--deployer")
    parser.add_argument("--status", default="deployed")
    parser.add_argument("--date", help="YYYY-MM-DD (default: today, UTC)")
    counted = parser.add_mutually_exclusive_group()
    counted.add_argument("--tests", type=int, help="the number of tests that passed")
    counted.add_argument("--junit", help="a JUnit XML file of the test run")
    counted.add_argument("--pytest-output", help="a file with the test run's pytest output")
    parser.add_argument("--log", default=os.path.join(ROOT, "docs", "deployment_log.md"))
    parser.add_argument("--repo", default=ROOT)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    with open(args.log, encoding="utf-8") as handle:
        document = handle.read()
    row = entry(args, document)
    if args.dry_run:
        print(row)
        return 0
    with open(args.log, "w", encoding="utf-8") as handle:
        handle.write(append(document, row))
    print(f"{args.log}: {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
