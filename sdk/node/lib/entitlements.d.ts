import { type QuantityInput } from "./decimal.js";
/** What `client.entitlements` needs of the client: its request method. */
export interface EntitlementsRequester {
    request<T>(method: string, path: string, options?: {
        body?: unknown;
    }): Promise<T>;
}
/** Why access is (not) given, as the server names it. */
export type EntitlementReason = "ok" | "no_grant" | "disabled" | "not_yet_effective" | "expired" | "limit_reached" | "over_soft_limit" | "no_credit" | "metric_not_found";
/** The answer of `check`: may `quantity` more be used now, and the balance. Decimals are exact strings. */
export interface EntitlementCheck {
    allowed: boolean;
    hasAccess: boolean;
    reason: EntitlementReason;
    customerRef: string;
    feature: string;
    type: "boolean" | "static" | "metered";
    quantity: string;
    usage: string | null;
    reserved: string | null;
    limit: string | null;
    balance: string | null;
    headroom: string | null;
    resetsAt: string | null;
    enforcement: "hard" | "soft" | null;
    config: unknown;
}
export type ReservationStatus = "held" | "committed" | "released" | "expired";
/** A reservation as the server answers it (decimals are exact strings). */
export interface Reservation {
    id: string;
    customerRef: string;
    feature: string;
    quantity: string;
    status: ReservationStatus;
    expiresAt: string;
    committedQuantity: string | null;
    eventKey: string | null;
}
export interface ReserveOptions {
    /** How long the hold lasts, 1 to 86_400 seconds (default 60). */
    ttlSeconds?: number;
    /** Made once per call when omitted, so a retried request holds once. */
    idempotencyKey?: string;
}
/** Clock in milliseconds, injectable for tests (default: performance.now). */
export type MonotonicClock = () => number;
export declare class EntitlementsApi {
    private readonly client;
    /** How long `check` answers are reused, in seconds (0: never, the default). */
    cacheSeconds: number;
    private readonly answers;
    private readonly clock;
    constructor(client: EntitlementsRequester, options?: {
        cacheSeconds?: number;
        clock?: MonotonicClock;
    });
    /** May `quantity` more of `feature` be used now? Records nothing (POST /v1/entitlements/check). */
    check(customerRef: string, feature: string, quantity?: QuantityInput): Promise<EntitlementCheck>;
    /** Hold `quantity` (rejects with ConflictError past a hard limit). */
    reserve(customerRef: string, feature: string, quantity: QuantityInput, options?: ReserveOptions): Promise<Reservation>;
    /** Record what was used (default: all of the reservation) as usage (idempotent). */
    commit(id: string, quantity?: QuantityInput): Promise<Reservation>;
    /** Free the hold (idempotent). */
    release(id: string): Promise<Reservation>;
}
