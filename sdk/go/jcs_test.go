package stripemeter_test

import (
	"encoding/json"
	"math"
	"math/rand"
	"strconv"
	"testing"

	stripemeter "github.com/stripemeter/stripemeter/sdk/go"
)

// RFC 8785 Appendix B: IEEE-754 bit patterns and their ECMAScript text.
var rfc8785Numbers = []struct {
	bits uint64
	want string
}{
	{0x0000000000000000, "0"},
	{0x8000000000000000, "0"},
	{0x0000000000000001, "5e-324"},
	{0x8000000000000001, "-5e-324"},
	{0x7fefffffffffffff, "1.7976931348623157e+308"},
	{0xffefffffffffffff, "-1.7976931348623157e+308"},
	{0x4340000000000000, "9007199254740992"},
	{0xc340000000000000, "-9007199254740992"},
	{0x4430000000000000, "295147905179352830000"},
	{0x44b52d02c7e14af5, "9.999999999999997e+22"},
	{0x44b52d02c7e14af6, "1e+23"},
	{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
	{0x444b1ae4d6e2ef4e, "999999999999999700000"},
	{0x444b1ae4d6e2ef4f, "999999999999999900000"},
	{0x444b1ae4d6e2ef50, "1e+21"},
	{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
	{0x3eb0c6f7a0b5ed8d, "0.000001"},
	{0x41b3de4355555553, "333333333.3333332"},
	{0x41b3de4355555554, "333333333.33333325"},
	{0x41b3de4355555555, "333333333.3333333"},
	{0x41b3de4355555556, "333333333.3333334"},
	{0x41b3de4355555557, "333333333.33333343"},
	{0xbecbf647612f3696, "-0.0000033333333333333333"},
	{0x43143ff3c1cb0959, "1424953923781206.2"},
}

func TestFormatDoubleMatchesRFC8785AppendixB(t *testing.T) {
	for _, tc := range rfc8785Numbers {
		if got := stripemeter.FormatDouble(math.Float64frombits(tc.bits)); got != tc.want {
			t.Errorf("%#016x: got %s, want %s", tc.bits, got, tc.want)
		}
	}
}

func TestFormatDoubleAtNotationBoundaries(t *testing.T) {
	cases := map[float64]string{
		1e20: "100000000000000000000", 1e21: "1e+21", 1e-6: "0.000001", 1e-7: "1e-7",
		1.5e-7: "1.5e-7", 0.1: "0.1", 2.5: "2.5", -7: "-7", 123e-20: "1.23e-18", 1.5e300: "1.5e+300",
	}
	for in, want := range cases {
		if got := stripemeter.FormatDouble(in); got != want {
			t.Errorf("%v: got %s, want %s", in, got, want)
		}
	}
}

// Property: the text always reads back as the same double (JCS numbers round-trip).
func TestFormatDoubleRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewSource(8785))
	for i := 0; i < 20000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		text := stripemeter.FormatDouble(f)
		back, err := strconv.ParseFloat(text, 64)
		if err != nil || (back != f && !(f == 0 && back == 0)) {
			t.Fatalf("%v printed as %q reads back as %v (%v)", f, text, back, err)
		}
	}
}

func TestCanonicalizeIntegersBeyondDoublePrecisionRoundToNearestDouble(t *testing.T) {
	got, err := stripemeter.Canonicalize([]any{int64(9007199254740993), json.Number("9007199254740993"), uint64(math.MaxUint64)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "[9007199254740992,9007199254740992,18446744073709552000]" {
		t.Errorf("got %s", got)
	}
}

func TestCanonicalizeEscapesOnlyWhatJSONRequires(t *testing.T) {
	got, err := stripemeter.Canonicalize("q\"b\\ \b\f\n\r\t \x00\x01\x1f \x7f <>& \u2028 é 😀")
	if err != nil {
		t.Fatal(err)
	}
	want := `"q\"b\\ \b\f\n\r\t \u0000\u0001\u001f ` + "\x7f <>& \u2028 é 😀" + `"`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCanonicalizeSortsKeysByUTF16CodeUnits(t *testing.T) {
	// The RFC 8785 §3.2.3 example: 😀 (surrogates D83D DE00) sorts before U+FB33 although
	// its code point is greater.
	got, err := stripemeter.Canonicalize(map[string]any{
		"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "😀": 5, "\u0080": 6, "\u00f6": 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\"\\r\":2,\"1\":4,\"\u0080\":6,\"\u00f6\":7,\"\u20ac\":1,\"😀\":5,\"\ufb33\":3}"
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCanonicalizeNestedValuesWithoutWhitespace(t *testing.T) {
	got, err := stripemeter.Canonicalize(map[string]any{
		"b": []any{true, false, nil, 1.0, "x", []any{}, map[string]any{}},
		"a": map[string]any{"z": json.Number("1.50"), "y": json.Number("-0.0")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"y":0,"z":1.5},"b":[true,false,null,1,"x",[],{}]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCanonicalizeRefusesWhatHasNoCanonicalForm(t *testing.T) {
	bad := map[string]any{
		"NaN":          math.NaN(),
		"Infinity":     math.Inf(1),
		"overflow":     json.Number("1e400"),
		"invalid UTF8": "\xff",
		"bad key":      map[string]any{"\xfe": 1},
		"channel":      make(chan int),
	}
	for name, value := range bad {
		if _, err := stripemeter.Canonicalize(value); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
