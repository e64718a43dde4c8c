#!/usr/bin/env bash
# Every pre-deployment check; ends with ALL CHECKS PASSED or names each step that failed
# (FAILED: <step>, <step>) and exits 1.
#
# The production settings: `flask check-deploy` judges the production configuration, so
# the step needs production's variables. Either run this script in the production
# environment (`railway run bash scripts/pre_deploy_check.sh`, or with them exported), or
# name a file of them: PRE_DEPLOY_ENV_FILE=/path/production.env (KEY=value lines, read with
# `set -a; . FILE`). With a file, check-deploy sees that file's variables and nothing else
# of this shell's; the test steps never see them (they use TEST_*/E2E_* as always).
#
# PRE_DEPLOY_TESTS=full (default) runs each test step on the whole suite (the full suite
# runs more than once: ~30 min). PRE_DEPLOY_TESTS=quick runs a handful of fast,
# representative test files per test step (QUICK_* below; said in the output; the four
# non-browser steps share one pytest process and each is judged on its own files), the
# migration check without its downgrade round trip, and reuses a dependency audit result
# younger than a day (scripts/audit_deps.py --reuse-within) — for the drill
# (scripts/drill_pre_deploy.sh), never instead of the full run before a release.
set -uo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
PY=.venv/bin/python
MODE="${PRE_DEPLOY_TESTS:-full}"
case "$MODE" in
  full | quick) ;;
  *) echo "PRE_DEPLOY_TESTS must be full or quick, not '$MODE'" >&2; exit 2 ;;
esac

QUICK_UNIT="tests/test_smoke.py tests/test_crypto.py tests/test_api_blueprint.py"
QUICK_PERMISSIONS="tests/test_permissions.py"
QUICK_FINANCIAL="tests/test_money.py"
QUICK_CALENDAR="tests/test_calendar_blocks.py tests/test_holidays.py"
QUICK_BROWSER="tests/e2e/test_users.py"

failed=()
step() {
  local name="$1"; shift
  echo "==> $name"
  local started=$SECONDS
  if "$@"; then
    echo "    ok: $name ($((SECONDS - started)) s)"
  else
    echo "    FAILED: $name ($((SECONDS - started)) s)"
    failed+=("$name")
  fi
}
# pytest's "no tests selected" (5) is not a failure of a -k group
tests_or_none() { "$@"; local rc=$?; [ $rc -eq 0 ] || [ $rc -eq 5 ]; }

check_deploy() {
  if [ -n "${PRE_DEPLOY_ENV_FILE:-}" ]; then
    [ -r "$PRE_DEPLOY_ENV_FILE" ] || { echo "PRE_DEPLOY_ENV_FILE=$PRE_DEPLOY_ENV_FILE cannot be read"; return 1; }
    env -i PATH="$PATH" HOME="${HOME:-/root}" LANG="${LANG:-C.UTF-8}" ENV_FILE="$PRE_DEPLOY_ENV_FILE" \
      bash -c 'set -a; . "$ENV_FILE"; set +a; exec .venv/bin/flask --app wsgi check-deploy'
  else
    .venv/bin/flask --app wsgi check-deploy
  fi
}

PYTEST=("$PY" -m pytest -q -p no:cacheprovider)
if [ "$MODE" = quick ]; then
  echo "PRE_DEPLOY_TESTS=quick: each test step runs a few representative files, not the suite:"
  echo "  unit: $QUICK_UNIT; permissions: $QUICK_PERMISSIONS; financial: $QUICK_FINANCIAL;"
  echo "  calendar: $QUICK_CALENDAR; browser: $QUICK_BROWSER"
  echo "  (the migration check skips its downgrade round trip; the audit may reuse a result < 1 day old)"
fi

step "services up" bash scripts/ensure_services.sh
step "static security scan (ruff, bandit rules)" .venv/bin/ruff check .
if [ "$MODE" = quick ]; then
  step "dependency vulnerability audit" "$PY" scripts/audit_deps.py --reuse-within 86400
  # one pytest process for the four non-browser steps' files (a process start, the app and
  # its migration check once instead of four times); each step is judged on its own files
  report="$(mktemp -t kibray-pre-deploy-XXXXXX.xml)"
  echo "==> quick test run (the next four steps' files, one pytest process)"
  started=$SECONDS
  # shellcheck disable=SC2086 # the file lists split on spaces
  "${PYTEST[@]}" -m "not e2e" --junitxml="$report" $QUICK_UNIT $QUICK_PERMISSIONS $QUICK_FINANCIAL $QUICK_CALENDAR
  echo "    (quick test run: $((SECONDS - started)) s; its verdicts follow)"
  # shellcheck disable=SC2086
  step "unit and integration tests" "$PY" scripts/junit_verdict.py "$report" $QUICK_UNIT
  # shellcheck disable=SC2086
  step "permission tests (all 7 roles)" "$PY" scripts/junit_verdict.py "$report" $QUICK_PERMISSIONS
  # shellcheck disable=SC2086
  step "financial tests" "$PY" scripts/junit_verdict.py "$report" $QUICK_FINANCIAL
  # shellcheck disable=SC2086
  step "calendar tests" "$PY" scripts/junit_verdict.py "$report" $QUICK_CALENDAR
  rm -f "$report"
  # shellcheck disable=SC2086
  step "browser tests" "${PYTEST[@]}" -m e2e $QUICK_BROWSER
else
  step "dependency vulnerability audit" "$PY" scripts/audit_deps.py
  step "unit and integration tests" "${PYTEST[@]}" -m "not e2e" --ignore=tests/test_permissions.py --ignore=tests/test_permissions_http.py
  step "permission tests (all 7 roles)" "${PYTEST[@]}" tests/test_permissions.py tests/test_permissions_http.py
  step "financial tests" tests_or_none "${PYTEST[@]}" -m "not e2e" -k "money or budget or financial or invoice" tests
  step "calendar tests" tests_or_none "${PYTEST[@]}" -m "not e2e" -k "calendar or event" tests
  step "browser tests" "${PYTEST[@]}" -m e2e
fi
step "deploy configuration (flask check-deploy)" check_deploy
if [ "$MODE" = quick ]; then
  step "no pending migrations + reviewable plan" env MIGRATION_CHECK=quick bash scripts/check_migrations.sh
else
  step "no pending migrations + reviewable plan + downgrade" bash scripts/check_migrations.sh
fi
step "static files complete" "$PY" scripts/check_static.py
step "AI readiness" "$PY" -c "import openai; print('openai', openai.__version__, '(optional: OPENAI_API_KEY)')"
step "documentation present" bash -c 'for f in README.md docs/architecture.md docs/deployment.md docs/operations.md docs/deployment_log.md docs/performance.md; do [ -s "$f" ] || { echo "missing $f"; exit 1; }; done'

if [ ${#failed[@]} -eq 0 ]; then
  echo "ALL CHECKS PASSED ($MODE tests)"
else
  printf -v names '%s, ' "${failed[@]}"
  echo "FAILED: ${names%, }"
  exit 1
fi
