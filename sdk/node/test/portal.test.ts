import { test } from "node:test";
import assert from "node:assert/strict";
import { ValidationError, createClient } from "../src/index.js";
import { FakeServer } from "../testsupport/fake.js";

function setup() {
  const server = new FakeServer();
  const client = createClient({ apiUrl: "http://127.0.0.1:7001", apiKey: "sk_test", fetch: server.fetch });
  return { server, client };
}

test("portal.createToken posts the customer, metrics and expiry", async () => {
  const { server, client } = setup();
  await client.portal.createToken({ customerRef: "cus_1", metrics: ["api_calls"], expiresIn: 600 });
  const call = server.calls[0]!;
  assert.deepEqual([call.method, new URL(call.url).pathname, JSON.parse(call.body ?? "null")], [
    "POST",
    "/v1/portal/tokens",
    { customerRef: "cus_1", metrics: ["api_calls"], expiresIn: 600 },
  ]);
});

test("portal.revokeToken deletes the token", async () => {
  const { server, client } = setup();
  await client.portal.revokeToken("ptk_1");
  assert.deepEqual([server.calls[0]!.method, new URL(server.calls[0]!.url).pathname], ["DELETE", "/v1/portal/tokens/ptk_1"]);
});

test("portal.createToken refuses a missing customerRef before any request", () => {
  const { server, client } = setup();
  assert.throws(() => client.portal.createToken({ customerRef: "" }), ValidationError);
  assert.equal(server.calls.length, 0);
});
