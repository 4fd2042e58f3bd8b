/**
 * Exact decimal normalisation for quantities.
 *
 * Quantities given as strings never pass through JS numbers: the string is parsed
 * into (sign, digits, exponent) and rendered in plain notation with no exponent,
 * no leading zeros, no trailing fractional zeros and no trailing point; "-0" is "0".
 * Numbers are first converted to their shortest round-trip string (`String(n)`),
 * then normalised the same way.
 */
import { ValidationError } from "./errors.js";
const DECIMAL_RE = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
/** Largest exponent magnitude accepted (keeps the rendered string bounded). */
const MAX_EXPONENT = 1000;
/** Normalise a decimal given as a string. Throws ValidationError when it is not a finite decimal. */
export function normalizeDecimalString(input) {
    const text = input.trim();
    const m = DECIMAL_RE.exec(text);
    if (m === null) {
        throw new ValidationError(`quantity ${JSON.stringify(input)} is not a finite decimal number`, "quantity");
    }
    const sign = m[1] === "-" ? "-" : "";
    const intPart = m[2] ?? "";
    const fracPart = m[3] ?? m[4] ?? "";
    const expText = m[5] ?? "0";
    // Reject absurd exponents before converting (the text may be arbitrarily long).
    const expDigits = expText.replace(/^[+-]/, "").replace(/^0+/, "");
    if (expDigits.length > 6) {
        throw new ValidationError(`quantity ${JSON.stringify(input)} is out of range`, "quantity");
    }
    let exponent = Number.parseInt(expText, 10) - fracPart.length;
    let digits = (intPart + fracPart).replace(/^0+/, "");
    if (digits === "")
        return "0";
    // Drop trailing zeros into the exponent.
    const trimmed = digits.replace(/0+$/, "");
    exponent += digits.length - trimmed.length;
    digits = trimmed;
    // Position of the decimal point measured from the left of `digits`.
    const pointPos = digits.length + exponent;
    if (pointPos > MAX_EXPONENT || pointPos < -MAX_EXPONENT) {
        throw new ValidationError(`quantity ${JSON.stringify(input)} is out of range`, "quantity");
    }
    let body;
    if (exponent >= 0) {
        body = digits + "0".repeat(exponent);
    }
    else if (pointPos > 0) {
        body = digits.slice(0, pointPos) + "." + digits.slice(pointPos);
    }
    else {
        body = "0." + "0".repeat(-pointPos) + digits;
    }
    return sign + body;
}
/** Normalise a quantity given as a number, bigint or decimal string. */
export function normalizeQuantity(input) {
    if (typeof input === "string")
        return normalizeDecimalString(input);
    if (typeof input === "bigint")
        return normalizeDecimalString(input.toString());
    if (typeof input === "number") {
        if (!Number.isFinite(input)) {
            throw new ValidationError(`quantity ${String(input)} is not a finite number`, "quantity");
        }
        // String(n) is the shortest string that round-trips to n (e.g. 0.1 -> "0.1", 1e21 -> "1e+21").
        return normalizeDecimalString(String(input));
    }
    throw new ValidationError(`quantity must be a number, bigint or decimal string, got ${typeof input}`, "quantity");
}
