"""A real CalDAV server for the sync's tests and benchmark: Radicale (a pip package)
started on 127.0.0.1 on a free port with one user (htpasswd, plain), its collections in
`folder`, stopped on leaving the context."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD = "kibray", "calendar-secret"


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:<port>/
    username: str
    password: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(folder: Path):
    (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
    port = _free_port()
    (folder / "config").write_text(
        "\n".join(
            [
                "[server]",
                f"hosts = 127.0.0.1:{port}",
                "[auth]",
                "type = htpasswd",
                f"htpasswd_filename = {folder / 'users'}",
                "htpasswd_encryption = plain",
                "[storage]",
                f"filesystem_folder = {folder / 'collections'}",
                "[logging]",
                "level = warning",
                "",
            ]
        )
    )
    log = folder / "radicale.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(folder / "config")],
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Radicale did not start: " + log.read_text()[-2000:]) from None
                time.sleep(0.05)
        yield Server(f"http://127.0.0.1:{port}/", USER, PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def account_on(user, server: Server, remote):
    """`user`'s Kibray CalDAV account for the calendar `remote` (a `caldav` collection) on
    `server` (inside an app context; added and flushed)."""
    from app.calendar_sync.models import CalendarAccount
    from app.extensions import db

    account = CalendarAccount(
        user_id=user.id,
        server_url=server.url,
        username=server.username,
        password=server.password,
        calendar_url=str(remote.url),
        calendar_name=remote.name,
    )
    db.session.add(account)
    db.session.flush()
    return account
