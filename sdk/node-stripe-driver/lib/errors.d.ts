/** Errors the driver raises itself; Stripe's own errors reach the caller unchanged. */
/** A `recordUsage` argument is invalid (`field` names it); nothing was sent to Stripe. */
export declare class DriverInputError extends Error {
    readonly field: string;
    constructor(field: string, message: string);
}
/** The driver cannot serve the request as configured (e.g. no key for the mode). */
export declare class DriverConfigError extends Error {
    constructor(message: string);
}
