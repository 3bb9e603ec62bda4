#!/usr/bin/env bash
# Installs what rebuilding (and checking) the WASM core needs: Debian's
# rustc/cargo with the wasm32 standard library, and binaryen's wasm-opt.
# Only `npm run build:wasm` needs these; CI runs its reproducibility check.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/cargo ] || missing+=(cargo)
[ -x /usr/bin/rustc ] || missing+=(rustc)
dpkg -s libstd-rust-dev-wasm32 >/dev/null 2>&1 || missing+=(libstd-rust-dev-wasm32)
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
bash scripts/apt_install.sh "${missing[@]+"${missing[@]}"}"
