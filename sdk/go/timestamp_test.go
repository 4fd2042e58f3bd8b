package stripemeter_test

import (
	"errors"
	"testing"
	"time"

	stripemeter "github.com/stripemeter/stripemeter/sdk/go"
)

func TestParseTimestampAcceptsRFC3339Variants(t *testing.T) {
	cases := map[string]string{
		"2025-01-16T14:30:00Z":             "2025-01-16T14:30:00.000000Z",
		"2025-01-16 14:30:00z":             "2025-01-16T14:30:00.000000Z",
		"2025-01-16t14:30:00.1234567891Z":  "2025-01-16T14:30:00.123456Z",
		"2025-01-17T03:30:00+13:00":        "2025-01-16T14:30:00.000000Z",
		"2024-02-29T23:59:59.999999-00:30": "2024-03-01T00:29:59.999999Z",
		"1000-01-01T00:00:00Z":             "1000-01-01T00:00:00.000000Z",
	}
	for in, want := range cases {
		ts, err := stripemeter.ParseTimestamp(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := stripemeter.FormatTimestamp(ts); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
}

func TestParseTimestampRefusesWhatTheServerRefuses(t *testing.T) {
	for _, in := range []string{
		"2025-01-16T14:30:00",        // no offset
		"2025-01-16T23:59:60Z",       // leap second
		"2025-02-30T00:00:00Z",       // no such day
		"2025-01-16T24:00:00Z",       // hour out of range
		"2025-01-16T14:30:00+24:00",  // offset out of range
		"2025-01-16T14:30:00.Z",      // empty fraction
		"0999-12-31T23:59:59Z",       // before 1000
		"9000-01-01T00:00:00Z",       // not before 9000
		"2025-1-16T14:30:00Z",        // short month
		"2025-01-16T14:30:00Z junk",  // trailing text
		"2025-01-16T14:30:00+0530",   // offset without colon
		"２０２５-01-16T14:30:00Z",       // non-ASCII digits
		"2025-01-16T14:30:00.5+05:3", // short offset
	} {
		if _, err := stripemeter.ParseTimestamp(in); !errors.Is(err, stripemeter.ErrInvalidInput) {
			t.Errorf("%q: got %v, want an input error", in, err)
		}
	}
}

func TestFormatTimestampTruncatesNeverRounds(t *testing.T) {
	ts := time.Date(2025, 1, 16, 14, 30, 0, 999_999_999, time.FixedZone("x", 3600))
	if got := stripemeter.FormatTimestamp(ts); got != "2025-01-16T13:30:00.999999Z" {
		t.Errorf("got %s", got)
	}
}

func TestBillingPeriodAnchoredOnTheLastDayOfShortMonths(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	current := stripemeter.CurrentBillingPeriod(31, now)
	last := stripemeter.LastBillingPeriod(31, now)
	wantStart := time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)
	wantEnd := time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)
	if !current.Start.Equal(wantStart) || !current.End.Equal(wantEnd) {
		t.Errorf("current: %v – %v", current.Start, current.End)
	}
	if !last.Start.Equal(time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)) || !last.End.Equal(wantStart) {
		t.Errorf("last: %v – %v", last.Start, last.End)
	}
	if !current.Contains(now) || last.Contains(now) {
		t.Error("Contains disagrees with the bounds")
	}
}

func TestBillingPeriodCrossesTheYear(t *testing.T) {
	p := stripemeter.CurrentBillingPeriod(15, time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC))
	if !p.Start.Equal(time.Date(2024, 12, 15, 0, 0, 0, 0, time.UTC)) || !p.End.Equal(time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %v – %v", p.Start, p.End)
	}
}
