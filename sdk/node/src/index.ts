export { createClient, StripeMeterClient, MetricsApi, SDK_VERSION, type ClientOptions } from "./client.js";
export { PortalApi, type CreatePortalTokenOptions, type PortalToken } from "./portal.js";
export {
  EntitlementsApi,
  type EntitlementCheck,
  type EntitlementReason,
  type Reservation,
  type ReservationStatus,
  type ReserveOptions,
  type MonotonicClock,
} from "./entitlements.js";
export type { BufferOptions, FullPolicy } from "./buffer.js";
export type { RetryOptions, LoadBalancing, FetchLike } from "./transport.js";
export { computeIdempotencyKey, canonicalKeyMaterial, type KeyInput, type Meta, type JsonValue } from "./idempotency.js";
export { normalizeQuantity, normalizeDecimalString, type QuantityInput } from "./decimal.js";
export { canonicalTimestamp, type TimestampInput } from "./timestamp.js";
export { lastBillingPeriod } from "./period.js";
export * from "./errors.js";
export type * from "./types.js";
