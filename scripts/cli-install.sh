#!/usr/bin/env bash
# Installs `parley` on PATH the way a user of the published package gets it: packs apps/cli (its
# prepack bundles dist/parley.js) and installs the tarball with `npm i -g`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
pnpm --filter @parley/cli pack --pack-destination "$out" >/dev/null
# better-sqlite3 builds from source when no prebuilt binary is reachable: use the local headers.
npm_config_nodedir="${npm_config_nodedir:-/usr}" npm i -g --no-audit --no-fund "$out"/*.tgz
echo "installed: $(command -v parley) ($(parley --version))"
