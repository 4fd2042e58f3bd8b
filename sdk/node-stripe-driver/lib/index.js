export { StripeBillingDriverImpl, USAGE_RECORDS_API_VERSION } from "./driver.js";
export { DriverConfigError, DriverInputError } from "./errors.js";
