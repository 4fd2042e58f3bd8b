#!/usr/bin/env bash
# `make sdk`: build the Node packages and write installable tarballs to dist/ (or "$1"):
#   stripemeter-sdk-<v>.tgz, stripemeter-sdk-node-<v>.tgz, stripemeter-stripe-driver-<v>.tgz
# The alias is packed from a staged copy that depends on @stripemeter/sdk by name (in the
# repository it imports the build beside it by path), so install it together with the SDK:
#   npm install ./stripemeter-sdk-<v>.tgz ./stripemeter-sdk-node-<v>.tgz
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
quiet=(--no-audit --no-fund --loglevel=error)

build_and_pack() {
  (cd "$1" && npm ci "${quiet[@]}" && npm run --silent build && npm pack --silent --pack-destination "$out" >/dev/null)
}

build_and_pack "$root/sdk/node"
build_and_pack "$root/sdk/node-stripe-driver"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
node --input-type=module - "$root/sdk/node" "$stage" <<'JS'
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const [sdkDir, stage] = process.argv.slice(2);
const sdk = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8"));
const alias = JSON.parse(readFileSync(join(sdkDir, "sdk-node", "package.json"), "utf8"));
alias.dependencies = { [sdk.name]: sdk.version };
writeFileSync(join(stage, "package.json"), JSON.stringify(alias, null, 2) + "\n");
const reexport = `// The same module as ${sdk.name}, under the name StripeMeter's documentation uses.\nexport * from "${sdk.name}";\n`;
writeFileSync(join(stage, "index.js"), reexport);
writeFileSync(join(stage, "index.d.ts"), `export * from "${sdk.name}";\n`);
JS
(cd "$stage" && npm pack --silent --pack-destination "$out" >/dev/null)
ls -1 "$out"/*.tgz
