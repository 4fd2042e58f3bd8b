export type TimestampInput = Date | string;
/** Canonical UTC form of an event time. */
export declare function canonicalTimestamp(input: TimestampInput): string;
