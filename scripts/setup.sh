#!/usr/bin/env bash
# Installs everything skypool's build, tests and examples need on a machine
# that has only Node/npm and apt: Debian's redis-server (tests start their own;
# the embedded default uses it), Debian's Rust with the wasm32 standard
# library and binaryen (to rebuild and check the WASM core), then the npm
# dependencies (Deno and TypeScript included).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/cargo ] || missing+=(cargo)
[ -x /usr/bin/rustc ] || missing+=(rustc)
dpkg -s libstd-rust-dev-wasm32 >/dev/null 2>&1 || missing+=(libstd-rust-dev-wasm32)
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

# `npm install` rather than `npm ci`: it installs what package-lock.json
# pins, but npm 11 here writes lock files without the other platforms'
# optional packages (cbor-extract, deno) and then refuses `npm ci` on them.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
