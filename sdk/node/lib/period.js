import { ValidationError } from "./errors.js";
/** Start of the monthly period (UTC) that contains `now`, for a billing anchor day 1..31. */
function periodStartContaining(anchorDay, now) {
    const anchorIn = (year, month) => {
        const first = new Date(Date.UTC(2000, 0, 1));
        first.setUTCFullYear(year, month, 1);
        const daysInMonth = new Date(Date.UTC(2000, 0, 1)).setUTCFullYear(year, month + 1, 0);
        const dim = new Date(daysInMonth).getUTCDate();
        first.setUTCDate(Math.min(anchorDay, dim));
        return first;
    };
    const y = now.getUTCFullYear();
    const m = now.getUTCMonth();
    const thisMonth = anchorIn(y, m);
    return thisMonth.getTime() <= now.getTime() ? thisMonth : anchorIn(y, m - 1);
}
/**
 * The last complete monthly billing period before `now`, in UTC, for an anchor day
 * (1..31, clamped to the length of each month): `{start, end}` with `end` exclusive.
 */
export function lastBillingPeriod(anchorDay, now = new Date()) {
    if (!Number.isInteger(anchorDay) || anchorDay < 1 || anchorDay > 31) {
        throw new ValidationError("anchorDay must be an integer 1..31", "anchorDay");
    }
    const end = periodStartContaining(anchorDay, now);
    const start = periodStartContaining(anchorDay, new Date(end.getTime() - 1));
    return { start, end };
}
