import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthenticationError,
  BadRequestError,
  ClientClosedError,
  ConflictError,
  ConnectionError,
  EventRejectedError,
  RateLimitError,
  ServerError,
  ValidationError,
  createClient,
  type ClientOptions,
} from "../src/index.js";
import { FakeServer, recordingSleep } from "../testsupport/fake.js";

const A = "http://127.0.0.1:7001";
const B = "http://127.0.0.1:7002";
const fixedNow = () => new Date("2025-01-16T14:30:00.250Z");

function setup(extra: Partial<ClientOptions> = {}) {
  const server = new FakeServer();
  const { sleep, delays } = recordingSleep();
  const client = createClient({
    apiUrl: A,
    apiKey: "sk_test",
    fetch: server.fetch,
    sleep,
    random: () => 0.5,
    now: fixedNow,
    ...extra,
  });
  return { server, client, delays };
}

test("track sends one prepared event with stamped ts and derived key", async () => {
  const { server, client } = setup({ tenantId: "acme", customerId: "cus_1" });
  const res = await client.track({ metric: "api_calls", quantity: "2.50", meta: { endpoint: "/x" } });
  assert.equal(res.status, "accepted");
  const [call] = server.ingestCalls();
  assert.ok(call);
  assert.equal(call.method, "POST");
  assert.equal(call.headers["authorization"], "Bearer sk_test");
  assert.equal(call.headers["content-type"], "application/json");
  const sent = JSON.parse(call.body ?? "");
  assert.deepEqual(sent, {
    events: [
      {
        tenantId: "acme",
        metric: "api_calls",
        customerRef: "cus_1",
        quantity: "2.5",
        ts: "2025-01-16T14:30:00.250000Z",
        idempotencyKey: res.idempotencyKey,
        meta: { endpoint: "/x" },
      },
    ],
  });
  assert.match(res.idempotencyKey ?? "", /^evt_[0-9a-f]{32}$/);
});

test("without a tenant the SDK sends no key and no tenantId; the stamped ts keeps retries deduplicated", async () => {
  const { server, client } = setup({ customerId: "cus_1" });
  server.plan = [{ kind: "lose-response" }];
  const res = await client.track({ metric: "api_calls", quantity: 3 });
  assert.equal(res.status, "duplicate");
  const calls = server.ingestCalls();
  assert.equal(calls.length, 2);
  assert.equal(calls[0]?.body, calls[1]?.body);
  assert.deepEqual(JSON.parse(calls[0]?.body ?? ""), {
    events: [{ metric: "api_calls", customerRef: "cus_1", quantity: "3", ts: "2025-01-16T14:30:00.250000Z" }],
  });
  assert.equal(server.totals.get("cus_1/api_calls"), 3);
  assert.match(res.idempotencyKey ?? "", /^evt_[0-9a-f]{32}$/, "the server's key is reported");
});

test("an explicit idempotencyKey is sent as given", async () => {
  const { server, client } = setup({ tenantId: "acme" });
  const res = await client.track({ metric: "m", customerRef: "c", idempotencyKey: "order-42" });
  assert.equal(res.idempotencyKey, "order-42");
  assert.equal(JSON.parse(server.calls[0]?.body ?? "").events[0].idempotencyKey, "order-42");
});

test("API key comes from STRIPEMETER_API_KEY when none is passed", async () => {
  const old = process.env["STRIPEMETER_API_KEY"];
  process.env["STRIPEMETER_API_KEY"] = "sk_from_env";
  try {
    const server = new FakeServer();
    const client = createClient({ apiUrl: A, fetch: server.fetch });
    await client.track({ metric: "m", customerRef: "c" });
    assert.equal(server.calls[0]?.headers["authorization"], "Bearer sk_from_env");
  } finally {
    if (old === undefined) delete process.env["STRIPEMETER_API_KEY"];
    else process.env["STRIPEMETER_API_KEY"] = old;
  }
});

test("invalid events are rejected client-side and nothing is sent", async () => {
  const { server, client } = setup();
  await assert.rejects(client.track({ metric: "", customerRef: "c" }), ValidationError);
  await assert.rejects(client.track({ metric: "m" }), ValidationError); // no customerRef, no customerId
  await assert.rejects(client.track({ metric: "m", customerRef: "c", quantity: "ten" }), ValidationError);
  await assert.rejects(client.track({ metric: "m", customerRef: "c", quantity: Number.NaN }), ValidationError);
  await assert.rejects(client.track({ metric: "m", customerRef: "c", ts: "not a time" }), ValidationError);
  await assert.rejects(client.track({ metric: "m", customerRef: "c", meta: [] as unknown as Record<string, never> }), ValidationError);
  await assert.rejects(client.trackBatch([{ metric: "m", customerRef: "c" }, { metric: "m", customerRef: "" }]), ValidationError);
  assert.equal(server.calls.length, 0);
});

