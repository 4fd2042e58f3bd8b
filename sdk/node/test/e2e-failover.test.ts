/** End-to-end: failover between nodes with exactly-once totals. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { ServerProcess, TestDatabase, freePort, shutdown } from "../testsupport/server.js";
import { countingFetch, expectedSum, patientClient, quantityOf, queryTotals, range, runPool } from "../testsupport/e2e.js";

const db = new TestDatabase();
const servers: ServerProcess[] = [];
let survivor: ServerProcess | undefined;

after(async () => {
  await shutdown(servers, db);
});

test("two nodes on one database: a node killed mid-stream, totals exact", async () => {
  const a = new ServerProcess(db, await freePort(), "node-a");
  const b = new ServerProcess(db, await freePort(), "node-b");
  servers.push(a, b);
  await a.start(); // first start creates the schema and the bootstrap key
  await b.start();
  const { fetch, stats } = countingFetch();
  const client = patientClient([a.url, b.url], db.key, { loadBalancing: "round-robin", fetch });
  await client.metrics.create({ code: "fo_units", aggregation: "sum", period: { type: "month", anchorDay: 1, timezone: "UTC" } });

  const N = 200;
  let killed: Promise<void> | undefined;
  await runPool(N, 4, async (i) => {
    if (i === 100) killed = a.kill("SIGKILL");
    const res = await client.track({ metric: "fo_units", customerRef: "cus_fo", quantity: quantityOf(i), resourceId: `r${i}` });
    assert.ok(res.status === "accepted" || res.status === "duplicate");
  });
  await killed;
  assert.equal(a.running, false);
  assert.ok(stats.networkErrors > 0, "requests to the killed node failed over");
  const reader = patientClient(b.url, db.key);
  assert.deepEqual(await queryTotals(reader, "cus_fo", "fo_units"), { count: N, sum: expectedSum(range(N)) });
  await client.close();
  survivor = b;
});

test("one live node and one dead port: every call succeeds, counted once", async () => {
  // Reuse the surviving node of the previous test (or start one if it ran alone).
  let live = survivor;
  if (live === undefined) {
    live = new ServerProcess(db, await freePort(), "node-live");
    servers.push(live);
    await live.start();
  }
  const deadUrl = `http://127.0.0.1:${await freePort()}`;
  for (const loadBalancing of ["failover", "round-robin"] as const) {
    const { fetch, stats } = countingFetch();
    const client = patientClient([deadUrl, live.url], db.key, { loadBalancing, fetch });
    const customer = `cus_dead_${loadBalancing}`;
    for (let i = 0; i < 20; i++) {
      const res = await client.track({ metric: "fo_units", customerRef: customer, quantity: quantityOf(i), resourceId: `d${i}` });
      assert.equal(res.status, "accepted");
    }
    assert.deepEqual(await queryTotals(client, customer, "fo_units"), { count: 20, sum: expectedSum(range(20)) });
    assert.ok(stats.networkErrors >= 1, "the dead node was tried");
    await client.close();
  }
});
