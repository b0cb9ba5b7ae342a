#!/usr/bin/env bash
# The test command: set up (idempotent), then typecheck, lint and run every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
pnpm test
