#!/usr/bin/env bash
# Build and test the Node packages (sdk/node: the SDK, its examples and the @stripemeter/sdk-node
# alias; sdk/node-stripe-driver) against real servers started by the tests, check that the
# committed builds in lib/ match their sources, and install the packages as a user would.
# Prints the Node test runner's output; exits non-zero when anything fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# lib/ is committed so that installing from a clone needs no build (ADR 0610): it must be
# exactly what the compiler makes of src/ today.
check_committed_build() {
  local fresh
  fresh="$(mktemp -d)"
  npx tsc -p tsconfig.build.json --outDir "$fresh"
  if ! diff -r lib "$fresh" >/dev/null; then
    diff -r lib "$fresh" | head -20 || true
    rm -rf "$fresh"
    echo "not ok - ${PWD#"$root"/}/lib is out of date with src/: run \`make sdk\` and commit lib/" >&2
    return 1
  fi
  rm -rf "$fresh"
  echo "ok - ${PWD#"$root"/}/lib matches src/"
}

for package in sdk/node sdk/node-stripe-driver; do
  echo "# $package"
  cd "$root/$package"
  npm ci --no-audit --no-fund
  check_committed_build
  npm test
done

echo "# installing the packages"
bash "$root/scripts/test-node-install.sh"
