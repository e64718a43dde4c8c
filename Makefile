# Kibray ERP — the commands a newcomer needs. `make run` and `make test` set up
# everything they need themselves (virtualenv, packages, services, Chromium).
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-fast e2e lint fmt audit ci bench bench-check bench-baseline bench-sse bench-uploads bench-moves bench-caldav bench-invoices bench-reports bench-billing bench-instances drills smoke-local setup services chromium check-migrations clean compile

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

services:
	bash scripts/ensure_services.sh

chromium:
	bash scripts/ensure_chromium.sh

## run: the app, embedded (SQLite + in-process Redis stand-in), with demo data
run: setup
	bash scripts/run_embedded.sh

## test: the whole suite on real PostgreSQL + Redis, browser tests included. The unit
## tests run on TEST_WORKERS pytest-xdist workers (each file on one worker; each worker
## its own database and Redis db, tests/conftest.py), then the browser tests on one
## (they share a gunicorn server and a Chromium per run)
TEST_WORKERS ?= 2
test: setup services chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not e2e" --durations=25
	$(BIN)/python -m pytest -m e2e --durations=10

test-fast: setup services
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not e2e"

e2e: setup services chromium
	$(BIN)/python -m pytest -m e2e

## lint: ruff (incl. the bandit security rules) and the GitHub Actions workflow (actionlint)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint .github/workflows/*.yml

## audit: known vulnerabilities in the pinned dependencies (pip-audit against PyPI's data)
audit: setup
	$(BIN)/python scripts/audit_deps.py

## ci: what CI runs — static security scan (ruff incl. bandit rules), dependency audit,
## no pending migrations (with the plan and a full downgrade), then the whole test suite
ci: lint audit check-migrations test drills

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## compile: the app's bytecode, as the deployment's build does (nixpacks.toml): with
## PYTHONDONTWRITEBYTECODE set, nothing else writes it and every start compiles again
compile: setup
	$(BIN)/python -m compileall -q app workers wsgi.py

## bench: seed volume into PostgreSQL (BENCH_SCALE, default 100; 500 gets its own
## database) and report every page and endpoint against a floor page timed in the same
## run, requests/s, worker RSS, cold start, SQL statements (BENCH_ARGS passes options);
## then the CalDAV sync to Radicale (bench-caldav, one run) and the invoices' PDF and
## batch send (bench-invoices), the reports (bench-reports) and a project's progress
## billing pages (bench-billing), and 2 gunicorn instances vs 1 (bench-instances).
bench: setup services compile
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_caldav.py --runs 1
	$(BIN)/python scripts/bench_invoices.py
	$(BIN)/python scripts/bench_reports.py
	$(BIN)/python scripts/bench_billing.py
	$(BIN)/python scripts/bench_instances.py

## bench-check: fail if a page's p50 ratio to the floor or its SQL statement count
## regressed from docs/bench-baseline.json. By hand and before a release, never in CI.
bench-check: setup services compile
	$(BIN)/python scripts/bench.py --check --burst 0 $(BENCH_ARGS)

## bench-baseline: record this run as the scale's baseline in docs/bench-baseline.json
bench-baseline: setup services compile
	$(BIN)/python scripts/bench.py --write-baseline --burst 0 $(BENCH_ARGS)

bench-sse: setup services
	$(BIN)/python scripts/bench_sse.py

## bench-moves: moving events and tasks with their conflict check (p50/p95)
bench-moves: setup services compile
	$(BIN)/python scripts/bench_moves.py $(BENCH_ARGS)

## bench-caldav: two-way calendar sync to a real CalDAV server (full first sync, incremental), times and HTTP requests
bench-caldav: setup services compile
	$(BIN)/python scripts/bench_caldav.py $(BENCH_ARGS)

## bench-invoices: an invoice's PDF in the worker (p50/p95 ms) and invoices per minute for
## a batch of 50 issued and emailed by a real RQ worker through a local SMTP server
bench-invoices: setup services compile
	$(BIN)/python scripts/bench_invoices.py

## bench-reports: company profitability, WIP and AR aging pages and API over 2,000 projects
## (p50/p95 ms, admin and PM) and a year's CSV exports (time, peak memory)
bench-reports: setup services compile
	$(BIN)/python scripts/bench_reports.py

## bench-billing: a project's progress billing with 60 schedule lines and 24 certified pay
## applications: the billing page, an application's page, its form and the API (p50/p95 ms, SQL)
bench-billing: setup services compile
	$(BIN)/python scripts/bench_billing.py

## bench-instances: /health/ and the project list with 2 gunicorn instances vs 1 (req/s, p95)
## and the memory of every master and worker (issue 14)
bench-instances: setup services compile
	$(BIN)/python scripts/bench_instances.py

## drills: the operations drills (docs/deployment.md "Drills"): two instances sharing all
## state, faults (Redis, PostgreSQL, a killed worker, a failed migration), backup and
## restore — each against services of its own (kibray_drill* databases, Redis on 6391,
## moto S3 on 18150, gunicorn on 18101…); each prints what it proved
DRILL_MODE ?= together
drills: setup services compile chromium
	$(BIN)/python scripts/drill_two_instances.py
	$(BIN)/python scripts/drill_faults.py
	$(BIN)/python scripts/drill_backup.py
	DRILL_MODE=$(DRILL_MODE) $(BIN)/python scripts/drill_pre_deploy.py  # pre_deploy_check.sh: passes clean, breaks fail naming their steps
	bash scripts/smoke_local.sh

## smoke-local: the post-deployment smoke test (scripts/smoke.py in Chromium, and the curl
## checks of docs/deployment.md) against Procfile's release, web and worker lines under
## production settings, on services of its own (kibray_smoke database, Redis on 6393, moto
## S3 on 18202, gunicorn with TLS on 18201); everything stopped and dropped afterwards
smoke-local: setup services compile chromium
	bash scripts/smoke_local.sh

## bench-uploads: the photo upload path's MB/s and the thumbnail job's photos per minute
bench-uploads: setup services compile
	$(BIN)/python scripts/bench_uploads.py

check-migrations: setup services
	bash scripts/check_migrations.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
