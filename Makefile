# The two commands that matter: `make run` and `make test`. Everything installs itself.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
endif
export TIMELINE_DATABASE_URL ?= sqlite:///var/timeline.db
HOST ?= 127.0.0.1
PORT ?= 8000
# Bytecode is cached beside the sources (git-ignored): with PYTHONDONTWRITEBYTECODE set, as on
# our machines, every process (each live server of the tests, each CLI call) compiled SQLAlchemy,
# Litestar and the project from source again, about a second of CPU each.
unexport PYTHONDONTWRITEBYTECODE
# pytest-xdist workers, chosen by measurement on a 2-core machine (README, "Tests"): the whole
# suite (PostgreSQL, live servers: mostly waiting) is fastest on 3; the fast tier on 2 without
# PostgreSQL (CPU-bound: a third worker only contends) and on 3 with it. PYTEST_WORKERS=0 runs
# in one process.
ifdef TIMELINE_TEST_POSTGRES_URL
CHECK_WORKERS ?= 3
else
CHECK_WORKERS ?= 2
endif
PYTEST_WORKERS ?= 3

.PHONY: run test check lint install serve seed migrate setup contract clean bench bench-quick bench-positions bench-feed drill

## install, migrate, seed and serve on 127.0.0.1:8000 (HOST, PORT) with SQLite at var/timeline.db
run: install setup serve

## the whole suite: lint, types, layering, then every test (PostgreSQL too when configured)
test: install lint
	$(UV) run pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=25

## the inner loop: lint, types, layering, and every test not marked slow (no live servers,
## browser, schemathesis or drills)
check: install lint
	$(UV) run pytest -n $(CHECK_WORKERS) --dist worksteal -m "not slow" --durations=10

## ruff, ruff format, mypy --strict and the layering contract
lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

install: $(UV)
	$(UV) sync --locked --quiet --compile-bytecode

# `timeline` makes no folders (a mistyped path must be an error, not a new empty database): the
# default database's folder, git-ignored, is made here.
migrate:
	mkdir -p var
	$(UV) run timeline db upgrade

seed:
	$(UV) run timeline seed

# migrate and seed in one process (one start-up of the CLI, not two); with TEXTS=DIR (the
# articles are not in the repository: `make run TEXTS=../shared/seeds`), attach their texts too
setup:
	mkdir -p var
	$(UV) run timeline db upgrade --seed
ifneq ($(TEXTS),)
	$(UV) run timeline seed --texts $(TEXTS)
endif

serve:
	$(UV) run timeline serve --host $(HOST) --port $(PORT)

## schemathesis' command line against a live `timeline serve` (settings: schemathesis.toml)
contract: install
	UV=$(UV) bash scripts/contract.sh

## every benchmark on SQLite and PostgreSQL (when reachable): bench/results/latest.json, bench/RESULTS.md
bench: install
	$(UV) run --locked --group bench python -m bench

## every benchmark, small and short (under 3 minutes): bench/results/quick.json
bench-quick: install
	$(UV) run --locked --group bench python -m bench --quick

## the positions benchmark, quick variant (10k events, one run); the full run: bench/README.md
bench-positions: install
	$(UV) run python -m bench.positions --quick

## the change-feed benchmark, quick variant (1 and 500 SSE clients); the full run: bench/README.md
bench-feed: install
	$(UV) run python -m bench.feed --quick

## the reliability drills at full size (crash: 10 SIGKILLs; load: 50 clients for 60 s; retries
## after a crash between commit and answer: 300 appends; clock skew: 100 rounds), printing their figures
drill: install
	TIMELINE_DRILL=long $(UV) run pytest tests/reliability -q -s --timeout 0

# uv is the only tool we need beyond Python; fetch it into .tools/ when the machine lacks it.
$(CURDIR)/.tools/bin/uv:
	@echo "uv not found: installing it into .tools/"
	$(PYTHON) -m venv .tools 2>/dev/null && .tools/bin/python -m pip install --quiet uv \
	  || (rm -rf .tools && $(PYTHON) -m pip install --quiet --target .tools/lib uv \
	      && mkdir -p .tools/bin && ln -sf ../lib/bin/uv .tools/bin/uv)

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis
