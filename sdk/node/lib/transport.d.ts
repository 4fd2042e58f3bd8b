export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
export interface RetryOptions {
    /** Retries after the first round (default 8). 0 disables retries. */
    maxRetries?: number;
    /** Backoff base delay in ms (default 200). */
    initialDelayMs?: number;
    /** Backoff cap in ms (default 10_000). */
    maxDelayMs?: number;
    /** Longest Retry-After the client honours, in ms (default 60_000). */
    maxRetryAfterMs?: number;
}
export type LoadBalancing = "round-robin" | "failover";
export interface TransportOptions {
    nodes: string[];
    apiKey: string | undefined;
    fetch: FetchLike;
    timeoutMs: number;
    retry: Required<RetryOptions>;
    loadBalancing: LoadBalancing;
    nodeCooldownMs: number;
    userAgent: string;
    random?: () => number;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
}
export interface RequestOptions {
    query?: Record<string, string | undefined>;
    body?: unknown;
}
/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export declare function parseRetryAfter(value: string | null, now: number): number | undefined;
export declare class Transport {
    readonly nodes: string[];
    private readonly opts;
    private readonly downUntil;
    private next;
    private readonly random;
    private readonly sleep;
    private readonly now;
    constructor(opts: TransportOptions);
    /** Order in which nodes are tried for one round: healthy nodes first, then those cooling down. */
    private order;
    private backoff;
    request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
    private markDown;
}
