# Evenkeel: one entry point. `make run` starts everything; `make test` runs every suite.
SHELL := bash
.DEFAULT_GOAL := help

# Settings: a local .env (see .env.example) overrides these defaults; so does the environment.
-include .env
HOST ?= 127.0.0.1
RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
PAYMENTS_PORT ?= 8000
LOCALSTRIPE_PORT ?= 8420
RASA_AUTH_TOKEN ?= dev-rasa-token
PAYMENTS_SERVICE_TOKEN ?= dev-service-token
DATABASE_URL ?= sqlite:///var/evenkeel.db
TRACKER_SQLITE_PATH ?= var/tracker.db
RASA_ENDPOINTS ?= bot/endpoints.yml
RASA_MODEL ?= models/evenkeel.tar.gz
ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTIONS_PORT)/webhook
PAYMENTS_URL ?= http://127.0.0.1:$(PAYMENTS_PORT)
RASA_URL ?= http://127.0.0.1:$(RASA_PORT)
STRIPE_API_BASE ?= http://127.0.0.1:$(LOCALSTRIPE_PORT)
PAYMENTS_PUBLIC_URL ?= http://127.0.0.1:$(PAYMENTS_PORT)
DISCLOSURE_MODE ?= first_party
STRIPE_WEBHOOK_SECRET ?= whsec_localstripe
export STRIPE_WEBHOOK_SECRET
# The action server binds ACTIONS_HOST and answers rasa only with this token (actions/server.py).
ACTIONS_HOST ?= 127.0.0.1
ACTION_SERVER_TOKEN ?= dev-action-token
export ACTIONS_HOST ACTION_SERVER_TOKEN
# Connectors sign channel facts with it and the action server checks them (contracts/channel_facts.py);
# our REST connector (make chat, benchmarks, tests) wants this bearer token (channels/rest.py).
CHANNEL_FACTS_KEY ?= dev-channel-facts-key
REST_CHANNEL_TOKEN ?= dev-rest-token
export CHANNEL_FACTS_KEY REST_CHANNEL_TOKEN
export HOST RASA_PORT ACTIONS_PORT PAYMENTS_PORT LOCALSTRIPE_PORT RASA_AUTH_TOKEN \
  PAYMENTS_SERVICE_TOKEN DATABASE_URL TRACKER_SQLITE_PATH RASA_ENDPOINTS RASA_MODEL \
  ACTION_ENDPOINT_URL PAYMENTS_URL RASA_URL STRIPE_API_BASE PAYMENTS_PUBLIC_URL DISCLOSURE_MODE
# Rasa: no telemetry (no internet here, and none wanted), quieter TensorFlow.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)

RASA := .venv/rasa/bin/rasa
RASA_PY := .venv/rasa/bin/python
PAY_PY := .venv/payments/bin/python
TRAINING_FILES := bot/config.yml $(shell find bot/domain data -name '*.yml' 2>/dev/null)

.PHONY: help envs db model run chat phone test test-payments test-rasa test-e2e lint format validate bench nlu-report lock clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

envs: ## create/refresh both Python environments from the locks
	@scripts/setup-envs.sh

db: envs ## migrate and seed the database (DATABASE_URL)
	@$(PAY_PY) -m payments setup

# Retrained only when training data or config change (make's own file dates, then Rasa's fingerprint).
# The full output goes to var/log/train.log; the terminal gets it without the warnings we
# understand (scripts/train_output.py counts them), failed or not.
TRAIN_LOG := var/log/train.log
$(RASA_MODEL): $(TRAINING_FILES) | envs
	@mkdir -p $(dir $(RASA_MODEL)) $(dir $(TRAIN_LOG))
	@echo "[model] training (a few minutes on 2 cores; full output in $(TRAIN_LOG))..."
	@start=$$SECONDS; if $(RASA) train --config bot/config.yml --domain bot/domain --data data \
	  --out $(dir $(RASA_MODEL)) --fixed-model-name $(basename $(basename $(notdir $(RASA_MODEL)))) \
	  --quiet > $(TRAIN_LOG) 2>&1; then \
	  $(RASA_PY) scripts/train_output.py $(TRAIN_LOG) || cat $(TRAIN_LOG); \
	  touch $(RASA_MODEL) && echo "[model] trained in $$((SECONDS - start))s: $(RASA_MODEL)"; \
	else \
	  { $(RASA_PY) scripts/train_output.py $(TRAIN_LOG) || cat $(TRAIN_LOG); } >&2; \
	  echo "[model] training failed after $$((SECONDS - start))s (output above, also in $(TRAIN_LOG))" >&2; exit 1; \
	fi

