package stripemeter

import (
	"strconv"
	"sync"
	"time"
)

const canonicalTimeLayout = "2006-01-02T15:04:05.000000Z"

// The instants the server accepts: [1000-01-01, 9000-01-01) UTC.
var (
	minInstant = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxInstant = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// FormatTimestamp is the canonical text of an instant, the one hashed into idempotency keys:
// UTC, always six fractional digits, finer digits truncated (never rounded).
func FormatTimestamp(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(canonicalTimeLayout)
}

// ParseTimestamp reads RFC 3339 date-time text exactly as the server does: an offset is
// required ("Z" or ±hh:mm), "t", "z" and a space separator are accepted, any number of
// fractional digits is accepted (the canonical form keeps microseconds), and leap seconds
// and instants outside [1000-01-01, 9000-01-01) are refused.
func ParseTimestamp(s string) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, inputErrorf("ts", "%q is not an RFC 3339 date-time (%s); expected e.g. 2025-01-16T14:30:00Z", s, why)
	}
	if len(s) > 64 {
		return bad("too long")
	}
	f, ok := splitTimestamp(s)
	if !ok {
		return bad("not an RFC 3339 date-time with a time zone offset")
	}
	if f.hour > 23 || f.minute > 59 || f.second > 59 {
		return bad("time out of range")
	}
	if f.offHour > 23 || f.offMinute > 59 {
		return bad("offset out of range")
	}
	t := time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.second, f.nanos, time.UTC)
	if t.Year() != f.year || int(t.Month()) != f.month || t.Day() != f.day {
		return bad("no such date")
	}
	t = t.Add(-time.Duration(f.offSign*(f.offHour*60+f.offMinute)) * time.Minute)
	if err := checkInstant(t, "ts"); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

func checkInstant(t time.Time, field string) error {
	if t.Before(minInstant) || !t.Before(maxInstant) {
		return inputErrorf(field, "must be from 1000-01-01 and before 9000-01-01")
	}
	return nil
}

type timestampFields struct {
	year, month, day, hour, minute, second, nanos int
	offSign, offHour, offMinute                   int
}

// splitTimestamp matches YYYY-MM-DD[Tt ]hh:mm:ss[.f+](Z|z|±hh:mm) in ASCII digits.
func splitTimestamp(s string) (timestampFields, bool) {
	var f timestampFields
	num := func(at, width int) (int, bool) {
		if at+width > len(s) {
			return 0, false
		}
		n, err := strconv.Atoi(s[at : at+width])
		if err != nil || !allDigits(s[at:at+width]) {
			return 0, false
		}
		return n, true
	}
	sep := func(at int, options string) bool {
		if at >= len(s) {
			return false
		}
		for i := 0; i < len(options); i++ {
			if s[at] == options[i] {
				return true
			}
		}
		return false
	}
	var ok [6]bool
	f.year, ok[0] = num(0, 4)
	f.month, ok[1] = num(5, 2)
	f.day, ok[2] = num(8, 2)
	f.hour, ok[3] = num(11, 2)
	f.minute, ok[4] = num(14, 2)
	f.second, ok[5] = num(17, 2)
	for _, good := range ok {
		if !good {
			return f, false
		}
	}
	if !sep(4, "-") || !sep(7, "-") || !sep(10, "Tt ") || !sep(13, ":") || !sep(16, ":") {
		return f, false
	}
	i := 19
	if i < len(s) && s[i] == '.' {
		start := i + 1
		i = start
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return f, false
		}
		frac := s[start:i]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		for len(frac) < 9 {
			frac += "0"
		}
		f.nanos, _ = strconv.Atoi(frac)
	}
	rest := s[i:]
	if rest == "Z" || rest == "z" {
		return f, true
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return f, false
	}
	f.offSign = 1
	if rest[0] == '-' {
		f.offSign = -1
	}
	var okH, okM bool
	f.offHour, okH = num(i+1, 2)
	f.offMinute, okM = num(i+4, 2)
	return f, okH && okM
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// stamper hands out "now" in UTC at microsecond precision, strictly increasing: two
// otherwise identical events stamped by one client never share a timestamp, hence never
// share an idempotency key.
type stamper struct {
	mu   sync.Mutex
	last time.Time
	now  func() time.Time
}

func (s *stamper) stamp() time.Time {
	now := s.now().UTC().Truncate(time.Microsecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !now.After(s.last) {
		now = s.last.Add(time.Microsecond)
	}
	s.last = now
	return now
}
