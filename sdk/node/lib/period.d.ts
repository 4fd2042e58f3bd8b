/**
 * The last complete monthly billing period before `now`, in UTC, for an anchor day
 * (1..31, clamped to the length of each month): `{start, end}` with `end` exclusive.
 */
export declare function lastBillingPeriod(anchorDay: number, now?: Date): {
    start: Date;
    end: Date;
};
