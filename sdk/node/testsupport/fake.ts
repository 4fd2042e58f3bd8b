/** In-memory stand-ins for unit tests: a fake fetch that dedupes ingest by idempotency key. */
import { computeIdempotencyKey, type Meta } from "../src/index.js";
export interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export type Step =
  | { kind: "network" }
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: "lose-response" };

/**
 * A fake stripemeter node set. `plan` is consumed one step per request (then requests
 * are served normally). "lose-response" stores the events and then fails like a dropped
 * connection, which is the case that makes client-side keys necessary.
 */
export class FakeServer {
  calls: Call[] = [];
  plan: Step[] = [];
  /** Nodes (URL prefixes) that refuse connections. */
  down = new Set<string>();
  ledger = new Map<string, { quantity: string; payload: string }>();
  totals = new Map<string, number>();

  fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const call: Call = { url, method: init.method ?? "GET", headers, body: init.body as string | undefined };
    this.calls.push(call);
    for (const node of this.down) {
      if (url.startsWith(node)) throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") });
    }
    const step = this.plan.shift();
    if (step?.kind === "network") throw new TypeError("fetch failed", { cause: new Error("socket hang up") });
    if (step?.kind === "status") {
      return new Response(step.body === undefined ? "" : JSON.stringify(step.body), {
        status: step.status,
        headers: { "content-type": "application/problem+json", ...(step.headers ?? {}) },
      });
    }
    const res = this.serve(call);
    if (step?.kind === "lose-response") throw new TypeError("fetch failed", { cause: new Error("other side closed") });
    return res;
  };

  private serve(call: Call): Response {
    const path = new URL(call.url).pathname;
    if (path === "/v1/events/ingest" && call.method === "POST") {
      const body = JSON.parse(call.body ?? "{}") as { events: Array<Record<string, unknown>> };
      let accepted = 0;
      let duplicates = 0;
      const results = body.events.map((e, index) => {
        // Like the server: a missing key is derived from the event (tenant "default" here).
        const key =
          typeof e["idempotencyKey"] === "string"
            ? e["idempotencyKey"]
            : computeIdempotencyKey({
                tenantId: typeof e["tenantId"] === "string" ? e["tenantId"] : "default",
                metric: String(e["metric"]),
                customerRef: String(e["customerRef"]),
                resourceId: e["resourceId"] as string | undefined,
                ts: String(e["ts"]),
                quantity: String(e["quantity"]),
                meta: e["meta"] as Meta | undefined,
              });
        const payload = JSON.stringify({ ...e, idempotencyKey: undefined });
        const seen = this.ledger.get(key);
        if (seen) {
          if (seen.payload !== payload) return { index, idempotencyKey: key, status: "conflict", error: { code: "conflict", message: "differs" } };
          duplicates++;
          return { index, idempotencyKey: key, status: "duplicate", late: false };
        }
        if (e["metric"] === "bad") {
          return { index, idempotencyKey: key, status: "rejected", error: { code: "unknown_metric", message: "no such metric" } };
        }
        this.ledger.set(key, { quantity: String(e["quantity"]), payload });
        const t = `${String(e["customerRef"])}/${String(e["metric"])}`;
        this.totals.set(t, (this.totals.get(t) ?? 0) + Number(e["quantity"]));
        accepted++;
        return { index, idempotencyKey: key, status: "accepted", late: false };
      });
      const rejected = results.filter((r) => r.status === "rejected").length;
      const conflicts = results.filter((r) => r.status === "conflict").length;
      return Response.json({ accepted, duplicates, rejected, conflicts, requestId: `req_${this.calls.length}`, results });
    }
    return Response.json({ path, method: call.method, query: new URL(call.url).search, body: call.body ? JSON.parse(call.body) : null });
  }

  ingestCalls(): Call[] {
    return this.calls.filter((c) => c.url.includes("/v1/events/ingest"));
  }
}

/** A sleep that records delays and does not wait. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
      await new Promise((r) => setImmediate(r));
    },
  };
}
