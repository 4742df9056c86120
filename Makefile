# `make dev` runs the whole service on this machine; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

ASSETS := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)

.PHONY: dev test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The web app's browser assets (htmx, Swagger UI; axe-core for the tests) from the npm
# registry, pinned by package-lock.json; no install script runs.
$(ASSETS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-*
	touch $(ASSETS)

dev: $(STAMP) $(ASSETS)
	$(VENV)/bin/accord dev

test: $(STAMP) $(ASSETS)
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy services workflows bench
	$(VENV)/bin/lint-imports

# Not in CI: each prints its figures beside a bare-Temporal or bare-SQL baseline.
bench: $(STAMP)
	for db in sqlite postgresql; do $(VENV)/bin/python -m bench.lifecycle --database $$db; done
	for db in sqlite postgresql; do $(VENV)/bin/python -m bench.reads --database $$db; done
	for db in sqlite postgresql; do $(VENV)/bin/python -m bench.pages --database $$db; done
	$(VENV)/bin/python -m bench.footprint memory
	$(VENV)/bin/python -m bench.footprint history

clean:
	rm -rf var node_modules .pytest_cache .mypy_cache .ruff_cache
