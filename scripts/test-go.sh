#!/usr/bin/env bash
# Checks and tests the Go SDK (sdk/go): gofmt and go vet, then `go test` (unit tests and the
# integration tests, which must reach the server) and the example program, both against a
# real throwaway stripemeter server (scripts/with-server.sh). Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/ensure-go.sh"
cd "$root/sdk/go"
# Standard library only: nothing is ever downloaded, not even a newer toolchain.
export GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod
go version
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt: these files are not formatted (run gofmt -w sdk/go):" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
export STRIPEMETER_GO_INTEGRATION=required
bash "$root/scripts/with-server.sh" bash -c '
  set -euo pipefail
  go test -count=1 -v ./...
  echo "--- example: go run ./examples/unimeter"
  output="$(go run ./examples/unimeter)"
  echo "$output"
  [ "$(echo "$output" | tail -n 1)" = "OK" ] || { echo "the example did not print OK" >&2; exit 1; }
'
