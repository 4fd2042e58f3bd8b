import { DriverConfigError } from "./errors.js";
/** Looks up an item's route through the Stripe API. */
export async function lookUpRoute(stripe, itemId, usageApi, options) {
    if (usageApi === "usage_records")
        return { api: "usage_records" };
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
    capacity;
    routes = new Map();
    constructor(capacity) {
        this.capacity = capacity;
    }
    get(key) {
        return this.routes.get(key);
    }
    set(key, route) {
        if (this.capacity <= 0)
            return;
        this.routes.delete(key);
        if (this.routes.size >= this.capacity) {
            const oldest = this.routes.keys().next();
            if (oldest.done !== true)
                this.routes.delete(oldest.value);
        }
        this.routes.set(key, route);
    }
}
