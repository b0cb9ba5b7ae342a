#!/usr/bin/env bash
# Runs the browser end-to-end suite (Playwright, Debian's /usr/bin/chromium, the relay serving the
# built web app) and ends with the same "Tests: N passed, N failed" line as scripts/vitest.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/playwright.json
# A free loopback port for the e2e relay, so two runs on one machine never collide.
if [ -z "${PARLEY_E2E_RELAY_PORT:-}" ]; then
  PARLEY_E2E_RELAY_PORT=$(node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  export PARLEY_E2E_RELAY_PORT
fi
pnpm --dir test exec playwright test -c playwright.config.ts "$@"
rc=$?
node scripts/test-summary.mjs test-results/playwright.json || rc=1
exit $rc
