#!/usr/bin/env bash
# The run command: set up (idempotent), build the web app, then start the relay on the embedded
# SQLite default, serving the app and its API on one origin, and print the URL to open.
# Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

export PARLEY_RELAY_HOST="${PARLEY_RELAY_HOST:-127.0.0.1}"
export PARLEY_RELAY_PORT="${PARLEY_RELAY_PORT:-8080}"
mkdir -p .data
export PARLEY_RELAY_DB_PATH="${PARLEY_RELAY_DB_PATH:-$PWD/.data/relay.sqlite}"

# Built without PARLEY_RELAY_URL, the app talks to the origin it is loaded from (the relay), and
# its CSP allows only that origin; no CORS needed.
echo "run: building the web app (apps/web/dist)"
env -u PARLEY_RELAY_URL pnpm --dir apps/web exec vite build --logLevel warn --emptyOutDir
export PARLEY_RELAY_WEB_ROOT="$PWD/apps/web/dist"

scheme=http
[ -n "${PARLEY_RELAY_TLS_CERT:-}" ] && scheme=https
host="$PARLEY_RELAY_HOST"
case "$host" in
  0.0.0.0 | :: | '[::]') host=127.0.0.1 ;;
  *:*) host="[$host]" ;;
esac
url="$scheme://$host:$PARLEY_RELAY_PORT/"
echo "Parley: open $url in a browser (relay API on the same origin; OpenAPI at /docs/openapi.json; data in $PARLEY_RELAY_DB_PATH)"
# The relay's start script, without pnpm in between: Ctrl-C or a SIGTERM to this script reach
# tsx, which passes them to the relay (graceful shutdown).
cd apps/relay
exec ./node_modules/.bin/tsx --conditions=@parley/source src/server.ts
