#!/usr/bin/env bash
# A backup of the database: pg_dump's custom format (-Fc: compressed, restorable table by
# table with pg_restore) of $DATABASE_URL, to DEST:
#   scripts/backup.sh                      → $BACKUP_DIR, or ./backups
#   scripts/backup.sh /var/backups/kibray  → that directory
#   scripts/backup.sh s3://bucket/prefix   → S3 through the app's storage settings
#                                            (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
#                                            AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL)
# Retention: this database's BACKUP_KEEP newest backups (default 14) are kept at DEST, its
# older ones deleted (other databases' kibray-<name>-… backups at DEST are not touched). Prints a summary; exits non-zero on any failure (nothing is deleted then).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
DEST="${1:-${BACKUP_DIR:-./backups}}"
KEEP="${BACKUP_KEEP:-14}"
: "${DATABASE_URL:?DATABASE_URL is not set}"
[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || { echo "BACKUP_KEEP must be a positive number; got $KEEP" >&2; exit 2; }

# The URL's parts as libpq's PG* variables (scripts/pg_env.py, the URL on stdin): pg_dump
# runs without the URL, so no password on a command line (ps)
pg_exports="$("$PYTHON" "$ROOT/scripts/pg_env.py" <<< "$DATABASE_URL")"
eval "$pg_exports"
DBNAME="$PGDATABASE"
[[ "$DBNAME" =~ ^[A-Za-z0-9_]+$ ]] || { echo "refusing a database named '$DBNAME' (DATABASE_URL must name the database)" >&2; exit 2; }
NAME="kibray-${DBNAME}-$(date -u +%Y%m%dT%H%M%S%3NZ).dump"  # UTC, to the millisecond: sorts by time
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

started=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
pg_dump --format=custom --no-owner --no-privileges --file "$TMP/$NAME" --dbname "$DBNAME"
pg_restore --list "$TMP/$NAME" > /dev/null  # the archive reads back
size=$(stat -c %s "$TMP/$NAME")
dumped=$(date +%s.%N)

case "$DEST" in
  s3://*)
    "$PYTHON" - "$TMP/$NAME" "$DEST" "$KEEP" "kibray-${DBNAME}-" <<'PY'
import os, re, sys
import boto3

path, dest, keep, own = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
bucket, _, prefix = dest[len("s3://"):].partition("/")
prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None,
    region_name=os.environ.get("AWS_S3_REGION_NAME") or "us-east-1",
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or None,
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
)
key = prefix + os.path.basename(path)
s3.upload_file(path, bucket, key, ExtraArgs={"ServerSideEncryption": "AES256"} if os.environ.get("BACKUP_S3_SSE") else None)
# only this database's backups (another database may back up to the same place)
mine = re.compile(re.escape(own) + r"([0-9]{8}T[0-9]{9}Z)\.dump")
found = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + own):
    found += [o["Key"] for o in page.get("Contents", []) if mine.fullmatch(o["Key"][len(prefix):])]
found.sort(key=lambda k: mine.fullmatch(k[len(prefix):]).group(1), reverse=True)  # newest first
for old in found[keep:]:
    s3.delete_object(Bucket=bucket, Key=old)
print(f"stored: s3://{bucket}/{key}")
print(f"kept: {min(len(found), keep)} backups at s3://{bucket}/{prefix} (deleted {max(0, len(found) - keep)} older)")
PY
    ;;
  *)
    mkdir -p "$DEST"
    mv "$TMP/$NAME" "$DEST/$NAME"
    # only this database's backups (another database may back up to the same place),
    # newest first by the UTC timestamp in the name
    found=()
    while IFS= read -r f; do
      if [[ "$f" == "kibray-${DBNAME}-"* && "${f#"kibray-${DBNAME}-"}" =~ ^[0-9]{8}T[0-9]{9}Z\.dump$ ]]; then found+=("$f"); fi
    done < <(ls -1 "$DEST" | sort -r)
    deleted=0
    for old in "${found[@]:$KEEP}"; do rm -f -- "$DEST/$old"; deleted=$((deleted + 1)); done
    echo "stored: $DEST/$NAME"
    echo "kept: $(( ${#found[@]} - deleted )) backups in $DEST (deleted $deleted older)"
    ;;
esac
finished=$(date +%s.%N)
printf 'database: %s  size: %s bytes  dump: %s s  total: %s s\n' "$DBNAME" "$size" \
  "$(elapsed "$started" "$dumped")" "$(elapsed "$started" "$finished")"
