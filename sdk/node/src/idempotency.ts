/**
 * Client-side idempotency keys, identical to the server's derivation (DESIGN §2):
 * "evt_" + first 32 hex digits of SHA-256 over the UTF-8 bytes of the RFC 8785 (JCS)
 * canonical JSON of [tenantId, metric, customerRef, resourceId or "", ts, quantity, meta or null].
 */
import { createHash } from "node:crypto";
import { normalizeQuantity, type QuantityInput } from "./decimal.js";
import { canonicalTimestamp, type TimestampInput } from "./timestamp.js";
import { ValidationError } from "./errors.js";
import { canonicalJson } from "./jcs.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Meta = { [key: string]: JsonValue };

export interface KeyInput {
  tenantId: string;
  metric: string;
  customerRef: string;
  resourceId?: string | null | undefined;
  ts: TimestampInput;
  quantity: QuantityInput;
  meta?: Meta | null | undefined;
}

/** The JCS text the key is hashed from (exposed for debugging and tests). */
export function canonicalKeyMaterial(input: KeyInput): string {
  const meta = input.meta === undefined || input.meta === null || Object.keys(input.meta).length === 0 ? null : input.meta;
  const material = [
    input.tenantId,
    input.metric,
    input.customerRef,
    input.resourceId ?? "",
    canonicalTimestamp(input.ts),
    normalizeQuantity(input.quantity),
    meta,
  ];
  try {
    return canonicalJson(material);
  } catch (err) {
    throw new ValidationError(`event cannot be canonicalised: ${(err as Error).message}`, "meta");
  }
}

/** Deterministic idempotency key of an event. */
export function computeIdempotencyKey(input: KeyInput): string {
  const digest = createHash("sha256").update(canonicalKeyMaterial(input), "utf8").digest("hex");
  return "evt_" + digest.slice(0, 32);
}
