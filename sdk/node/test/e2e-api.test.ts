/** End-to-end: the SDK surface against a real stripemeter server process. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  EventRejectedError,
  createClient,
  normalizeDecimalString,
  type StripeMeterClient,
} from "../src/index.js";
import { ServerProcess, TestDatabase, freePort, shutdown } from "../testsupport/server.js";
import { currentValue, queryTotals } from "../testsupport/e2e.js";

const db = new TestDatabase();
let server: ServerProcess;
let client: StripeMeterClient;

before(async () => {
  server = new ServerProcess(db, await freePort(), "api");
  await server.start();
  client = createClient({ apiUrl: server.url, apiKey: db.key, customerId: "cus_api" });
});

after(async () => {
  await client?.close();
  await shutdown([server], db);
});

test("health/ready answers through the client", async () => {
  const health = await client.health();
  assert.equal(typeof health, "object");
});

test("metrics.create: 201 then identical 200, different definition is ConflictError; list and get", async () => {
  const schema = {
    code: "api_calls",
    displayName: "API calls",
    unit: "call",
    aggregation: "sum" as const,
    period: { type: "month" as const, anchorDay: 1, timezone: "UTC" },
  };
  const created = await client.metrics.create(schema);
  assert.equal(created.code, "api_calls");
  const again = await client.metrics.create(schema);
  assert.equal(again.code, "api_calls");
  await assert.rejects(client.metrics.create({ ...schema, aggregation: "max" }), ConflictError);
  const list = await client.metrics.list();
  assert.ok(list.some((m) => m.code === "api_calls"));
  const one = await client.metrics.get("api_calls");
  assert.equal(one.aggregation, "sum");
});

test("track: accepted, then duplicate on resend; usage, query and projection reflect it once", async () => {
  await client.metrics.create({ code: "searches", aggregation: "sum", period: { type: "month", anchorDay: 1, timezone: "UTC" } });
  const first = await client.track({ metric: "searches", quantity: "2.50", meta: { endpoint: "/v1/search" } });
  assert.equal(first.status, "accepted");
  const second = await client.track({ metric: "searches", quantity: 1, resourceId: "req_1" });
  assert.equal(second.status, "accepted");
  const resent = await client.sendBatch([first.event, second.event]);
  assert.equal(resent.accepted, 0);
  assert.equal(resent.duplicates, 2);
  assert.deepEqual(resent.results.map((r) => r.idempotencyKey), [first.idempotencyKey, second.idempotencyKey]);

  assert.equal(await currentValue(client, "cus_api", "searches"), "3.5");
  const totals = await queryTotals(client, "cus_api", "searches");
  assert.deepEqual(totals, { count: 2, sum: "3.5" });
  const usage = await client.getUsage();
  assert.equal(usage.customerRef, "cus_api");
  const searches = usage.metrics.find((m) => m.metric === "searches");
  assert.ok(searches);
  assert.equal(searches.status, "open");
  assert.equal(searches.aggregation, "sum");
});

test("getProjection returns the customer's projection", async () => {
  const projection = await client.getProjection("cus_api");
  assert.equal(typeof projection, "object");
  assert.ok(projection.asOf !== undefined || projection.total !== undefined, JSON.stringify(projection));
});

test("client-side keys equal the server's own derivation", async () => {
  // A raw event with ts but no key: the server derives the key; the SDK must derive the same one.
  const ts = new Date().toISOString();
  const raw = { metric: "api_calls", customerRef: "cus_keys", quantity: "1.50", ts, resourceId: "r1", meta: { a: 1, b: [true, null] } };
  const res = await fetch(`${server.url}/v1/events/ingest`, {
    method: "POST",
    headers: { authorization: `Bearer ${db.key}`, "content-type": "application/json" },
    body: JSON.stringify({ events: [raw] }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { results: Array<{ idempotencyKey: string; status: string }> };
  assert.equal(body.results[0]?.status, "accepted");
  const withTenant = createClient({ apiUrl: server.url, apiKey: db.key, tenantId: "default" }); // the bootstrap tenant
  assert.equal(withTenant.prepare(raw).idempotencyKey, body.results[0]?.idempotencyKey);
  // Sending it through the SDK is therefore a duplicate, not a second count...
  const dup = await withTenant.track(raw);
  assert.equal(dup.status, "duplicate");
  assert.equal(dup.idempotencyKey, body.results[0]?.idempotencyKey);
  // ...also without a tenant, when the server derives the key from the same fields.
  const noTenant = createClient({ apiUrl: server.url, apiKey: db.key });
  assert.equal(noTenant.prepare(raw).idempotencyKey, undefined);
  assert.equal((await noTenant.track(raw)).status, "duplicate");
  assert.deepEqual(await queryTotals(client, "cus_keys", "api_calls"), { count: 1, sum: "1.5" });
});

test("a server-side rejection surfaces as EventRejectedError; trackBatch reports it per event", async () => {
  const future = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  await assert.rejects(client.track({ metric: "api_calls", ts: future }), EventRejectedError);
  const res = await client.trackBatch([
    { metric: "api_calls", resourceId: "ok-1" },
    { metric: "api_calls", ts: future },
    { metric: "api_calls", resourceId: "ok-2" },
  ]);
  assert.deepEqual(res.results.map((r) => r.status), ["accepted", "rejected", "accepted"]);
  assert.equal(res.accepted, 2);
  assert.equal(res.rejected, 1);
  assert.ok(res.results[1]?.error?.code);
});

test("4xx errors are not retried: bad key, tenant mismatch, malformed metric", async () => {
  const bad = createClient({ apiUrl: server.url, apiKey: "sk_wrong", retry: { maxRetries: 3, initialDelayMs: 5000 } });
  await assert.rejects(bad.track({ metric: "api_calls", customerRef: "c" }), AuthenticationError);
  const other = createClient({ apiUrl: server.url, apiKey: db.key, tenantId: "someone-else" });
  await assert.rejects(other.getUsage("c"), (err: unknown) => err instanceof Error && "status" in err && err.status === 403);
  await assert.rejects(
    client.metrics.create({ code: "broken", aggregation: "median" as unknown as "sum" }),
    BadRequestError,
  );
});

test("the API key is read from STRIPEMETER_API_KEY", async () => {
  const old = process.env["STRIPEMETER_API_KEY"];
  process.env["STRIPEMETER_API_KEY"] = db.key;
  try {
    const envClient = createClient({ apiUrl: server.url });
    const res = await envClient.track({ metric: "api_calls", customerRef: "cus_env" });
    assert.equal(res.status, "accepted");
  } finally {
    if (old === undefined) delete process.env["STRIPEMETER_API_KEY"];
    else process.env["STRIPEMETER_API_KEY"] = old;
  }
  assert.equal(normalizeDecimalString((await queryTotals(client, "cus_env", "api_calls")).sum), "1");
});

test("portal.createToken mints a token that reads its customer", async () => {
  const minted = await client.portal.createToken({ customerRef: "cus_portal", expiresIn: 600 });
  const me = await fetch(`${server.url}/portal/v1/me`, { headers: { Authorization: `Bearer ${minted.token}` } });
  assert.equal(((await me.json()) as { customerRef: string }).customerRef, "cus_portal");
});
