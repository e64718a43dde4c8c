"""`make run` (scripts/run_embedded.sh) on a busy port says so and suggests PORT=…,
instead of printing the URL and dying with "Address already in use"."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_busy_port_is_named_before_anything_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "run_embedded.sh")],
            env={**env, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {port} is already in use" in result.stderr
    assert f"PORT={port + 1} make run" in result.stderr
    assert "is starting at" not in result.stdout  # no URL promised that will not answer
