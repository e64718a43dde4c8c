"""The last deployments, read from docs/deployment_log.md's table (written by
scripts/log_deployment.py). The columns are found from the table's header row, whatever
they are and in whatever order, so a new or renamed column is shown as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOG = Path(__file__).resolve().parents[2] / "docs" / "deployment_log.md"
SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


@dataclass
class Deployments:
    columns: list[str]
    rows: list[list[str]]  # newest first, cells in `columns` order
    problem: str = ""


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    parts = re.split(r"(?<!\\)\|", line)
    return [part.strip().replace("\\|", "|").replace("`", "") for part in parts]


def parse(text: str) -> Deployments:
    """The first table of `text`: its header's columns and its rows, newest first (by the
    column named like "date" when there is one, else the last row first)."""
    lines = text.splitlines()
    for index in range(len(lines) - 1):
        if lines[index].lstrip().startswith("|") and SEPARATOR.match(lines[index + 1].strip()):
            columns = _cells(lines[index])
            rows = []
            for line in lines[index + 2 :]:
                if not line.lstrip().startswith("|"):
                    break
                cells = _cells(line)
                cells = (cells + [""] * len(columns))[: len(columns)]
                rows.append(cells)
            return Deployments(columns, _newest_first(columns, rows))
    return Deployments([], [], "no table found in docs/deployment_log.md")


def _newest_first(columns: list[str], rows: list[list[str]]) -> list[list[str]]:
    lowered = [c.lower() for c in columns]
    at = next((i for i, c in enumerate(lowered) if "date" in c or c in ("when", "time", "deployed")), None)
    order = list(reversed(rows))  # appended at the bottom: the last row is the newest
    if at is None:
        return order

    def when(row):
        found = DATE.search(row[at])
        return found.group(0).replace("T", " ") if found else ""

    return sorted(order, key=when, reverse=True)  # stable: same-day entries keep the log's order


def latest(limit: int = 10, path: Path = LOG) -> Deployments:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return Deployments([], [], f"cannot read {path.name}: {exc.strerror or exc}")
    found = parse(text)
    found.rows = found.rows[:limit]
    return found
