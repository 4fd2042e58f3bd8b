import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ValidationError,
  canonicalKeyMaterial,
  canonicalTimestamp,
  computeIdempotencyKey,
  lastBillingPeriod,
  normalizeDecimalString,
  normalizeQuantity,
} from "../src/index.js";

test("decimal strings normalise without going through numbers", () => {
  const cases: Array<[string, string]> = [
    ["1", "1"], ["1.50", "1.5"], ["1E+2", "100"], ["1e2", "100"], ["-0", "0"], ["+0.000", "0"],
    ["0E-12", "0"], ["00012.3400", "12.34"], ["1.", "1"], [".5", "0.5"], ["-.5", "-0.5"],
    ["2.5e-3", "0.0025"], ["123456789012345678901234567890", "123456789012345678901234567890"],
    ["0.1000000000000000000001", "0.1000000000000000000001"], ["9007199254740993", "9007199254740993"],
    ["-12.5E1", "-125"], ["1.23E-1", "0.123"], [" 42 ", "42"], ["100E-2", "1"], ["1000", "1000"],
  ];
  for (const [input, want] of cases) assert.equal(normalizeDecimalString(input), want, input);
});

test("invalid decimal strings are rejected", () => {
  for (const bad of ["", "abc", "1e", "--1", "1.2.3", "NaN", "Infinity", "-Infinity", "0x10", "1e99999999", "1_000", "1,5"]) {
    assert.throws(() => normalizeDecimalString(bad), ValidationError, bad);
  }
});

test("numbers use their shortest string form; non-finite numbers are rejected", () => {
  assert.equal(normalizeQuantity(0.1), "0.1");
  assert.equal(normalizeQuantity(1e21), "1000000000000000000000");
  assert.equal(normalizeQuantity(1e-7), "0.0000001");
  assert.equal(normalizeQuantity(-0), "0");
  assert.equal(normalizeQuantity(1.5), "1.5");
  assert.equal(normalizeQuantity(100), "100");
  assert.equal(normalizeQuantity(12345678901234567890n), "12345678901234567890");
  assert.throws(() => normalizeQuantity(Number.NaN), ValidationError);
  assert.throws(() => normalizeQuantity(Number.POSITIVE_INFINITY), ValidationError);
  assert.throws(() => normalizeQuantity({} as unknown as number), ValidationError);
});

test("Dates are padded to microseconds in UTC", () => {
  assert.equal(canonicalTimestamp(new Date("2025-01-16T14:30:00.123Z")), "2025-01-16T14:30:00.123000Z");
  assert.equal(canonicalTimestamp(new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999))), "2024-02-29T23:59:59.999000Z");
  assert.equal(canonicalTimestamp(new Date(-1)), "1969-12-31T23:59:59.999000Z");
  assert.throws(() => canonicalTimestamp(new Date("nope")), ValidationError);
});

test("RFC 3339 strings: offsets, truncation, validation", () => {
  assert.equal(canonicalTimestamp("2025-01-16T14:30:00Z"), "2025-01-16T14:30:00.000000Z");
  assert.equal(canonicalTimestamp("2025-01-01T00:30:00.0000019+01:00"), "2024-12-31T23:30:00.000001Z");
  assert.equal(canonicalTimestamp("2025-01-16 14:30:00.1Z"), "2025-01-16T14:30:00.100000Z");
  assert.equal(canonicalTimestamp("0050-06-01T00:00:00Z"), "0050-06-01T00:00:00.000000Z");
  for (const bad of [
    "2025-01-16", "2025-01-16T14:30:00", "2025-02-30T00:00:00Z", "2025-13-01T00:00:00Z", "2025-01-16T24:00:00Z",
    "2025-01-16T14:60:00Z", "2025-01-16T14:30:60Z", "2025-01-16T14:30:00+24:00", "2025-01-16T14:30:00.Z", "yesterday",
  ]) {
    assert.throws(() => canonicalTimestamp(bad), ValidationError, bad);
  }
});

test("key material is the JCS array described in the design", () => {
  const material = canonicalKeyMaterial({
    tenantId: "acme", metric: "api_calls", customerRef: "cus_1", ts: "2025-01-16T14:30:00Z", quantity: "1.50",
    meta: { b: 1, a: "x" },
  });
  assert.equal(material, '["acme","api_calls","cus_1","","2025-01-16T14:30:00.000000Z","1.5",{"a":"x","b":1}]');
  const key = computeIdempotencyKey({ tenantId: "acme", metric: "m", customerRef: "c", ts: new Date(0), quantity: 1 });
  assert.match(key, /^evt_[0-9a-f]{32}$/);
  assert.equal(key, computeIdempotencyKey({ tenantId: "acme", metric: "m", customerRef: "c", ts: "1970-01-01T01:00:00+01:00", quantity: "1.000", meta: {} }));
});

test("lastBillingPeriod clamps the anchor to the month length", () => {
  const p = lastBillingPeriod(31, new Date("2025-03-15T12:00:00Z"));
  assert.equal(p.start.toISOString(), "2025-01-31T00:00:00.000Z");
  assert.equal(p.end.toISOString(), "2025-02-28T00:00:00.000Z");
  const q = lastBillingPeriod(1, new Date("2025-01-01T00:00:00Z"));
  assert.equal(q.start.toISOString(), "2024-12-01T00:00:00.000Z");
  assert.equal(q.end.toISOString(), "2025-01-01T00:00:00.000Z");
  const r = lastBillingPeriod(15, new Date("2025-01-10T00:00:00Z"));
  assert.equal(r.start.toISOString(), "2024-11-15T00:00:00.000Z");
  assert.equal(r.end.toISOString(), "2024-12-15T00:00:00.000Z");
  assert.throws(() => lastBillingPeriod(0), ValidationError);
  assert.throws(() => lastBillingPeriod(32), ValidationError);
});
