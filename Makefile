# congress-bot — one command runs the system, one runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.9.30
# Use uv from PATH when present; otherwise install it (pinned) into .tools with pip.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen

.PHONY: help install rabbitmq-plugins run send migrate test test-fast fuzz lint fmt typecheck docs bench bench-pipeline bench-ingress bench-conversation bench-registration bench-notifier chaos chaos-smoke scale-demo compose-check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(if $(shell command -v uv 2>/dev/null),,$(CURDIR)/.tools/bin/uv) ## install every package and dev tool from uv.lock
	$(UV) sync --frozen --all-packages

# The conversation inbox is a consistent-hash exchange: enable the plugin on a local RabbitMQ when
# this machine can (it ships with RabbitMQ; idempotent). Elsewhere the services say what to enable.
rabbitmq-plugins:
	@command -v rabbitmq-plugins >/dev/null 2>&1 && rabbitmq-plugins -q enable rabbitmq_consistent_hash_exchange >/dev/null || true

migrate: install ## create the databases if missing and apply migrations (registration, notifier)
	$(RUN) congress-registration migrate
	$(RUN) congress-notifier migrate

run: migrate rabbitmq-plugins ## run all four services (and a Graph API stand-in) until Ctrl-C
	$(RUN) congress-dev run

send: ## post a signed sample WhatsApp message to the running ingress: make send TEXT="oi"
	$(RUN) congress-dev send "$(or $(TEXT),oi)"

lint: install ## ruff, formatting and the import rules
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

typecheck: install ## mypy --strict over every package
	$(RUN) mypy libs/common/src libs/database/src services/*/src tools/devkit/src tools/ops/src

test: lint typecheck rabbitmq-plugins ## install, lint, typecheck and run the whole suite (unit, integration, end to end)
	$(RUN) pytest

fuzz: install ## property tests with many new random examples (not repeatable; finds new bugs)
	HYPOTHESIS_PROFILE=fuzz $(RUN) pytest -m "not integration and not e2e" -k "never"

test-fast: install ## unit tests only (no services needed)
	$(RUN) pytest -m "not integration and not e2e"

fmt: install ## format and auto-fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

docs: install ## regenerate docs/asyncapi.yaml and docs/openapi/*.json
	$(RUN) python -m devkit.docs docs

bench: install rabbitmq-plugins ## simulated users ramped to saturation, beside the skeleton and a bare relay (bench/results/*.json)
	$(RUN) python bench/load.py $(BENCH_ARGS)

bench-pipeline: install ## one greeting per user through the four services, closed loop (prints figures)
	$(RUN) python bench/pipeline.py

chaos: install rabbitmq-plugins ## every fault scenario under steady load, with the full accounting
	$(RUN) python bench/chaos.py $(CHAOS_ARGS)

chaos-smoke: install rabbitmq-plugins ## the CI version of make chaos: 50 users, each scenario once, asserted
	$(RUN) pytest -m chaos tests/chaos

bench-ingress: install ## ingress alone beside a bare signature-check-and-publish endpoint (prints figures)
	$(RUN) python bench/ingress.py

scale-demo: install rabbitmq-plugins ## 2 ingress, 3 conversation, 2 notifier replicas; one of each replaced under load
	$(RUN) pytest tests/e2e/test_scale_demo.py -s -q

bench-conversation: install ## conversation alone, offline engine, full pt-BR registration script (prints figures)
	$(RUN) python bench/conversation.py

bench-registration: install ## registrations/s through broker + database, export time of 100,000 participants
	$(RUN) python bench/registrations.py
bench-notifier: install ## notifier alone: sends/s to the Graph API stand-in with the delivery log written
	$(RUN) python bench/notifier_sends.py

compose-check: ## validate docker-compose.yml (needs docker-compose)
	docker-compose config -q

clean: ## remove caches and local tool installs
	rm -rf .tools .mypy_cache .ruff_cache .pytest_cache
