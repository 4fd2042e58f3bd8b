/** End-to-end: client.entitlements against a real stripemeter server process. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConflictError, createClient, normalizeDecimalString, type StripeMeterClient } from "../src/index.js";
import { ServerProcess, TestDatabase, freePort, shutdown } from "../testsupport/server.js";

const db = new TestDatabase();
let server: ServerProcess;
let client: StripeMeterClient;
let counter = 0;

before(async () => {
  server = new ServerProcess(db, await freePort(), "entitlements");
  await server.start();
  client = createClient({ apiUrl: server.url, apiKey: db.key });
});

after(async () => {
  await client?.close();
  await shutdown([server], db);
});

/** A metric, a metered feature over it and a customer's grant of `limit`; answers [customer, feature]. */
async function grant(limit: string): Promise<[string, string]> {
  const n = ++counter;
  await client.metrics.create({ code: `t_${n}`, aggregation: "sum" });
  await client.request("PUT", `/v1/features/f_${n}`, { body: { type: "metered", metric: `t_${n}` } });
  await client.request("PUT", `/v1/customers/c_${n}/entitlements/f_${n}`, { body: { limit } });
  return [`c_${n}`, `f_${n}`];
}

function dec(value: string | null): string | null {
  return value === null ? null : normalizeDecimalString(value);
}

test("check answers the balance", async () => {
  const [customer, feature] = await grant("100");
  const answer = await client.entitlements.check(customer, feature, 40);
  assert.deepEqual([answer.allowed, dec(answer.balance)], [true, "100"]);
});

test("a committed reservation is usage", async () => {
  const [customer, feature] = await grant("100");
  const held = await client.entitlements.reserve(customer, feature, 40);
  const done = await client.entitlements.commit(held.id, 25);
  const answer = await client.entitlements.check(customer, feature);
  assert.deepEqual([done.status, dec(answer.usage), dec(answer.balance)], ["committed", "25", "75"]);
});

test("a reservation past a hard limit rejects with ConflictError", async () => {
  const [customer, feature] = await grant("10");
  await assert.rejects(client.entitlements.reserve(customer, feature, 11), ConflictError);
});

test("release frees the hold", async () => {
  const [customer, feature] = await grant("100");
  const held = await client.entitlements.reserve(customer, feature, 40);
  const released = await client.entitlements.release(held.id);
  const answer = await client.entitlements.check(customer, feature);
  assert.deepEqual([released.status, dec(answer.balance)], ["released", "100"]);
});

test("the local cache answers within its lifetime, and a fresh check sees the commit", async () => {
  const [customer, feature] = await grant("100");
  client.entitlements.cacheSeconds = 3600;
  try {
    const first = await client.entitlements.check(customer, feature);
    await client.entitlements.commit((await client.entitlements.reserve(customer, feature, 40)).id);
    const cached = await client.entitlements.check(customer, feature);
    client.entitlements.cacheSeconds = 0;
    const fresh = await client.entitlements.check(customer, feature);
    assert.deepEqual([dec(cached.balance), dec(fresh.balance)], [dec(first.balance), "60"]);
  } finally {
    client.entitlements.cacheSeconds = 0;
  }
});
