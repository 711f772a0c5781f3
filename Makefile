# The README's two commands: `make demo` and `make test`. Both create .venv and install when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
TEST_ENV := PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 PREFECT_LOGGING_LEVEL=WARNING

.PHONY: demo test test-fast lint install bench reliability clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/niengiam demo

test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check flows schemas warehouse niengiam tests
	$(BIN)/mypy

# The benchmark suite (bench/README.md): every workload and baseline, median of runs, writes BENCHMARKS.md.
# Full national scale by default; a quick look: make bench BENCH_ARGS="--scale 0.02 --runs 1".
BENCH_ARGS ?= --scale 1 --runs 3
bench: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m bench.run $(BENCH_ARGS)

reliability: $(STAMP)
	$(TEST_ENV) $(BIN)/python scripts/reliability.py --trials 20

clean:
	rm -rf niengiam-home .pytest_cache .hypothesis