test("a lost response is retried with the identical body and counted once", async () => {
  const { server, client, delays } = setup();
  server.plan = [{ kind: "lose-response" }, { kind: "network" }];
  const res = await client.track({ metric: "api_calls", customerRef: "c", quantity: 5 });
  assert.equal(res.status, "duplicate");
  const calls = server.ingestCalls();
  assert.equal(calls.length, 3);
  assert.equal(new Set(calls.map((c) => c.body)).size, 1, "retries resend byte-identical bodies");
  assert.equal(server.totals.get("c/api_calls"), 5);
  assert.equal(delays.length, 2);
});

test("5xx and 408 are retried with growing jittered backoff", async () => {
  const { server, client, delays } = setup({ retry: { initialDelayMs: 100, maxDelayMs: 1000 } });
  server.plan = [
    { kind: "status", status: 503, body: { status: 503, code: "store_unavailable" } },
    { kind: "status", status: 500 },
    { kind: "status", status: 408 },
    { kind: "status", status: 502 },
    { kind: "status", status: 504 },
  ];
  const res = await client.track({ metric: "m", customerRef: "c" });
  assert.equal(res.status, "accepted");
  // random() = 0.5 -> delay = 0.75 * min(cap, base * 2^n)
  assert.deepEqual(delays, [75, 150, 300, 600, 750]);
});

test("429 waits for Retry-After and does not change node", async () => {
  const { server, client, delays } = setup({ apiUrl: [A, B], loadBalancing: "failover" });
  server.plan = [{ kind: "status", status: 429, headers: { "retry-after": "2" }, body: { status: 429, code: "rate_limited" } }];
  await client.track({ metric: "m", customerRef: "c" });
  assert.deepEqual(delays, [2000]);
  assert.deepEqual(server.calls.map((c) => c.url.slice(0, A.length)), [A, A]);
});

test("Retry-After is capped by maxRetryAfterMs", async () => {
  const { server, client, delays } = setup({ retry: { maxRetryAfterMs: 500 } });
  server.plan = [{ kind: "status", status: 429, headers: { "retry-after": "3600" } }];
  await client.track({ metric: "m", customerRef: "c" });
  assert.deepEqual(delays, [500]);
});

test("4xx validation errors are not retried", async () => {
  for (const [status, cls] of [
    [400, BadRequestError],
    [422, BadRequestError],
    [401, AuthenticationError],
    [409, ConflictError],
  ] as const) {
    const { server, client, delays } = setup();
    server.plan = [{ kind: "status", status, body: { type: "about:blank", title: "bad", status, detail: "nope", code: "invalid", requestId: "r1" } }];
    const err = await client.track({ metric: "m", customerRef: "c" }).then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof cls, `status ${status}`);
    assert.equal((err as BadRequestError).status, status);
    assert.equal((err as BadRequestError).code, "invalid");
    assert.equal((err as BadRequestError).requestId, "r1");
    assert.equal(server.calls.length, 1);
    assert.equal(delays.length, 0);
  }
});

test("retries run out: ServerError for 5xx, RateLimitError for 429, ConnectionError for network", async () => {
  {
    const { server, client } = setup({ retry: { maxRetries: 2 } });
    server.plan = Array.from({ length: 3 }, () => ({ kind: "status" as const, status: 503 }));
    await assert.rejects(client.track({ metric: "m", customerRef: "c" }), ServerError);
    assert.equal(server.calls.length, 3);
  }
  {
    const { server, client } = setup({ retry: { maxRetries: 1 } });
    server.plan = Array.from({ length: 2 }, () => ({ kind: "status" as const, status: 429, headers: { "retry-after": "1" } }));
    const err = await client.track({ metric: "m", customerRef: "c" }).catch((e: unknown) => e);
    assert.ok(err instanceof RateLimitError);
    assert.equal(err.retryAfterMs, 1000);
  }
  {
    const { server, client } = setup({ apiUrl: [A, B], retry: { maxRetries: 1 } });
    server.down.add(A);
    server.down.add(B);
    const err = await client.track({ metric: "m", customerRef: "c" }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError);
    assert.deepEqual(err.nodes, [A, B]);
    assert.equal(server.calls.length, 4, "two rounds over two nodes");
  }
});

