/** End-to-end: buffered mode delivers everything on close, also across a server crash. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { StripeMeterError } from "../src/index.js";
import { ServerProcess, TestDatabase, freePort, shutdown } from "../testsupport/server.js";
import { countingFetch, expectedSum, patientClient, quantityOf, queryTotals, range } from "../testsupport/e2e.js";

const db = new TestDatabase();
const servers: ServerProcess[] = [];

/** One server for this file; the crash test (last) kills and restarts it. */
async function theServer(): Promise<ServerProcess> {
  if (servers[0] === undefined) {
    const server = new ServerProcess(db, await freePort(), "buffered");
    servers.push(server);
    await server.start();
  }
  return servers[0] as ServerProcess;
}

after(async () => {
  await shutdown(servers, db);
});

test("buffered mode: close flushes every queued event", async () => {
  const server = await theServer();
  const dropped: number[] = [];
  const errors: StripeMeterError[] = [];
  const client = patientClient(server.url, db.key, {
    buffered: { maxBatchSize: 250, flushIntervalMs: 100_000, onDrop: (ev) => dropped.push(ev.length), onError: (e) => errors.push(e) },
  });
  const N = 2000;
  for (let i = 0; i < N; i++) {
    const res = await client.track({ metric: "buf_units", customerRef: "cus_buf", quantity: quantityOf(i), resourceId: `b${i}` });
    assert.equal(res.status, "queued");
  }
  await client.close();
  assert.equal(client.buffered, 0);
  assert.deepEqual(dropped, []);
  assert.deepEqual(errors, []);
  const reader = patientClient(server.url, db.key);
  assert.deepEqual(await queryTotals(reader, "cus_buf", "buf_units"), { count: N, sum: expectedSum(range(N)) });
});

test("buffered mode: server killed and restarted while batching; close delivers all exactly once", async () => {
  const server = await theServer();
  const dropped: number[] = [];
  const { fetch, stats } = countingFetch();
  const client = patientClient(server.url, db.key, {
    fetch,
    buffered: { maxBatchSize: 50, flushIntervalMs: 20, maxBufferSize: 5000, onDrop: (ev) => dropped.push(ev.length) },
  });
  const N = 1500;
  let restart: Promise<void> | undefined;
  for (let i = 0; i < N; i++) {
    if (i === 500) restart = server.kill("SIGKILL").then(() => server.start());
    await client.track({ metric: "buf_units", customerRef: "cus_buf_crash", quantity: quantityOf(i), resourceId: `c${i}` });
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await restart;
  await client.close();
  assert.deepEqual(dropped, []);
  assert.ok(stats.networkErrors + stats.serverErrors > 0, "batches went through failed attempts");
  const reader = patientClient(server.url, db.key);
  assert.deepEqual(await queryTotals(reader, "cus_buf_crash", "buf_units"), { count: N, sum: expectedSum(range(N)) });
});
