#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed for the dashboard's browser tests
# (Playwright drives the system browser; it downloads none of its own). Installs Debian's
# `chromium` package if missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
echo "Chromium not found: installing the Debian 'chromium' package"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || {
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
}
