import { EventBuffer } from "./buffer.js";
import { normalizeQuantity } from "./decimal.js";
import { ClientClosedError, EventRejectedError, StripeMeterError, ValidationError } from "./errors.js";
import { computeIdempotencyKey } from "./idempotency.js";
import { lastBillingPeriod } from "./period.js";
import { canonicalTimestamp } from "./timestamp.js";
import { Transport } from "./transport.js";
import { PortalApi } from "./portal.js";
import { EntitlementsApi } from "./entitlements.js";
export const SDK_VERSION = "0.1.0";
/** Largest JSON body the SDK sends in one ingest request (server limit 1 MiB). */
const MAX_BODY_BYTES = 900 * 1024;
const MAX_EVENTS_PER_REQUEST = 1000;
function envList(value) {
    if (!value)
        return undefined;
    const parts = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    return parts.length ? parts : undefined;
}
function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}
function requireString(value, field, max = 255) {
    if (typeof value !== "string" || value === "")
        throw new ValidationError(`${field} must be a non-empty string`, field);
    if (value.length > max)
        throw new ValidationError(`${field} must be at most ${max} characters`, field);
    return value;
}
function toIso(v, field) {
    if (v instanceof Date) {
        if (!Number.isFinite(v.getTime()))
            throw new ValidationError(`${field} is an invalid Date`, field);
        return v.toISOString();
    }
    return requireString(v, field, 64);
}
export class MetricsApi {
    client;
    constructor(client) {
        this.client = client;
    }
    /** Create a metric (201), or confirm an identical one (200); a different definition is ConflictError (409). */
    create(schema) {
        requireString(schema?.code, "code");
        return this.client.request("POST", "/v1/metrics", { body: schema });
    }
    async list() {
        const res = await this.client.request("GET", "/v1/metrics");
        return res.data;
    }
    get(code) {
        return this.client.request("GET", `/v1/metrics/${encodeURIComponent(requireString(code, "code"))}`);
    }
    update(code, patch) {
        return this.client.request("PATCH", `/v1/metrics/${encodeURIComponent(requireString(code, "code"))}`, {
            body: patch,
        });
    }
    async delete(code) {
        await this.client.request("DELETE", `/v1/metrics/${encodeURIComponent(requireString(code, "code"))}`);
    }
}
export class StripeMeterClient {
    tenantId;
    customerId;
    metrics;
    portal;
    entitlements;
    transport;
    buffer;
    clock;
    closed = false;
    constructor(options = {}) {
        const env = process.env;
        const urls = options.apiUrl === undefined
            ? envList(env["STRIPEMETER_URL"]) ?? envList(env["STRIPEMETER_API_URL"]) ?? ["http://127.0.0.1:3000"]
            : Array.isArray(options.apiUrl)
                ? options.apiUrl
                : [options.apiUrl];
        if (urls.length === 0)
            throw new ValidationError("apiUrl must name at least one node", "apiUrl");
        for (const u of urls) {
            let parsed;
            try {
                parsed = new URL(u);
            }
            catch {
                throw new ValidationError(`apiUrl ${JSON.stringify(u)} is not a URL`, "apiUrl");
            }
            if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
                throw new ValidationError(`apiUrl ${JSON.stringify(u)} must be http or https`, "apiUrl");
            }
        }
        this.tenantId = options.tenantId ?? (env["STRIPEMETER_TENANT"] || undefined);
        this.customerId = options.customerId;
        this.clock = options.now ?? (() => new Date());
        const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
        const transportOptions = {
            nodes: urls,
            apiKey: options.apiKey ?? (env["STRIPEMETER_API_KEY"] || undefined),
            fetch: fetchImpl,
            timeoutMs: options.timeoutMs ?? 10_000,
            retry: {
                maxRetries: options.retry?.maxRetries ?? 8,
                initialDelayMs: options.retry?.initialDelayMs ?? 200,
                maxDelayMs: options.retry?.maxDelayMs ?? 10_000,
                maxRetryAfterMs: options.retry?.maxRetryAfterMs ?? 60_000,
            },
            loadBalancing: options.loadBalancing ?? "round-robin",
            nodeCooldownMs: options.nodeCooldownMs ?? 5_000,
            userAgent: `stripemeter-node/${SDK_VERSION}`,
        };
        if (options.random)
            transportOptions.random = options.random;
        if (options.sleep)
            transportOptions.sleep = options.sleep;
        this.transport = new Transport(transportOptions);
        this.metrics = new MetricsApi(this);
        this.portal = new PortalApi(this);
        this.entitlements = new EntitlementsApi(this, { cacheSeconds: options.entitlementsCacheSeconds ?? 0 });
        if (options.buffered) {
            const bufferOptions = options.buffered === true ? {} : options.buffered;
            this.buffer = new EventBuffer((events) => this.sendBatch(events), bufferOptions);
        }
    }
    /** Node URLs in use. */
    get nodes() {
        return [...this.transport.nodes];
    }
    /** Events waiting in the buffer (0 when not buffered). */
    get buffered() {
        return this.buffer?.size ?? 0;
    }
    /** Low-level request with retries and failover (paths under the API root, e.g. "/v1/metrics"). */
    request(method, path, options = {}) {
        if (this.closed)
            return Promise.reject(new ClientClosedError("client is closed"));
        return this.transport.request(method, path, options);
    }
    /**
     * Validate an event, stamp `ts`, normalise `quantity` and (when the tenant is known) derive
     * its idempotency key. The result is exactly what is sent, so resending it is always
     * deduplicated: without a tenant the server derives the same key from the same fields.
     */
    prepare(event) {
        if (!isPlainObject(event))
            throw new ValidationError("event must be an object");
        const metric = requireString(event.metric, "metric");
        const customerRef = requireString(event.customerRef ?? this.customerId, "customerRef");
        const quantity = normalizeQuantity(event.quantity ?? 1);
        const ts = canonicalTimestamp(event.ts ?? this.clock());
        let resourceId;
        // An empty resourceId means "none" (it is keyed as "" either way).
        if (event.resourceId !== undefined && event.resourceId !== null && event.resourceId !== "") {
            resourceId = requireString(event.resourceId, "resourceId");
        }
        let meta;
        if (event.meta !== undefined && event.meta !== null) {
            if (!isPlainObject(event.meta))
                throw new ValidationError("meta must be a JSON object", "meta");
            meta = event.meta;
        }
        let idempotencyKey;
        if (event.idempotencyKey !== undefined) {
            idempotencyKey = requireString(event.idempotencyKey, "idempotencyKey");
        }
        else if (this.tenantId !== undefined) {
            idempotencyKey = computeIdempotencyKey({ tenantId: this.tenantId, metric, customerRef, resourceId, ts, quantity, meta });
        }
        const prepared = { metric, customerRef, quantity, ts };
        if (this.tenantId !== undefined)
            prepared.tenantId = this.tenantId;
        if (idempotencyKey !== undefined)
            prepared.idempotencyKey = idempotencyKey;
        if (resourceId !== undefined)
            prepared.resourceId = resourceId;
        if (meta !== undefined)
            prepared.meta = meta;
        return prepared;
    }
    /**
     * Record one event. Unbuffered: sends it now and resolves with "accepted" or "duplicate"
     * (a rejected or conflicting event throws EventRejectedError). Buffered: queues it and
     * resolves with "queued" (or "dropped" under the drop policy).
     */
    async track(event) {
        if (this.closed)
            throw new ClientClosedError("client is closed");
        const prepared = this.prepare(event);
        if (this.buffer) {
            const status = await this.buffer.add(prepared);
            const queued = { status, event: prepared };
            if (prepared.idempotencyKey !== undefined)
                queued.idempotencyKey = prepared.idempotencyKey;
            return queued;
        }
        const response = await this.sendBatch([prepared]);
        const result = response.results[0];
        if (result === undefined)
            throw new StripeMeterError("server returned no result for the event");
        if (result.status === "rejected" || result.status === "conflict") {
            throw new EventRejectedError(result.idempotencyKey, result.status, result.error?.code, result.error?.message, result.error?.field);
        }
        const out = { idempotencyKey: result.idempotencyKey, status: result.status, event: prepared };
        if (result.late !== undefined)
            out.late = result.late;
        return out;
    }
    /**
     * Send many events now (also in buffered mode), split into requests of at most 1000
     * events / ~900 KiB. Per-event outcomes are in `results` (indices refer to `events`);
     * nothing throws for a rejected event.
     */
    async trackBatch(events) {
        if (this.closed)
            throw new ClientClosedError("client is closed");
        if (!Array.isArray(events))
            throw new ValidationError("events must be an array");
        return this.sendBatch(events.map((e) => this.prepare(e)));
    }
    /** Alias of trackBatch (mirrors the Python SDK's `ingest`). */
    ingest(events) {
        return this.trackBatch(events);
    }
    /** Send prepared events, chunked to the server's limits; results are merged in input order. */
    async sendBatch(events) {
        const merged = { accepted: 0, duplicates: 0, rejected: 0, conflicts: 0, requestId: "", requestIds: [], results: [] };
        let offset = 0;
        for (const chunk of chunkEvents(events)) {
            const raw = await this.transport.request("POST", "/v1/events/ingest", { body: { events: chunk } });
            if (!raw || !Array.isArray(raw.results))
                throw new StripeMeterError("malformed ingest response");
            merged.accepted += raw.accepted ?? 0;
            merged.duplicates += raw.duplicates ?? 0;
            merged.rejected += raw.rejected ?? 0;
            merged.conflicts += raw.conflicts ?? 0;
            if (raw.requestId)
                merged.requestIds.push(raw.requestId);
            for (const r of raw.results)
                merged.results.push({ ...r, index: r.index + offset });
            offset += chunk.length;
        }
        merged.requestId = merged.requestIds[0] ?? "";
        merged.results.sort((a, b) => a.index - b.index);
        return merged;
    }
    /** Live usage of a customer's current periods (GET /v1/usage/current). */
    getUsage(customerRef) {
        const ref = requireString(customerRef ?? this.customerId, "customerRef");
        return this.request("GET", "/v1/usage/current", { query: { customerRef: ref, tenantId: this.tenantId } });
    }
    /** Cost projection for a customer's current period (POST /v1/usage/projection). */
    getProjection(customerRef, options = {}) {
        const ref = requireString(customerRef ?? this.customerId, "customerRef");
        const body = { customerRef: ref };
        if (options.metric !== undefined)
            body["metric"] = requireString(options.metric, "metric");
        if (this.tenantId !== undefined)
            body["tenantId"] = this.tenantId;
        return this.request("POST", "/v1/usage/projection", { body });
    }
    /** All aggregate values of a metric for a customer over [start, end) (POST /v1/usage/query). */
    query(customerRef, metric, period) {
        if (!isPlainObject(period))
            throw new ValidationError("period must be {start, end}", "period");
        const body = {
            customerRef: requireString(customerRef, "customerRef"),
            metric: requireString(metric, "metric"),
            start: toIso(period.start, "start"),
            end: toIso(period.end, "end"),
        };
        if (this.tenantId !== undefined)
            body["tenantId"] = this.tenantId;
        return this.request("POST", "/v1/usage/query", { body });
    }
    /** The last complete monthly billing period (UTC) for an anchor day; see `lastBillingPeriod`. */
    lastBillingPeriod(anchorDay, now = this.clock()) {
        return lastBillingPeriod(anchorDay, now);
    }
    /** Readiness of the service (GET /health/ready). */
    health() {
        return this.request("GET", "/health/ready");
    }
    /** Buffered mode: send everything buffered now. No-op when unbuffered. */
    async flush() {
        await this.buffer?.flush();
    }
    /** Flush the buffer (if any) and refuse further calls. Safe to call twice. */
    async close() {
        if (this.closed)
            return;
        this.closed = true;
        await this.buffer?.close();
    }
}
/** Split prepared events into requests within the server's count and size limits. */
function chunkEvents(events) {
    const chunks = [];
    let current = [];
    let bytes = 0;
    for (const e of events) {
        const size = Buffer.byteLength(JSON.stringify(e), "utf8") + 1;
        if (current.length > 0 && (current.length >= MAX_EVENTS_PER_REQUEST || bytes + size > MAX_BODY_BYTES)) {
            chunks.push(current);
            current = [];
            bytes = 0;
        }
        current.push(e);
        bytes += size;
    }
    if (current.length > 0)
        chunks.push(current);
    return chunks;
}
/** Create a client (see ClientOptions). */
export function createClient(options = {}) {
    return new StripeMeterClient(options);
}
