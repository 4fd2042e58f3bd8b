#!/usr/bin/env bash
# The Node packages install as a user would install them, from a clean copy of the repository
# (no node_modules, no dist): linked straight from the clone with no build step, and from the
# tarballs `make sdk` writes. Each project then imports every package name.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
quiet=(--no-audit --no-fund --loglevel=error)

mkdir -p "$work/clone"
tar -C "$root" --exclude=node_modules --exclude=dist -cf - \
  sdk/node sdk/node-stripe-driver scripts/pack-node.sh | tar -C "$work/clone" -xf -

new_project() {
  mkdir -p "$1" && (cd "$1" && npm init -y >/dev/null)
}

echo "# install from a clone: npm install <clone>/sdk/node <clone>/sdk/node/sdk-node"
new_project "$work/linked"
(cd "$work/linked" && npm install "${quiet[@]}" --offline "$work/clone/sdk/node" "$work/clone/sdk/node/sdk-node")
(cd "$work/linked" && node --input-type=module -e '
const sdk = await import("@stripemeter/sdk");
const alias = await import("@stripemeter/sdk-node");
if (typeof sdk.createClient !== "function" || alias.createClient !== sdk.createClient) {
  throw new Error("@stripemeter/sdk-node is not the same module as @stripemeter/sdk");
}
console.log("ok - linked from a clone: @stripemeter/sdk and @stripemeter/sdk-node import");')

echo "# install from a clone with --install-links (packs each folder; installs the driver's stripe dependency)"
new_project "$work/copied"
(cd "$work/copied" && npm install "${quiet[@]}" --install-links "$work/clone/sdk/node" "$work/clone/sdk/node-stripe-driver")
(cd "$work/copied" && node --input-type=module -e '
const sdk = await import("@stripemeter/sdk");
const { StripeBillingDriverImpl } = await import("@stripemeter/stripe-driver");
if (typeof sdk.createClient !== "function" || typeof StripeBillingDriverImpl !== "function") throw new Error("missing exports");
console.log("ok - copied from a clone: @stripemeter/sdk and @stripemeter/stripe-driver import");')

echo "# install from make sdk's tarballs"
bash "$work/clone/scripts/pack-node.sh" "$work/tarballs" >/dev/null
new_project "$work/packed"
(cd "$work/packed" && npm install "${quiet[@]}" "$work"/tarballs/*.tgz)
(cd "$work/packed" && node --input-type=module -e '
const sdk = await import("@stripemeter/sdk");
const alias = await import("@stripemeter/sdk-node");
const { StripeBillingDriverImpl } = await import("@stripemeter/stripe-driver");
if (alias.createClient !== sdk.createClient) throw new Error("alias and SDK differ");
const driver = new StripeBillingDriverImpl({ testKey: "sk_test_install_check" });
if (typeof driver.recordUsage !== "function") throw new Error("no recordUsage");
console.log("ok - from tarballs: @stripemeter/sdk, @stripemeter/sdk-node and @stripemeter/stripe-driver import");')
