#!/usr/bin/env bash
# Makes sure a Go toolchain is installed, so `make test` can build and test the Go SDK
# (sdk/go, standard library only). Installs Debian's `golang` package if `go` is missing.
set -euo pipefail
if command -v go >/dev/null 2>&1; then
  exit 0
fi
echo "Go not found: installing the Debian 'golang' package"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq golang >/dev/null
