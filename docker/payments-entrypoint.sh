#!/bin/sh
# Container entrypoint of the payments service (docker/payments.Dockerfile).
#   SEED_DEMO_DATA=true   also insert the fictional demo accounts (idempotent); off by default.
# With several replicas, migrations may run concurrently at start; for a rolling deployment run
# `python -m payments migrate` once as a job instead and start the replicas after it.
set -eu

python -m payments migrate

case "${SEED_DEMO_DATA:-false}" in
  true | TRUE | True | 1 | yes) python -m payments seed ;;
esac

exec uvicorn --factory payments.main:create_app --host 0.0.0.0 --port 8000 "$@"
