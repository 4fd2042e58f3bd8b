import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalTimestamp, computeIdempotencyKey, createClient, normalizeQuantity, type Meta } from "../src/index.js";
import { repoRoot } from "../testsupport/paths.js";

interface Vector {
  name: string;
  input: { tenantId: string; metric: string; customerRef: string; resourceId?: string; ts: string; quantity: string; meta?: Meta };
  canonicalTs: string;
  canonicalQuantity: string;
  expected: string;
}

const vectorsPath = join(repoRoot, "tests", "vectors", "idempotency.json");

test("shared idempotency vectors file exists and is not empty", () => {
  assert.ok(existsSync(vectorsPath), `missing ${vectorsPath}`);
  const { vectors } = JSON.parse(readFileSync(vectorsPath, "utf8")) as { vectors: Vector[] };
  assert.ok(Array.isArray(vectors) && vectors.length > 0, "no vectors");
});

const vectors: Vector[] = existsSync(vectorsPath)
  ? (JSON.parse(readFileSync(vectorsPath, "utf8")) as { vectors: Vector[] }).vectors
  : [];

for (const v of vectors) {
  test(`vector: ${v.name}`, () => {
    assert.equal(canonicalTimestamp(v.input.ts), v.canonicalTs, "canonical ts");
    assert.equal(normalizeQuantity(v.input.quantity), v.canonicalQuantity, "canonical quantity");
    assert.equal(computeIdempotencyKey(v.input), v.expected, "key");
    // The client derives the same key when it prepares the event for sending.
    const client = createClient({ apiUrl: "http://127.0.0.1:9", tenantId: v.input.tenantId, apiKey: "k" });
    const prepared = client.prepare({
      metric: v.input.metric,
      customerRef: v.input.customerRef,
      ts: v.input.ts,
      quantity: v.input.quantity,
      ...(v.input.resourceId !== undefined ? { resourceId: v.input.resourceId } : {}),
      ...(v.input.meta !== undefined ? { meta: v.input.meta } : {}),
    });
    assert.equal(prepared.idempotencyKey, v.expected);
    assert.equal(prepared.ts, v.canonicalTs);
    assert.equal(prepared.quantity, v.canonicalQuantity);
  });
}
