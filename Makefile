# `make dev` runs the whole service on this machine; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: dev test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

dev: $(STAMP)
	$(VENV)/bin/accord dev

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy services workflows bench

# Not in CI: each prints its figures beside a bare-Temporal or bare-SQL baseline.
bench: $(STAMP)
	for db in sqlite postgresql; do $(VENV)/bin/python -m bench.lifecycle --database $$db; done
	for db in sqlite postgresql; do $(VENV)/bin/python -m bench.reads --database $$db; done
	$(VENV)/bin/python -m bench.footprint memory
	$(VENV)/bin/python -m bench.footprint history

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
