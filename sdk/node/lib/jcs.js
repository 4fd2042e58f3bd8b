/**
 * RFC 8785 (JCS) canonical JSON, written here so the SDK has no runtime dependencies:
 * a package with none works even when npm links it from a clone without installing anything.
 *
 * JCS is defined on ECMAScript's own serialisation: strings and numbers are written exactly
 * as JSON.stringify writes them (shortest round-trip numbers, minimal escapes), and object
 * members are sorted by their names' UTF-16 code units — the order of a plain `sort()`.
 */
/** The canonical text of a JSON value; throws TypeError for anything JSON cannot represent. */
export function canonicalJson(value) {
    if (value === null || typeof value === "boolean" || typeof value === "string")
        return JSON.stringify(value);
    if (typeof value === "number") {
        if (!Number.isFinite(value))
            throw new TypeError(`JCS cannot represent the number ${String(value)}`);
        return JSON.stringify(value);
    }
    if (typeof value === "object" && typeof value.toJSON === "function") {
        return canonicalJson(value.toJSON()); // as JSON.stringify does, e.g. Date
    }
    if (Array.isArray(value))
        return "[" + value.map((item) => canonicalJson(item)).join(",") + "]";
    if (typeof value === "object")
        return canonicalObject(value);
    throw new TypeError(`JCS cannot represent a value of type ${typeof value}`);
}
function canonicalObject(object) {
    const names = Object.keys(object).filter((name) => object[name] !== undefined).sort();
    const members = names.map((name) => JSON.stringify(name) + ":" + canonicalJson(object[name]));
    return "{" + members.join(",") + "}";
}
