# Everything runs from a project-local virtual environment that `make install` creates.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TRAFFIC_SIGNS_DATA ?= $(abspath ../shared/data/gtsrb32)

.PHONY: install app api test lint bench

$(BIN)/traffic-signs: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(BIN)/traffic-signs

## The main job: the web app on the bundled model (http://localhost:$${PORT:-8501}).
app: install
	$(BIN)/traffic-signs serve app

api: install
	$(BIN)/traffic-signs serve api

## The tests, real data included (../shared/data/gtsrb32 or $$TRAFFIC_SIGNS_DATA).
test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
