package stripemeter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxCanonicalDepth bounds nesting (the server caps meta at 4 KiB anyway).
const maxCanonicalDepth = 128

// Canonicalize returns the RFC 8785 (JSON Canonicalization Scheme) text of v: no
// whitespace, object members sorted by the UTF-16 code units of their names, strings
// escaped minimally, numbers as IEEE-754 doubles printed like ECMAScript's
// Number.prototype.toString.
//
// v is made of nil, bool, string, json.Number, float32/64, the integer types, []any and
// map[string]any (what encoding/json decodes with UseNumber). Strings must be valid UTF-8;
// NaN and the infinities are refused.
func Canonicalize(v any) ([]byte, error) {
	return appendCanonical(nil, v, 0)
}

func appendCanonical(buf []byte, v any, depth int) ([]byte, error) {
	if depth > maxCanonicalDepth {
		return nil, errors.New("stripemeter: JSON nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case string:
		return appendCanonicalString(buf, x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !isRangeError(err) {
			return nil, fmt.Errorf("stripemeter: bad JSON number %q", string(x))
		}
		return appendCanonicalNumber(buf, f)
	case float64:
		return appendCanonicalNumber(buf, x)
	case float32:
		return appendCanonicalNumber(buf, float64(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return appendCanonicalNumber(buf, integerToDouble(x))
	case []any:
		buf = append(buf, '[')
		for i, item := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendCanonical(buf, item, depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		return appendCanonicalObject(buf, x, depth)
	}
	return nil, fmt.Errorf("stripemeter: cannot canonicalize a %T", v)
}

// integerToDouble rounds an integer to the nearest double through its decimal text, as the
// server does with a JSON integer (float(int) in Python is correctly rounded too).
func integerToDouble(v any) float64 {
	var text string
	switch x := v.(type) {
	case int:
		text = strconv.FormatInt(int64(x), 10)
	case int8:
		text = strconv.FormatInt(int64(x), 10)
	case int16:
		text = strconv.FormatInt(int64(x), 10)
	case int32:
		text = strconv.FormatInt(int64(x), 10)
	case int64:
		text = strconv.FormatInt(x, 10)
	case uint:
		text = strconv.FormatUint(uint64(x), 10)
	case uint8:
		text = strconv.FormatUint(uint64(x), 10)
	case uint16:
		text = strconv.FormatUint(uint64(x), 10)
	case uint32:
		text = strconv.FormatUint(uint64(x), 10)
	case uint64:
		text = strconv.FormatUint(x, 10)
	}
	f, _ := strconv.ParseFloat(text, 64) // never out of range for 64-bit integers
	return f
}

func isRangeError(err error) bool {
	var numErr *strconv.NumError
	return errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange)
}

func appendCanonicalObject(buf []byte, m map[string]any, depth int) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return lessUTF16(keys[i], keys[j]) })
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = appendCanonicalString(buf, k); err != nil {
			return nil, err
		}
		buf = append(buf, ':')
		if buf, err = appendCanonical(buf, m[k], depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// lessUTF16 orders strings by their UTF-16 code units (RFC 8785 §3.2.3), which differs
// from byte (code point) order when an astral character meets one in U+E000..U+FFFF.
func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

const hexDigits = "0123456789abcdef"

// appendCanonicalString escapes only what JSON requires: the quote, the backslash and the
// C0 controls (\b \t \n \f \r short, others \u00xx in lower-case hex); the rest is UTF-8.
func appendCanonicalString(buf []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("stripemeter: string is not valid UTF-8")
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			buf = append(buf, '\\', '"')
		case c == '\\':
			buf = append(buf, '\\', '\\')
		case c == '\b':
			buf = append(buf, '\\', 'b')
		case c == '\f':
			buf = append(buf, '\\', 'f')
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"'), nil
}

func appendCanonicalNumber(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("stripemeter: NaN and Infinity have no JSON form")
	}
	return append(buf, FormatDouble(f)...), nil
}

// FormatDouble prints a finite double as ECMAScript's Number::toString does
// (ECMA-262 §7.1.12.1): the shortest digits that round-trip, plain notation for decimal
// exponents in [-6, 21), exponent notation ("1e+21", "1.5e-7") outside.
func FormatDouble(f float64) string {
	if f == 0 {
		return "0" // -0 too
	}
	if f < 0 {
		return "-" + FormatDouble(-f)
	}
	// Shortest round-trip digits d.ddd and the decimal exponent: value = 0.digits × 10^n.
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	mantissa, expText, _ := strings.Cut(sci, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mantissa, ".", "", 1)
	k, n := len(digits), exp+1
	switch {
	case k <= n && n <= 21:
		return digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return "0." + strings.Repeat("0", -n) + digits
	}
	sign := "+"
	if n-1 < 0 {
		sign = "-"
	}
	head := digits[:1]
	if k > 1 {
		head += "." + digits[1:]
	}
	e := n - 1
	if e < 0 {
		e = -e
	}
	return head + "e" + sign + strconv.Itoa(e)
}