model: envs $(RASA_MODEL) ## train the Rasa model if data or config changed
	@echo "[model] ready: $(RASA_MODEL)"

# Set-up time of `make run` (envs, db, model), measured from when make read this file.
RUN_STARTED := $(shell date +%s)
run: envs db model ## start rasa, actions, payments and localstripe; Ctrl-C stops all
	@echo "[run] set-up done in $$(( $$(date +%s) - $(RUN_STARTED) ))s; starting the services (Ctrl-C stops all)..."
	@.venv/payments/bin/honcho start -f Procfile

chat: ## talk to the running assistant from this terminal (REST channel)
	@$(PAY_PY) scripts/chat.py

phone: ## a simulated phone for SMS (PHONE_MODE=voice for a call); see scripts/phone.py --help
	@$(RASA_PY) scripts/phone.py $${PHONE_MODE:-sms} --from $${PHONE_FROM:-+15125550101}

validate: envs ## rasa data validate (only the warnings we can explain are tolerated)
	@$(RASA_PY) -m pytest -q tests/bot/test_data_validate.py

test: test-payments test-rasa test-e2e ## install what is needed and run every suite

test-payments: envs ## payments service, contracts, clients, benchmark and script helpers (no model, no browser)
	@$(PAY_PY) -m pytest -m "not browser" tests/payments tests/contracts tests/clients tests/docs tests/bench tests/scripts

test-rasa: envs model ## actions, connectors and NLU components (rasa environment, trained model)
	@$(RASA_PY) -m pytest tests/actions tests/bot tests/channels

test-e2e: envs model ## the whole stack, browsers, attacks, deploy files (installs Chromium, docker-compose)
	@scripts/install-system-deps.sh
	@$(PAY_PY) -m pytest tests/e2e tests/security tests/deploy
	@$(PAY_PY) -m pytest -m browser tests/payments

lint: envs ## ruff (lint + format check) over the tree, mypy in each environment
	@.venv/payments/bin/ruff check .
	@.venv/payments/bin/ruff format --check .
	@.venv/payments/bin/mypy payments contracts testkit bench scripts
	@.venv/rasa/bin/mypy actions channels bot clients

format: envs ## apply ruff's fixes and formatting (then review the diff)
	@.venv/payments/bin/ruff check --fix .
	@.venv/payments/bin/ruff format .

# Extra options for bench/whole_stack.py, e.g. BENCH_ARGS="--seconds 20" (see --help).
BENCH_ARGS ?=
bench: envs model nlu-report ## benchmarks (20-30 min on 2 cores) -> results/bench_report.md + .json, and the parts
	@$(PAY_PY) -m pytest -q -p no:cacheprovider tests/bench
	@$(PAY_PY) -m bench.payments_api --clients 20 --seconds 20
	@$(PAY_PY) -m bench.whole_stack --train-real $(BENCH_ARGS)

nlu-report: envs ## NLU cross-validation, F1 per intent -> results/nlu_report.md
	@$(PAY_PY) scripts/nlu_report.py --folds 3

lock: ## re-pin both environments after editing a requirements file
	@.venv/rasa/bin/pip freeze --all | grep -v '^pip==' > requirements/rasa.lock
	@.venv/payments/bin/pip freeze --all | grep -v '^pip==' > requirements/payments.lock

clean: ## remove databases and models (keeps the environments)
	rm -rf var models .rasa
