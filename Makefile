# Two entry points (see README): `make check` runs the main job, `make test` runs the suite.
# Both create .venv and install the project into it idempotently.
# `make snapshots` rewrites the golden findings/fixed snapshots (golden/<CODE>/*.findings, *.py.fixed).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install data check test bench snapshots clean

$(STAMP): pyproject.toml ci/constraints-cpu.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c ci/constraints-cpu.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

data: install
	bash ci/ensure-corpus.sh
	$(BIN)/python -m nanochat.data prepare

check: data
	$(BIN)/harness check

test: data
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: data
	$(BIN)/python -m pytest tests/benchmarks --benchmark-only --benchmark-enable -p no:xdist

snapshots: install
	$(BIN)/python -m pytest tests/rules -p no:xdist --update-snapshots -q

clean:
	rm -rf $(VENV) .cache
