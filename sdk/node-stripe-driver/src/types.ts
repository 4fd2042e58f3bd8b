/** The driver's public types: the shape of StripeMeter's sample, plus the result it returns. */

/** Which of the two configured keys a call uses. */
export type StripeMode = "live" | "test";

/**
 * How usage reaches Stripe. `"auto"` (default) looks at the subscription item's price: a price
 * attached to a billing meter gets meter events, any other metered price legacy usage records.
 */
export type UsageApi = "auto" | "usage_records" | "meter_events";

export interface DriverOptions {
  /** Secret or restricted key used when `mode` is `"live"`. */
  liveKey?: string | undefined;
  /** Secret or restricted key used when `mode` is `"test"`. */
  testKey?: string | undefined;
  /** Base URL of the Stripe API, e.g. a local emulator's `http://127.0.0.1:12111`. Default: Stripe's. */
  apiBase?: string | undefined;
  usageApi?: UsageApi | undefined;
  /** Retries of one Stripe request on network errors, 409 and 5xx (the idempotency key makes them safe). Default 2. */
  maxNetworkRetries?: number | undefined;
  /** Per-request timeout in milliseconds. Default 30 000. */
  timeoutMs?: number | undefined;
  /** How many subscription items' routes (meter, customer) are remembered; 0 looks them up on every call. Default 1000. */
  routeCacheSize?: number | undefined;
}

export interface RecordUsageInput {
  mode: StripeMode;
  /** A connected account (`acct_…`), sent as `Stripe-Account`; absent or `"default"` means the key's own account. */
  stripeAccount?: string | undefined;
  subscriptionItemId: string;
  /** Whole number ≥ 0: the period's total for usage records (`action=set`), an increment for meter events. */
  quantity: number | bigint | string;
  /** Start of the billing period the usage belongs to: a Date, `YYYY-MM-DD` (UTC), RFC 3339, or Unix seconds. */
  periodStart: Date | string | number;
  /** Stripe's `Idempotency-Key` (and the meter event `identifier`): a retry with the same key changes nothing. */
  idempotencyKey: string;
}

export interface RecordUsageResult {
  api: "usage_records" | "meter_events";
  subscriptionItemId: string;
  /** The quantity sent, as a decimal string. */
  quantity: string;
  /** The Unix timestamp the usage was recorded at (the period start). */
  timestamp: number;
  /** The usage record's id, or the meter event's identifier. */
  id: string;
  /** True when Stripe already held a meter event with this identifier, so nothing new was counted. */
  duplicate: boolean;
}
