# Two commands for a fresh clone: `make run` and `make test` (each creates .venv on first use).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/kaohe: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(BIN)/kaohe

.PHONY: run test lint bench
run: $(BIN)/kaohe
	$(BIN)/kaohe serve --demo

test: $(BIN)/kaohe
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/kaohe
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(BIN)/kaohe
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench
