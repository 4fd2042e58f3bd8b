/** client.entitlements against the in-memory fake: request shapes, retries and the check cache. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EntitlementsApi, ValidationError, createClient } from "../src/index.js";
import { FakeServer, recordingSleep } from "../testsupport/fake.js";

function setup() {
  const server = new FakeServer();
  const client = createClient({ apiUrl: "http://127.0.0.1:7001", apiKey: "sk_test", fetch: server.fetch, sleep: recordingSleep().sleep });
  return { server, client };
}

function bodyOf(server: FakeServer, i: number): unknown {
  return JSON.parse(server.calls[i]!.body ?? "null");
}

test("entitlements.check posts the customer, feature and normalised quantity", async () => {
  const { server, client } = setup();
  await client.entitlements.check("cus_1", "tokens", "4000.00");
  assert.deepEqual([new URL(server.calls[0]!.url).pathname, bodyOf(server, 0)], [
    "/v1/entitlements/check",
    { customerRef: "cus_1", feature: "tokens", quantity: "4000" },
  ]);
});

test("entitlements.reserve sends the same idempotency key on every retry", async () => {
  const { server, client } = setup();
  server.plan = [{ kind: "network" }, { kind: "status", status: 503 }];
  await client.entitlements.reserve("cus_1", "tokens", 40, { ttlSeconds: 30 });
  const keys = server.calls.map((c) => (JSON.parse(c.body ?? "{}") as { idempotencyKey: string }).idempotencyKey);
  assert.deepEqual([keys.length, new Set(keys).size], [3, 1]);
});

test("entitlements.commit without a quantity commits all of the reservation", async () => {
  const { server, client } = setup();
  await client.entitlements.commit("rsv/1");
  assert.deepEqual([new URL(server.calls[0]!.url).pathname, bodyOf(server, 0)], ["/v1/entitlements/reservations/rsv%2F1/commit", {}]);
});

test("entitlements.release posts to the reservation's release path", async () => {
  const { server, client } = setup();
  await client.entitlements.release("rsv_1");
  assert.equal(new URL(server.calls[0]!.url).pathname, "/v1/entitlements/reservations/rsv_1/release");
});

test("entitlements.check refuses an empty feature before any request", async () => {
  const { server, client } = setup();
  await assert.rejects(client.entitlements.check("cus_1", ""), ValidationError);
  assert.equal(server.calls.length, 0);
});

test("entitlements.check answers from the cache within cacheSeconds, then asks again", async () => {
  const server = new FakeServer();
  const client = createClient({ apiUrl: "http://127.0.0.1:7001", apiKey: "sk_test", fetch: server.fetch });
  let now = 0;
  const api = new EntitlementsApi(client, { cacheSeconds: 2, clock: () => now });
  await api.check("cus_1", "tokens");
  now = 1_999;
  await api.check("cus_1", "tokens");
  const withinLifetime = server.calls.length;
  now = 2_000;
  await api.check("cus_1", "tokens");
  assert.deepEqual([withinLifetime, server.calls.length], [1, 2]);
});

test("entitlements.check does not cache by default", async () => {
  const { server, client } = setup();
  await client.entitlements.check("cus_1", "tokens");
  await client.entitlements.check("cus_1", "tokens");
  assert.equal(server.calls.length, 2);
});
