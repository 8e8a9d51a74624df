# Everything runs from a project-local virtual environment that `make install` creates.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TRAFFIC_SIGNS_DATA ?= $(abspath ../shared/data/gtsrb32)

.PHONY: install app api test lint bench browser backgrounds

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

## The whole suite: real data (../shared/data/gtsrb32 or $$TRAFFIC_SIGNS_DATA), a real browser and
## the photographs the detector's card is re-checked on. Its last line says whether anything was skipped, and why.
test: install browser backgrounds
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

## Debian's Chromium for the browser test (apt-get, as root or with sudo); where it cannot be
## installed, the suite skips that test and says so.
browser:
	bash scripts/install_browser.sh --best-effort

## Debian's desktop-background photographs: what the sign detector trains on and its test re-checks.
backgrounds:
	bash scripts/install_backgrounds.sh --best-effort

lint: install
	$(BIN)/ruff check src tests benchmarks
