// Send a batch, resend it as a retry would, and query the totals of a billing period —
// the Unimeter-style flow (metric schema, numeric account, period query) with this SDK.
//
// Run against a stripemeter server with STRIPEMETER_URL (comma-separated for several nodes),
// STRIPEMETER_API_KEY and STRIPEMETER_TENANT set. Exits 0 and prints OK when every check holds.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { createClient } from "@stripemeter/sdk";

const account = String(randomInt(1, 2 ** 31)); // fresh per run: reruns count only their own events
const client = createClient({ apiUrl: process.env.STRIPEMETER_URL?.split(","), tenantId: process.env.STRIPEMETER_TENANT });

await client.metrics.create({
  code: "example_storage_gb",
  aggregation: "max",
  unit: "GB",
  period: { type: "month", anchorDay: 1, timezone: "UTC" },
});

// prepare() stamps ts and derives the idempotency key once; replaying prepared events is safe.
const readings = ["1.5", "4.25", "3"].map((quantity) =>
  client.prepare({ metric: "example_storage_gb", customerRef: account, quantity }));
const sent = await client.sendBatch(readings);
assert.equal(sent.accepted, 3);

const replayed = await client.sendBatch(readings);
assert.deepEqual([replayed.accepted, replayed.duplicates], [0, 3]);

const now = Date.now();
const window = { start: new Date(now - 3_600_000), end: new Date(now + 3_600_000) };
const totals = await client.query(account, "example_storage_gb", window);
assert.equal(totals.value.count, 3);
assert.equal(totals.value.max, "4.25");

await client.close();
console.log("OK");
