#!/usr/bin/env bash
# The post-deployment smoke test against a local instance started as the platform starts
# one: production settings (APP_ENV=production), the release step and the `web` and
# `worker` lines read from Procfile, media on an S3-compatible server (moto), a private
# Redis, a fresh PostgreSQL database. Then docs/deployment.md's curl checks, run as the
# document writes them (the block under "Smoke test after deploy"), and scripts/smoke.py.
# Everything it started is stopped and the database dropped, whatever happened.
#
# HTTPS: production settings redirect plain HTTP to https and mark cookies Secure. The
# platform's edge proxy terminates TLS in production; here gunicorn does (a certificate
# made for this run, passed in GUNICORN_CMD_ARGS, so the Procfile line runs unchanged), so
# `https://$HOST` in the document's checks works as written.
#
#   bash scripts/smoke_local.sh           (make smoke-local)
# Settings: SMOKE_DATABASE_URL (a database named kibray_smoke*, dropped and re-created),
# SMOKE_WEB_PORT (18201), SMOKE_MOTO_PORT (18202), SMOKE_REDIS_PORT (6393).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${VENV:-.venv}/bin
export PATH="$ROOT/$BIN:$PATH"

DATABASE_URL=${SMOKE_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/kibray_smoke}
WEB_PORT=${SMOKE_WEB_PORT:-18201}
MOTO_PORT=${SMOKE_MOTO_PORT:-18202}
REDIS_PORT=${SMOKE_REDIS_PORT:-6393}
START=$(date +%s)
STAMP() { echo "smoke-local: $1 at $(($(date +%s) - START)) s"; }
WORK=$(mktemp -d -t kibray-smoke.XXXXXX)
PIDS=()

stop() {
  local pid
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do  # the web and worker first, then what they use
    pid=${PIDS[i]}
    kill -INT "$pid" 2>/dev/null || true  # SIGINT: gunicorn's quick shutdown (open live streams end too)
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ -n "${ADMIN_URL:-}" ] && psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
  if [ -n "${SMOKE_KEEP_LOGS:-}" ]; then echo "smoke-local: logs kept in $WORK"; else rm -rf "$WORK"; fi
  echo "smoke-local: stopped what it started, dropped the database ($(($(date +%s) - START)) s in all)"
}
trap stop EXIT

procfile() { sed -n "s/^$1: //p" Procfile; }

