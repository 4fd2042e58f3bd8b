#!/usr/bin/env bash
# Makes sure a PostgreSQL server binary (initdb/pg_ctl) is installed, so the test
# suite can start its own throwaway server. Installs Debian's `postgresql` if missing.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
echo "PostgreSQL server not found: installing the Debian 'postgresql' package"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql >/dev/null
