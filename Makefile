# Two commands matter: `make serve` and `make test`. Everything installs into .venv from this repo's files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
STAMP  := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-local
INFRA_STAMP := $(VENV)/.installed-infra
# The CDK CLI pinned in package.json, installed by `npm ci` (npx cdk runs it).
CDK_STAMP := node_modules/.package-lock.json
CDK := node_modules/.bin/cdk

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export CDK_DISABLE_VERSION_CHECK ?= 1
export CDK_DISABLE_CLI_TELEMETRY ?= true

.PHONY: serve test lint typecheck unit integration infra-test bench install install-dev synth clean \
	cdk-setup deploy layer-lock

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

infra-test: $(STAMP) $(INFRA_STAMP) $(CDK_STAMP)
	$(BIN)/pytest tests/infra -q

## Benchmarks, printed as tables (see README).
bench: $(STAMP)
	$(BIN)/python -m bench

$(CDK_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## Deploying (README, docs/deploying.md): once, then `npx cdk bootstrap` / `npx cdk deploy` work from the repo root.
cdk-setup: $(RUNTIME_STAMP) $(INFRA_STAMP) $(CDK_STAMP)

## cdk.out/: the template, and both layers built by CDK's local bundling (PyPI the first time, then cached).
synth: cdk-setup
	$(CDK) synth --quiet && ls cdk.out/*.template.json

deploy: cdk-setup
	$(CDK) deploy $(CDK_ARGS)

## After changing [project].dependencies in pyproject.toml: re-pin the dependency layer (needs PyPI).
layer-lock: $(INFRA_STAMP)
	$(BIN)/python -m infra.bundling lock

clean:
	rm -rf $(VENV) node_modules cdk.out build .mypy_cache .ruff_cache .pytest_cache
