import { EventBuffer, type BufferOptions } from "./buffer.js";
import { normalizeQuantity } from "./decimal.js";
import { ClientClosedError, EventRejectedError, StripeMeterError, ValidationError } from "./errors.js";
import { computeIdempotencyKey, type Meta } from "./idempotency.js";
import { lastBillingPeriod } from "./period.js";
import { canonicalTimestamp } from "./timestamp.js";
import { Transport, type FetchLike, type LoadBalancing, type RetryOptions } from "./transport.js";
import type {
  CurrentUsage,
  EventResult,
  IngestResponse,
  Metric,
  MetricSchema,
  Period,
  PreparedEvent,
  Projection,
  TrackResult,
  UsageEvent,
  UsageQueryResult,
} from "./types.js";
import { PortalApi } from "./portal.js";
import { EntitlementsApi } from "./entitlements.js";

export const SDK_VERSION = "0.1.0";

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

/** Largest JSON body the SDK sends in one ingest request (server limit 1 MiB). */
const MAX_BODY_BYTES = 900 * 1024;
const MAX_EVENTS_PER_REQUEST = 1000;

interface RawIngestResponse {
  accepted?: number;
  duplicates?: number;
  rejected?: number;
  conflicts?: number;
  requestId?: string;
  results?: EventResult[];
}

