/** Errors the driver raises itself; Stripe's own errors reach the caller unchanged. */

/** A `recordUsage` argument is invalid (`field` names it); nothing was sent to Stripe. */
export class DriverInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "DriverInputError";
    this.field = field;
  }
}

/** The driver cannot serve the request as configured (e.g. no key for the mode). */
export class DriverConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DriverConfigError";
  }
}
