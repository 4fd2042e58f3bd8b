#!/usr/bin/env bash
# Build and test the Node/TypeScript SDK (sdk/node) against a real server started by the tests.
# Prints the Node test runner's summary; exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/../sdk/node"
npm ci --no-audit --no-fund
npm test
