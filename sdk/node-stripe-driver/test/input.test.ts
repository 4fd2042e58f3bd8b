import { test } from "node:test";
import assert from "node:assert/strict";
import { DriverConfigError, DriverInputError, StripeBillingDriverImpl, type RecordUsageInput } from "../src/index.js";
import { meterEventIdentifier, parsePeriodStart, parseRecordUsage } from "../src/input.js";

const valid: RecordUsageInput = {
  mode: "live", stripeAccount: "default", subscriptionItemId: "si_123", quantity: 100,
  periodStart: "2025-01-01", idempotencyKey: "unique-key",
};

test("the sample's call parses: 'default' account means the key's own, dates are midnight UTC", () => {
  assert.deepEqual(parseRecordUsage(valid), {
    mode: "live", stripeAccount: undefined, subscriptionItemId: "si_123", quantity: "100",
    timestamp: Date.UTC(2025, 0, 1) / 1000, idempotencyKey: "unique-key",
  });
});

test("period starts: Date, RFC 3339 with offset and Unix seconds agree", () => {
  const seconds = Date.UTC(2025, 0, 1) / 1000;
  assert.deepEqual(
    [parsePeriodStart(new Date(seconds * 1000)), parsePeriodStart("2025-01-01T01:00:00+01:00"), parsePeriodStart(seconds)],
    [seconds, seconds, seconds],
  );
});

const refusals: Array<[keyof RecordUsageInput, unknown]> = [
  ["mode", "production"],
  ["stripeAccount", "acme"],
  ["subscriptionItemId", "si_1/../../v1/charges"],
  ["subscriptionItemId", ""],
  ["quantity", -1],
  ["quantity", 1.5],
  ["quantity", "1e3"],
  ["quantity", 2n ** 63n],
  ["periodStart", "2025-02-30"],
  ["periodStart", "yesterday"],
  ["periodStart", -5],
  ["idempotencyKey", ""],
  ["idempotencyKey", "line\nbreak"],
  ["idempotencyKey", "k".repeat(256)],
];

for (const [field, value] of refusals) {
  test(`${field} = ${JSON.stringify(String(value))} is refused, naming the field`, () => {
    assert.throws(() => parseRecordUsage({ ...valid, [field]: value }), (err: unknown) =>
      err instanceof DriverInputError && err.field === field);
  });
}

test("a long idempotency key becomes a digest as the meter event identifier (Stripe allows 100)", () => {
  const identifier = meterEventIdentifier("k".repeat(101));
  assert.deepEqual([identifier.length <= 100, identifier.startsWith("smk_"), meterEventIdentifier("short")], [true, true, "short"]);
});

test("a mode without a configured key is refused before any request", async () => {
  const driver = new StripeBillingDriverImpl({ liveKey: "sk_live_x", apiBase: "http://127.0.0.1:9" });
  await assert.rejects(driver.recordUsage({ ...valid, mode: "test" }), DriverConfigError);
});

test("a test-mode key configured as the live key is refused", async () => {
  const driver = new StripeBillingDriverImpl({ liveKey: "sk_test_x", apiBase: "http://127.0.0.1:9" });
  await assert.rejects(driver.recordUsage(valid), DriverConfigError);
});

test("the error for a misconfigured key never contains the key", async () => {
  const driver = new StripeBillingDriverImpl({ testKey: "sk_live_secret123", apiBase: "http://127.0.0.1:9" });
  await assert.rejects(driver.recordUsage({ ...valid, mode: "test" }), (err: Error) => !err.message.includes("secret123"));
});

test("apiBase must be an http(s) URL", () => {
  assert.throws(() => new StripeBillingDriverImpl({ apiBase: "ftp://127.0.0.1" }), DriverConfigError);
});
