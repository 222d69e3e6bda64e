# The two commands of the README: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
WORKSPACE ?= data/workspace
PORT ?= 8501

.PHONY: run test lint format bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

$(WORKSPACE)/demo.duckdb: | $(VENV)/.runtime
	$(BIN)/python -m dashboard demo --dataset demo --workspace $(WORKSPACE)

demo: $(VENV)/.runtime
	$(BIN)/python -m dashboard demo --dataset demo --workspace $(WORKSPACE)

run: $(VENV)/.runtime $(WORKSPACE)/demo.duckdb
	SEGMENTS_WORKSPACE=$(WORKSPACE) SEGMENTS_DATASET=demo \
		$(BIN)/streamlit run streamlit_app.py --server.port $(PORT) --server.address localhost

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest

# Issue #7's targets at BENCH_SIZES (default 1m), then DuckDB against Spark local mode on 20M
# orders (needs Java 17; BENCH_SPARK=0 leaves it out): about 7 minutes on 2 cores.
bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
