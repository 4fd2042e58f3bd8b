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
export class StripeMeterError extends Error {
    constructor(message, options) {
        super(message, options);
        this.name = new.target.name;
    }
}
export class ValidationError extends StripeMeterError {
    field;
    constructor(message, field) {
        super(message);
        this.field = field;
    }
}
export class ApiError extends StripeMeterError {
    status;
    code;
    problem;
    requestId;
    url;
    constructor(status, problem, url) {
        const detail = problem.detail ?? problem.title ?? `HTTP ${status}`;
        super(`${status}${problem.code ? ` ${problem.code}` : ""}: ${detail}`);
        this.status = status;
        this.code = problem.code;
        this.problem = problem;
        this.requestId = problem.requestId;
        this.url = url;
    }
    /** Field errors from the problem body (empty when there are none). */
    get errors() {
        return Array.isArray(this.problem.errors) ? this.problem.errors : [];
    }
}
export class BadRequestError extends ApiError {
}
export class AuthenticationError extends ApiError {
}
export class PermissionError extends ApiError {
}
export class NotFoundError extends ApiError {
}
export class ConflictError extends ApiError {
}
export class PayloadTooLargeError extends ApiError {
}
export class RateLimitError extends ApiError {
    /** Delay the server asked for, in milliseconds (from Retry-After), if any. */
    retryAfterMs;
    constructor(status, problem, url, retryAfterMs) {
        super(status, problem, url);
        this.retryAfterMs = retryAfterMs;
    }
}
export class ServerError extends ApiError {
}
/** Build the ApiError subclass that matches an HTTP status. */
export function apiErrorFor(status, problem, url, retryAfterMs) {
    if (status === 429)
        return new RateLimitError(status, problem, url, retryAfterMs);
    if (status >= 500)
        return new ServerError(status, problem, url);
    switch (status) {
        case 401:
            return new AuthenticationError(status, problem, url);
        case 403:
            return new PermissionError(status, problem, url);
        case 404:
            return new NotFoundError(status, problem, url);
        case 409:
            return new ConflictError(status, problem, url);
        case 413:
            return new PayloadTooLargeError(status, problem, url);
        default:
            return new BadRequestError(status, problem, url);
    }
}
export class ConnectionError extends StripeMeterError {
    /** The node URLs that were tried. */
    nodes;
    constructor(message, nodes, cause) {
        super(message, { cause });
        this.nodes = nodes;
    }
}
export class EventRejectedError extends StripeMeterError {
    idempotencyKey;
    status;
    code;
    field;
    constructor(idempotencyKey, status, code, message, field) {
        super(`event ${idempotencyKey} ${status}${code ? ` (${code})` : ""}${message ? `: ${message}` : ""}`);
        this.idempotencyKey = idempotencyKey;
        this.status = status;
        this.code = code;
        this.field = field;
    }
}
export class BufferFullError extends StripeMeterError {
}
export class ClientClosedError extends StripeMeterError {
}
export class FlushError extends StripeMeterError {
    /** Events that were not delivered (already carrying their idempotency keys: resending is safe). */
    events;
    constructor(message, events, cause) {
        super(message, { cause });
        this.events = events;
    }
}
