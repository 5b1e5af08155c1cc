# The two commands: `make run` (the whole service, locally) and `make test` (every test).
# Both set up what they need on a fresh machine (Debian, Python 3.11+, Node 20).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run run-fresh test lint format unit integration e2e deploy-check preflight screenshot bench bench-load lock clean

run: $(VENV)/.local-deps
	$(BIN)/python -m app.local

# The same, from empty tables: the data folder (LOCAL_DATA_DIR, default .local-data) is removed first.
run-fresh: $(VENV)/.local-deps
	rm -rf "$${LOCAL_DATA_DIR:-.local-data}"
	$(BIN)/python -m app.local

test: $(VENV)/.dev-deps browser lint
	$(BIN)/python -m pytest -m "not deploy"
	bash scripts/deploy_check.sh

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(VENV)/.dev-deps
	$(BIN)/python -m pytest tests/unit tests/client

integration: $(VENV)/.dev-deps
	$(BIN)/python -m pytest tests/integration

e2e: $(VENV)/.dev-deps browser
	$(BIN)/python -m pytest tests/e2e

deploy-check: $(VENV)/.dev-deps
	bash scripts/deploy_check.sh

# The docs' tables that derive from the deployment (docs/deploy.md: its functions and alarms),
# rewritten from a fresh offline package; make test fails when they are stale.
docs: $(VENV)/.dev-deps
	bash scripts/deploy_check.sh --package-only
	$(BIN)/python scripts/deploy_docs.py
	$(BIN)/python scripts/code_docs.py

# Before a deploy, with the deploy's AWS credentials: every SSM parameter the stack reads
# (serverless.yml's custom.ssmParameters) exists, else it names each missing one.
# STAGE=prod REGION=us-east-1 make preflight; GENERATE=1 also creates the generated ones.
STAGE ?= dev
preflight:
	npx --no-install osls preflight --stage $(STAGE) $(if $(REGION),--region $(REGION)) $(if $(GENERATE),--generate)

# The write model's table (scripts/write_model.py); cold start of the artefacts a deploy ships (packages them with
# osls package, then times them); the api's warm GET /tasks/{id} against a bare FastAPI app;
# the dashboard's list page; then the local stack under load (about 15 minutes); then chaos:
# paced load through two kill -9s, and how soon every accepted task is final.
bench: $(VENV)/.dev-deps
	POWERTOOLS_LOG_LEVEL=WARNING $(BIN)/python -m pytest tests/integration/test_write_model.py -q -p no:cacheprovider
	bash scripts/deploy_check.sh --package-only
	$(BIN)/python scripts/bench_cold_start.py
	$(BIN)/python scripts/bench_warm_path.py
	$(BIN)/python scripts/bench_dashboard.py
	$(BIN)/python scripts/bench_load.py
	$(BIN)/python scripts/bench_chaos.py

bench-load: $(VENV)/.dev-deps
	$(BIN)/python scripts/bench_load.py

# Before moving moto's pin: the newest moto[server] (or MOTO=x.y.z) in a scratch venv, the patches'
# tests run on it, and a table of each patch: still needed, obsolete or broken (docs/local.md).
.PHONY: check-moto-latest
check-moto-latest: $(VENV)/.dev-deps
	$(BIN)/python scripts/check_moto_latest.py $(if $(MOTO),--moto $(MOTO))

# The Lambda functions' lock files (requirements-*.txt) from pyproject.toml.
lock: $(VENV)/.dev-deps
	$(BIN)/python scripts/lambda_locks.py

screenshot: $(VENV)/.dev-deps browser
	$(BIN)/python scripts/screenshot.py docs/dashboard.png

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.local-deps: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[local]"
	touch $@

# The client (client/, its own package) too: its tests and the e2e tests use it and its CLI.
$(VENV)/.dev-deps: pyproject.toml client/pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e ./client
	touch $@ $(VENV)/.local-deps

# Browser tests use Debian's Chromium where there is one to install (Playwright's
# own download is blocked on some machines), and Playwright's browser elsewhere.
.PHONY: browser
browser: $(VENV)/.dev-deps
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else $(BIN)/playwright install chromium; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .serverless node_modules test-artifacts
