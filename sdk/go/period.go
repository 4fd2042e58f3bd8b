package stripemeter

import "time"

// BillingPeriod is a half-open interval [Start, End) of UTC instants.
type BillingPeriod struct {
	Start, End time.Time
}

// Contains reports whether t is inside the period.
func (p BillingPeriod) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// CurrentBillingPeriod is the monthly period anchored on anchorDay (1..31) that contains
// now, computed as the server does in UTC: a period starts on day min(anchorDay, days in
// that month) at 00:00, so anchor 31 means the last day of shorter months.
func CurrentBillingPeriod(anchorDay int, now time.Time) BillingPeriod {
	anchorDay = clampAnchor(anchorDay)
	now = now.UTC()
	year, month := now.Year(), now.Month()
	start := anchorDate(year, month, anchorDay)
	if now.Before(start) {
		year, month = shiftMonth(year, month, -1)
		start = anchorDate(year, month, anchorDay)
	}
	nextYear, nextMonth := shiftMonth(year, month, 1)
	return BillingPeriod{Start: start, End: anchorDate(nextYear, nextMonth, anchorDay)}
}

// LastBillingPeriod is the monthly period just before CurrentBillingPeriod.
func LastBillingPeriod(anchorDay int, now time.Time) BillingPeriod {
	anchorDay = clampAnchor(anchorDay)
	current := CurrentBillingPeriod(anchorDay, now)
	year, month := shiftMonth(current.Start.Year(), current.Start.Month(), -1)
	return BillingPeriod{Start: anchorDate(year, month, anchorDay), End: current.Start}
}

func clampAnchor(day int) int {
	if day < 1 {
		return 1
	}
	if day > 31 {
		return 31
	}
	return day
}

func anchorDate(year int, month time.Month, anchorDay int) time.Time {
	days := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if anchorDay > days {
		anchorDay = days
	}
	return time.Date(year, month, anchorDay, 0, 0, 0, 0, time.UTC)
}

func shiftMonth(year int, month time.Month, delta int) (int, time.Month) {
	index := year*12 + int(month-1) + delta
	return index / 12, time.Month(index%12 + 1)
}
