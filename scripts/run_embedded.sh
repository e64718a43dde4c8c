#!/usr/bin/env bash
# Start Kibray ERP embedded: SQLite under instance/, in-process Redis stand-in, demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
unset DATABASE_URL REDIS_URL
PORT="${PORT:-5000}"
.venv/bin/flask db upgrade >/dev/null
.venv/bin/flask seed-demo
echo
echo "Kibray ERP is starting at http://127.0.0.1:${PORT}/  (Ctrl+C to stop)"
exec .venv/bin/flask run --host 127.0.0.1 --port "$PORT" --with-threads
