/**
 * `client.entitlements`: check access, and reserve quantity against a hard limit before doing
 * the work, then commit what was used or release it (the server's docs/entitlements.md).
 *
 * `check` may answer from a short local cache (`cacheSeconds`, off by default): a customer's
 * API that checks on every call saves a round trip, at the price of answers up to that old.
 * Reservations are never cached: they are the atomic path.
 */
import { randomUUID } from "node:crypto";
import { normalizeQuantity, type QuantityInput } from "./decimal.js";
import { ValidationError } from "./errors.js";

/** What `client.entitlements` needs of the client: its request method. */
export interface EntitlementsRequester {
  request<T>(method: string, path: string, options?: { body?: unknown }): Promise<T>;
}

/** Why access is (not) given, as the server names it. */
export type EntitlementReason =
  | "ok"
  | "no_grant"
  | "disabled"
  | "not_yet_effective"
  | "expired"
  | "limit_reached"
  | "over_soft_limit"
  | "no_credit"
  | "metric_not_found";

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

function requireName(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "" || value.length > 255) {
    throw new ValidationError(`${field} must be a non-empty string of at most 255 characters`, field);
  }
  return value;
}

function reservationPath(id: string, action: string): string {
  return `/v1/entitlements/reservations/${encodeURIComponent(requireName(id, "id"))}/${action}`;
}

export class EntitlementsApi {
  /** How long `check` answers are reused, in seconds (0: never, the default). */
  cacheSeconds: number;
  private readonly answers = new Map<string, { at: number; answer: EntitlementCheck }>();
  private readonly clock: MonotonicClock;

  constructor(
    private readonly client: EntitlementsRequester,
    options: { cacheSeconds?: number; clock?: MonotonicClock } = {},
  ) {
    this.cacheSeconds = options.cacheSeconds ?? 0;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** May `quantity` more of `feature` be used now? Records nothing (POST /v1/entitlements/check). */
  async check(customerRef: string, feature: string, quantity: QuantityInput = 1): Promise<EntitlementCheck> {
    const body = {
      customerRef: requireName(customerRef, "customerRef"),
      feature: requireName(feature, "feature"),
      quantity: normalizeQuantity(quantity),
    };
    const key = JSON.stringify([body.customerRef, body.feature, body.quantity]);
    const hit = this.answers.get(key);
    if (hit !== undefined && this.clock() - hit.at < this.cacheSeconds * 1000) return hit.answer;
    const answer = await this.client.request<EntitlementCheck>("POST", "/v1/entitlements/check", { body });
    if (this.cacheSeconds > 0) this.answers.set(key, { at: this.clock(), answer });
    else this.answers.clear();
    return answer;
  }

  /** Hold `quantity` (rejects with ConflictError past a hard limit). */
  reserve(customerRef: string, feature: string, quantity: QuantityInput, options: ReserveOptions = {}): Promise<Reservation> {
    const body = {
      customerRef: requireName(customerRef, "customerRef"),
      feature: requireName(feature, "feature"),
      quantity: normalizeQuantity(quantity),
      ttlSeconds: options.ttlSeconds ?? 60,
      idempotencyKey: options.idempotencyKey === undefined ? `rsv-${randomUUID()}` : requireName(options.idempotencyKey, "idempotencyKey"),
    };
    return this.client.request<Reservation>("POST", "/v1/entitlements/reservations", { body });
  }

  /** Record what was used (default: all of the reservation) as usage (idempotent). */
  commit(id: string, quantity?: QuantityInput): Promise<Reservation> {
    const body = quantity === undefined ? {} : { quantity: normalizeQuantity(quantity) };
    return this.client.request<Reservation>("POST", reservationPath(id, "commit"), { body });
  }

  /** Free the hold (idempotent). */
  release(id: string): Promise<Reservation> {
    return this.client.request<Reservation>("POST", reservationPath(id, "release"), { body: {} });
  }
}
