import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BufferFullError,
  ClientClosedError,
  EventRejectedError,
  FlushError,
  createClient,
  type BufferOptions,
  type PreparedEvent,
  type StripeMeterError,
} from "../src/index.js";
import { FakeServer, recordingSleep } from "../testsupport/fake.js";

const A = "http://127.0.0.1:7001";

function setup(buffered: BufferOptions, maxRetries = 2) {
  const server = new FakeServer();
  const { sleep } = recordingSleep();
  const client = createClient({
    apiUrl: A,
    apiKey: "k",
    tenantId: "acme",
    fetch: server.fetch,
    sleep,
    retry: { maxRetries },
    buffered: { flushIntervalMs: 60_000, ...buffered },
  });
  return { server, client };
}

test("buffered track queues; close flushes everything in batches", async () => {
  const { server, client } = setup({ maxBatchSize: 100 });
  const keys = new Set<string>();
  for (let i = 0; i < 250; i++) {
    const r = await client.track({ metric: "m", customerRef: "c", resourceId: `r${i}` });
    assert.equal(r.status, "queued");
    keys.add(r.idempotencyKey ?? "");
  }
  await client.close();
  assert.equal(client.buffered, 0);
  assert.equal(server.ledger.size, 250);
  assert.deepEqual(new Set(server.ledger.keys()), keys);
  for (const call of server.ingestCalls()) {
    assert.ok((JSON.parse(call.body ?? "").events as unknown[]).length <= 100);
  }
  await assert.rejects(client.track({ metric: "m", customerRef: "c" }), ClientClosedError);
});

test("a full batch is sent in the background without waiting for the timer", async () => {
  const { server, client } = setup({ maxBatchSize: 10 });
  for (let i = 0; i < 10; i++) await client.track({ metric: "m", customerRef: "c", resourceId: `r${i}` });
  while (server.ledger.size < 10) await new Promise((r) => setTimeout(r, 5));
  assert.equal(server.ingestCalls().length, 1);
  await client.close();
});

test("the timer flushes a partial batch", async () => {
  const { server, client } = setup({ maxBatchSize: 100, flushIntervalMs: 20 });
  await client.track({ metric: "m", customerRef: "c" });
  while (server.ledger.size < 1) await new Promise((r) => setTimeout(r, 5));
  await client.close();
  assert.equal(server.ledger.size, 1);
});

test("unreachable server: events stay buffered and are delivered later, once", async () => {
  const errors: StripeMeterError[] = [];
  const { server, client } = setup({ maxBatchSize: 5, onError: (e) => errors.push(e) }, 1);
  server.down.add(A);
  for (let i = 0; i < 5; i++) await client.track({ metric: "m", customerRef: "c", quantity: 2, resourceId: `r${i}` });
  const err = await client.flush().catch((e: unknown) => e);
  assert.ok(err instanceof FlushError);
  assert.equal(err.events.length, 5);
  assert.equal(client.buffered, 5);
  server.down.delete(A);
  await client.flush();
  assert.equal(client.buffered, 0);
  assert.equal(server.totals.get("c/m"), 10);
  await client.close();
});

test("drop policy: a full buffer drops new events and reports them", async () => {
  const dropped: PreparedEvent[] = [];
  const reasons: StripeMeterError[] = [];
  const { server, client } = setup(
    { maxBatchSize: 2, maxBufferSize: 4, onFull: "drop", onDrop: (ev, why) => (dropped.push(...ev), reasons.push(why)) },
    0,
  );
  server.down.add(A);
  const statuses: string[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await client.track({ metric: "m", customerRef: "c", resourceId: `r${i}` })).status);
  assert.equal(client.buffered, 4);
  assert.deepEqual(statuses.slice(4), ["dropped", "dropped", "dropped"]);
  assert.equal(dropped.length, 3);
  assert.ok(reasons.every((r) => r instanceof BufferFullError));
  server.down.delete(A);
  await client.close();
  assert.equal(server.ledger.size, 4);
});

test("block policy: track waits for room and gives up after blockTimeoutMs", async () => {
  const { server, client } = setup({ maxBatchSize: 2, maxBufferSize: 2, onFull: "block", blockTimeoutMs: 50 }, 0);
  server.down.add(A);
  await client.track({ metric: "m", customerRef: "c", resourceId: "a" });
  await client.track({ metric: "m", customerRef: "c", resourceId: "b" });
  await assert.rejects(client.track({ metric: "m", customerRef: "c", resourceId: "c" }), BufferFullError);
  server.down.delete(A);
  await client.close();
  assert.equal(server.ledger.size, 2, "the timed-out event was not queued");
});

test("block policy: a blocked producer proceeds once room is made", async () => {
  const { server, client } = setup({ maxBatchSize: 2, maxBufferSize: 2, blockTimeoutMs: Number.POSITIVE_INFINITY }, 0);
  server.down.add(A);
  await client.track({ metric: "m", customerRef: "c", resourceId: "a" });
  await client.track({ metric: "m", customerRef: "c", resourceId: "b" });
  let settled = false;
  const blocked = client.track({ metric: "m", customerRef: "c", resourceId: "c" }).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, "producer waits while the buffer is full");
  server.down.delete(A);
  await client.flush();
  assert.equal((await blocked).status, "queued");
  await client.close();
  assert.equal(server.ledger.size, 3);
});

test("close rejects blocked producers and hands back undeliverable events", async () => {
  const { server, client } = setup({ maxBatchSize: 2, maxBufferSize: 2, blockTimeoutMs: Number.POSITIVE_INFINITY }, 0);
  server.down.add(A);
  await client.track({ metric: "m", customerRef: "c", resourceId: "a" });
  await client.track({ metric: "m", customerRef: "c", resourceId: "b" });
  const blocked = client.track({ metric: "m", customerRef: "c", resourceId: "x" });
  const err = await client.close().catch((e: unknown) => e);
  await assert.rejects(blocked, ClientClosedError);
  assert.ok(err instanceof FlushError);
  assert.equal(err.events.length, 2);
});

test("per-event rejections go to onError; batches refused with 4xx go to onDrop", async () => {
  const errors: StripeMeterError[] = [];
  const dropped: PreparedEvent[] = [];
  const { server, client } = setup({ maxBatchSize: 10, onError: (e) => errors.push(e), onDrop: (ev) => dropped.push(...ev) });
  await client.track({ metric: "bad", customerRef: "c" });
  await client.track({ metric: "m", customerRef: "c" });
  await client.flush();
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof EventRejectedError);
  server.plan = [{ kind: "status", status: 401, body: { status: 401, code: "unauthorized" } }];
  await client.track({ metric: "m", customerRef: "c", resourceId: "z" });
  await client.flush();
  assert.equal(dropped.length, 1);
  await client.close();
  assert.equal(client.buffered, 0);
});
