/**
 * Where a subscription item's usage goes. Stripe refuses legacy usage records on a price that
 * is attached to a billing meter, and meter events name a customer and an event name rather
 * than an item — so the driver looks the item up once and remembers the answer.
 */
import type Stripe from "stripe";
import { DriverConfigError } from "./errors.js";
import type { UsageApi } from "./types.js";

export type Route =
  | { api: "usage_records" }
  | { api: "meter_events"; eventName: string; customerKey: string; valueKey: string; customer: string };

type RequestOptions = { stripeAccount?: string };

/** Looks up an item's route through the Stripe API. */
export async function lookUpRoute(
  stripe: Stripe, itemId: string, usageApi: UsageApi, options: RequestOptions,
): Promise<Route> {
  if (usageApi === "usage_records") return { api: "usage_records" };
  const item = await stripe.subscriptionItems.retrieve(itemId, {}, options);
  const meterId = item.price.recurring?.meter ?? null;
  if (meterId === null) {
    if (usageApi === "meter_events") {
      throw new DriverConfigError(`subscription item ${itemId}: its price is not attached to a billing meter`);
    }
    return { api: "usage_records" };
  }
  const meter = await stripe.billing.meters.retrieve(meterId, {}, options);
  const subscription = await stripe.subscriptions.retrieve(item.subscription, {}, options);
  const customer = typeof subscription.customer === "string" ? subscription.customer : subscription.customer.id;
  return {
    api: "meter_events",
    eventName: meter.event_name,
    customerKey: meter.customer_mapping.event_payload_key,
    valueKey: meter.value_settings.event_payload_key,
    customer,
  };
}

/** A bounded memo of routes: the oldest entry goes when it is full (memory stays flat). */
export class RouteCache {
  private readonly routes = new Map<string, Route>();
  constructor(private readonly capacity: number) {}

  get(key: string): Route | undefined {
    return this.routes.get(key);
  }

  set(key: string, route: Route): void {
    if (this.capacity <= 0) return;
    this.routes.delete(key);
    if (this.routes.size >= this.capacity) {
      const oldest = this.routes.keys().next();
      if (oldest.done !== true) this.routes.delete(oldest.value);
    }
    this.routes.set(key, route);
  }
}
