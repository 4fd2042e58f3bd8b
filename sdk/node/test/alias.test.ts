import { test } from "node:test";
import assert from "node:assert/strict";
import * as alias from "@stripemeter/sdk-node";
import * as sdk from "@stripemeter/sdk";

test("@stripemeter/sdk-node (StripeMeter's name) is the same module as @stripemeter/sdk", () => {
  assert.equal(alias.createClient, sdk.createClient);
});

test("the node list comes from STRIPEMETER_URL like the Python SDK's", () => {
  const saved = process.env["STRIPEMETER_URL"];
  process.env["STRIPEMETER_URL"] = "http://127.0.0.1:7001,http://127.0.0.1:7002";
  try {
    const client = alias.createClient({ apiKey: "sk_test" });
    assert.deepEqual(client.nodes, ["http://127.0.0.1:7001", "http://127.0.0.1:7002"]);
  } finally {
    if (saved === undefined) delete process.env["STRIPEMETER_URL"];
    else process.env["STRIPEMETER_URL"] = saved;
  }
});
