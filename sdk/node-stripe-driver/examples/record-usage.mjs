// StripeMeter's billing-driver sample, run against a local Stripe emulator: set up a
// subscription item, record usage on it twice with one idempotency key, check it counted once.
//
// Environment: STRIPE_API_BASE (the emulator, e.g. `stripemeter stripe-emulator` on
// http://127.0.0.1:12111), STRIPE_SECRET_KEY and STRIPE_TEST_SECRET_KEY. It creates customers
// and subscriptions, so it refuses to run against anything but a loopback address.
// Exits 0 and prints OK when every check holds.
import assert from "node:assert/strict";
import Stripe from "stripe";
import { StripeBillingDriverImpl, USAGE_RECORDS_API_VERSION } from "@stripemeter/stripe-driver";

const apiBase = new URL(process.env.STRIPE_API_BASE ?? "https://api.stripe.com");
if (!["127.0.0.1", "localhost", "[::1]"].includes(apiBase.hostname)) {
  throw new Error("this example creates Stripe objects: point STRIPE_API_BASE at a local emulator");
}

// Setup: a legacy metered price (summed usage records) and a subscription to it.
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY, {
  host: apiBase.hostname, port: apiBase.port, protocol: apiBase.protocol.replace(":", ""),
});
const legacy = { apiVersion: USAGE_RECORDS_API_VERSION };
const customer = await stripe.customers.create({ name: "Example Co" });
const price = await stripe.rawRequest("POST", "/v1/prices", {
  currency: "usd", unit_amount: 2, product_data: { name: "API calls" },
  recurring: { interval: "month", usage_type: "metered", aggregate_usage: "sum" },
}, legacy);
const subscription = await stripe.rawRequest("POST", "/v1/subscriptions", {
  customer: customer.id, items: [{ price: price.id }],
}, legacy);
const item = subscription.items.data[0];

// The sample: one driver, two keys, usage recorded with an idempotency key.
const driver = new StripeBillingDriverImpl({
  liveKey: process.env.STRIPE_SECRET_KEY,
  testKey: process.env.STRIPE_TEST_SECRET_KEY,
  apiBase: apiBase.href,
});
const usage = {
  mode: "live",
  stripeAccount: "default",
  subscriptionItemId: item.id,
  quantity: 100,
  periodStart: new Date(subscription.current_period_start * 1000),
  idempotencyKey: `example-${item.id}-period-1`,
};
const first = await driver.recordUsage(usage);
const retried = await driver.recordUsage(usage); // e.g. after a timeout: replayed, not added
assert.equal(retried.id, first.id);

const summaries = await stripe.rawRequest("GET", `/v1/subscription_items/${item.id}/usage_record_summaries`, undefined, legacy);
assert.equal(summaries.data[0].total_usage, 100);
console.log("OK");
