#!/usr/bin/env bash
# Development: the relay on SQLite (.data/dev-relay.sqlite, port 8080) and the web app on Vite's
# dev server with hot reload (http://127.0.0.1:5173), which talks to that relay cross-origin
# (CORS allowed for the dev origin only). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p .data
export PARLEY_RELAY_CORS_ORIGINS="${PARLEY_RELAY_CORS_ORIGINS:-http://127.0.0.1:5173}"
export PARLEY_RELAY_DB_PATH="${PARLEY_RELAY_DB_PATH:-$PWD/.data/dev-relay.sqlite}"
(cd apps/relay && exec ./node_modules/.bin/tsx --conditions=@parley/source src/server.ts) &
relay=$!
trap 'kill "$relay" 2>/dev/null || true' EXIT
pnpm --dir apps/web exec vite --port 5173 --strictPort
