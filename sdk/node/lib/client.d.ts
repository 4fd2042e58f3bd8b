import { type BufferOptions } from "./buffer.js";
import { type FetchLike, type LoadBalancing, type RetryOptions } from "./transport.js";
import type { CurrentUsage, IngestResponse, Metric, MetricSchema, Period, PreparedEvent, Projection, TrackResult, UsageEvent, UsageQueryResult } from "./types.js";
import { PortalApi } from "./portal.js";
import { EntitlementsApi } from "./entitlements.js";
export declare const SDK_VERSION = "0.1.0";
export interface ClientOptions {
    /** One node URL or a list (failover / load spreading). Default: STRIPEMETER_URL (comma-separated; also read as STRIPEMETER_API_URL, its former name) or http://127.0.0.1:3000. */
    apiUrl?: string | string[];
    /** API key; default: the STRIPEMETER_API_KEY environment variable. */
    apiKey?: string;
    /**
     * Tenant id. When set (or STRIPEMETER_TENANT is), it is sent with requests and the SDK
     * computes each event's idempotency key itself. When unset, the key is left to the server,
     * which derives it from the same fields (including the `ts` the SDK stamped), so retries
     * are deduplicated either way.
     */
    tenantId?: string;
    /** Default customerRef for track / getUsage / getProjection. */
    customerId?: string;
    /** Per-request timeout in ms (default 10_000). */
    timeoutMs?: number;
    retry?: RetryOptions;
    /** "round-robin" (default) spreads requests over healthy nodes; "failover" prefers the first healthy node. */
    loadBalancing?: LoadBalancing;
    /** How long a failed node is skipped, in ms (default 5_000). */
    nodeCooldownMs?: number;
    /** Buffered mode: `true` for defaults, or options. Off by default. */
    buffered?: boolean | BufferOptions;
    /** Injectable fetch (default: global fetch). */
    fetch?: FetchLike;
    /** Clock used to stamp event times (default: () => new Date()). */
    now?: () => Date;
    /** Random source for backoff jitter, in [0, 1) (default Math.random). */
    random?: () => number;
    /** Sleep used between retries (default setTimeout-based). */
    sleep?: (ms: number) => Promise<void>;
    /** How long `entitlements.check` answers are reused, in seconds (default 0: off). */
    entitlementsCacheSeconds?: number;
}
export declare class MetricsApi {
    private readonly client;
    constructor(client: StripeMeterClient);
    /** Create a metric (201), or confirm an identical one (200); a different definition is ConflictError (409). */
    create(schema: MetricSchema): Promise<Metric>;
    list(): Promise<Metric[]>;
    get(code: string): Promise<Metric>;
    update(code: string, patch: Partial<MetricSchema>): Promise<Metric>;
    delete(code: string): Promise<void>;
}
export declare class StripeMeterClient {
    readonly tenantId: string | undefined;
    readonly customerId: string | undefined;
    readonly metrics: MetricsApi;
    readonly portal: PortalApi;
    readonly entitlements: EntitlementsApi;
    private readonly transport;
    private readonly buffer;
    private readonly clock;
    private closed;
    constructor(options?: ClientOptions);
    /** Node URLs in use. */
    get nodes(): string[];
    /** Events waiting in the buffer (0 when not buffered). */
    get buffered(): number;
    /** Low-level request with retries and failover (paths under the API root, e.g. "/v1/metrics"). */
    request<T>(method: string, path: string, options?: {
        query?: Record<string, string | undefined>;
        body?: unknown;
    }): Promise<T>;
    /**
     * Validate an event, stamp `ts`, normalise `quantity` and (when the tenant is known) derive
     * its idempotency key. The result is exactly what is sent, so resending it is always
     * deduplicated: without a tenant the server derives the same key from the same fields.
     */
    prepare(event: UsageEvent): PreparedEvent;
    /**
     * Record one event. Unbuffered: sends it now and resolves with "accepted" or "duplicate"
     * (a rejected or conflicting event throws EventRejectedError). Buffered: queues it and
     * resolves with "queued" (or "dropped" under the drop policy).
     */
    track(event: UsageEvent): Promise<TrackResult>;
    /**
     * Send many events now (also in buffered mode), split into requests of at most 1000
     * events / ~900 KiB. Per-event outcomes are in `results` (indices refer to `events`);
     * nothing throws for a rejected event.
     */
    trackBatch(events: UsageEvent[]): Promise<IngestResponse>;
    /** Alias of trackBatch (mirrors the Python SDK's `ingest`). */
    ingest(events: UsageEvent[]): Promise<IngestResponse>;
    /** Send prepared events, chunked to the server's limits; results are merged in input order. */
    sendBatch(events: PreparedEvent[]): Promise<IngestResponse>;
    /** Live usage of a customer's current periods (GET /v1/usage/current). */
    getUsage(customerRef?: string): Promise<CurrentUsage>;
    /** Cost projection for a customer's current period (POST /v1/usage/projection). */
    getProjection(customerRef?: string, options?: {
        metric?: string;
    }): Promise<Projection>;
    /** All aggregate values of a metric for a customer over [start, end) (POST /v1/usage/query). */
    query(customerRef: string, metric: string, period: Period): Promise<UsageQueryResult>;
    /** The last complete monthly billing period (UTC) for an anchor day; see `lastBillingPeriod`. */
    lastBillingPeriod(anchorDay: number, now?: Date): {
        start: Date;
        end: Date;
    };
    /** Readiness of the service (GET /health/ready). */
    health(): Promise<Record<string, unknown>>;
    /** Buffered mode: send everything buffered now. No-op when unbuffered. */
    flush(): Promise<void>;
    /** Flush the buffer (if any) and refuse further calls. Safe to call twice. */
    close(): Promise<void>;
}
/** Create a client (see ClientOptions). */
export declare function createClient(options?: ClientOptions): StripeMeterClient;
