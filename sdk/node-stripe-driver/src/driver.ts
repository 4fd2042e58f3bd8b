/**
 * StripeMeter's `StripeBillingDriverImpl`: records usage on a Stripe subscription item through
 * the official `stripe` package, with the caller's idempotency key on every write so that a
 * retried call — after a timeout, a crash, a lost response — never counts twice.
 */
import Stripe from "stripe";
import { DriverConfigError } from "./errors.js";
import { meterEventIdentifier, parseRecordUsage, type ParsedUsage } from "./input.js";
import { lookUpRoute, RouteCache, type Route } from "./routes.js";
import type { DriverOptions, RecordUsageInput, RecordUsageResult, StripeMode, UsageApi } from "./types.js";

/** The last API version with usage records (they were removed in 2025-03-31.basil). */
export const USAGE_RECORDS_API_VERSION = "2025-02-24.acacia";
const DRIVER_VERSION = "0.1.0";

export class StripeBillingDriverImpl {
  private readonly keys: Record<StripeMode, string | undefined>;
  private readonly clients = new Map<StripeMode, Stripe>();
  private readonly routes: RouteCache;
  private readonly usageApi: UsageApi;
  private readonly config: Stripe.StripeConfig;

  constructor(options: DriverOptions = {}) {
    this.keys = { live: checkKey("liveKey", options.liveKey), test: checkKey("testKey", options.testKey) };
    this.usageApi = options.usageApi ?? "auto";
    if (!["auto", "usage_records", "meter_events"].includes(this.usageApi)) {
      throw new DriverConfigError('usageApi must be "auto", "usage_records" or "meter_events"');
    }
    this.routes = new RouteCache(options.routeCacheSize ?? 1000);
    this.config = {
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      timeout: options.timeoutMs ?? 30_000,
      appInfo: { name: "stripemeter-stripe-driver", version: DRIVER_VERSION },
      ...apiBaseConfig(options.apiBase),
    };
  }

  /** Records `quantity` for the item's period; see the README for the two APIs' semantics. */
  async recordUsage(input: RecordUsageInput): Promise<RecordUsageResult> {
    const usage = parseRecordUsage(input);
    const stripe = this.client(usage.mode);
    const account = usage.stripeAccount === undefined ? {} : { stripeAccount: usage.stripeAccount };
    const route = await this.route(stripe, usage, account);
    if (route.api === "usage_records") return setUsageRecord(stripe, usage, account);
    return sendMeterEvent(stripe, usage, route, account);
  }

  private client(mode: StripeMode): Stripe {
    const existing = this.clients.get(mode);
    if (existing) return existing;
    const key = this.keys[mode];
    if (key === undefined) throw new DriverConfigError(`no ${mode}Key configured for mode "${mode}"`);
    if (looksLikeOtherMode(key, mode)) throw new DriverConfigError(`the ${mode}Key is not a ${mode}-mode key`);
    const stripe = new Stripe(key, this.config);
    this.clients.set(mode, stripe);
    return stripe;
  }

  private async route(stripe: Stripe, usage: ParsedUsage, account: { stripeAccount?: string }): Promise<Route> {
    const cacheKey = `${usage.mode}|${usage.stripeAccount ?? ""}|${usage.subscriptionItemId}`;
    const cached = this.routes.get(cacheKey);
    if (cached) return cached;
    const route = await lookUpRoute(stripe, usage.subscriptionItemId, this.usageApi, account);
    this.routes.set(cacheKey, route);
    return route;
  }
}

/** Legacy usage record with `action=set` at the period start: the quantity is the period's total. */
async function setUsageRecord(
  stripe: Stripe, usage: ParsedUsage, account: { stripeAccount?: string },
): Promise<RecordUsageResult> {
  const path = `/v1/subscription_items/${encodeURIComponent(usage.subscriptionItemId)}/usage_records`;
  const record = (await stripe.rawRequest(
    "POST", path, { quantity: usage.quantity, timestamp: String(usage.timestamp), action: "set" },
    { ...account, apiVersion: USAGE_RECORDS_API_VERSION, idempotencyKey: usage.idempotencyKey },
  )) as unknown as { id: string };
  return result(usage, "usage_records", record.id, false);
}

/** A meter event for the item's customer, identified by the idempotency key: the quantity is added. */
async function sendMeterEvent(
  stripe: Stripe, usage: ParsedUsage, route: Extract<Route, { api: "meter_events" }>,
  account: { stripeAccount?: string },
): Promise<RecordUsageResult> {
  const identifier = meterEventIdentifier(usage.idempotencyKey);
  try {
    await stripe.billing.meterEvents.create(
      {
        event_name: route.eventName,
        payload: { [route.customerKey]: route.customer, [route.valueKey]: usage.quantity },
        identifier,
        timestamp: usage.timestamp,
      },
      { ...account, idempotencyKey: usage.idempotencyKey },
    );
  } catch (err) {
    // Stripe already holds an event with this identifier: it was counted once, which is the goal.
    if (err instanceof Stripe.errors.StripeError && err.code === "duplicate_meter_event") {
      return result(usage, "meter_events", identifier, true);
    }
    throw err;
  }
  return result(usage, "meter_events", identifier, false);
}

function result(usage: ParsedUsage, api: RecordUsageResult["api"], id: string, duplicate: boolean): RecordUsageResult {
  return { api, subscriptionItemId: usage.subscriptionItemId, quantity: usage.quantity, timestamp: usage.timestamp, id, duplicate };
}

function checkKey(name: string, key: unknown): string | undefined {
  if (key === undefined || key === null || key === "") return undefined;
  if (typeof key !== "string" || !/^[\x21-\x7e]{1,512}$/.test(key)) {
    throw new DriverConfigError(`${name} must be a Stripe API key`);
  }
  return key;
}

/** A `sk_test_…` key given as the live key (or the reverse) is a configuration slip worth stopping. */
function looksLikeOtherMode(key: string, mode: StripeMode): boolean {
  const other = mode === "live" ? "test" : "live";
  return key.startsWith(`sk_${other}_`) || key.startsWith(`rk_${other}_`);
}

function apiBaseConfig(apiBase: string | undefined): Pick<Stripe.StripeConfig, "host" | "port" | "protocol"> {
  if (apiBase === undefined) return {};
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new DriverConfigError("apiBase must be an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DriverConfigError("apiBase must be an absolute http(s) URL");
  }
  const protocol = url.protocol === "http:" ? "http" : "https";
  return { host: url.hostname, port: url.port || (protocol === "http" ? 80 : 443), protocol };
}
