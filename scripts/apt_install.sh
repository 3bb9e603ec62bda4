#!/usr/bin/env bash
# Installs the named Debian packages with apt (as root, or with sudo), once
# the caller has found them missing. Shared by the set-up scripts.
set -euo pipefail
[ $# -gt 0 ] || exit 0
echo "setup: installing $* with apt" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
