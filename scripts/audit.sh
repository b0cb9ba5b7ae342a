#!/usr/bin/env bash
# Dependency audit for operators with a network that reaches the registry's audit endpoint.
# CI cannot reach it; CI relies on the pinned lockfile (--frozen-lockfile) and ESLint security rules.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm audit --prod "$@"
