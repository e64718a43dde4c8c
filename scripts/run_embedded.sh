#!/usr/bin/env bash
# Start Kibray ERP embedded: SQLite under instance/, in-process Redis stand-in, demo data.
# PORT picks the port (default 5000); DEBUG=0 turns the debugger and reloader off.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
unset DATABASE_URL REDIS_URL
PORT="${PORT:-5000}"
DEBUG="${DEBUG:-1}"

# Say so before anything else if the port is taken, instead of printing the URL and dying.
if ! .venv/bin/python - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
with socket.socket() as sock:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(1)
PY
then
    echo "Port ${PORT} is already in use (another Kibray, or another program, is listening there)." >&2
    echo "Stop it, or run on another port:  PORT=$((PORT + 1)) make run" >&2
    exit 1
fi

.venv/bin/flask db upgrade >/dev/null
.venv/bin/flask seed-demo
echo
echo "Kibray ERP is starting at http://127.0.0.1:${PORT}/  (Ctrl+C to stop)"
case "$DEBUG" in
    0|false|no|off) debug_flag=--no-debug ;;
    *) debug_flag=--debug ;;
esac
exec .venv/bin/flask run --host 127.0.0.1 --port "$PORT" --with-threads "$debug_flag"
