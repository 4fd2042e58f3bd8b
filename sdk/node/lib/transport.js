/**
 * HTTP transport: one request = one logical operation, sent with retries and failover.
 *
 * * Retried: network errors and timeouts, 408, 429 (waiting for Retry-After when given)
 *   and every 5xx. Not retried: any other 4xx (validation, auth, not found, conflict).
 * * Backoff is exponential with jitter: before retry n the client waits a random time in
 *   [cap/2, cap] where cap = min(maxDelayMs, initialDelayMs * 2^n).
 * * Failover: a node that fails with a network error, timeout or 5xx is marked down for
 *   `nodeCooldownMs`, and the same request goes to the next node at once; the client only
 *   sleeps when every node has failed in the current round. A round counts as one retry.
 * * The body of a retried request is byte-identical, so ingest retries carry the same
 *   idempotency keys and are deduplicated by the server.
 */
import { ApiError, ConnectionError, StripeMeterError, apiErrorFor } from "./errors.js";
const RETRYABLE_4XX = new Set([408, 429]);
function defaultSleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value, now) {
    if (value === null)
        return undefined;
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed))
        return Math.round(Number.parseFloat(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (Number.isFinite(date))
        return Math.max(0, date - now);
    return undefined;
}
export class Transport {
    nodes;
    opts;
    downUntil;
    next = 0;
    random;
    sleep;
    now;
    constructor(opts) {
        if (opts.nodes.length === 0)
            throw new StripeMeterError("at least one API URL is required");
        this.nodes = opts.nodes.map((u) => u.replace(/\/+$/, ""));
        this.opts = opts;
        this.downUntil = this.nodes.map(() => 0);
        this.random = opts.random ?? Math.random;
        this.sleep = opts.sleep ?? defaultSleep;
        this.now = opts.now ?? Date.now;
    }
    /** Order in which nodes are tried for one round: healthy nodes first, then those cooling down. */
    order() {
        const n = this.nodes.length;
        const start = this.opts.loadBalancing === "round-robin" ? this.next++ % n : 0;
        const now = this.now();
        const all = Array.from({ length: n }, (_, i) => (start + i) % n);
        const up = all.filter((i) => (this.downUntil[i] ?? 0) <= now);
        const down = all.filter((i) => (this.downUntil[i] ?? 0) > now);
        return [...up, ...down];
    }
    backoff(retry) {
        const { initialDelayMs, maxDelayMs } = this.opts.retry;
        const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** retry);
        return cap / 2 + this.random() * (cap / 2);
    }
    async request(method, path, options = {}) {
        const headers = {
            accept: "application/json, application/problem+json",
            "user-agent": this.opts.userAgent,
        };
        if (this.opts.apiKey)
            headers["authorization"] = `Bearer ${this.opts.apiKey}`;
        let body;
        if (options.body !== undefined) {
            body = JSON.stringify(options.body);
            headers["content-type"] = "application/json";
        }
        let qs = "";
        if (options.query) {
            const params = new URLSearchParams();
            for (const [k, v] of Object.entries(options.query))
                if (v !== undefined)
                    params.set(k, v);
            const s = params.toString();
            if (s)
                qs = "?" + s;
        }
        const { maxRetries, maxRetryAfterMs } = this.opts.retry;
        let lastError;
        for (let retry = 0;; retry++) {
            let waitMs;
            for (const idx of this.order()) {
                const url = `${this.nodes[idx]}${path}${qs}`;
                let res;
                let text;
                try {
                    const init = { method, headers, signal: AbortSignal.timeout(this.opts.timeoutMs) };
                    if (body !== undefined)
                        init.body = body;
                    res = await this.opts.fetch(url, init);
                    text = await res.text();
                }
                catch (err) {
                    // Connection refused/reset, DNS, timeout, or the response was lost mid-body.
                    lastError = new ConnectionError(`request to ${url} failed: ${describe(err)}`, [this.nodes[idx] ?? ""], err);
                    this.markDown(idx);
                    continue;
                }
                if (res.ok) {
                    if (text === "")
                        return undefined;
                    try {
                        return JSON.parse(text);
                    }
                    catch (err) {
                        throw new StripeMeterError(`invalid JSON from ${url}: ${describe(err)}`, { cause: err });
                    }
                }
                const problem = parseProblem(text, res.status);
                const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), this.now());
                const error = apiErrorFor(res.status, problem, url, retryAfterMs);
                if (res.status >= 500 || res.status === 408) {
                    lastError = error;
                    this.markDown(idx);
                    continue;
                }
                if (RETRYABLE_4XX.has(res.status)) {
                    // 429: the limit is per tenant, so another node would not help; wait as asked.
                    lastError = error;
                    waitMs = retryAfterMs !== undefined ? Math.min(retryAfterMs, maxRetryAfterMs) : undefined;
                    break;
                }
                throw error;
            }
            if (retry >= maxRetries)
                break;
            await this.sleep(waitMs ?? this.backoff(retry));
        }
        if (lastError instanceof ApiError)
            throw lastError;
        if (lastError instanceof ConnectionError) {
            throw new ConnectionError(`no stripemeter node reachable after ${maxRetries + 1} round(s): ${lastError.message}`, [...this.nodes], lastError.cause);
        }
        throw lastError;
    }
    markDown(idx) {
        this.downUntil[idx] = this.now() + this.opts.nodeCooldownMs;
    }
}
function parseProblem(text, status) {
    if (text) {
        try {
            const parsed = JSON.parse(text);
            if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
                const p = parsed;
                // Some frameworks answer {"detail": [...]} for validation errors.
                if (p.detail !== undefined && typeof p.detail !== "string") {
                    return { ...p, detail: JSON.stringify(p.detail) };
                }
                return p;
            }
        }
        catch {
            // not JSON
        }
        return { status, detail: text.slice(0, 500) };
    }
    return { status };
}
function describe(err) {
    if (err instanceof Error) {
        const cause = err.cause;
        const causeText = cause instanceof Error ? ` (${cause.message})` : "";
        return `${err.name}: ${err.message}${causeText}`;
    }
    return String(err);
}
