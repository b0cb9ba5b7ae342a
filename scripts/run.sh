#!/usr/bin/env bash
# The run command: set up (idempotent), then start the relay on the embedded SQLite default
# and print where to reach it. Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

export PARLEY_RELAY_HOST="${PARLEY_RELAY_HOST:-127.0.0.1}"
export PARLEY_RELAY_PORT="${PARLEY_RELAY_PORT:-8080}"
mkdir -p .data
export PARLEY_RELAY_DB_PATH="${PARLEY_RELAY_DB_PATH:-$PWD/.data/relay.sqlite}"

echo "Parley relay: http://$PARLEY_RELAY_HOST:$PARLEY_RELAY_PORT (API docs at /docs; data in $PARLEY_RELAY_DB_PATH)"
exec pnpm --filter @parley/relay start
