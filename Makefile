# Two commands matter: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
# poetry from PATH, else a private copy bootstrapped into .tools/ (no system packages touched)
POETRY ?= $(or $(shell command -v poetry 2>/dev/null),.tools/bin/poetry)
export POETRY_VIRTUALENVS_IN_PROJECT := true
export POETRY_NO_INTERACTION := 1

.PHONY: install demo test lint format redis-server clean

.tools/bin/poetry:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "poetry>=2.0,<3"

.venv/.installed: pyproject.toml poetry.lock | $(POETRY)
	$(POETRY) check --lock
	$(POETRY) install --all-extras
	touch $@

install: .venv/.installed

redis-server:
	bash scripts/ensure-redis.sh

demo: install
	$(POETRY) run python examples/demo.py

lint: install
	$(POETRY) run ruff check .
	$(POETRY) run ruff format --check .

test: install redis-server lint
	$(POETRY) run pytest

format: install
	$(POETRY) run ruff check --fix .
	$(POETRY) run ruff format .

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache .coverage dist