function envList(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  const parts = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return parts.length ? parts : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

function requireString(value: unknown, field: string, max = 255): string {
  if (typeof value !== "string" || value === "") throw new ValidationError(`${field} must be a non-empty string`, field);
  if (value.length > max) throw new ValidationError(`${field} must be at most ${max} characters`, field);
  return value;
}

function toIso(v: Date | string, field: string): string {
  if (v instanceof Date) {
    if (!Number.isFinite(v.getTime())) throw new ValidationError(`${field} is an invalid Date`, field);
    return v.toISOString();
  }
  return requireString(v, field, 64);
}

export class MetricsApi {
  constructor(private readonly client: StripeMeterClient) {}

  /** Create a metric (201), or confirm an identical one (200); a different definition is ConflictError (409). */
  create(schema: MetricSchema): Promise<Metric> {
    requireString(schema?.code, "code");
    return this.client.request<Metric>("POST", "/v1/metrics", { body: schema });
  }

  async list(): Promise<Metric[]> {
    const res = await this.client.request<{ data: Metric[] }>("GET", "/v1/metrics");
    return res.data;
  }

  get(code: string): Promise<Metric> {
    return this.client.request<Metric>("GET", `/v1/metrics/${encodeURIComponent(requireString(code, "code"))}`);
  }

  update(code: string, patch: Partial<MetricSchema>): Promise<Metric> {
    return this.client.request<Metric>("PATCH", `/v1/metrics/${encodeURIComponent(requireString(code, "code"))}`, {
      body: patch,
    });
  }

  async delete(code: string): Promise<void> {
    await this.client.request<unknown>("DELETE", `/v1/metrics/${encodeURIComponent(requireString(code, "code"))}`);
  }
}

export class StripeMeterClient {
  readonly tenantId: string | undefined;
  readonly customerId: string | undefined;
  readonly metrics: MetricsApi;
  readonly portal: PortalApi;
  readonly entitlements: EntitlementsApi;
  private readonly transport: Transport;
  private readonly buffer: EventBuffer | undefined;
  private readonly clock: () => Date;
  private closed = false;

  constructor(options: ClientOptions = {}) {
    const env = process.env;
    const urls =
      options.apiUrl === undefined
        ? envList(env["STRIPEMETER_URL"]) ?? envList(env["STRIPEMETER_API_URL"]) ?? ["http://127.0.0.1:3000"]
        : Array.isArray(options.apiUrl)
          ? options.apiUrl
          : [options.apiUrl];
    if (urls.length === 0) throw new ValidationError("apiUrl must name at least one node", "apiUrl");
    for (const u of urls) {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        throw new ValidationError(`apiUrl ${JSON.stringify(u)} is not a URL`, "apiUrl");
      }
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
        throw new ValidationError(`apiUrl ${JSON.stringify(u)} must be http or https`, "apiUrl");
      }
    }
    this.tenantId = options.tenantId ?? (env["STRIPEMETER_TENANT"] || undefined);
    this.customerId = options.customerId;
    this.clock = options.now ?? (() => new Date());
    const fetchImpl = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
    const transportOptions: ConstructorParameters<typeof Transport>[0] = {
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
    if (options.random) transportOptions.random = options.random;
    if (options.sleep) transportOptions.sleep = options.sleep;
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
  get nodes(): string[] {
    return [...this.transport.nodes];
  }

  /** Events waiting in the buffer (0 when not buffered). */
  get buffered(): number {
    return this.buffer?.size ?? 0;
  }

  /** Low-level request with retries and failover (paths under the API root, e.g. "/v1/metrics"). */
  request<T>(method: string, path: string, options: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new ClientClosedError("client is closed"));
    return this.transport.request<T>(method, path, options);
  }

  /**
   * Validate an event, stamp `ts`, normalise `quantity` and (when the tenant is known) derive
   * its idempotency key. The result is exactly what is sent, so resending it is always
   * deduplicated: without a tenant the server derives the same key from the same fields.
   */
  prepare(event: UsageEvent): PreparedEvent {
    if (!isPlainObject(event)) throw new ValidationError("event must be an object");
    const metric = requireString(event.metric, "metric");
    const customerRef = requireString(event.customerRef ?? this.customerId, "customerRef");
    const quantity = normalizeQuantity(event.quantity ?? 1);
    const ts = canonicalTimestamp(event.ts ?? this.clock());
    let resourceId: string | undefined;
    // An empty resourceId means "none" (it is keyed as "" either way).
    if (event.resourceId !== undefined && event.resourceId !== null && event.resourceId !== "") {
      resourceId = requireString(event.resourceId, "resourceId");
    }
    let meta: Meta | undefined;
    if (event.meta !== undefined && event.meta !== null) {
      if (!isPlainObject(event.meta)) throw new ValidationError("meta must be a JSON object", "meta");
      meta = event.meta;
    }
    let idempotencyKey: string | undefined;
    if (event.idempotencyKey !== undefined) {
      idempotencyKey = requireString(event.idempotencyKey, "idempotencyKey");
    } else if (this.tenantId !== undefined) {
      idempotencyKey = computeIdempotencyKey({ tenantId: this.tenantId, metric, customerRef, resourceId, ts, quantity, meta });
    }
    const prepared: PreparedEvent = { metric, customerRef, quantity, ts };
    if (this.tenantId !== undefined) prepared.tenantId = this.tenantId;
    if (idempotencyKey !== undefined) prepared.idempotencyKey = idempotencyKey;
    if (resourceId !== undefined) prepared.resourceId = resourceId;
    if (meta !== undefined) prepared.meta = meta;
    return prepared;
  }

  /**
   * Record one event. Unbuffered: sends it now and resolves with "accepted" or "duplicate"
   * (a rejected or conflicting event throws EventRejectedError). Buffered: queues it and
   * resolves with "queued" (or "dropped" under the drop policy).
   */
  async track(event: UsageEvent): Promise<TrackResult> {
    if (this.closed) throw new ClientClosedError("client is closed");
    const prepared = this.prepare(event);
    if (this.buffer) {
      const status = await this.buffer.add(prepared);
      const queued: TrackResult = { status, event: prepared };
      if (prepared.idempotencyKey !== undefined) queued.idempotencyKey = prepared.idempotencyKey;
      return queued;
    }
    const response = await this.sendBatch([prepared]);
    const result = response.results[0];
    if (result === undefined) throw new StripeMeterError("server returned no result for the event");
    if (result.status === "rejected" || result.status === "conflict") {
      throw new EventRejectedError(result.idempotencyKey, result.status, result.error?.code, result.error?.message, result.error?.field);
    }
    const out: TrackResult = { idempotencyKey: result.idempotencyKey, status: result.status, event: prepared };
    if (result.late !== undefined) out.late = result.late;
    return out;
  }

  /**
   * Send many events now (also in buffered mode), split into requests of at most 1000
   * events / ~900 KiB. Per-event outcomes are in `results` (indices refer to `events`);
   * nothing throws for a rejected event.
   */
  async trackBatch(events: UsageEvent[]): Promise<IngestResponse> {
    if (this.closed) throw new ClientClosedError("client is closed");
    if (!Array.isArray(events)) throw new ValidationError("events must be an array");
    return this.sendBatch(events.map((e) => this.prepare(e)));
  }

  /** Alias of trackBatch (mirrors the Python SDK's `ingest`). */
  ingest(events: UsageEvent[]): Promise<IngestResponse> {
    return this.trackBatch(events);
  }

  /** Send prepared events, chunked to the server's limits; results are merged in input order. */
  async sendBatch(events: PreparedEvent[]): Promise<IngestResponse> {
    const merged: IngestResponse = { accepted: 0, duplicates: 0, rejected: 0, conflicts: 0, requestId: "", requestIds: [], results: [] };
    let offset = 0;
    for (const chunk of chunkEvents(events)) {
      const raw = await this.transport.request<RawIngestResponse>("POST", "/v1/events/ingest", { body: { events: chunk } });
      if (!raw || !Array.isArray(raw.results)) throw new StripeMeterError("malformed ingest response");
      merged.accepted += raw.accepted ?? 0;
      merged.duplicates += raw.duplicates ?? 0;
      merged.rejected += raw.rejected ?? 0;
      merged.conflicts += raw.conflicts ?? 0;
      if (raw.requestId) merged.requestIds.push(raw.requestId);
      for (const r of raw.results) merged.results.push({ ...r, index: r.index + offset });
      offset += chunk.length;
    }
    merged.requestId = merged.requestIds[0] ?? "";
    merged.results.sort((a, b) => a.index - b.index);
    return merged;
  }

  /** Live usage of a customer's current periods (GET /v1/usage/current). */
  getUsage(customerRef?: string): Promise<CurrentUsage> {
    const ref = requireString(customerRef ?? this.customerId, "customerRef");
    return this.request<CurrentUsage>("GET", "/v1/usage/current", { query: { customerRef: ref, tenantId: this.tenantId } });
  }

  /** Cost projection for a customer's current period (POST /v1/usage/projection). */
  getProjection(customerRef?: string, options: { metric?: string } = {}): Promise<Projection> {
    const ref = requireString(customerRef ?? this.customerId, "customerRef");
    const body: Record<string, string> = { customerRef: ref };
    if (options.metric !== undefined) body["metric"] = requireString(options.metric, "metric");
    if (this.tenantId !== undefined) body["tenantId"] = this.tenantId;
    return this.request<Projection>("POST", "/v1/usage/projection", { body });
  }

  /** All aggregate values of a metric for a customer over [start, end) (POST /v1/usage/query). */
  query(customerRef: string, metric: string, period: Period): Promise<UsageQueryResult> {
    if (!isPlainObject(period)) throw new ValidationError("period must be {start, end}", "period");
    const body: Record<string, string> = {
      customerRef: requireString(customerRef, "customerRef"),
      metric: requireString(metric, "metric"),
      start: toIso(period.start, "start"),
      end: toIso(period.end, "end"),
    };
    if (this.tenantId !== undefined) body["tenantId"] = this.tenantId;
    return this.request<UsageQueryResult>("POST", "/v1/usage/query", { body });
  }

  /** The last complete monthly billing period (UTC) for an anchor day; see `lastBillingPeriod`. */
  lastBillingPeriod(anchorDay: number, now: Date = this.clock()): { start: Date; end: Date } {
    return lastBillingPeriod(anchorDay, now);
  }

  /** Readiness of the service (GET /health/ready). */
  health(): Promise<Record<string, unknown>> {
    return this.request<Record<string, unknown>>("GET", "/health/ready");
  }

  /** Buffered mode: send everything buffered now. No-op when unbuffered. */
  async flush(): Promise<void> {
    await this.buffer?.flush();
  }

  /** Flush the buffer (if any) and refuse further calls. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.buffer?.close();
  }
}

/** Split prepared events into requests within the server's count and size limits. */
function chunkEvents(events: PreparedEvent[]): PreparedEvent[][] {
  const chunks: PreparedEvent[][] = [];
  let current: PreparedEvent[] = [];
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
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Create a client (see ClientOptions). */
export function createClient(options: ClientOptions = {}): StripeMeterClient {
  return new StripeMeterClient(options);
}
