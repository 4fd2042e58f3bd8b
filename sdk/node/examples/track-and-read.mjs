// Track usage and read it back, as in StripeMeter's Node SDK sample (same package name).
//
// Run against a stripemeter server with STRIPEMETER_URL, STRIPEMETER_API_KEY (scopes ingest,
// read, admin) and STRIPEMETER_TENANT set. Exits 0 and prints OK when every check holds.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createClient } from "@stripemeter/sdk-node";

const customer = `cus_example_${randomBytes(4).toString("hex")}`; // fresh per run

const client = createClient({
  apiUrl: process.env.STRIPEMETER_URL,
  tenantId: process.env.STRIPEMETER_TENANT,
  customerId: customer,
});

await client.metrics.create({
  code: "example_api_calls",
  aggregation: "sum",
  unit: "call",
  period: { type: "month", anchorDay: 1, timezone: "UTC" },
});

// A fixed timestamp makes the event's idempotency key stable, so a retry is a duplicate.
const event = { metric: "example_api_calls", customerRef: customer, quantity: 100, ts: new Date(), meta: { endpoint: "/v1/search" } };
const first = await client.track(event);
const retry = await client.track(event);
assert.deepEqual([first.status, retry.status], ["accepted", "duplicate"]);
assert.equal(first.idempotencyKey, retry.idempotencyKey);

const usage = await client.getUsage(customer);
const line = usage.metrics.find((m) => m.metric === "example_api_calls");
assert.equal(line?.value, "100");

// Without prices the projection has quantities but no costs.
const projection = await client.getProjection(customer);
const projected = projection.metrics.find((m) => m.metric === "example_api_calls");
assert.equal(projected?.currentQuantity, "100");

await client.close();
console.log("OK");
