/**
 * Canonical event times: UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fractional digits.
 *
 * Dates carry milliseconds, which are padded to microseconds. RFC 3339 strings are
 * parsed by hand so sub-millisecond digits survive: finer digits are truncated (not
 * rounded) to microseconds and the offset is applied to reach UTC.
 */
import { ValidationError } from "./errors.js";
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
function pad(n, width) {
    return String(n).padStart(width, "0");
}
/** Format whole UTC seconds since the epoch plus a microsecond fraction. */
function formatUtc(epochSeconds, micros) {
    const d = new Date(epochSeconds * 1000);
    const year = d.getUTCFullYear();
    if (!Number.isFinite(d.getTime()) || year < 1 || year > 9999) {
        throw new ValidationError("ts is outside the years 0001-9999", "ts");
    }
    return (`${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
        `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
        `.${pad(micros, 6)}Z`);
}
function invalid(input) {
    throw new ValidationError(`ts ${JSON.stringify(input)} is not an RFC 3339 date-time`, "ts");
}
/** Parse an RFC 3339 string into whole epoch seconds (UTC) and microseconds. */
function parseRfc3339(input) {
    const m = RFC3339_RE.exec(input.trim());
    if (m === null)
        invalid(input);
    const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((s) => Number.parseInt(s ?? "", 10));
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
        invalid(input);
    // Date.UTC maps years 0-99 to 1900-1999, so build the date with setUTCFullYear.
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, minute, second, 0);
    if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day)
        invalid(input);
    let offsetMinutes = 0;
    if (m[8] === undefined) {
        const oh = Number.parseInt(m[10] ?? "", 10);
        const om = Number.parseInt(m[11] ?? "", 10);
        if (oh > 23 || om > 59)
            invalid(input);
        offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
    }
    const micros = Number.parseInt(((m[7] ?? "") + "000000").slice(0, 6), 10);
    const seconds = Math.floor(d.getTime() / 1000) - offsetMinutes * 60;
    return { seconds, micros };
}
/** Canonical UTC form of an event time. */
export function canonicalTimestamp(input) {
    if (input instanceof Date) {
        const ms = input.getTime();
        if (!Number.isFinite(ms))
            throw new ValidationError("ts is an invalid Date", "ts");
        const seconds = Math.floor(ms / 1000);
        return formatUtc(seconds, (ms - seconds * 1000) * 1000);
    }
    if (typeof input === "string") {
        const { seconds, micros } = parseRfc3339(input);
        return formatUtc(seconds, micros);
    }
    throw new ValidationError("ts must be a Date or an RFC 3339 string", "ts");
}
