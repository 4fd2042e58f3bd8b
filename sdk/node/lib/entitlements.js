/**
 * `client.entitlements`: check access, and reserve quantity against a hard limit before doing
 * the work, then commit what was used or release it (the server's docs/entitlements.md).
 *
 * `check` may answer from a short local cache (`cacheSeconds`, off by default): a customer's
 * API that checks on every call saves a round trip, at the price of answers up to that old.
 * Reservations are never cached: they are the atomic path.
 */
import { randomUUID } from "node:crypto";
import { normalizeQuantity } from "./decimal.js";
import { ValidationError } from "./errors.js";
function requireName(value, field) {
    if (typeof value !== "string" || value === "" || value.length > 255) {
        throw new ValidationError(`${field} must be a non-empty string of at most 255 characters`, field);
    }
    return value;
}
function reservationPath(id, action) {
    return `/v1/entitlements/reservations/${encodeURIComponent(requireName(id, "id"))}/${action}`;
}
export class EntitlementsApi {
    client;
    /** How long `check` answers are reused, in seconds (0: never, the default). */
    cacheSeconds;
    answers = new Map();
    clock;
    constructor(client, options = {}) {
        this.client = client;
        this.cacheSeconds = options.cacheSeconds ?? 0;
        this.clock = options.clock ?? (() => performance.now());
    }
    /** May `quantity` more of `feature` be used now? Records nothing (POST /v1/entitlements/check). */
    async check(customerRef, feature, quantity = 1) {
        const body = {
            customerRef: requireName(customerRef, "customerRef"),
            feature: requireName(feature, "feature"),
            quantity: normalizeQuantity(quantity),
        };
        const key = JSON.stringify([body.customerRef, body.feature, body.quantity]);
        const hit = this.answers.get(key);
        if (hit !== undefined && this.clock() - hit.at < this.cacheSeconds * 1000)
            return hit.answer;
        const answer = await this.client.request("POST", "/v1/entitlements/check", { body });
        if (this.cacheSeconds > 0)
            this.answers.set(key, { at: this.clock(), answer });
        else
            this.answers.clear();
        return answer;
    }
    /** Hold `quantity` (rejects with ConflictError past a hard limit). */
    reserve(customerRef, feature, quantity, options = {}) {
        const body = {
            customerRef: requireName(customerRef, "customerRef"),
            feature: requireName(feature, "feature"),
            quantity: normalizeQuantity(quantity),
            ttlSeconds: options.ttlSeconds ?? 60,
            idempotencyKey: options.idempotencyKey === undefined ? `rsv-${randomUUID()}` : requireName(options.idempotencyKey, "idempotencyKey"),
        };
        return this.client.request("POST", "/v1/entitlements/reservations", { body });
    }
    /** Record what was used (default: all of the reservation) as usage (idempotent). */
    commit(id, quantity) {
        const body = quantity === undefined ? {} : { quantity: normalizeQuantity(quantity) };
        return this.client.request("POST", reservationPath(id, "commit"), { body });
    }
    /** Free the hold (idempotent). */
    release(id) {
        return this.client.request("POST", reservationPath(id, "release"), { body: {} });
    }
}
