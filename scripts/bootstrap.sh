#!/usr/bin/env bash
# Installs everything Parley needs on a fresh Debian machine with Node 20 and npm:
# pnpm, the Debian packages the tests use, and the workspace dependencies (lockfile pinned).
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.21.0
APT_PACKAGES=(postgresql redis-server chromium)   # chromium: the Playwright e2e suite (no browser download)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The relay's S3 attachment tests run against moto's standalone S3 test server (moto_server),
# a separate process on loopback. PyPI may be unreachable: then say so and go on (the S3 tests
# fail with a hint, or can target any S3 endpoint through PARLEY_TEST_S3_ENDPOINT).
if ! command -v moto_server >/dev/null 2>&1; then
  echo "bootstrap: installing moto[server] (S3-compatible test server)"
  python3 -m pip install --quiet 'moto[server]' >/dev/null 2>&1 ||
    echo "bootstrap: could not install moto[server]; the S3 attachment tests need moto_server" >&2
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION"
  npm i -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1
fi

# pnpm's bundled node-gyp ignores ~/.npmrc's nodedir; point it at the local Node headers
# so better-sqlite3 builds without downloading anything.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
pnpm install --frozen-lockfile
