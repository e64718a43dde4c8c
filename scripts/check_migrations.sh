#!/usr/bin/env bash
# "No pending migrations" and a reviewable migration plan, against a scratch PostgreSQL DB.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi APP_ENV=test
DB="kibray_migcheck_$$"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null
trap 'psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/7"
echo "Migration plan (SQL of every pending revision, for review):"
.venv/bin/flask db upgrade --sql 2>/dev/null | grep -E "^(CREATE|ALTER|DROP|-- Running)" | sed -n "1,120p"  # reads to the end: `head` would SIGPIPE the pipeline (pipefail)
.venv/bin/flask db upgrade >/dev/null 2>&1
.venv/bin/flask db check
.venv/bin/flask db downgrade base >/dev/null 2>&1
.venv/bin/flask db upgrade >/dev/null 2>&1
echo "Migrations: up, down to base and up again all work; no pending model changes."
