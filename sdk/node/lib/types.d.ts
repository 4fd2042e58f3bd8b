import type { QuantityInput } from "./decimal.js";
import type { Meta } from "./idempotency.js";
import type { TimestampInput } from "./timestamp.js";
/** An event as passed to track / trackBatch / ingest. */
export interface UsageEvent {
    /** Metric code, e.g. "api_calls". */
    metric: string;
    /** Customer reference; defaults to the client's `customerId`. */
    customerRef?: string;
    /** Exact decimal as a string, a number (read from its shortest string form) or a bigint. Default 1. */
    quantity?: QuantityInput;
    /** Event time (Date or RFC 3339 string); the SDK stamps the current time when omitted. */
    ts?: TimestampInput;
    resourceId?: string;
    /** JSON object, at most 4 KiB on the server. */
    meta?: Meta;
    /** Explicit idempotency key (≤ 255 chars); derived from the event when omitted. */
    idempotencyKey?: string;
}
/** An event in wire form: ts stamped, quantity normalised, idempotency key set when the tenant is known. */
export interface PreparedEvent {
    tenantId?: string;
    metric: string;
    customerRef: string;
    quantity: string;
    ts: string;
    resourceId?: string;
    meta?: Meta;
    idempotencyKey?: string;
}
export type EventStatus = "accepted" | "duplicate" | "conflict" | "rejected";
export interface EventResult {
    index: number;
    idempotencyKey: string;
    status: EventStatus;
    error?: {
        code: string;
        message: string;
        field?: string;
    };
    late?: boolean;
}
export interface IngestResponse {
    accepted: number;
    duplicates: number;
    rejected: number;
    conflicts: number;
    /** Request id of the (first) HTTP request; `requestIds` lists all when the batch was split. */
    requestId: string;
    requestIds: string[];
    results: EventResult[];
}
export interface TrackResult {
    /** The event's key (from the server when sent; in buffered mode only when the tenant is known). */
    idempotencyKey?: string;
    /** "queued"/"dropped" only in buffered mode. */
    status: "accepted" | "duplicate" | "queued" | "dropped";
    late?: boolean;
    event: PreparedEvent;
}
export interface MetricUsage {
    metric: string;
    aggregation: string;
    unit?: string | null;
    value: string | null;
    periodStart: string;
    periodEnd: string;
    status: "open" | "closed";
    [key: string]: unknown;
}
export interface CurrentUsage {
    customerRef: string;
    asOf: string;
    metrics: MetricUsage[];
    [key: string]: unknown;
}
export interface AggregateValues {
    count: number;
    sum: string;
    max: string | null;
    min: string | null;
    latest: string | null;
    uniqueCount: number;
    avg: string | null;
    [key: string]: unknown;
}
export interface UsageQueryResult {
    customerRef: string;
    metric: string;
    start: string;
    end: string;
    value: AggregateValues;
    [key: string]: unknown;
}
export interface Projection {
    customerRef?: string;
    subtotal?: string;
    projectedSubtotal?: string;
    credits?: string;
    total?: string;
    currency?: string;
    asOf?: string;
    [key: string]: unknown;
}
export type Aggregation = "count" | "sum" | "max" | "min" | "latest" | "unique_count" | "avg" | "COUNT" | "SUM" | "MAX" | "LATEST" | "COUNT_UNIQUE";
export interface PeriodSpec {
    type: "month" | "week" | "day" | "hour";
    anchorDay?: number;
    timezone?: string;
}
/** Metric definition for metrics.create (see the API contract). */
export interface MetricSchema {
    code: string;
    displayName?: string;
    unit?: string;
    aggregation: Aggregation;
    valueProperty?: string;
    uniqueProperty?: string;
    filter?: Record<string, unknown>;
    period?: PeriodSpec;
    latenessWindow?: string;
    latePolicy?: "adjust" | "reject";
    [key: string]: unknown;
}
export interface Metric extends MetricSchema {
    [key: string]: unknown;
}
/** A [start, end) window in UTC. */
export interface Period {
    start: Date | string;
    end: Date | string;
}
