package stripemeter_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	stripemeter "github.com/stripemeter/stripemeter/sdk/go"
)

func TestParseDecimalNormalisesToPlainNotation(t *testing.T) {
	cases := map[string]string{
		"1": "1", "1.50": "1.5", "1E+2": "100", "1e2": "100", "-0": "0", "0E-12": "0",
		"2.5e-3": "0.0025", " 7 ": "7", "+3": "3", "-3.10": "-3.1", ".5": "0.5", "5.": "5",
		"007.000": "7", "123.456789012300": "123.4567890123", "0.000000000001": "0.000000000001",
		"12345678901234567890": "12345678901234567890", "1e19": "10000000000000000000",
		"1.0000000000000": "1", "0e999999999": "0", "12.5E-1": "1.25",
	}
	for in, want := range cases {
		d, err := stripemeter.ParseDecimal(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if d.String() != want {
			t.Errorf("%q: got %q, want %q", in, d, want)
		}
	}
}

func TestParseDecimalRefusesNonNumbers(t *testing.T) {
	for _, in := range []string{"", " ", "abc", "1e", "e5", "NaN", "Infinity", "-inf", "1..2", "--1",
		"0x10", "1_000", "+", ".", "1 2", "1e+", "١", "1,5"} {
		if _, err := stripemeter.ParseDecimal(in); !errors.Is(err, stripemeter.ErrInvalidInput) {
			t.Errorf("%q: got %v, want an input error", in, err)
		}
	}
}

func TestParseDecimalEnforcesTheServersLimits(t *testing.T) {
	for _, in := range []string{
		"123456789012345678901", // 21 significant digits
		"1e20",                  // 21 digits once written out
		"0.0000000000001",       // 13 decimal places
		"1e-999999999",
		"1234567890.12345678901",      // 21 significant digits with a fraction
		"1" + strings.Repeat("0", 70), // longer than 64 characters
	} {
		var inputErr *stripemeter.InputError
		if _, err := stripemeter.ParseDecimal(in); !errors.As(err, &inputErr) || inputErr.Field != "quantity" {
			t.Errorf("%q: got %v, want a quantity input error", in, err)
		}
	}
}

func TestDecimalTravelsAsAJSONString(t *testing.T) {
	out, err := json.Marshal(struct {
		Q stripemeter.Decimal `json:"q"`
	}{stripemeter.MustDecimal("1.50")})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"q":"1.5"}` {
		t.Errorf("got %s", out)
	}
}

func TestDecimalReadsStringsAndNumbersFromTheirText(t *testing.T) {
	var got struct {
		A, B, C stripemeter.Decimal
		D       *stripemeter.Decimal
	}
	body := `{"A":"0.1","B":12345678901234567890.123,"C":"123456789012345678901234567890.5","D":null}`
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.A.String() != "0.1" || got.B.String() != "12345678901234567890.123" ||
		got.C.String() != "123456789012345678901234567890.5" || got.D != nil {
		t.Errorf("got %+v", got)
	}
}

func TestDecimalCmpIsExact(t *testing.T) {
	a := stripemeter.MustDecimal("0.1")
	b := stripemeter.MustDecimal("0.10000000000")
	c := stripemeter.MustDecimal("0.100000000001")
	if a.Cmp(b) != 0 || a.Cmp(c) != -1 || c.Cmp(a) != 1 {
		t.Errorf("Cmp: %d %d %d", a.Cmp(b), a.Cmp(c), c.Cmp(a))
	}
}

func TestZeroDecimalIsUnsetButReadsAsZero(t *testing.T) {
	var d stripemeter.Decimal
	if d.IsSet() || d.String() != "0" || !stripemeter.DecimalFromInt(0).IsSet() {
		t.Errorf("zero Decimal: IsSet=%v String=%q", d.IsSet(), d)
	}
}
