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

# The README's workflow examples through `redis-rooms run` on the embedded (in-process) Redis.
# The API-caching flow runs twice on the same Redis: run 2 finds the response run 1 cached, so
# its external step (stubbed here: it belongs to another addon) and the cache write are skipped.
DEMO_RUN = $(POETRY) run redis-rooms run --embedded
demo: install
	$(DEMO_RUN) examples/session_management.json \
	  --payload '{"user_id": "42", "session_token": "tok-7f3a"}'
	$(DEMO_RUN) examples/api_caching.json --repeat 2 \
	  --payload '{"request_id": "req-1", "endpoint": "https://api.example.com/weather"}' \
	  --stub 'fetch-api={"response": {"city": "Paris", "temp_c": 18}}'

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
