# Two commands for a fresh clone: `make run` and `make test` (each creates .venv on first use).
# Installs take the exact versions in constraints.txt (the lock file; `make lock` remakes it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/kaohe: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(BIN)/kaohe

.PHONY: run test lint typecheck bench lock
run: $(BIN)/kaohe
	$(BIN)/kaohe serve --demo

test: $(BIN)/kaohe
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(BIN)/kaohe
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(BIN)/kaohe
	$(BIN)/mypy

bench: $(BIN)/kaohe
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[bench]'
	$(BIN)/python -m bench

# The lock file for every platform and Python 3.11+, from pyproject.toml's ranges.
lock: $(BIN)/kaohe
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --universal \
	  --python-version 3.11 --no-header --quiet -o constraints.txt
