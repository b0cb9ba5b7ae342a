#!/usr/bin/env bash
# Runs the browser end-to-end suite (Playwright, Debian's /usr/bin/chromium, the relay serving the
# built web app) and ends with the same "Tests: N passed, N failed" line as scripts/vitest.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/playwright.json
pnpm --dir test exec playwright test -c playwright.config.ts "$@"
rc=$?
node scripts/test-summary.mjs test-results/playwright.json || rc=1
exit $rc
