import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type Stripe from "stripe";
import { StripeBillingDriverImpl } from "../src/index.js";
import { Emulator } from "../testsupport/emulator.js";
import { legacyItem, stripeFor, TEST_KEY, usageTotal } from "../testsupport/fixtures.js";

let emulator: Emulator;
let stripe: Stripe;
let driver: StripeBillingDriverImpl;

before(async () => {
  emulator = await Emulator.start();
  stripe = stripeFor(emulator.url);
  driver = new StripeBillingDriverImpl({ testKey: TEST_KEY, apiBase: emulator.url });
});
after(() => emulator.stop());

test("a legacy metered item gets a usage record holding the quantity", async () => {
  const item = await legacyItem(stripe);
  const result = await driver.recordUsage({
    mode: "test", stripeAccount: "default", subscriptionItemId: item.itemId, quantity: 100,
    periodStart: new Date(item.periodStart * 1000), idempotencyKey: "legacy-first",
  });
  assert.equal(result.api, "usage_records");
  assert.equal(await usageTotal(stripe, item.itemId), 100);
});

test("a call repeated with the same idempotency key replays the first record", async () => {
  const item = await legacyItem(stripe);
  const call = { mode: "test" as const, subscriptionItemId: item.itemId, quantity: 40, periodStart: item.periodStart, idempotencyKey: "legacy-replay" };
  const first = await driver.recordUsage(call);
  const second = await driver.recordUsage(call);
  assert.deepEqual([second.id, await usageTotal(stripe, item.itemId)], [first.id, 40]);
});

test("the quantity is the period's total: a later call sets it, it does not add", async () => {
  const item = await legacyItem(stripe);
  const base = { mode: "test" as const, subscriptionItemId: item.itemId, periodStart: item.periodStart };
  await driver.recordUsage({ ...base, quantity: 100, idempotencyKey: "legacy-total-1" });
  await driver.recordUsage({ ...base, quantity: 150, idempotencyKey: "legacy-total-2" });
  assert.equal(await usageTotal(stripe, item.itemId), 150);
});

test("reusing a key with a different quantity is refused by Stripe and changes nothing", async () => {
  const item = await legacyItem(stripe);
  const base = { mode: "test" as const, subscriptionItemId: item.itemId, periodStart: item.periodStart, idempotencyKey: "legacy-misuse" };
  await driver.recordUsage({ ...base, quantity: 10 });
  await assert.rejects(driver.recordUsage({ ...base, quantity: 11 }), { type: "StripeIdempotencyError" });
  assert.equal(await usageTotal(stripe, item.itemId), 10);
});
