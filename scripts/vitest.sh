#!/usr/bin/env bash
# Runs every Vitest project once and ends with a plain "N passed, N failed" line for CI.
# (`pnpm test` then runs scripts/e2e.sh and closes with one line summing both reports.)
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@"
rc=$?
node scripts/test-summary.mjs test-results/vitest.json || rc=1
exit $rc