# --- the services -------------------------------------------------------------------
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" &
PIDS+=($!)
python -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
DB_NAME=${DATABASE_URL##*/}
[[ $DB_NAME =~ ^kibray_smoke[A-Za-z0-9_]*$ ]] || { echo "smoke-local: the database must be named kibray_smoke*"; exit 2; }
ADMIN_URL=$(echo "${DATABASE_URL%/*}/postgres" | sed 's/+psycopg//')
psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# Chromium trusts this certificate by its key's hash (no certificate error, no handshake
# alert in gunicorn's log); requests and curl trust it as a CA file.
SPKI=$(openssl x509 -in "$WORK/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
export SMOKE_CHROMIUM_ARGS="--ignore-certificate-errors-spki-list=$SPKI"

# --- production settings --------------------------------------------------------------
export APP_ENV=production
export DATABASE_URL REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SECRET_KEY; SECRET_KEY=$(openssl rand -hex 32)
export FIELD_ENCRYPTION_KEY; FIELD_ENCRYPTION_KEY=$(openssl rand -base64 32 | tr '+/' '-_')
export ALLOWED_HOSTS=localhost,127.0.0.1
export AWS_ACCESS_KEY_ID=smoke AWS_SECRET_ACCESS_KEY=smoke-secret AWS_STORAGE_BUCKET_NAME=kibray-smoke
export AWS_S3_REGION_NAME=us-east-1 AWS_S3_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export PUBLIC_URL="https://localhost:$WEB_PORT" SENTRY_DSN=disabled
export PORT=$WEB_PORT GUNICORN_CONTROL_SOCKET=off LOG_LEVEL=WARNING PYTHONUNBUFFERED=1
export GUNICORN_CMD_ARGS="--certfile=$WORK/cert.pem --keyfile=$WORK/key.pem"
unset FLASK_APP REDIS_KEY_PREFIX

# --- release; the platform's processes: Procfile's worker and web lines ----------------
STAMP "services started"
echo "smoke-local: release: $(procfile release)"
bash -c "$(procfile release)" >"$WORK/release.log" 2>&1 || { tail -n 40 "$WORK/release.log"; exit 1; }
STAMP "released"
echo "smoke-local: worker: $(procfile worker)"
bash -c "exec $(procfile worker)" >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
echo "smoke-local: web: $(procfile web)  (PORT=$PORT, TLS by GUNICORN_CMD_ARGS)"
bash -c "exec $(procfile web)" >"$WORK/web.log" 2>&1 &
WEB_PID=$!
PIDS+=($WEB_PID)

# --- while they start: the smoke account and the bucket -----------------------------------
# `flask create-user` makes the admin (run in the same process as the rest, to start
# Python once); admins must use two-factor in production, so the account gets its key as
# a person's enrolment would store it; the bucket gets the CORS rule a browser's direct
# upload needs (docs/deployment.md, "Media storage").
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$AWS_S3_ENDPOINT_URL" 2>/dev/null && break; sleep 0.2; done
export SMOKE_USERNAME=smoke SMOKE_PASSWORD; SMOKE_PASSWORD="Smoke-$(openssl rand -hex 12)"
export SMOKE_TOTP_SECRET; SMOKE_TOTP_SECRET=$(python - <<'PY'
import os
import sys

import boto3
import pyotp
from sqlalchemy import select

from app import create_app
from app.auth.models import User
from app.extensions import db

s3 = boto3.client("s3", endpoint_url=os.environ["AWS_S3_ENDPOINT_URL"], region_name="us-east-1")
bucket = os.environ["AWS_STORAGE_BUCKET_NAME"]
s3.create_bucket(Bucket=bucket)
rule = {"AllowedOrigins": [os.environ["PUBLIC_URL"]], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"]}
s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
app = create_app()
with app.app_context():
    made = app.test_cli_runner().invoke(args=[
        "create-user", "smoke", "--role", "admin", "--email", "smoke@example.com",
        "--password", os.environ["SMOKE_PASSWORD"], "--full-name", "Smoke Test"])
    if made.exit_code != 0:
        sys.exit(f"flask create-user failed: {made.output} {made.exception!r}")
    user = db.session.scalar(select(User).where(User.username == "smoke"))
    user.totp_secret = pyotp.random_base32()
    db.session.commit()
    print(user.totp_secret)
PY
)
STAMP "smoke account (two-factor) and bucket made"
export HOST="localhost:$WEB_PORT" CURL_CA_BUNDLE="$WORK/cert.pem"
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "https://$HOST/health/" 2>/dev/null && break
  kill -0 "$WEB_PID" 2>/dev/null || { tail -n 40 "$WORK/web.log"; exit 1; }
  sleep 0.2
done
echo "smoke-local: up in $(($(date +%s) - START)) s"

# --- docs/deployment.md's curl checks, as written ----------------------------------------
checks=$(awk '/^#+ Smoke test after deploy/{found=1} found && /^```sh/{inside=1; next} inside && /^```/{exit} inside' docs/deployment.md)
[ -n "$checks" ] || { echo "smoke-local: no sh block under 'Smoke test after deploy' in docs/deployment.md"; exit 1; }
echo "smoke-local: docs/deployment.md's curl checks:"
if ! out=$(bash -euo pipefail -c "$checks" 2>&1); then
  echo "$out"; echo "✗ the document's curl checks failed"; exit 1
fi
echo "$out" | cut -c1-160
echo "✓ the document's curl checks"

# --- the browser's smoke test --------------------------------------------------------------
status=0
python scripts/smoke.py "https://$HOST" --ca-cert "$WORK/cert.pem" "$@" || status=$?
# Nothing left in the storage either (the smoke test can only check its own URLs there).
left=$(python -c "import boto3, os; print(len(boto3.client('s3', endpoint_url=os.environ['AWS_S3_ENDPOINT_URL'], region_name='us-east-1').list_objects_v2(Bucket=os.environ['AWS_STORAGE_BUCKET_NAME']).get('Contents', [])))")
if [ "$left" != 0 ]; then echo "✗ the bucket still holds $left object(s) after the smoke test"; status=1
else echo "✓ the bucket is empty after the smoke test"; fi
# The logs are JSON lines ("level": "ERROR", app/core/logs.py; gunicorn's own messages too,
# gunicorn.conf.py's logconfig_dict); gunicorn's plain "[ERROR]" (before its config applies)
# and the older level=ERROR form count as well.
errors='"level": *"(ERROR|CRITICAL)"|level=(ERROR|CRITICAL)|\[(ERROR|CRITICAL)\]|Traceback'
if grep -qE "$errors" "$WORK/web.log" "$WORK/worker.log"; then
  echo "smoke-local: errors in the logs:"; grep -hE -A5 "$errors" "$WORK/web.log" "$WORK/worker.log" | head -n 40
  status=1
fi
exit $status
