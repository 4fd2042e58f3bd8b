import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type Stripe from "stripe";
import { StripeBillingDriverImpl } from "../src/index.js";
import { Emulator } from "../testsupport/emulator.js";
import { meteredItem, meterTotal, stripeFor, TEST_KEY } from "../testsupport/fixtures.js";

let emulator: Emulator;
let stripe: Stripe;
let driver: StripeBillingDriverImpl;

before(async () => {
  emulator = await Emulator.start();
  stripe = stripeFor(emulator.url);
  driver = new StripeBillingDriverImpl({ testKey: TEST_KEY, apiBase: emulator.url });
});
after(() => emulator.stop());

test("an item on a metered price gets a meter event for its customer", async () => {
  const item = await meteredItem(stripe, "calls_first");
  const result = await driver.recordUsage({
    mode: "test", subscriptionItemId: item.itemId, quantity: 5, periodStart: item.periodStart, idempotencyKey: "meter-first",
  });
  assert.deepEqual([result.api, await meterTotal(stripe, item)], ["meter_events", 5]);
});

test("a call repeated with the same idempotency key is counted once", async () => {
  const item = await meteredItem(stripe, "calls_replay");
  const call = { mode: "test" as const, subscriptionItemId: item.itemId, quantity: 7, periodStart: item.periodStart, idempotencyKey: "meter-replay" };
  await driver.recordUsage(call);
  await driver.recordUsage(call);
  assert.equal(await meterTotal(stripe, item), 7);
});

test("a second driver (no shared idempotency cache) repeating the key is told it is a duplicate", async () => {
  const item = await meteredItem(stripe, "calls_other_key");
  const call = { subscriptionItemId: item.itemId, quantity: 3, periodStart: item.periodStart, idempotencyKey: "meter-dup" };
  await driver.recordUsage({ mode: "test", ...call });
  const other = new StripeBillingDriverImpl({ testKey: TEST_KEY + "_other", apiBase: emulator.url });
  const again = await other.recordUsage({ mode: "test", ...call });
  assert.deepEqual([again.duplicate, await meterTotal(stripe, item)], [true, 3]);
});

test("calls with different keys add up", async () => {
  const item = await meteredItem(stripe, "calls_add");
  const base = { mode: "test" as const, subscriptionItemId: item.itemId, periodStart: item.periodStart };
  await driver.recordUsage({ ...base, quantity: 5, idempotencyKey: "meter-add-1" });
  await driver.recordUsage({ ...base, quantity: 6, idempotencyKey: "meter-add-2" });
  assert.equal(await meterTotal(stripe, item), 11);
});
