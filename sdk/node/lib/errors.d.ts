/**
 * Error classes. Every error the SDK throws is a StripeMeterError.
 *
 * StripeMeterError
 * ├── ValidationError          bad input caught client-side (never sent)
 * ├── ApiError                 the server answered with an error status (problem details)
 * │   ├── BadRequestError      400 / 422 / other 4xx validation errors (not retried)
 * │   ├── AuthenticationError  401
 * │   ├── PermissionError      403
 * │   ├── NotFoundError        404
 * │   ├── ConflictError        409
 * │   ├── PayloadTooLargeError 413
 * │   ├── RateLimitError       429 (retried, honouring Retry-After, until retries run out)
 * │   └── ServerError          5xx (retried until retries run out)
 * ├── ConnectionError          no node could be reached (network error / timeout on every try)
 * ├── EventRejectedError       track(): the server rejected the event or reported a conflict
 * ├── BufferFullError          buffered mode: no room in the buffer (see README, buffering policy)
 * ├── ClientClosedError        the client was closed
 * └── FlushError               buffered mode: events could not be delivered on flush/close
 */
export declare class StripeMeterError extends Error {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
export declare class ValidationError extends StripeMeterError {
    readonly field: string | undefined;
    constructor(message: string, field?: string);
}
/** One entry of a problem-details `errors` array. */
export interface ProblemFieldError {
    field?: string;
    code?: string;
    message?: string;
}
/** RFC 9457 problem details as sent by the server. */
export interface ProblemDetails {
    type?: string;
    title?: string;
    status?: number;
    detail?: string;
    code?: string;
    errors?: ProblemFieldError[];
    requestId?: string;
    [key: string]: unknown;
}
export declare class ApiError extends StripeMeterError {
    readonly status: number;
    readonly code: string | undefined;
    readonly problem: ProblemDetails;
    readonly requestId: string | undefined;
    readonly url: string;
    constructor(status: number, problem: ProblemDetails, url: string);
    /** Field errors from the problem body (empty when there are none). */
    get errors(): ProblemFieldError[];
}
export declare class BadRequestError extends ApiError {
}
export declare class AuthenticationError extends ApiError {
}
export declare class PermissionError extends ApiError {
}
export declare class NotFoundError extends ApiError {
}
export declare class ConflictError extends ApiError {
}
export declare class PayloadTooLargeError extends ApiError {
}
export declare class RateLimitError extends ApiError {
    /** Delay the server asked for, in milliseconds (from Retry-After), if any. */
    readonly retryAfterMs: number | undefined;
    constructor(status: number, problem: ProblemDetails, url: string, retryAfterMs: number | undefined);
}
export declare class ServerError extends ApiError {
}
/** Build the ApiError subclass that matches an HTTP status. */
export declare function apiErrorFor(status: number, problem: ProblemDetails, url: string, retryAfterMs?: number): ApiError;
export declare class ConnectionError extends StripeMeterError {
    /** The node URLs that were tried. */
    readonly nodes: string[];
    constructor(message: string, nodes: string[], cause?: unknown);
}
export declare class EventRejectedError extends StripeMeterError {
    readonly idempotencyKey: string;
    readonly status: "rejected" | "conflict";
    readonly code: string | undefined;
    readonly field: string | undefined;
    constructor(idempotencyKey: string, status: "rejected" | "conflict", code?: string, message?: string, field?: string);
}
export declare class BufferFullError extends StripeMeterError {
}
export declare class ClientClosedError extends StripeMeterError {
}
export declare class FlushError extends StripeMeterError {
    /** Events that were not delivered (already carrying their idempotency keys: resending is safe). */
    readonly events: unknown[];
    constructor(message: string, events: unknown[], cause?: unknown);
}
