export { createClient, StripeMeterClient, MetricsApi, SDK_VERSION } from "./client.js";
export { PortalApi } from "./portal.js";
export { EntitlementsApi, } from "./entitlements.js";
export { computeIdempotencyKey, canonicalKeyMaterial } from "./idempotency.js";
export { normalizeQuantity, normalizeDecimalString } from "./decimal.js";
export { canonicalTimestamp } from "./timestamp.js";
export { lastBillingPeriod } from "./period.js";
export * from "./errors.js";
