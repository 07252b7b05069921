# Shopbook — `make help` lists the targets.
# Quick start on a fresh machine: `make report` (renders every report) and `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHOPBOOK := $(VENV)/bin/shopbook
DATA := data/shop.duckdb
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup report test lab bench notebooks data cdnow contract-docs lint clean

help: ## show this help
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-15s %s\n", $$1, $$2}'

# The environment is rebuilt when it is missing or pyproject.toml is newer than it.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	$(PY) -m ipykernel install --sys-prefix --name shopbook --display-name "Shopbook"
	@touch $(STAMP)

setup: $(STAMP) ## create .venv, install shopbook with dev + spark extras, register the `shopbook` Jupyter kernel

$(DATA): | $(STAMP)
	$(SHOPBOOK) sample --out $(DATA)

# the shipped shop's monthly targets, found beside it by 01 (docs/targets.md)
data/shop.targets.yml: data/targets.example.yml
	cp data/targets.example.yml data/shop.targets.yml

data/cdnow.duckdb: | $(STAMP)
	$(SHOPBOOK) sample --cdnow --out data/cdnow.duckdb

data: $(DATA) data/shop.targets.yml data/cdnow.duckdb ## create the shipped data (synthetic shop and CDNOW) if missing

report: $(STAMP) data ## render every report on the shipped data; prints the path of reports/index.html
	$(SHOPBOOK) run --job all

test: $(STAMP) data ## run the whole test suite (unit, recovery, notebooks, browser)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25 tests
	$(PY) -m pytest --nbval-lax --nbval-sanitize-with tests/notebooks/nbval_sanitize.cfg notebooks -p no:randomly

notebooks: $(STAMP) data ## re-execute the committed notebooks in place on the shipped data
	$(PY) -m shopbook.report.refresh notebooks

lab: $(STAMP) data ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP) ## run the speed and memory benchmarks (prints tables)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

contract-docs: $(STAMP) ## regenerate the contract section of data/README.md
	$(PY) -c "from shopbook.data.contract import update_readme; update_readme()"

lint: $(STAMP) ## format check, ruff and mypy (the same checks as .pre-commit-config.yaml)
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean: ## remove the environment, generated data and reports
	rm -rf $(VENV) reports data/*.duckdb data/*.json