test("failover: a dead node is skipped at once and cooled down", async () => {
  const { server, client, delays } = setup({ apiUrl: [A, B] });
  server.down.add(A);
  for (let i = 0; i < 6; i++) await client.track({ metric: "m", customerRef: "c", quantity: i + 1 });
  assert.equal(delays.length, 0, "failover needs no sleep when another node is up");
  const toA = server.calls.filter((c) => c.url.startsWith(A)).length;
  assert.equal(toA, 1, "node A is tried once, then skipped while cooling down");
  assert.equal(server.totals.get("c/m"), 21);
});

test("round-robin spreads requests over healthy nodes", async () => {
  const { server, client } = setup({ apiUrl: [A, B] });
  for (let i = 0; i < 4; i++) await client.getUsage("c");
  assert.deepEqual(server.calls.map((c) => c.url.slice(0, A.length)), [A, B, A, B]);
});

test("trackBatch reports per-event outcomes and splits large batches", async () => {
  const { server, client } = setup();
  const events = Array.from({ length: 2300 }, (_, i) => ({ metric: i === 1500 ? "bad" : "m", customerRef: "c", resourceId: `r${i}` }));
  const res = await client.trackBatch(events);
  assert.equal(server.ingestCalls().length, 3);
  assert.equal(res.accepted, 2299);
  assert.equal(res.rejected, 1);
  assert.equal(res.results.length, 2300);
  assert.deepEqual(res.results.map((r) => r.index), events.map((_, i) => i));
  assert.equal(res.results[1500]?.status, "rejected");
  assert.equal(res.requestIds.length, 3);
  const again = await client.ingest(events.slice(0, 10));
  assert.equal(again.duplicates, 10);
});

test("track throws EventRejectedError for a rejected event", async () => {
  const { client } = setup();
  const err = await client.track({ metric: "bad", customerRef: "c" }).catch((e: unknown) => e);
  assert.ok(err instanceof EventRejectedError);
  assert.equal(err.status, "rejected");
  assert.equal(err.code, "unknown_metric");
});

test("read methods use the documented routes", async () => {
  const { server, client } = setup({ tenantId: "acme", customerId: "cus_9" });
  await client.getUsage();
  await client.getProjection(undefined, { metric: "api_calls" });
  await client.query("cus_1", "api_calls", { start: new Date("2025-01-01T00:00:00Z"), end: "2025-02-01T00:00:00Z" });
  await client.metrics.create({ code: "api_calls", aggregation: "sum", period: { type: "month", anchorDay: 1, timezone: "UTC" } });
  await client.metrics.get("api calls");
  await client.health();
  const seen = server.calls.map((c) => `${c.method} ${new URL(c.url).pathname}${new URL(c.url).search}`);
  assert.deepEqual(seen, [
    "GET /v1/usage/current?customerRef=cus_9&tenantId=acme",
    "POST /v1/usage/projection",
    "POST /v1/usage/query",
    "POST /v1/metrics",
    "GET /v1/metrics/api%20calls",
    "GET /health/ready",
  ]);
  assert.deepEqual(JSON.parse(server.calls[1]?.body ?? ""), { customerRef: "cus_9", metric: "api_calls", tenantId: "acme" });
  assert.deepEqual(JSON.parse(server.calls[2]?.body ?? ""), {
    customerRef: "cus_1", metric: "api_calls", start: "2025-01-01T00:00:00.000Z", end: "2025-02-01T00:00:00Z", tenantId: "acme",
  });
});

test("closed clients refuse calls", async () => {
  const { client } = setup();
  await client.close();
  await client.close();
  await assert.rejects(client.track({ metric: "m", customerRef: "c" }), ClientClosedError);
  await assert.rejects(client.getUsage("c"), ClientClosedError);
});

test("bad apiUrl is a ValidationError", () => {
  assert.throws(() => createClient({ apiUrl: "not a url" }), ValidationError);
  assert.throws(() => createClient({ apiUrl: [] }), ValidationError);
  assert.throws(() => createClient({ apiUrl: "ftp://127.0.0.1" }), ValidationError);
});
