#!/usr/bin/env bash
# Installs what running skypool, its examples and its tests need on a
# machine that has only Node/npm and apt: Debian's redis-server and
# redis-cli (tests start their own server and cluster; the embedded default
# uses it), then the npm dependencies (Deno
# and TypeScript included). The Rust toolchain that rebuilds the WASM core
# is not needed for that (the module is committed): scripts/setup_wasm.sh
# installs it, for `npm run build:wasm`.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v redis-server >/dev/null 2>&1 || bash scripts/apt_install.sh redis-server
# redis-cli makes the tests' Redis Cluster (redis-server depends on it: this
# only matters where redis-server came from elsewhere).
command -v redis-cli >/dev/null 2>&1 || bash scripts/apt_install.sh redis-tools

# `npm install` rather than `npm ci`: it installs what package-lock.json
# pins, but npm 11 here writes lock files without the other platforms'
# optional packages (cbor-extract, deno) and then refuses `npm ci` on them.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
