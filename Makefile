# Two commands matter: `make serve` and `make test`. Everything installs into .venv from this repo's files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
STAMP  := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-local
INFRA_STAMP := $(VENV)/.installed-infra

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export CDK_DISABLE_VERSION_CHECK ?= 1
export CDK_DISABLE_CLI_TELEMETRY ?= true

.PHONY: serve test lint typecheck unit integration infra-test bench install install-dev synth clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[local]'
	touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

$(INFRA_STAMP): requirements-infra.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-infra.txt
	touch $@

install: $(RUNTIME_STAMP)
install-dev: $(STAMP) $(INFRA_STAMP)

## Run the whole API locally (installs on first use).
serve: $(RUNTIME_STAMP)
	$(BIN)/openai-cf serve --host $(HOST) --port $(PORT)

## Every check: lint, types, unit, integration (official openai SDK), infra (CDK).
test: lint typecheck unit integration infra-test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) $(INFRA_STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)
	$(BIN)/pytest tests/integration -q

infra-test: $(STAMP) $(INFRA_STAMP)
	$(BIN)/pytest tests/infra -q

## Benchmarks, printed as tables (see README).
bench: $(STAMP)
	$(BIN)/python -m bench

synth: $(STAMP) $(INFRA_STAMP)
	CDK_OUTDIR=cdk.out $(BIN)/python -m infra.app && ls cdk.out/*.template.json

clean:
	rm -rf $(VENV) cdk.out build .mypy_cache .ruff_cache .pytest_cache
