# Two commands: `make demo` and `make test`. Each creates or refreshes .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# Test files run in this many worker processes (pytest-xdist; a file's tests stay together,
# so module fixtures such as a node network are built once). 0: one process, as before.
TEST_WORKERS ?= 2

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m yinji.demo
	$(PY) -m yinji.cli.main network demo

test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples

bench: $(STAMP)
	$(PY) benchmarks/mpc_ops.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
