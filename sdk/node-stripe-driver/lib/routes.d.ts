/**
 * Where a subscription item's usage goes. Stripe refuses legacy usage records on a price that
 * is attached to a billing meter, and meter events name a customer and an event name rather
 * than an item — so the driver looks the item up once and remembers the answer.
 */
import type Stripe from "stripe";
import type { UsageApi } from "./types.js";
export type Route = {
    api: "usage_records";
} | {
    api: "meter_events";
    eventName: string;
    customerKey: string;
    valueKey: string;
    customer: string;
};
type RequestOptions = {
    stripeAccount?: string;
};
/** Looks up an item's route through the Stripe API. */
export declare function lookUpRoute(stripe: Stripe, itemId: string, usageApi: UsageApi, options: RequestOptions): Promise<Route>;
/** A bounded memo of routes: the oldest entry goes when it is full (memory stays flat). */
export declare class RouteCache {
    private readonly capacity;
    private readonly routes;
    constructor(capacity: number);
    get(key: string): Route | undefined;
    set(key: string, route: Route): void;
}
export {};
