/**
 * RFC 8785 (JCS) canonical JSON, written here so the SDK has no runtime dependencies:
 * a package with none works even when npm links it from a clone without installing anything.
 *
 * JCS is defined on ECMAScript's own serialisation: strings and numbers are written exactly
 * as JSON.stringify writes them (shortest round-trip numbers, minimal escapes), and object
 * members are sorted by their names' UTF-16 code units — the order of a plain `sort()`.
 */
/** The canonical text of a JSON value; throws TypeError for anything JSON cannot represent. */
export declare function canonicalJson(value: unknown): string;
