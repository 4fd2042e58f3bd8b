/**
 * Bounded parsing of `recordUsage` arguments: everything is checked before any request is
 * made, and a refusal names the field, so a bad call never reaches Stripe half-formed.
 */
import { createHash } from "node:crypto";
import { DriverInputError } from "./errors.js";
import type { RecordUsageInput, StripeMode } from "./types.js";

export interface ParsedUsage {
  mode: StripeMode;
  stripeAccount: string | undefined;
  subscriptionItemId: string;
  quantity: string;
  timestamp: number;
  idempotencyKey: string;
}

const ITEM_ID = /^[A-Za-z0-9_]{1,255}$/;
const ACCOUNT_ID = /^acct_[A-Za-z0-9]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;
const DIGITS = /^[0-9]{1,19}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_QUANTITY = 2n ** 63n - 1n;
/** Stripe caps a meter event's identifier at 100 characters. */
const MAX_IDENTIFIER = 100;

export function parseRecordUsage(input: RecordUsageInput): ParsedUsage {
  if (typeof input !== "object" || input === null) throw new DriverInputError("input", "must be an object");
  return {
    mode: parseMode(input.mode),
    stripeAccount: parseAccount(input.stripeAccount),
    subscriptionItemId: parseItemId(input.subscriptionItemId),
    quantity: parseQuantity(input.quantity),
    timestamp: parsePeriodStart(input.periodStart),
    idempotencyKey: parseIdempotencyKey(input.idempotencyKey),
  };
}

function parseMode(mode: unknown): StripeMode {
  if (mode === "live" || mode === "test") return mode;
  throw new DriverInputError("mode", 'must be "live" or "test"');
}

function parseAccount(account: unknown): string | undefined {
  if (account === undefined || account === null || account === "" || account === "default") return undefined;
  if (typeof account === "string" && ACCOUNT_ID.test(account)) return account;
  throw new DriverInputError("stripeAccount", 'must be a connected account id (acct_…) or "default"');
}

function parseItemId(id: unknown): string {
  if (typeof id === "string" && ITEM_ID.test(id)) return id;
  throw new DriverInputError("subscriptionItemId", "must be a Stripe id (letters, digits, underscores; at most 255)");
}

function parseQuantity(quantity: unknown): string {
  let value: bigint | undefined;
  if (typeof quantity === "number" && Number.isSafeInteger(quantity)) value = BigInt(quantity);
  else if (typeof quantity === "bigint") value = quantity;
  else if (typeof quantity === "string" && DIGITS.test(quantity)) value = BigInt(quantity);
  if (value === undefined || value < 0n || value > MAX_QUANTITY) {
    throw new DriverInputError("quantity", "must be a whole number between 0 and 2^63-1");
  }
  return value.toString();
}

/** Unix seconds of the period start; calendar dates are midnight UTC. */
export function parsePeriodStart(start: unknown): number {
  let millis = Number.NaN;
  if (start instanceof Date) millis = start.getTime();
  else if (typeof start === "number" && Number.isSafeInteger(start) && start >= 0) millis = start * 1000;
  else if (typeof start === "string") millis = parseDateText(start);
  if (!Number.isFinite(millis) || millis < 0) {
    throw new DriverInputError("periodStart", "must be a Date, YYYY-MM-DD, an RFC 3339 time or Unix seconds");
  }
  return Math.floor(millis / 1000);
}

function parseDateText(text: string): number {
  const date = DATE_ONLY.exec(text);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const millis = Date.UTC(year, month - 1, day);
    const check = new Date(millis);
    return check.getUTCMonth() === month - 1 && check.getUTCDate() === day ? millis : Number.NaN;
  }
  return DATE_TIME.test(text) ? Date.parse(text.replace(" ", "T")) : Number.NaN;
}

function parseIdempotencyKey(key: unknown): string {
  if (typeof key === "string" && IDEMPOTENCY_KEY.test(key) && key.trim() !== "") return key;
  throw new DriverInputError("idempotencyKey", "must be 1–255 printable ASCII characters");
}

/** The meter event identifier: the key itself when it fits Stripe's limit, else a digest of it. */
export function meterEventIdentifier(idempotencyKey: string): string {
  if (idempotencyKey.length <= MAX_IDENTIFIER) return idempotencyKey;
  return "smk_" + createHash("sha256").update(idempotencyKey, "utf8").digest("hex");
}
