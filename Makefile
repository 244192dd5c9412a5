# The two commands a newcomer needs: `make run` and `make test`. Everything else is a detail.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 1
# Debian packages the real-stack, browser and load tests drive (never mocked).
SYSTEM_PACKAGES := postgresql redis-server nginx wrk chromium openssl systemd
PG_BIN ?= $(firstword $(wildcard /usr/lib/postgresql/*/bin))

.PHONY: help install run migrate test test-unit test-sqlite test-postgres coverage-report \
        security-claims contract lint fuzz fuzz-postgres sync-soak sharing-soak system-packages \
        checkov tools clients compat bench bench-smoke bench-pythons lock clean

help:
	@echo "Everyday:"
	@echo "  make run            install, migrate and serve the API on SQLite at http://$(HOST):$(PORT)/"
	@echo "  make test           install (system packages too, as root), then every test; a table of"
	@echo "                      each phase's time at the end (XDIST= runs pytest in one process)"
	@echo "Parts of make test:"
	@echo "  make test-unit      the unit and in-process HTTP tests (no servers, browser or stack)"
	@echo "  make test-sqlite    the whole pytest suite on SQLite"
	@echo "  make test-postgres  the API tests and the contract fuzzing on a private PostgreSQL"
	@echo "  make contract       the contract tests (contract/) against a live server"
	@echo "  make lint           ruff, mypy, OpenAPI validation"
	@echo "  make compat         openapi.yaml vs the latest released contract: no break without a new major"
	@echo "  make clients        the Python and TypeScript clients of openapi.yaml into build/clients"
	@echo "  make bench-smoke    the benchmark harness end to end on tiny data (seconds)"
	@echo "Long runs:"
	@echo "  make fuzz           long Schemathesis run against a live server (random seed)"
	@echo "  make fuzz-postgres  the same on PostgreSQL behind nginx"
	@echo "  make sync-soak      1000 rounds of the changes feed under concurrent writers (SYNC_SEED=N: one)"
	@echo "  make sharing-soak   1000 rounds of the members' feeds under writers and membership churn (SHARING_SEED=N: one)"
	@echo "  make bench          the benchmark: the project, its peers, the Django floor, a raw-ASGI baseline (1M tasks)"
	@echo "  make bench-pythons  the project on Python 3.12 and 3.13 beside 3.11 (10k tasks)"
	@echo "Setup and housekeeping:"
	@echo "  make install        the virtualenv (.venv) with the pinned dependencies"
	@echo "  make migrate        apply the migrations to the local SQLite database"
	@echo "  make system-packages  PostgreSQL, Redis, nginx, wrk, Chromium (apt-get, as root)"
	@echo "  make tools          the contract linters from npm into .tools/"
	@echo "  make checkov        checkov in a virtualenv of its own"
	@echo "  make lock           re-pin every dependency into constraints.txt"
	@echo "  make clean          remove the virtualenv, caches and build/"

# --- install ----------------------------------------------------------------------------------
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

# A local secret for `make run` only: production sets DJANGO_SECRET_KEY and refuses to start
# without a strong one.
.secret_key:
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))' > $@

LOCAL_ENV = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret_key)}"

migrate: install .secret_key
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --noinput

# The API and one webhooks worker beside it. Local receivers over http on loopback are allowed
# here (WEBHOOKS_ALLOW_LOOPBACK), never in production.
#
# Both run in the background of the recipe's shell, which stops them by PID when one of them
# exits or when make is stopped. A signal to make alone (`kill <pid of make>`, as an IDE or a
# supervisor sends it) reaches only make: GNU make passes SIGTERM on to the recipe's shell, but
# on SIGINT, SIGHUP or SIGQUIT it just waits for the recipe. The shell sees that make is handling
# one of those signals (the signal is in make's blocked set while its handler runs; Linux /proc),
# or is gone, and stops both.
run: migrate
	@export WEBHOOKS_ALLOW_LOOPBACK="$${WEBHOOKS_ALLOW_LOOPBACK:-true}"; make_pid=$$PPID; \
	$(LOCAL_ENV) $(BIN)/python manage.py webhooks_worker --verbosity 0 & worker=$$!; \
	$(LOCAL_ENV) $(BIN)/uvicorn taskapi.asgi:application --host $(HOST) --port $(PORT) \
	  --workers $(WORKERS) --no-access-log --proxy-headers --forwarded-allow-ips 127.0.0.1 & \
	server=$$!; \
	stop() { trap '' INT TERM; kill $$server $$worker 2>/dev/null; wait $$server $$worker; }; \
	trap 'stop; exit 143' TERM; trap 'stop; exit 130' INT; \
	make_is_stopping() { \
	  kill -0 $$make_pid 2>/dev/null || return 0; \
	  blocked=$$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$make_pid/status 2>/dev/null); \
	  [ -n "$$blocked" ] && (( 16#$$blocked & 16#4007 )); \
	}; \
	while kill -0 $$server 2>/dev/null && kill -0 $$worker 2>/dev/null && ! make_is_stopping; do \
	  sleep 0.5 & wait $$!; \
	done; \
	kill -0 $$server 2>/dev/null || { wait $$server; status=$$?; }; \
	stop; exit $${status:-0}

# checkov in a virtualenv of its own: next to the app's pins the resolver picks an old checkov.
CHECKOV_VERSION := 3.3.30
checkov: .venv-checkov/.installed-$(CHECKOV_VERSION)

.venv-checkov/.installed-$(CHECKOV_VERSION):
	rm -rf .venv-checkov && $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

# The contract linters, from the npm registry, into a git-ignored folder.
NPM_TOOLS := .tools/npm
NPM_PACKAGES := @stoplight/spectral-cli@6.16.3 @redocly/cli@2.77.0
tools: $(NPM_TOOLS)/.installed

$(NPM_TOOLS)/.installed:
	npm install --prefix $(NPM_TOOLS) --no-audit --no-fund --loglevel=error $(NPM_PACKAGES)
	@touch $@

# The clients generated from openapi.yaml (contract/clients/): openapi-python-client into
# build/clients/python, openapi-typescript into build/clients/typescript/api.ts (then tsc --strict).
# Any generator warning fails. The TypeScript tools come from the committed package-lock.json.
CLIENTS_NPM := contract/clients/typescript
clients: install $(CLIENTS_NPM)/node_modules/.installed
	$(BIN)/python -m contract.clients.generate build/clients

$(CLIENTS_NPM)/node_modules/.installed: $(CLIENTS_NPM)/package-lock.json
	npm ci --prefix $(CLIENTS_NPM) --include=dev --no-audit --no-fund --loglevel=error
	@touch $@

# --- system packages --------------------------------------------------------------------------
# Installs what the tests drive, when it is missing. As root it runs apt-get; otherwise it stops
# and prints the exact command.
system-packages:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	      >/dev/null || exit 1; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

# --- tests ----------------------------------------------------------------------------------
RESULTS := build/test-results
COVERAGE := build/contract-coverage
COVERAGE_PLUGIN = -p contract.coverage_plugin --contract-coverage-dir=$(COVERAGE)
# pytest on both cores (pytest-xdist). Tests that share a server or a database stay on one worker,
# and the longest start first (tests/support/xdist_groups.py). XDIST= runs everything in one
# process.
XDIST ?= -n 2 --dist loadgroup
# Dozens of Python processes (workers, servers, manage.py) import the same modules: let them
# cache the bytecode (git-ignored __pycache__) even where the environment turns that off.
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

# Every test: the generated clients (no generator warning), lint, the breaking-change gate against
# the latest released contract, the suite on SQLite (unit, HTTP, browser, real stack, deploy files,
# contract, the generated clients against a live server), the API suite and the contract fuzzing
# again on PostgreSQL, then the contract-coverage table (every documented status reached, nothing
# undocumented returned) and SECURITY.md's claims, both against this run.
#
# Each phase is timed (tests/support/phases.py, build/phases.jsonl) and the table is printed at the
# end, also when a phase fails. Phases joined by "+" run side by side: the installs write to
# separate places (.venv, apt, .venv-checkov, .tools), and so do the clients (build/clients), lint
# (its caches) and the compat gate (nothing). A failed set-up phase stops the run; the checks
# after it all run, so that one run reports every failure.
SETUP_PHASES := install+system-packages+checkov+tools clients+lint+compat
CHECK_PHASES := test-sqlite test-postgres coverage-report security-claims
PHASES = $(PYTHON) tests/support/phases.py

test:
	@$(PHASES) reset
	@rm -rf $(RESULTS) $(COVERAGE) && mkdir -p $(RESULTS)
	@status=0; \
	for stage in $(SETUP_PHASES); do \
	  parallel=; [[ $$stage == *+* ]] && parallel="-j4 --output-sync=target"; \
	  $(MAKE) --no-print-directory $$parallel timed-$${stage//+/ timed-} || { status=$$?; break; }; \
	done; \
	if [ $$status = 0 ]; then for phase in $(CHECK_PHASES); do \
	  $(MAKE) --no-print-directory timed-$$phase || status=$$?; \
	done; fi; \
	echo; $(PHASES) table; exit $$status

# `make -n test` prints the phases' commands without recording times.
DRY_RUN := $(findstring n,$(firstword -$(MAKEFLAGS)))
timed-%:
	@$(if $(DRY_RUN),,$(PHASES) run $* -- )$(MAKE) --no-print-directory $*

# The whole suite on SQLite (and tests/stack on its own PostgreSQL, Redis and nginx).
test-sqlite: install system-packages
	$(PYTEST) $(XDIST) $(COVERAGE_PLUGIN) --durations=20 --junitxml=$(RESULTS)/sqlite.xml

# The API tests and the contract fuzzing, unchanged, on a private PostgreSQL (and through nginx for
# the live-server tests).
test-postgres: install system-packages
	$(PYTEST) $(XDIST) -p tests.support.pg_plugin --db=postgres $(COVERAGE_PLUGIN) \
	  tests/core tests/accounts tests/access_tokens tests/sync tests/projects tests/tasks \
	  tests/labels tests/webhooks \
	  contract/test_schemathesis.py \
	  --durations=10 --junitxml=$(RESULTS)/postgres.xml

# Against this run's records: every documented status reached, nothing undocumented returned.
coverage-report: install
	$(BIN)/python -m contract.coverage_report openapi.yaml $(COVERAGE)

security-claims: install
	$(BIN)/python -m tests.support.security_claims SECURITY.md $(RESULTS)/*.xml

test-unit: install
	$(PYTEST) $(XDIST) tests --ignore=tests/deploy -m "not server and not browser and not stack"

contract: install tools
	$(PYTEST) $(XDIST) contract

# The breaking-change gate: openapi.yaml against the highest contract/released/X.Y.Z.yaml, rated by
# redocly diff plus the rules it misses (contract/compat.py; `--rules` lists who checks what).
compat: install tools
	$(BIN)/python -m contract.compat

lint: install
	$(BIN)/ruff check src tests contract bench
	$(BIN)/ruff format --check src tests contract bench
	$(BIN)/mypy src
	$(BIN)/python -m openapi_spec_validator openapi.yaml

fuzz: install
	FUZZ_LONG=1 $(BIN)/pytest contract -k schemathesis -s

# The same long run against two instances on PostgreSQL and Redis behind nginx.
fuzz-postgres: install system-packages
	FUZZ_LONG=1 $(BIN)/pytest -p tests.support.pg_plugin --db=postgres \
	  contract/test_schemathesis.py -s

# The changes feed's convergence property, long: SYNC_ROUNDS rounds of concurrent writers on both
# instances and a syncing reader (tests/stack/test_sync_convergence.py). A failure names the
# round's seed: `SYNC_SEED=<seed> make sync-soak` replays that one round.
SYNC_ROUNDS ?= 1000
sync-soak: install system-packages
	SYNC_ROUNDS=$(SYNC_ROUNDS) $(BIN)/pytest tests/stack/test_sync_convergence.py

# The same under sharing, long: SHARING_ROUNDS rounds of four users in three shared projects,
# with concurrent task writers on both instances, an owner changing roles, removing and
# re-inviting members who leave and accept, and every member's reader syncing
# (tests/stack/test_sharing_convergence.py). `SHARING_SEED=<seed> make sharing-soak` replays one.
SHARING_ROUNDS ?= 1000
sharing-soak: install system-packages
	SHARING_ROUNDS=$(SHARING_ROUNDS) $(BIN)/pytest tests/stack/test_sharing_convergence.py

# The benchmark: private PostgreSQL, Redis and nginx, 1M tasks, wrk, ratios to a raw ASGI
# baseline served the same way (bench/README.md). bench-smoke is the seconds-long version that
# make test runs (tests/bench) to keep the harness working.
bench: install system-packages
	$(BIN)/python -m bench --profile

bench-smoke: install system-packages
	$(BIN)/python -m bench --smoke

# The project on each other supported Python, side by side with 3.11 (10k tasks, 5 s a
# scenario): one virtualenv each with the pinned runtime dependencies; the code is the repo's.
# Interpreters from pyenv by default; BENCH_PYTHONS="/path/python3.12 ..." to choose.
BENCH_PYTHONS ?= $(foreach v,3.12 3.13,$(firstword $(wildcard $(HOME)/.pyenv/versions/$(v).*/bin/python$(v))))
bench-pythons: install system-packages
	@test -n "$(strip $(BENCH_PYTHONS))" || { echo "no Python 3.12/3.13 found: set BENCH_PYTHONS"; exit 1; }
	set -e; args=""; for py in $(BENCH_PYTHONS); do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  test -x .venv-$$v/bin/python || $$py -m venv .venv-$$v; \
	  .venv-$$v/bin/python -m pip install --quiet -c constraints.txt -e .; \
	  args="$$args --python .venv-$$v/bin/python"; \
	done; $(BIN)/python -m bench --experiment $$args

# Re-pin every dependency: a fresh venv from pyproject's ranges, then freeze.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet '.[dev]'
	( echo "# Exact versions for reproducible installs (make lock regenerates this file)."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^cloud-task-api' ) > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build *.egg-info src/*.egg-info
