package stripemeter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Limits of an event quantity, the server's (DESIGN §2, ADR 0004).
const (
	MaxSignificantDigits = 20
	MaxDecimalPlaces     = 12
	maxDecimalText       = 64
	// Values the server returns (sums kept at 80 digits) are read without the quantity
	// limits, but within this bound, so a hostile answer cannot make the client allocate.
	maxResponseDigits = 200
)

// Decimal is an exact decimal number held as its canonical text: plain notation, no
// exponent, no trailing fractional zeros, no "-0" ("1.50" is "1.5", "1E+2" is "100").
// That text is what goes on the wire (as a JSON string) and into idempotency keys, so a
// quantity never passes through a float64.
//
// The zero Decimal is the number 0, except as Event.Quantity, where it means "not set"
// (the API's default quantity, 1); write DecimalFromInt(0) for an explicit zero.
type Decimal struct {
	text string
}

// ParseDecimal reads a decimal in plain or exponent notation ("12.50", "-3", "2.5e-3",
// " 7 ") and checks the quantity limits: at most 20 significant digits and 12 decimal
// places, as the server does. NaN, infinities and anything else are refused.
func ParseDecimal(s string) (Decimal, error) {
	return parseDecimal(s, true)
}

// MustDecimal is ParseDecimal for constants: it panics on invalid input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DecimalFromInt is the Decimal of n (always exact: an int64 has at most 19 digits).
func DecimalFromInt(n int64) Decimal {
	return Decimal{text: strconv.FormatInt(n, 10)}
}

// String is the canonical text ("0" for the zero Decimal).
func (d Decimal) String() string {
	if d.text == "" {
		return "0"
	}
	return d.text
}

// IsSet reports whether d was built by a constructor (ParseDecimal, DecimalFromInt, a JSON
// answer), as opposed to being the zero Decimal.
func (d Decimal) IsSet() bool { return d.text != "" }

// Rat is d as an exact rational, for arithmetic.
func (d Decimal) Rat() *big.Rat {
	r, ok := new(big.Rat).SetString(d.String())
	if !ok { // cannot happen: the text is always plain notation
		panic("stripemeter: corrupt Decimal " + strconv.Quote(d.text))
	}
	return r
}

// Cmp compares d and e numerically: -1, 0 or +1.
func (d Decimal) Cmp(e Decimal) int { return d.Rat().Cmp(e.Rat()) }

// MarshalJSON writes the canonical text as a JSON string (never a JSON number).
func (d Decimal) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads a decimal string or a JSON number (from its text, never as a float).
// Values read from answers are not held to the quantity limits: a sum may be longer.
func (d *Decimal) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	text := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &text); err != nil {
			return err
		}
	}
	parsed, err := parseDecimal(text, false)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// decimalParts is a parsed decimal: value = (-1)^neg × coef × 10^exp, coef without leading
// or trailing zeros ("" for zero).
type decimalParts struct {
	neg  bool
	coef string
	exp  int
}

func parseDecimal(s string, limited bool) (Decimal, error) {
	text := strings.TrimSpace(s)
	bound := maxDecimalText
	if !limited {
		bound = 4 * maxResponseDigits
	}
	if text == "" {
		return Decimal{}, inputErrorf("quantity", "must be a decimal number, got an empty string")
	}
	if len(text) > bound {
		return Decimal{}, inputErrorf("quantity", "is %d characters long; at most %d allowed", len(text), bound)
	}
	parts, ok := splitDecimal(text)
	if !ok {
		return Decimal{}, inputErrorf("quantity", "must be a decimal number, got %q", text)
	}
	if parts.coef == "" {
		return Decimal{text: "0"}, nil
	}
	places := 0
	if parts.exp < 0 {
		places = -parts.exp
	}
	significant := len(parts.coef)
	if parts.exp > 0 {
		significant += parts.exp
	}
	if limited && places > MaxDecimalPlaces {
		return Decimal{}, inputErrorf("quantity", "has %d decimal places; at most %d are allowed", places, MaxDecimalPlaces)
	}
	if limited && significant > MaxSignificantDigits {
		return Decimal{}, inputErrorf("quantity", "has %d significant digits; at most %d are allowed", significant, MaxSignificantDigits)
	}
	if !limited && (places > maxResponseDigits || significant > maxResponseDigits) {
		return Decimal{}, fmt.Errorf("stripemeter: decimal %q is out of range", text)
	}
	return Decimal{text: parts.plain()}, nil
}

// splitDecimal parses [+-]digits[.digits][(e|E)[+-]digits] (either side of the point may be
// empty, not both), the grammar of the server's decimal reader minus NaN and Infinity.
func splitDecimal(text string) (decimalParts, bool) {
	var p decimalParts
	i := 0
	if text[0] == '+' || text[0] == '-' {
		p.neg = text[0] == '-'
		i++
	}
	intStart := i
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	intDigits := text[intStart:i]
	fracDigits := ""
	if i < len(text) && text[i] == '.' {
		i++
		fracStart := i
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		fracDigits = text[fracStart:i]
	}
	if intDigits == "" && fracDigits == "" {
		return p, false
	}
	exp := 0
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		var ok bool
		exp, ok = parseExponent(text[i+1:])
		if !ok {
			return p, false
		}
		i = len(text)
	}
	if i != len(text) {
		return p, false
	}
	coef := strings.TrimLeft(intDigits+fracDigits, "0")
	exp -= len(fracDigits)
	trimmed := strings.TrimRight(coef, "0")
	exp += len(coef) - len(trimmed)
	p.coef = trimmed
	p.exp = exp
	return p, true
}

// parseExponent reads [+-]digits, clamping huge exponents (the caller's range check then
// refuses any non-zero value with them; zero stays zero).
func parseExponent(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	value := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		if value < 1_000_000 {
			value = value*10 + int(s[i]-'0')
		}
	}
	if neg {
		value = -value
	}
	return value, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plain is the canonical text of a non-zero value.
func (p decimalParts) plain() string {
	var b strings.Builder
	if p.neg {
		b.WriteByte('-')
	}
	switch {
	case p.exp >= 0:
		b.WriteString(p.coef)
		b.WriteString(strings.Repeat("0", p.exp))
	case -p.exp < len(p.coef):
		point := len(p.coef) + p.exp
		b.WriteString(p.coef[:point])
		b.WriteByte('.')
		b.WriteString(p.coef[point:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -p.exp-len(p.coef)))
		b.WriteString(p.coef)
	}
	return b.String()
}
