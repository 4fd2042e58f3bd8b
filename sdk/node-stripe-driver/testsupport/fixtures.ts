/** Stripe objects for the driver tests, created through the official `stripe` package. */
import Stripe from "stripe";
import { USAGE_RECORDS_API_VERSION } from "../src/index.js";

export const TEST_KEY = "sk_test_driver_fixture";

export function stripeFor(emulatorUrl: string): Stripe {
  const url = new URL(emulatorUrl);
  return new Stripe(TEST_KEY, { host: url.hostname, port: url.port, protocol: "http", maxNetworkRetries: 0 });
}

const legacy = { apiVersion: USAGE_RECORDS_API_VERSION };

export interface LegacyItem {
  itemId: string;
  periodStart: number;
}

/** A subscription item on a legacy metered price (summed usage records). */
export async function legacyItem(stripe: Stripe): Promise<LegacyItem> {
  const customer = await stripe.customers.create({ name: "Legacy Co" });
  const price = (await stripe.rawRequest("POST", "/v1/prices", {
    currency: "usd", unit_amount: 3, product_data: { name: "API calls" },
    recurring: { interval: "month", usage_type: "metered", aggregate_usage: "sum" },
  }, legacy)) as unknown as { id: string };
  const sub = (await stripe.rawRequest("POST", "/v1/subscriptions", {
    customer: customer.id, items: [{ price: price.id }],
  }, legacy)) as unknown as { current_period_start: number; items: { data: Array<{ id: string }> } };
  const item = sub.items.data[0];
  if (item === undefined) throw new Error("subscription without items");
  return { itemId: item.id, periodStart: sub.current_period_start };
}

/** The item's total usage in its current period, from Stripe's usage record summaries. */
export async function usageTotal(stripe: Stripe, itemId: string): Promise<number> {
  const page = (await stripe.rawRequest(
    "GET", `/v1/subscription_items/${itemId}/usage_record_summaries`, undefined, legacy,
  )) as unknown as { data: Array<{ total_usage: number }> };
  return page.data[0]?.total_usage ?? 0;
}

export interface MeteredItem {
  itemId: string;
  periodStart: number;
  meterId: string;
  customerId: string;
}

/** A subscription item on a price attached to a summing billing meter. */
export async function meteredItem(stripe: Stripe, eventName: string): Promise<MeteredItem> {
  const meter = await stripe.billing.meters.create({
    display_name: eventName, event_name: eventName, default_aggregation: { formula: "sum" },
  });
  const customer = await stripe.customers.create({ name: "Metered Co" });
  const price = await stripe.prices.create({
    currency: "usd", unit_amount: 3, product_data: { name: eventName },
    recurring: { interval: "month", usage_type: "metered", meter: meter.id },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  const item = sub.items.data[0];
  if (item === undefined) throw new Error("subscription without items");
  return { itemId: item.id, periodStart: item.current_period_start, meterId: meter.id, customerId: customer.id };
}

/** The meter's total for the customer in the hour from the period start (event summaries). */
export async function meterTotal(stripe: Stripe, item: MeteredItem): Promise<number> {
  const start = Math.floor(item.periodStart / 60) * 60;
  const summaries = await stripe.billing.meters.listEventSummaries(item.meterId, {
    customer: item.customerId, start_time: start, end_time: start + 3600,
  });
  return summaries.data.reduce((sum, s) => sum + s.aggregated_value, 0);
}
