import type { RecordUsageInput, StripeMode } from "./types.js";
export interface ParsedUsage {
    mode: StripeMode;
    stripeAccount: string | undefined;
    subscriptionItemId: string;
    quantity: string;
    timestamp: number;
    idempotencyKey: string;
}
export declare function parseRecordUsage(input: RecordUsageInput): ParsedUsage;
/** Unix seconds of the period start; calendar dates are midnight UTC. */
export declare function parsePeriodStart(start: unknown): number;
/** The meter event identifier: the key itself when it fits Stripe's limit, else a digest of it. */
export declare function meterEventIdentifier(idempotencyKey: string): string;
