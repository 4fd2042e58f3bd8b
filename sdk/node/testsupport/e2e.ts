/** Helpers shared by the end-to-end tests. */
import { createClient, normalizeDecimalString, type ClientOptions, type StripeMeterClient } from "../src/index.js";

/** Quantity of event i: exact two-decimal values, so sums are checked exactly. */
export function quantityOf(i: number): string {
  return `${(i % 7) + 1}.${String((i * 37) % 100).padStart(2, "0")}`;
}

/** Exact sum of quantityOf(0..n-1) as a normalised decimal string. */
export function expectedSum(indices: Iterable<number>): string {
  let hundredths = 0n;
  for (const i of indices) hundredths += BigInt(quantityOf(i).replace(".", ""));
  const s = hundredths.toString().padStart(3, "0");
  return normalizeDecimalString(`${s.slice(0, -2)}.${s.slice(-2)}`);
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A client that keeps retrying long enough to ride out a server restart. */
export function patientClient(apiUrl: string | string[], apiKey: string, extra: Partial<ClientOptions> = {}): StripeMeterClient {
  return createClient({
    apiUrl,
    apiKey,
    timeoutMs: 10_000,
    retry: { maxRetries: 200, initialDelayMs: 50, maxDelayMs: 500 },
    ...extra,
  });
}

/** Run `worker(i)` for i in 0..n-1 with `concurrency` workers. */
export async function runPool(n: number, concurrency: number, worker: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        await worker(i);
      }
    }),
  );
}

/** Usage value of one metric for a customer, normalised, from GET /v1/usage/current. */
export async function currentValue(client: StripeMeterClient, customerRef: string, metric: string): Promise<string | null> {
  const usage = await client.getUsage(customerRef);
  const m = usage.metrics.find((x) => x.metric === metric);
  if (!m) return null;
  return m.value === null ? null : normalizeDecimalString(String(m.value));
}

/** Count and sum of a metric for a customer over a wide window, from POST /v1/usage/query. */
export async function queryTotals(client: StripeMeterClient, customerRef: string, metric: string): Promise<{ count: number; sum: string }> {
  // Every test event is stamped during this test run, so a window around it covers them all.
  const now = Date.now();
  const res = await client.query(customerRef, metric, {
    start: new Date(now - 3600 * 1000),
    end: new Date(now + 3600 * 1000),
  });
  return { count: res.value.count, sum: normalizeDecimalString(String(res.value.sum)) };
}

/** A fetch that counts failed attempts (network errors and 5xx), to prove a test went through failures. */
export function countingFetch(): { fetch: (url: string, init: RequestInit) => Promise<Response>; stats: { networkErrors: number; serverErrors: number } } {
  const stats = { networkErrors: 0, serverErrors: 0 };
  return {
    stats,
    fetch: async (url, init) => {
      try {
        const res = await globalThis.fetch(url, init);
        if (res.status >= 500) stats.serverErrors++;
        return res;
      } catch (err) {
        stats.networkErrors++;
        throw err;
      }
    },
  };
}
