/** End-to-end: exactly-once totals while the only server is killed (SIGKILL) and restarted mid-stream. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { PreparedEvent } from "../src/index.js";
import { ServerProcess, TestDatabase, freePort, shutdown } from "../testsupport/server.js";
import { countingFetch, currentValue, expectedSum, patientClient, quantityOf, queryTotals, range, runPool } from "../testsupport/e2e.js";

const db = new TestDatabase();
const servers: ServerProcess[] = [];

after(async () => {
  await shutdown(servers, db);
});

test("server killed and restarted mid-stream: every event counted exactly once", async () => {
  const server = new ServerProcess(db, await freePort(), "crash");
  servers.push(server);
  await server.start();
  const { fetch, stats } = countingFetch();
  const client = patientClient(server.url, db.key, { fetch });
  await client.metrics.create({ code: "crash_units", aggregation: "sum", period: { type: "month", anchorDay: 1, timezone: "UTC" } });

  const N = 240;
  const crashAt = new Set([100]);
  let restarts = Promise.resolve();
  let restartCount = 0;
  const sent: PreparedEvent[] = [];
  await runPool(N, 4, async (i) => {
    if (crashAt.has(i)) {
      // Kill while other workers have requests in flight; restart on the same port and DB file.
      restarts = restarts.then(async () => {
        await server.kill("SIGKILL");
        await server.start();
        restartCount++;
      });
    }
    const res = await client.track({ metric: "crash_units", customerRef: "cus_crash", quantity: quantityOf(i), resourceId: `r${i}` });
    assert.ok(res.status === "accepted" || res.status === "duplicate", res.status);
    sent[i] = res.event;
  });
  await restarts;
  assert.equal(restartCount, 1);
  assert.ok(stats.networkErrors + stats.serverErrors > 0, "the stream went through failed attempts");

  const want = expectedSum(range(N));
  assert.deepEqual(await queryTotals(client, "cus_crash", "crash_units"), { count: N, sum: want });
  assert.equal(await currentValue(client, "cus_crash", "crash_units"), want);

  // Replaying the whole stream (same keys) changes nothing.
  const replay = await client.sendBatch(sent);
  assert.equal(replay.accepted, 0);
  assert.equal(replay.duplicates, N);
  assert.deepEqual(await queryTotals(client, "cus_crash", "crash_units"), { count: N, sum: want });
  await client.close();
});
