import { type QuantityInput } from "./decimal.js";
import { type TimestampInput } from "./timestamp.js";
export type JsonValue = string | number | boolean | null | JsonValue[] | {
    [key: string]: JsonValue;
};
export type Meta = {
    [key: string]: JsonValue;
};
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
export declare function canonicalKeyMaterial(input: KeyInput): string;
/** Deterministic idempotency key of an event. */
export declare function computeIdempotencyKey(input: KeyInput): string;
