# Two commands for a newcomer: `make run` and `make test`. Both build .venv from a bare
# Python 3.11 with pip; nothing else needs installing by hand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean publish

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,ui]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sektorsim run configs/denmark/current.yaml configs/denmark/reform.yaml --out results/latest --force

# In parallel (pytest-xdist): one process per core, whole test files per process so each
# module's fixtures are built once; tests/conftest.py shares the compiled kernel and the
# session's artefacts between the processes. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The small published run that `sektorsim replay` must reproduce (tests/test_published.py).
# Refreshing it is a deliberate step: note it in CHANGELOG.md when numbers change.
# It refuses a dirty tree: the manifest's code revision must name the code that ran.
publish: $(STAMP)
	@test -z "$$(git status --porcelain)" || { echo "make publish: the working tree has uncommitted changes; commit them first (the manifest records the code revision)"; git status --short; exit 2; }
	$(BIN)/sektorsim run configs/teaching.yaml configs/teaching-reform.yaml --replications 3 \
		--set simulation.end=2027-01-01 --out results/published/teaching --force --quiet --no-report

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engines.py
	$(BIN)/python benchmarks/bench_scaling.py

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks configs
	$(BIN)/ruff format --check sim tests benchmarks configs

# Also the compiled kernel (numba's cache files beside the sources and the fingerprint).
clean:
	rm -rf $(VENV) results/latest .pytest_cache .ruff_cache
	find sim -name '*.nbi' -delete -o -name '*.nbc' -delete -o -name '*.fingerprint' -delete
