#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh:
#   scripts/restore.sh FILE [DATABASE_URL] [--force]
# FILE is a local .dump or s3://bucket/key (fetched through the app's storage settings).
# DATABASE_URL (default: $DATABASE_URL) is created if missing; a database that already
# has tables is refused unless --force (then its objects are dropped and replaced:
# pg_restore --clean --if-exists). Ownership is not restored (--no-owner): the objects
# belong to the restoring user. Prints what it did and how long it took.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
FORCE=0
ARGS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    *) ARGS+=("$arg") ;;
  esac
done
FILE="${ARGS[0]:?usage: scripts/restore.sh FILE [DATABASE_URL] [--force]}"
TARGET="${ARGS[1]:-${DATABASE_URL:-}}"
[ -n "$TARGET" ] || { echo "no DATABASE_URL given or set" >&2; exit 2; }
# The URL's parts as libpq's PG* variables (scripts/pg_env.py, the URL on stdin): psql and
# pg_restore run without the URL, so no password on their command lines (ps)
pg_exports="$("$PYTHON" "$ROOT/scripts/pg_env.py" <<< "$TARGET")"
eval "$pg_exports"
DBNAME="$PGDATABASE"
[[ "$DBNAME" =~ ^[A-Za-z0-9_]+$ ]] || { echo "refusing a database named '$DBNAME'" >&2; exit 2; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
started=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if [[ "$FILE" == s3://* ]]; then
  "$PYTHON" - "$FILE" "$TMP/backup.dump" <<'PY'
import os, sys
import boto3

source, path = sys.argv[1], sys.argv[2]
bucket, _, key = source[len("s3://"):].partition("/")
boto3.client(
    "s3",
    endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None,
    region_name=os.environ.get("AWS_S3_REGION_NAME") or "us-east-1",
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or None,
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
).download_file(bucket, key, path)
PY
  FILE="$TMP/backup.dump"
fi
[ -f "$FILE" ] || { echo "no such backup: $FILE" >&2; exit 2; }
pg_restore --list "$FILE" > /dev/null || { echo "not a pg_dump custom-format archive: $FILE" >&2; exit 2; }

exists=$(psql --dbname postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")
if [ "$exists" != "1" ]; then
  psql --dbname postgres -qc "CREATE DATABASE \"$DBNAME\"" > /dev/null
  echo "created: database $DBNAME"
else
  tables=$(psql --dbname "$DBNAME" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  if [ "$tables" != "0" ] && [ "$FORCE" != "1" ]; then
    echo "refusing: database $DBNAME already has $tables tables (add --force to replace them)" >&2
    exit 3
  fi
fi

pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname "$DBNAME" "$FILE"
psql --dbname "$DBNAME" -qc "ANALYZE" > /dev/null
finished=$(date +%s.%N)
revision=$(psql --dbname "$DBNAME" -Atc "SELECT version_num FROM alembic_version" 2>/dev/null || echo "?")
tables=$(psql --dbname "$DBNAME" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
printf 'restored: %s into %s (%s tables, migration %s) in %s s\n' "${ARGS[0]}" "$DBNAME" "$tables" "$revision" \
  "$(elapsed "$started" "$finished")"
