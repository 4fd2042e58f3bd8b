export { StripeBillingDriverImpl, USAGE_RECORDS_API_VERSION } from "./driver.js";
export { DriverConfigError, DriverInputError } from "./errors.js";
export type { DriverOptions, RecordUsageInput, RecordUsageResult, StripeMode, UsageApi } from "./types.js";
